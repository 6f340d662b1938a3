"""The single-file executable: built with the README's command, run with only a plain Python."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def plain_python() -> str:
    """A Python interpreter outside the project's virtualenv (nomadic not importable)."""
    venv = Path(sys.prefix).resolve()
    for candidate in ("/usr/bin/python3", shutil.which("python3", path=_path_without_venv())):
        if candidate and Path(candidate).exists() and venv not in Path(candidate).resolve().parents:
            return candidate
    return sys.executable


def _path_without_venv() -> str:
    venv_bin = str(Path(sys.prefix) / "bin")
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin)


def test_single_binary_runs_dev_agent_and_a_job(tmp_path: Path) -> None:
    binary = tmp_path / "nomadic"
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "build_binary.py"), str(binary)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    assert binary.is_file() and os.access(binary, os.X_OK)

    python = plain_python()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = _path_without_venv()
    env["SHIV_ROOT"] = str(tmp_path / "shiv-cache")
    probe = subprocess.run(
        [python, "-c", "import nomadic"], env=env, capture_output=True, cwd=tmp_path
    )
    assert probe.returncode != 0, "the plain interpreter must not see the dev install"

    agent = AgentProcess(tmp_path / "agent", command=[python, str(binary)], env=env)
    agent.start(timeout=120)
    try:
        agent.cli("job", "run", str(REPO / "jobs" / "hello.hcl"), check=True)

        def complete() -> list[dict[str, Any]]:
            allocs: list[dict[str, Any]] = agent.get("/v1/job/hello/allocations")
            return [a for a in allocs if a["ClientStatus"] == "complete"]

        alloc = wait_for(complete, timeout=60, what="hello to complete")[0]
        logs = agent.cli("alloc", "logs", alloc["ID"], check=True).stdout
        assert "Hello from nomadic" in logs
    finally:
        agent.stop()
