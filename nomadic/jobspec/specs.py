"""Namespace and node pool specification files (``namespace apply file.hcl``, ``node pool
apply file.hcl``), in Nomad's HCL shape or as the API's JSON object::

    namespace "dev" {                       node_pool "gpu" {
      description = "Dev jobs"                description = "GPU nodes"
      meta { owner = "web" }                  meta { vendor = "nvidia" }
      capabilities {                          scheduler_config {
        enabled_task_drivers  = ["docker"]      scheduler_algorithm             = "spread"
        disabled_task_drivers = ["raw_exec"]    memory_oversubscription_enabled = true
      }                                       }
      node_pool_config {                    }
        default = "dev"
        allowed = ["dev", "all"]
      }
    }
"""

from __future__ import annotations

import json
from typing import TypeVar

from nomadic.errors import JobSpecError
from nomadic.structs import (
    DecodeError,
    Namespace,
    NamespaceCapabilities,
    NamespaceNodePoolConfiguration,
    NodePool,
    NodePoolSchedulerConfiguration,
    from_builtins,
)

from .expressions import Evaluator, Scope
from .json_job import is_json
from .reader import BlockReader
from .syntax import Block, parse_body

__all__ = ["parse_namespace_spec", "parse_node_pool_spec"]

T = TypeVar("T", Namespace, NodePool)


def parse_namespace_spec(text: str, path: str) -> Namespace:
    """One ``namespace "<name>" { ... }`` block, or a Namespace JSON object."""
    if is_json(text):
        return _from_json(text, path, Namespace)
    block, reader = _single_block(text, path, "namespace")
    r = BlockReader.of(
        reader,
        block,
        f'namespace "{block.labels[0]}"',
        attrs=("description", "quota", "meta"),
        blocks=("meta", "capabilities", "node_pool_config"),
    )
    capabilities = None
    if (caps := r.block("capabilities")) is not None:
        c = BlockReader.of(
            reader,
            caps,
            "capabilities",
            attrs=(
                "enabled_task_drivers",
                "disabled_task_drivers",
                "enabled_network_modes",
                "disabled_network_modes",
            ),
        )
        capabilities = NamespaceCapabilities(
            enabled_task_drivers=c.strings("enabled_task_drivers"),
            disabled_task_drivers=c.strings("disabled_task_drivers"),
            enabled_network_modes=c.strings("enabled_network_modes"),
            disabled_network_modes=c.strings("disabled_network_modes"),
        )
    pools = None
    if (npc := r.block("node_pool_config")) is not None:
        p = BlockReader.of(reader, npc, "node_pool_config", attrs=("default", "allowed", "denied"))
        pools = NamespaceNodePoolConfiguration(
            default=p.string("default"), allowed=p.strings("allowed"), denied=p.strings("denied")
        )
    return Namespace(
        name=block.labels[0],
        description=r.string("description"),
        quota=r.string("quota"),
        meta=r.string_map_or_block("meta"),
        capabilities=capabilities,
        node_pool_configuration=pools,
    )


def parse_node_pool_spec(text: str, path: str) -> NodePool:
    """One ``node_pool "<name>" { ... }`` block, or a NodePool JSON object."""
    if is_json(text):
        return _from_json(text, path, NodePool)
    block, reader = _single_block(text, path, "node_pool")
    r = BlockReader.of(
        reader,
        block,
        f'node_pool "{block.labels[0]}"',
        attrs=("description", "meta"),
        blocks=("meta", "scheduler_config"),
    )
    sched = None
    if (sc := r.block("scheduler_config")) is not None:
        s = BlockReader.of(
            reader,
            sc,
            "scheduler_config",
            attrs=("scheduler_algorithm", "memory_oversubscription_enabled"),
        )
        oversub = s.raw("memory_oversubscription_enabled")
        sched = NodePoolSchedulerConfiguration(
            scheduler_algorithm=s.string("scheduler_algorithm"),
            memory_oversubscription_enabled=None if oversub is None else bool(oversub),
        )
    return NodePool(
        name=block.labels[0],
        description=r.string("description"),
        meta=r.string_map_or_block("meta"),
        scheduler_configuration=sched,
    )


def _single_block(text: str, path: str, kind: str) -> tuple[Block, Evaluator]:
    body = parse_body(text, path)
    blocks = [b for b in body.blocks if b.type == kind]
    if body.attributes or len(body.blocks) != 1 or len(blocks) != 1:
        raise JobSpecError(
            f'the file must hold exactly one {kind} "<name>" {{ ... }} block', path=path
        )
    block = blocks[0]
    if len(block.labels) != 1:
        raise block.span.error(f'a {kind} block has one label, its name: {kind} "<name>" {{...}}')
    return block, Evaluator(Scope())


def _from_json(text: str, path: str, cls: type[T]) -> T:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JobSpecError(f"invalid JSON: {exc.msg} (line {exc.lineno})", path=path) from None
    if not isinstance(data, dict) or not data.get("Name"):
        raise JobSpecError(f'a {cls.__name__} JSON object needs a "Name"', path=path)
    try:
        return from_builtins(data, cls)
    except DecodeError as exc:
        raise JobSpecError(str(exc), path=path) from None
