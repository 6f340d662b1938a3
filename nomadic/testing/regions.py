"""Federated regions of real agents on loopback, for end-to-end tests: one ``-dev`` agent
(server + client) per region, with short WAN gossip timings so failures show in seconds."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from .agent_process import AgentProcess, wait_for

__all__ = ["GOSSIP", "federated", "region_agent"]

GOSSIP = '  wan_gossip_interval = "200ms"\n  wan_failure_timeout = "2s"\n'


def region_agent(
    root: Path, region: str, *, join: str = "", server_extra: str = ""
) -> AgentProcess:
    """An agent named ``<region>1`` in ``region`` (datacenter ``<region>-1``); ``join`` is an
    RPC address of a server in another region to federate with at start."""
    agent = AgentProcess(root / region)
    retry = f'  server_join {{\n    retry_join = ["{join}"]\n  }}\n' if join else ""
    with agent.config_path.open("a") as f:
        f.write(
            f'name = "{region}1"\nregion = "{region}"\ndatacenter = "{region}-1"\n'
            f"server {{\n{GOSSIP}{retry}{server_extra}}}\n"
        )
    return agent


@contextlib.contextmanager
def federated(*agents: AgentProcess) -> Iterator[None]:
    """Start the agents, wait until each lists every region, stop them afterwards (their log
    tails are printed when the setup or the test fails)."""
    regions = sorted(a.workdir.name for a in agents)
    try:
        for agent in agents:
            agent.start(wait_ready=False)
        for agent in agents:
            agent.wait_ready()
        for agent in agents:
            wait_for(
                lambda a=agent: a.get("/v1/regions") == regions,  # type: ignore[misc]
                timeout=30,
                what=f"{agent.workdir.name} to know every region",
            )
        yield
    except BaseException:
        for agent in agents:
            print(f"--- {agent.workdir.name} ---\n{agent.log_tail(60)}")
        raise
    finally:
        for agent in reversed(agents):
            agent.stop()
