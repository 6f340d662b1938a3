"""Nomad's HTTP API (``/v1/...``) over the agent's server and client roles.

``build_app(server, client, agent_info)`` returns the aiohttp application; the agent runs it.
"""

from __future__ import annotations

from nomadic.http.app import build_app

__all__ = ["build_app"]
