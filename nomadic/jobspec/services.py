"""``service`` and ``check`` blocks (group or task level), every field Nomad's API has.

``kind`` (Consul Connect internals) is accepted and not kept; ``connect`` (Consul service
mesh) is refused.
"""

from __future__ import annotations

from nomadic.structs import CheckRestart, Service, ServiceCheck, ServiceWeights

from .expressions import Evaluator
from .integrations import decode_identities
from .reader import BlockReader
from .syntax import Block
from .values import ConversionError, to_string_list

__all__ = ["decode_services"]

_SERVICE_ATTRS = (
    "name", "port", "tags", "provider", "address_mode", "canary_tags", "enable_tag_override",
    "address", "task", "meta", "canary_meta", "tagged_addresses", "on_update", "cluster",
)  # fmt: skip
_CHECK_ATTRS = (
    "name", "type", "path", "port", "interval", "timeout", "method", "header", "protocol",
    "tls_skip_verify", "initial_status", "command", "args", "body", "address_mode",
    "success_before_passing", "failures_before_critical", "failures_before_warning",
    "tls_server_name", "grpc_service", "grpc_use_tls", "expose", "task", "on_update", "notes",
)  # fmt: skip
_CHECK_TYPES = ("http", "tcp", "grpc", "script")
_ADDRESS_MODES = ("auto", "host", "driver", "alloc")


def decode_services(ev: Evaluator, blocks: list[Block], where: str) -> list[Service]:
    return [_service(ev, block, where) for block in blocks]


def _service(ev: Evaluator, block: Block, where: str) -> Service:
    r = BlockReader.of(
        ev, block, f"service in {where}",
        attrs=_SERVICE_ATTRS,
        ignored_attrs=("kind",),
        blocks=("check", "check_restart", "meta", "canary_meta", "tagged_addresses", "weights",
                "identity"),
    )  # fmt: skip
    r.no_labels(block)
    mode = r.string("address_mode", "auto")
    if mode not in _ADDRESS_MODES:
        raise r.fail(
            "address_mode",
            f'invalid address_mode "{mode}" in service in {where}; use auto, host, driver or alloc',
        )
    provider = r.string("provider")
    if provider not in ("", "consul", "nomad"):
        raise r.fail(
            "provider", f'invalid provider "{provider}" in service in {where}; use consul or nomad'
        )
    weights = None
    if (wb := r.block("weights")) is not None:
        w = BlockReader.of(ev, wb, f"weights in service in {where}", attrs=("passing", "warning"))
        weights = ServiceWeights(passing=w.integer("passing", 1), warning=w.integer("warning", 1))
    identity, _named = decode_identities(ev, r)
    return Service(
        name=r.string("name"),
        port_label=r.string("port"),
        tags=r.strings("tags"),
        provider=r.string("provider"),
        address_mode=mode,
        checks=[_check(ev, b, where) for b in r.blocks("check")],
        canary_tags=r.strings("canary_tags"),
        enable_tag_override=r.boolean("enable_tag_override"),
        address=r.string("address"),
        task_name=r.string("task"),
        meta=r.string_map_or_block("meta"),
        canary_meta=r.string_map_or_block("canary_meta"),
        tagged_addresses=r.string_map_or_block("tagged_addresses"),
        on_update=r.string("on_update"),
        cluster=r.string("cluster"),
        weights=weights,
        check_restart=_check_restart(ev, r.block("check_restart"), where),
        identity=identity,
    )


def _check(ev: Evaluator, block: Block, where: str) -> ServiceCheck:
    r = BlockReader.of(
        ev, block, f"check in service in {where}",
        attrs=_CHECK_ATTRS, blocks=("check_restart", "header"),
    )  # fmt: skip
    r.no_labels(block)
    kind = r.string("type")
    if kind not in _CHECK_TYPES:
        raise r.fail(
            "type",
            f'invalid check type "{kind}" in service in {where}; use http, tcp, grpc or script',
        )
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
        body=r.string("body"),
        address_mode=r.string("address_mode"),
        success_before_passing=r.integer("success_before_passing"),
        failures_before_critical=r.integer("failures_before_critical"),
        failures_before_warning=r.integer("failures_before_warning"),
        tls_server_name=r.string("tls_server_name"),
        grpc_service=r.string("grpc_service"),
        grpc_use_tls=r.boolean("grpc_use_tls"),
        expose=r.boolean("expose"),
        task_name=r.string("task"),
        on_update=r.string("on_update"),
        notes=r.string("notes"),
        check_restart=_check_restart(ev, r.block("check_restart"), where),
    )


def _check_restart(ev: Evaluator, block: Block | None, where: str) -> CheckRestart | None:
    if block is None:
        return None
    c = BlockReader.of(
        ev, block, f"check_restart in {where}", attrs=("limit", "grace", "ignore_warnings")
    )
    return CheckRestart(
        limit=c.integer("limit"),
        grace=c.duration("grace", CheckRestart().grace),
        ignore_warnings=c.boolean("ignore_warnings"),
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
