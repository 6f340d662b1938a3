"""Real ``nomadic agent`` processes on free 127.0.0.1 ports, for e2e tests and benchmarks.

Nothing here sleeps to synchronise: every wait polls with a deadline and fails with the
agent's log tail, so a broken start explains itself.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(
    check: Callable[[], T | None], *, timeout: float = 30.0, interval: float = 0.05, what: str = ""
) -> T:
    """Poll ``check`` until it returns something truthy; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception as exc:  # the condition may fail while the system converges
            last_exc = exc
            result = None
        if result:
            return result
        time.sleep(interval)
    detail = f" (last error: {last_exc!r})" if last_exc else ""
    raise TimeoutError(f"timed out after {timeout:g}s waiting for {what or check!r}{detail}")


class AgentProcess:
    """One ``nomadic agent`` child process with its own data dir and ports."""

    def __init__(
        self,
        workdir: Path,
        *,
        dev: bool = True,
        extra_config: str = "",
        command: Sequence[str] = (sys.executable, "-m", "nomadic"),
        env: dict[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``ssl_context``: the agent serves HTTPS (its config sets ``tls { http = true }``);
        :meth:`request` and :meth:`get` trust the agent with this context."""
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.command = list(command)
        self.base_env = dict(os.environ if env is None else env)
        self.http_port = free_port()
        self.rpc_port = free_port()
        self.raft_port = free_port()
        self.ssl_context = ssl_context
        scheme = "https" if ssl_context is not None else "http"
        self.address = f"{scheme}://127.0.0.1:{self.http_port}"
        self.config_path = workdir / "agent.hcl"
        self.log_path = workdir / "agent.log"
        self.data_dir = workdir / "data"
        self.config_path.write_text(
            f'data_dir = "{self.data_dir}"\n'
            f'bind_addr = "127.0.0.1"\n'
            f"ports {{\n  http = {self.http_port}\n  rpc = {self.rpc_port}\n"
            f"  raft = {self.raft_port}\n}}\n" + extra_config
        )
        self.dev = dev
        self.proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = dict(self.base_env)
        env["NOMAD_ADDR"] = self.address
        return env

    def start(self, *, wait_ready: bool = True, timeout: float = 60.0) -> AgentProcess:
        args = [*self.command, "agent", "-config", str(self.config_path)]
        if self.dev:
            args.append("-dev")
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=self.env(), cwd=self.workdir
        )
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"agent exited with {self.proc.returncode}:\n{self.log_tail()}")
            nodes = self.get("/v1/nodes")
            return bool(nodes) and all(n["Status"] == "ready" for n in nodes)

        try:
            wait_for(ready, timeout=timeout, what="the dev agent's node to be ready")
        except (TimeoutError, RuntimeError) as exc:
            raise RuntimeError(f"{exc}\n--- agent log ---\n{self.log_tail()}") from None

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.address + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.ssl_context) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}: {body[:200]!r}")
        return json.loads(body)

    def cli(
        self,
        *args: str,
        timeout: float = 120.0,
        check: bool = False,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``nomadic <args>`` against this agent; ``env`` adds to (or overrides) its
        environment."""
        result = subprocess.run(
            [*self.command, *args],
            capture_output=True,
            text=True,
            env={**self.env(), **(env or {})},
            cwd=self.workdir,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"nomadic {' '.join(args)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)
