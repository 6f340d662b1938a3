"""The ``group`` block and its ``network``; also the job-level ``task`` promoted to a group."""

from __future__ import annotations

from dataclasses import dataclass

from nomadic.structs import (
    CNIConfig,
    DNSConfig,
    MigrateStrategy,
    NetworkResource,
    Port,
    ReschedulePolicy,
    RestartPolicy,
    TaskGroup,
    UpdateStrategy,
    Vault,
)

from .expressions import Evaluator
from .integrations import (
    decode_consul,
    decode_disconnect,
    decode_scaling,
    decode_vault,
    decode_volumes,
)
from .placement import decode_affinities, decode_constraints, decode_spreads
from .policies import (
    decode_ephemeral_disk,
    decode_migrate,
    decode_reschedule,
    decode_restart,
    decode_update,
)
from .reader import BlockReader
from .services import decode_services
from .syntax import Block
from .task import decode_task

__all__ = ["GroupDefaults", "decode_group", "promote_task"]

_GROUP_ATTRS = (
    "count",
    "shutdown_delay",
    "stop_after_client_disconnect",
    "max_client_disconnect",
    "meta",
    "prevent_reschedule_on_lost",
)
_GROUP_BLOCKS = (
    "task",
    "network",
    "service",
    "restart",
    "reschedule",
    "update",
    "migrate",
    "ephemeral_disk",
    "constraint",
    "affinity",
    "spread",
    "meta",
    "volume",
    "scaling",
    "disconnect",
    "consul",
    "vault",
)


@dataclass(frozen=True)
class GroupDefaults:
    """What a partial group-level policy block is merged over (job level, else Nomad's)."""

    restart: RestartPolicy
    reschedule: ReschedulePolicy
    update: UpdateStrategy
    migrate: MigrateStrategy
    vault: Vault | None = None


def decode_group(ev: Evaluator, block: Block, name: str, defaults: GroupDefaults) -> TaskGroup:
    where = f'group "{name}"'
    r = BlockReader.of(
        ev,
        block,
        where,
        attrs=_GROUP_ATTRS,
        blocks=_GROUP_BLOCKS,
    )
    restart = decode_restart(ev, r.block("restart"), where, defaults.restart)
    vault = decode_vault(ev, r.block("vault"), where) or defaults.vault
    tasks = []
    for task_block, task_name in r.labelled("task"):
        tasks.append(decode_task(ev, task_block, task_name, restart or defaults.restart, vault))
    scaling_block = r.block("scaling")
    scaling = decode_scaling(ev, scaling_block, where, vertical=False) if scaling_block else None
    default_count = scaling.min if scaling is not None and scaling.min is not None else 1
    count = r.integer("count", default_count)
    if count < 0:
        raise r.fail("count", f"count {count} in {where} must not be negative")
    return TaskGroup(
        name=name,
        count=count,
        constraints=decode_constraints(ev, block.body, where),
        affinities=decode_affinities(ev, block.body, where),
        spreads=decode_spreads(ev, block.body, where),
        tasks=tasks,
        restart_policy=restart,
        reschedule_policy=decode_reschedule(ev, r.block("reschedule"), where, defaults.reschedule),
        ephemeral_disk=decode_ephemeral_disk(ev, r.block("ephemeral_disk"), where),
        update=decode_update(ev, r.block("update"), where, defaults.update),
        migrate=decode_migrate(ev, r.block("migrate"), where, defaults.migrate),
        networks=[_network(ev, b, where) for b in r.blocks("network")],
        services=decode_services(ev, r.blocks("service"), where),
        meta=r.string_map_or_block("meta"),
        shutdown_delay=r.optional_duration("shutdown_delay"),
        stop_after_client_disconnect=r.optional_duration("stop_after_client_disconnect"),
        max_client_disconnect=r.optional_duration("max_client_disconnect"),
        prevent_reschedule_on_lost=r.boolean("prevent_reschedule_on_lost"),
        volumes=decode_volumes(ev, r),
        scaling=scaling,
        disconnect=decode_disconnect(ev, r.block("disconnect"), where),
        consul=decode_consul(ev, r.block("consul"), where),
    )


def promote_task(ev: Evaluator, block: Block, name: str, defaults: GroupDefaults) -> TaskGroup:
    """A ``task`` directly in ``job`` becomes a one-task group of the same name (jobspec2)."""
    task = decode_task(ev, block, name, defaults.restart, defaults.vault)
    return TaskGroup(name=name, count=1, tasks=[task])


def _network(ev: Evaluator, block: Block, where: str) -> NetworkResource:
    where = f"network in {where}"
    r = BlockReader.of(
        ev, block, where, attrs=("mode", "hostname", "mbits"), blocks=("port", "dns", "cni")
    )
    r.no_labels(block)
    reserved: list[Port] = []
    dynamic: list[Port] = []
    seen: dict[str, int] = {}
    for port_block, label in r.labelled("port"):
        if label in seen:
            raise port_block.span.error(
                f'duplicate port "{label}" in {where} (first defined on line {seen[label]})'
            )
        seen[label] = port_block.span.line
        p = BlockReader.of(
            ev,
            port_block,
            f'port "{label}" in {where}',
            attrs=("static", "to", "host_network", "ignore_collision"),
        )
        static = p.integer("static")
        if not 0 <= static <= 65535:
            raise p.fail("static", f'port "{label}": static port {static} is not in 0..65535')
        port = Port(
            label=label,
            value=static,
            to=p.integer("to"),
            host_network=p.string("host_network"),
            ignore_collision=p.boolean("ignore_collision"),
        )
        (reserved if static else dynamic).append(port)
    return NetworkResource(
        mode=r.string("mode"),
        hostname=r.string("hostname"),
        mbits=r.integer("mbits"),
        reserved_ports=reserved,
        dynamic_ports=dynamic,
        dns=_dns(ev, r.block("dns"), where),
        cni=_cni(ev, r.block("cni"), where),
    )


def _dns(ev: Evaluator, block: Block | None, where: str) -> DNSConfig | None:
    if block is None:
        return None
    d = BlockReader.of(ev, block, f"dns in {where}", attrs=("servers", "searches", "options"))
    d.no_labels(block)
    return DNSConfig(
        servers=d.strings("servers"), searches=d.strings("searches"), options=d.strings("options")
    )


def _cni(ev: Evaluator, block: Block | None, where: str) -> CNIConfig | None:
    if block is None:
        return None
    c = BlockReader.of(ev, block, f"cni in {where}", attrs=("args",), blocks=("args",))
    c.no_labels(block)
    return CNIConfig(args=c.string_map_or_block("args"))
