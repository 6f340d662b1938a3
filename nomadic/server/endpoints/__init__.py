"""Server endpoints, one module per resource (Nomad's ``*_endpoint.go``)."""

from __future__ import annotations

from .alloc import AllocEndpoint
from .base import Host
from .job import JobEndpoint
from .node import NodeEndpoint

__all__ = ["AllocEndpoint", "Host", "JobEndpoint", "NodeEndpoint"]
