"""A small synchronous client of nomadic's (Nomad-compatible) HTTP API, used by the CLI.

    client = Client()                  # NOMAD_ADDR, NOMAD_REGION, NOMAD_TOKEN or defaults
    stubs = client.jobs.list()
    ev = client.evaluations.info(eval_id, index=client.last_meta.last_index, wait=5)

Results are ``nomadic.structs`` values. Errors raise :class:`APIError`. Importing this package
pulls in httpx and msgspec only, so commands start fast.
"""

from __future__ import annotations

from nomadic.api.client import DEFAULT_ADDRESS, APIError, Client, QueryMeta
from nomadic.api.tls import TLSConfig

__all__ = ["DEFAULT_ADDRESS", "APIError", "Client", "QueryMeta", "TLSConfig"]
