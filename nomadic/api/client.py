"""The HTTP transport of the API client: address, region, token, blocking queries, errors.

    APIError            any failed call: ``status`` is the HTTP status (0: agent unreachable)
    ValueError          (from the constructor) TLS files that cannot be used

An ``https://`` address is checked against the CA in :class:`TLSConfig` (``NOMAD_CACERT``
etc., see ``nomadic.api.tls``); a connection that fails the way a TLS mismatch does says
which setting to change.

Reads record the response's ``X-Nomad-Index`` etc. in :attr:`Client.last_meta`, which a caller
passes back as ``index=`` to block until something changes (Nomad's blocking queries).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import msgspec

from nomadic.api.tls import TLSConfig, hint
from nomadic.structs import from_builtins, to_builtins

if TYPE_CHECKING:
    from nomadic.api.agent import Agent
    from nomadic.api.allocations import Allocations
    from nomadic.api.deployments import Deployments
    from nomadic.api.evaluations import Evaluations
    from nomadic.api.fs import FS
    from nomadic.api.jobs import Jobs
    from nomadic.api.namespaces import Namespaces
    from nomadic.api.node_pools import NodePools
    from nomadic.api.nodes import Nodes
    from nomadic.api.operator import Operator
    from nomadic.api.status import Status

__all__ = ["DEFAULT_ADDRESS", "APIError", "Client", "QueryMeta"]

T = TypeVar("T")

DEFAULT_ADDRESS = "http://127.0.0.1:4646"


class APIError(Exception):
    """A call the agent refused (``status`` 4xx/5xx) or could not be made (``status`` 0)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message.strip()
        super().__init__(
            f"Unexpected response code: {status} ({self.message})" if status else self.message
        )


@dataclass(frozen=True)
class QueryMeta:
    last_index: int = 0
    known_leader: bool = False
    last_contact: int = 0


def _go_duration(seconds: float) -> str:
    return f"{int(seconds * 1000)}ms"


class Client:
    """A synchronous client of one agent's ``/v1`` API (Nomad's ``api.Client``)."""

    def __init__(
        self,
        address: str | None = None,
        *,
        region: str | None = None,
        token: str | None = None,
        namespace: str | None = None,
        timeout: float = 30.0,
        tls: TLSConfig | None = None,
    ) -> None:
        self.address = (address or os.environ.get("NOMAD_ADDR") or DEFAULT_ADDRESS).rstrip("/")
        if "://" not in self.address:
            self.address = "http://" + self.address
        self.region = region if region is not None else os.environ.get("NOMAD_REGION", "")
        self.token = token if token is not None else os.environ.get("NOMAD_TOKEN", "")
        # ?namespace= on every request unless the call names one (Nomad's api.Config.Namespace)
        self.namespace = (
            namespace if namespace is not None else os.environ.get("NOMAD_NAMESPACE", "")
        )
        self.timeout = timeout
        self.tls = tls if tls is not None else TLSConfig.from_env()
        headers = {"X-Nomad-Token": self.token} if self.token else {}
        self._http = httpx.Client(
            base_url=self.address,
            headers=headers,
            timeout=timeout,
            verify=self.tls.ssl_context(),
        )
        self.last_meta = QueryMeta()

    # -- resources (imported lazily: each is small, but the CLI only needs one or two) ----

    @property
    def jobs(self) -> Jobs:
        from nomadic.api.jobs import Jobs

        return Jobs(self)

    @property
    def allocations(self) -> Allocations:
        from nomadic.api.allocations import Allocations

        return Allocations(self)

    @property
    def evaluations(self) -> Evaluations:
        from nomadic.api.evaluations import Evaluations

        return Evaluations(self)

    @property
    def deployments(self) -> Deployments:
        from nomadic.api.deployments import Deployments

        return Deployments(self)

    @property
    def nodes(self) -> Nodes:
        from nomadic.api.nodes import Nodes

        return Nodes(self)

    @property
    def namespaces(self) -> Namespaces:
        from nomadic.api.namespaces import Namespaces

        return Namespaces(self)

    @property
    def node_pools(self) -> NodePools:
        from nomadic.api.node_pools import NodePools

        return NodePools(self)

    @property
    def status(self) -> Status:
        from nomadic.api.status import Status

        return Status(self)

    @property
    def operator(self) -> Operator:
        from nomadic.api.operator import Operator

        return Operator(self)

    @property
    def agent(self) -> Agent:
        from nomadic.api.agent import Agent

        return Agent(self)

    @property
    def fs(self) -> FS:
        from nomadic.api.fs import FS

        return FS(self)

    # -- transport ------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _params(self, params: dict[str, Any] | None) -> dict[str, Any]:
        out = {k: v for k, v in (params or {}).items() if v not in (None, "", False)}
        out = {k: ("true" if v is True else v) for k, v in out.items()}
        if self.region:
            out["region"] = self.region
        if self.namespace and "namespace" not in out:
            out["namespace"] = self.namespace
        return out

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
        raw: bytes | None = None,
    ) -> httpx.Response:
        content = raw if raw is not None else None
        if body is not None:
            content = msgspec.json.encode(to_builtins(body))
        try:
            resp = self._http.request(
                method,
                path,
                params=self._params(params),
                content=content,
                timeout=timeout or self.timeout,
                extensions=self.tls.extensions(),
            )
        except httpx.HTTPError as exc:
            raise self._unreachable(method, path, exc) from None
        if resp.status_code >= 400:
            raise APIError(resp.status_code, resp.text)
        self.last_meta = QueryMeta(
            last_index=int(resp.headers.get("X-Nomad-Index", "0") or 0),
            known_leader=resp.headers.get("X-Nomad-KnownLeader") == "true",
            last_contact=int(resp.headers.get("X-Nomad-LastContact", "0") or 0),
        )
        return resp

    def _unreachable(self, method: str, path: str, exc: Exception) -> APIError:
        error = str(exc) or type(exc).__name__
        advice = hint(self.address, error, self.tls) or (
            "is a nomadic agent running there? Set NOMAD_ADDR or -address to reach it"
        )
        return APIError(0, f"{method} {self.address}{path}: {error}; {advice}")

    def query(
        self,
        path: str,
        typ: type[T],
        *,
        params: dict[str, Any] | None = None,
        index: int = 0,
        wait: float | None = None,
    ) -> T:
        """GET ``path`` decoded as ``typ``; with ``index``, block until it changes."""
        params = dict(params or {})
        timeout = None
        if index:
            params["index"] = index
            if wait is not None:
                params["wait"] = _go_duration(wait)
            timeout = (wait if wait is not None else 300.0) * 1.1 + self.timeout
        resp = self.request("GET", path, params=params, timeout=timeout)
        return from_builtins(resp.json(), typ)

    def write(self, method: str, path: str, typ: type[T], body: Any = None, **params: Any) -> T:
        resp = self.request(method, path, params=params, body=body)
        return from_builtins(resp.json(), typ)

    def stream(self, path: str, params: dict[str, Any]) -> Iterator[bytes]:
        """GET ``path`` and yield the body as it arrives (no read timeout: logs may idle)."""
        timeout = httpx.Timeout(self.timeout, read=None)
        try:
            with self._http.stream(
                "GET",
                path,
                params=self._params(params),
                timeout=timeout,
                extensions=self.tls.extensions(),
            ) as resp:
                if resp.status_code >= 400:
                    raise APIError(resp.status_code, resp.read().decode(errors="replace"))
                yield from resp.iter_raw()
        except httpx.HTTPError as exc:
            raise self._unreachable("GET", path, exc) from None
