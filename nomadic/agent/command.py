"""Entry point behind ``nomadic agent``: logging, the event loop, clean exit codes."""

from __future__ import annotations

import asyncio
import logging
import sys

from nomadic.agent import logs
from nomadic.agent.config import AgentConfig
from nomadic.errors import NomadicError


def run(config: AgentConfig) -> int:
    try:
        logs.setup(config.log_level, config.log_json)
    except ValueError as exc:
        print(f"Error starting agent: log_level: {exc}", file=sys.stderr)
        return 1
    if config.server.enabled or config.dev_mode:
        from nomadic.server import gc_policy

        gc_policy.install()  # the agent process only: it changes the whole process's GC
    if config.dev_mode:
        print("==> No configuration files loaded" if not config.data_dir else "", end="")
        print("\n==> Starting nomadic agent in dev mode (server + client, data is not kept)")
        print(f"    HTTP API: http://{config.bind_addr}:{config.ports.http}", flush=True)
    from nomadic.agent.agent import serve

    try:
        asyncio.run(serve(config))
    except NomadicError as exc:
        logging.getLogger("nomadic.agent").error("%s", exc)
        print(f"Error starting agent: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Error starting agent: {exc}", file=sys.stderr)
        return 1
    return 0
