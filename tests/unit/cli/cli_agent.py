"""A real HTTP app (over in-memory server/client fakes) on a free 127.0.0.1 port, and a
runner that invokes ``nomadic`` against it the way a user's shell would."""

from __future__ import annotations

import asyncio
import re
import ssl
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).parents[1] / "http"))

from http_fakes import FakeClient, FakeServer

from nomadic.cli.main import cli
from nomadic.http import build_app

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)")


@dataclass
class Agent:
    server: FakeServer
    client: FakeClient
    address: str

    def run(self, *args: str, input: str | None = None) -> Result:
        """Run ``nomadic <args>`` with NOMAD_ADDR pointing at this agent."""
        runner = CliRunner()
        return runner.invoke(
            cli, list(args), env={"NOMAD_ADDR": self.address}, input=input, catch_exceptions=False
        )

    def run_env(self, env: dict[str, str], *args: str) -> Result:
        """Run ``nomadic <args>`` with extra environment variables (NOMAD_NAMESPACE ...)."""
        runner = CliRunner()
        full = {"NOMAD_ADDR": self.address, **env}
        return runner.invoke(cli, list(args), env=full, catch_exceptions=False)


def scrub(text: str) -> str:
    """Replace timestamps (they come from the clock) with ``<time>``."""
    return TIMESTAMP.sub("<time>", text)


def serve_agent(tmp_path: Path, ssl_context: ssl.SSLContext | None = None) -> Iterator[Agent]:
    """Serve the app on a free port; over HTTPS with ``ssl_context``."""
    server, client = FakeServer(), FakeClient(tmp_path / "allocs")
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, object] = {}

    async def start() -> None:
        runner = web.AppRunner(build_app(server, client, {"name": "node1"}))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        holder["runner"] = runner
        holder["port"] = runner.addresses[0][1]
        started.set()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10), "the test HTTP server did not start"
    scheme = "https" if ssl_context is not None else "http"
    yield Agent(server, client, f"{scheme}://127.0.0.1:{holder['port']}")
    runner = holder["runner"]
    assert isinstance(runner, web.AppRunner)
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()
