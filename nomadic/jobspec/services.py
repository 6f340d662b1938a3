"""``service`` and ``check`` blocks (group or task level): the fields nomadic models.

Other fields Nomad accepts are allowed, so existing job files parse, but not kept yet; they
are listed in the ``_*_IGNORED`` tuples below. ``connect`` (Consul service mesh) is refused.
"""

from __future__ import annotations

from nomadic.structs import Service, ServiceCheck

from .expressions import Evaluator
from .reader import BlockReader
from .syntax import Block
from .values import ConversionError, to_string_list

__all__ = ["decode_services"]

_SERVICE_IGNORED = ("canary_meta", "tagged_addresses", "on_update", "cluster", "kind")
_CHECK_IGNORED = (
    "body", "address_mode", "success_before_passing", "failures_before_critical",
    "failures_before_warning", "tls_server_name", "grpc_service", "grpc_use_tls", "expose",
    "task", "on_update", "notes",
)  # fmt: skip
_SERVICE_ATTRS = (
    "name", "port", "tags", "provider", "address_mode", "canary_tags", "enable_tag_override",
    "address", "task", "meta",
)  # fmt: skip
_CHECK_ATTRS = (
    "name", "type", "path", "port", "interval", "timeout", "method", "header", "protocol",
    "tls_skip_verify", "initial_status", "command", "args",
)  # fmt: skip


def decode_services(ev: Evaluator, blocks: list[Block], where: str) -> list[Service]:
    return [_service(ev, block, where) for block in blocks]


def _service(ev: Evaluator, block: Block, where: str) -> Service:
    r = BlockReader.of(
        ev, block, f"service in {where}",
        attrs=_SERVICE_ATTRS,
        ignored_attrs=_SERVICE_IGNORED,
        blocks=("check", "check_restart", "meta", "canary_meta", "tagged_addresses", "weights"),
    )  # fmt: skip
    r.no_labels(block)
    return Service(
        name=r.string("name"),
        port_label=r.string("port"),
        tags=r.strings("tags"),
        provider=r.string("provider"),
        address_mode=r.string("address_mode", "auto"),
        checks=[_check(ev, b, where) for b in r.blocks("check")],
        canary_tags=r.strings("canary_tags"),
        enable_tag_override=r.boolean("enable_tag_override"),
        address=r.string("address"),
        task_name=r.string("task"),
        meta=r.string_map_or_block("meta"),
    )


def _check(ev: Evaluator, block: Block, where: str) -> ServiceCheck:
    r = BlockReader.of(
        ev, block, f"check in service in {where}",
        attrs=_CHECK_ATTRS, ignored_attrs=_CHECK_IGNORED, blocks=("check_restart", "header"),
    )  # fmt: skip
    r.no_labels(block)
    return ServiceCheck(
        name=r.string("name"),
        type=r.string("type"),
        path=r.string("path"),
        port_label=r.string("port"),
        interval=r.duration("interval"),
        timeout=r.duration("timeout"),
        method=r.string("method"),
        header=_header(ev, r),
        protocol=r.string("protocol"),
        tls_skip_verify=r.boolean("tls_skip_verify"),
        initial_status=r.string("initial_status"),
        command=r.string("command"),
        args=r.strings("args"),
    )


def _header(ev: Evaluator, r: BlockReader) -> dict[str, list[str]]:
    """``header { Authorization = ["Basic ..."] }`` (or ``header = {...}``): lists of strings."""
    raw: dict[str, tuple[object, BlockReader]] = {}
    if r.has("header"):
        value = r.raw("header")
        if not isinstance(value, dict):
            raise r.fail("header", f'invalid value for "header" in {r.where}: expected a map')
        raw = {k: (v, r) for k, v in value.items()}
    for block in r.blocks("header"):
        inner = BlockReader.of(ev, block, f"header in {r.where}", attrs=block.body.attributes)
        raw.update({k: (inner.raw(k), inner) for k in block.body.attributes})
    headers: dict[str, list[str]] = {}
    for key, (value, reader) in raw.items():
        try:
            headers[key] = to_string_list(value)
        except ConversionError as exc:
            raise reader.fail(
                key, f'invalid value for header "{key}" in {r.where}: {exc}'
            ) from None
    return headers
