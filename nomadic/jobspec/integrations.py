"""Blocks that describe integrations and hints rather than placement or processes:
``volume``/``volume_mount``, ``scaling``, ``disconnect``, ``identity``, ``vault``, ``consul``,
``csi_plugin``, ``multiregion`` and ``ui`` (jobspec2's schema, Nomad's API structs)."""

from __future__ import annotations

from nomadic.structs import (
    Consul,
    CSIPluginConfig,
    DisconnectStrategy,
    JobUIConfig,
    JobUILink,
    Multiregion,
    MultiregionRegion,
    MultiregionStrategy,
    ScalingPolicy,
    Vault,
    VolumeMount,
    VolumeMountOptions,
    VolumeRequest,
    WorkloadIdentity,
)

from .expressions import Evaluator
from .plain import plain_body
from .reader import BlockReader
from .syntax import Block

__all__ = [
    "decode_consul",
    "decode_csi_plugin",
    "decode_disconnect",
    "decode_identities",
    "decode_multiregion",
    "decode_scaling",
    "decode_ui",
    "decode_vault",
    "decode_volume_mounts",
    "decode_volumes",
]

_RECONCILE = ("best_score", "keep_original", "keep_replacement", "longest_running")


def decode_volumes(ev: Evaluator, r: BlockReader) -> dict[str, VolumeRequest]:
    volumes: dict[str, VolumeRequest] = {}
    for block, name in r.labelled("volume"):
        where = f'volume "{name}" in {r.where}'
        if name in volumes:
            raise block.span.error(f"duplicate {where}")
        v = BlockReader.of(
            ev, block, where,
            attrs=("type", "source", "read_only", "sticky", "access_mode", "attachment_mode",
                   "per_alloc"),
            blocks=("mount_options",),
        )  # fmt: skip
        kind = v.string("type", "host")
        if kind not in ("host", "csi"):
            raise v.fail("type", f'invalid volume type "{kind}" in {where}; use "host" or "csi"')
        options = None
        if (mo := v.block("mount_options")) is not None:
            m = BlockReader.of(
                ev, mo, f"mount_options in {where}", attrs=("fs_type", "mount_flags")
            )
            options = VolumeMountOptions(
                fs_type=m.string("fs_type"), mount_flags=m.strings("mount_flags")
            )
        volumes[name] = VolumeRequest(
            name=name,
            type=kind,
            source=v.string("source"),
            read_only=v.boolean("read_only"),
            sticky=v.boolean("sticky"),
            access_mode=v.string("access_mode"),
            attachment_mode=v.string("attachment_mode"),
            mount_options=options,
            per_alloc=v.boolean("per_alloc"),
        )
    return volumes


def decode_volume_mounts(ev: Evaluator, r: BlockReader) -> list[VolumeMount]:
    mounts = []
    for block in r.blocks("volume_mount"):
        where = f"volume_mount in {r.where}"
        m = BlockReader.of(
            ev, block, where,
            attrs=("volume", "destination", "read_only", "propagation_mode", "selinux_label"),
        )  # fmt: skip
        m.no_labels(block)
        if not m.has("volume"):
            raise block.span.error(f'{where} needs volume = "<name of a group volume>"')
        mounts.append(
            VolumeMount(
                volume=m.string("volume"),
                destination=m.string("destination"),
                read_only=m.boolean("read_only"),
                propagation_mode=m.string("propagation_mode", "private"),
                selinux_label=m.string("selinux_label"),
            )
        )
    return mounts


def decode_scaling(ev: Evaluator, block: Block, where: str, *, vertical: bool) -> ScalingPolicy:
    """``scaling { min max enabled policy {...} }``; in a task, ``scaling "cpu"|"mem"``."""
    where = f"scaling in {where}"
    s = BlockReader.of(
        ev, block, where, attrs=("min", "max", "enabled", "type"), blocks=("policy",)
    )
    kind = "horizontal"
    if vertical:
        if len(block.labels) != 1 or block.labels[0] not in ("cpu", "mem"):
            raise block.span.error(
                f'{where} needs a label, "cpu" or "mem": scaling "cpu" {{ max = ... }}'
            )
        kind = f"vertical_{block.labels[0]}"
    else:
        s.no_labels(block)
    if not s.has("max"):
        raise block.span.error(f'{where} is missing the required argument "max"')
    minimum = s.integer("min") if s.has("min") else None
    maximum = s.integer("max")
    if minimum is not None and minimum > maximum:
        raise s.fail("min", f"{where}: min {minimum} is greater than max {maximum}")
    policy_block = s.block("policy")
    return ScalingPolicy(
        type=s.string("type", kind),
        min=minimum,
        max=maximum,
        enabled=s.boolean("enabled") if s.has("enabled") else None,
        policy=plain_body(ev, policy_block.body) if policy_block else {},
    )


def decode_disconnect(ev: Evaluator, block: Block | None, where: str) -> DisconnectStrategy | None:
    if block is None:
        return None
    where = f"disconnect in {where}"
    d = BlockReader.of(
        ev, block, where, attrs=("lost_after", "replace", "reconcile", "stop_on_client_after")
    )
    d.no_labels(block)
    reconcile = d.string("reconcile")
    if reconcile and reconcile not in _RECONCILE:
        raise d.fail(
            "reconcile",
            f'invalid reconcile "{reconcile}" in {where}; use one of {", ".join(_RECONCILE)}',
        )
    if d.has("lost_after") and d.has("stop_on_client_after"):
        raise d.fail(
            "stop_on_client_after",
            f'{where}: set "lost_after" or "stop_on_client_after", not both',
        )
    return DisconnectStrategy(
        lost_after=d.duration("lost_after"),
        replace=d.boolean("replace") if d.has("replace") else None,
        reconcile=reconcile,
        stop_on_client_after=d.optional_duration("stop_on_client_after"),
    )


def decode_identities(
    ev: Evaluator, r: BlockReader
) -> tuple[WorkloadIdentity | None, list[WorkloadIdentity]]:
    """The default identity (no ``name``) and the named ones, as jobspec2 splits them."""
    default, named = None, []
    for block in r.blocks("identity"):
        where = f"identity in {r.where}"
        i = BlockReader.of(
            ev, block, where,
            attrs=("name", "aud", "env", "file", "filepath", "ttl", "change_mode",
                   "change_signal", "service_name", "extra_claims"),
        )  # fmt: skip
        i.no_labels(block)
        identity = WorkloadIdentity(
            name=i.string("name"),
            audience=i.strings("aud"),
            env=i.boolean("env"),
            file=i.boolean("file"),
            filepath=i.string("filepath"),
            ttl=i.duration("ttl"),
            change_mode=i.string("change_mode"),
            change_signal=i.string("change_signal"),
            service_name=i.string("service_name"),
            extra_claims=i.string_map("extra_claims"),
        )
        if not identity.name or identity.name == "default":
            if default is not None:
                raise block.span.error(f"duplicate default {where}; give the others a name")
            identity.name = "default"
            default = identity
        else:
            named.append(identity)
    return default, named


def decode_vault(ev: Evaluator, block: Block | None, where: str) -> Vault | None:
    if block is None:
        return None
    v = BlockReader.of(
        ev, block, f"vault in {where}",
        attrs=("policies", "role", "namespace", "cluster", "env", "disable_file",
               "change_mode", "change_signal", "allow_token_expiration"),
    )  # fmt: skip
    v.no_labels(block)
    return Vault(
        policies=v.strings("policies"),
        role=v.string("role"),
        namespace=v.string("namespace"),
        cluster=v.string("cluster"),
        env=v.boolean("env") if v.has("env") else None,
        disable_file=v.boolean("disable_file"),
        change_mode=v.string("change_mode"),
        change_signal=v.string("change_signal"),
        allow_token_expiration=v.boolean("allow_token_expiration"),
    )


def decode_consul(ev: Evaluator, block: Block | None, where: str) -> Consul | None:
    if block is None:
        return None
    c = BlockReader.of(ev, block, f"consul in {where}", attrs=("namespace", "cluster", "partition"))
    c.no_labels(block)
    return Consul(
        namespace=c.string("namespace"),
        cluster=c.string("cluster"),
        partition=c.string("partition"),
    )


def decode_csi_plugin(ev: Evaluator, block: Block | None, where: str) -> CSIPluginConfig | None:
    if block is None:
        return None
    where = f"csi_plugin in {where}"
    c = BlockReader.of(
        ev, block, where,
        attrs=("id", "type", "mount_dir", "stage_publish_base_dir", "health_timeout"),
    )  # fmt: skip
    c.no_labels(block)
    kind = c.string("type")
    if kind not in ("node", "controller", "monolith"):
        raise c.fail("type", f'invalid type "{kind}" in {where}; use node, controller or monolith')
    return CSIPluginConfig(
        id=c.string("id"),
        type=kind,
        mount_dir=c.string("mount_dir"),
        stage_publish_base_dir=c.string("stage_publish_base_dir"),
        health_timeout=c.duration("health_timeout"),
    )


def decode_multiregion(ev: Evaluator, block: Block | None, where: str) -> Multiregion | None:
    if block is None:
        return None
    where = f"multiregion in {where}"
    m = BlockReader.of(ev, block, where, blocks=("strategy", "region"))
    m.no_labels(block)
    strategy = None
    if (sb := m.block("strategy")) is not None:
        s = BlockReader.of(ev, sb, f"strategy in {where}", attrs=("max_parallel", "on_failure"))
        strategy = MultiregionStrategy(
            max_parallel=s.integer("max_parallel"), on_failure=s.string("on_failure")
        )
    regions = []
    for rb, name in m.labelled("region"):
        r = BlockReader.of(
            ev, rb, f'region "{name}" in {where}',
            attrs=("count", "datacenters", "node_pool", "meta"), blocks=("meta",),
        )  # fmt: skip
        regions.append(
            MultiregionRegion(
                name=name,
                count=r.integer("count"),
                datacenters=r.strings("datacenters"),
                node_pool=r.string("node_pool"),
                meta=r.string_map_or_block("meta"),
            )
        )
    return Multiregion(strategy=strategy, regions=regions)


def decode_ui(ev: Evaluator, block: Block | None, where: str) -> JobUIConfig | None:
    if block is None:
        return None
    u = BlockReader.of(ev, block, f"ui in {where}", attrs=("description",), blocks=("link",))
    u.no_labels(block)
    links = []
    for lb in u.blocks("link"):
        link = BlockReader.of(ev, lb, f"link in ui in {where}", attrs=("label", "url"))
        links.append(JobUILink(label=link.string("label"), url=link.string("url")))
    return JobUIConfig(description=u.string("description"), links=links)
