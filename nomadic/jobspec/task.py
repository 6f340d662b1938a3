"""The ``task`` block and what lives only inside it: driver ``config``, ``resources``,
``template``, ``artifact``, ``logs``, ``lifecycle`` and ``dispatch_payload``."""

from __future__ import annotations

from typing import Any

from nomadic.structs import (
    ChangeScript,
    DispatchPayloadConfig,
    LogConfig,
    RequestedDevice,
    Resources,
    RestartPolicy,
    Task,
    TaskArtifact,
    TaskLifecycle,
    Template,
    Vault,
    WaitConfig,
)

from .expressions import Evaluator
from .integrations import (
    decode_consul,
    decode_csi_plugin,
    decode_identities,
    decode_scaling,
    decode_vault,
    decode_volume_mounts,
)
from .placement import decode_affinities, decode_constraints
from .plain import plain_body
from .policies import decode_restart
from .reader import BlockReader
from .services import decode_services
from .syntax import Block

__all__ = ["decode_task"]

_CHANGE_MODES = ("restart", "signal", "noop", "script")

_TASK_ATTRS = (
    "driver",
    "user",
    "kill_timeout",
    "kill_signal",
    "shutdown_delay",
    "leader",
    "kind",
    "env",
    "meta",
)
_TASK_BLOCKS = (
    "config",
    "resources",
    "restart",
    "logs",
    "lifecycle",
    "template",
    "artifact",
    "service",
    "constraint",
    "affinity",
    "dispatch_payload",
    "env",
    "meta",
    "volume_mount",
    "vault",
    "consul",
    "identity",
    "csi_plugin",
    "scaling",
)


def decode_task(
    ev: Evaluator,
    block: Block,
    name: str,
    restart_base: RestartPolicy,
    vault: Vault | None = None,
) -> Task:
    """``vault`` is the job's or group's ``vault`` block, for a task without its own."""
    where = f'task "{name}"'
    r = BlockReader.of(ev, block, where, attrs=_TASK_ATTRS, blocks=_TASK_BLOCKS)
    resources = r.block("resources")
    identity, identities = decode_identities(ev, r)
    return Task(
        name=name,
        driver=r.string("driver"),
        user=r.string("user"),
        config=decode_config(ev, r.block("config")),
        env=r.string_map_or_block("env"),
        meta=r.string_map_or_block("meta"),
        services=decode_services(ev, r.blocks("service"), where),
        constraints=decode_constraints(ev, block.body, where),
        affinities=decode_affinities(ev, block.body, where),
        resources=_resources(ev, resources, where) if resources else Resources(),
        restart_policy=decode_restart(ev, r.block("restart"), where, restart_base),
        kill_timeout=r.duration("kill_timeout"),
        kill_signal=r.string("kill_signal"),
        shutdown_delay=r.duration("shutdown_delay"),
        leader=r.boolean("leader"),
        kind=r.string("kind"),
        log_config=_logs(ev, r.block("logs"), where),
        templates=[_template(ev, b, where) for b in r.blocks("template")],
        artifacts=[_artifact(ev, b, where) for b in r.blocks("artifact")],
        lifecycle=_lifecycle(ev, r.block("lifecycle"), where),
        dispatch_payload=_dispatch_payload(ev, r.block("dispatch_payload"), where),
        volume_mounts=decode_volume_mounts(ev, r),
        vault=decode_vault(ev, r.block("vault"), where) or vault,
        consul=decode_consul(ev, r.block("consul"), where),
        identity=identity,
        identities=identities,
        csi_plugin_config=decode_csi_plugin(ev, r.block("csi_plugin"), where),
        scaling_policies=[decode_scaling(ev, b, where, vertical=True) for b in r.blocks("scaling")],
    )


def decode_config(ev: Evaluator, block: Block | None) -> dict[str, Any]:
    """Driver config is schemaless here (each driver checks its own): any arguments, and
    nested blocks as lists of objects, the shape Nomad's API JSON uses."""
    return {} if block is None else plain_body(ev, block.body)


def _resources(ev: Evaluator, block: Block, where: str) -> Resources:
    where = f"resources in {where}"
    r = BlockReader.of(
        ev,
        block,
        where,
        attrs=("cpu", "memory", "memory_max", "cores", "disk", "iops"),
        blocks=("device",),
    )
    r.no_labels(block)
    if r.has("cpu") and r.has("cores"):
        raise r.fail("cores", f'{where}: set "cpu" or "cores", not both')
    devices = []
    for dev_block, name in r.labelled("device"):
        dev_where = f'device "{name}" in {where}'
        d = BlockReader.of(
            ev, dev_block, dev_where, attrs=("count",), blocks=("constraint", "affinity")
        )
        devices.append(
            RequestedDevice(
                name=name,
                count=d.integer("count", 1),
                constraints=decode_constraints(ev, dev_block.body, dev_where),
                affinities=decode_affinities(ev, dev_block.body, dev_where),
            )
        )
    defaults = Resources()
    return Resources(
        cpu=r.integer("cpu", defaults.cpu),
        cores=r.integer("cores"),
        memory_mb=r.integer("memory", defaults.memory_mb),
        memory_max_mb=r.integer("memory_max"),
        disk_mb=r.integer("disk"),
        iops=r.integer("iops"),
        devices=devices,
    )


def _template(ev: Evaluator, block: Block, where: str) -> Template:
    r = BlockReader.of(
        ev,
        block,
        f"template in {where}",
        attrs=(
            "source",
            "destination",
            "data",
            "change_mode",
            "change_signal",
            "splay",
            "perms",
            "left_delimiter",
            "right_delimiter",
            "env",
            "uid",
            "gid",
            "once",
            "error_on_missing_key",
            "vault_grace",
        ),
        blocks=("wait", "change_script"),
    )
    r.no_labels(block)
    d = Template()
    mode = r.string("change_mode", d.change_mode)
    if mode not in _CHANGE_MODES:
        raise r.fail(
            "change_mode", f'invalid change_mode "{mode}" in template in {where}; '
            'use "restart", "signal", "noop" or "script"',
        )  # fmt: skip
    if not r.has("data") and not r.has("source"):
        raise block.span.error(f'template in {where} needs "data" or "source"')
    if not r.has("destination"):
        raise block.span.error(
            f'template in {where} is missing the required argument "destination"'
        )
    return Template(
        source_path=r.string("source"),
        dest_path=r.string("destination"),
        embedded_tmpl=r.string("data"),
        change_mode=r.string("change_mode", d.change_mode),
        change_signal=r.string("change_signal"),
        splay=r.duration("splay", d.splay),
        perms=r.string("perms", d.perms),
        left_delim=r.string("left_delimiter", d.left_delim),
        right_delim=r.string("right_delimiter", d.right_delim),
        envvars=r.boolean("env"),
        change_script=_change_script(ev, r.block("change_script"), where),
        uid=r.integer("uid") if r.has("uid") else None,
        gid=r.integer("gid") if r.has("gid") else None,
        wait=_wait(ev, r.block("wait"), where),
        err_missing_key=r.boolean("error_on_missing_key"),
        once=r.boolean("once"),
        vault_grace=r.duration("vault_grace"),
    )


def _change_script(ev: Evaluator, block: Block | None, where: str) -> ChangeScript | None:
    if block is None:
        return None
    c = BlockReader.of(
        ev, block, f"change_script in template in {where}",
        attrs=("command", "args", "timeout", "fail_on_error"),
    )  # fmt: skip
    d = ChangeScript()
    return ChangeScript(
        command=c.string("command"),
        args=c.strings("args"),
        timeout=c.duration("timeout", d.timeout),
        fail_on_error=c.boolean("fail_on_error"),
    )


def _wait(ev: Evaluator, block: Block | None, where: str) -> WaitConfig | None:
    if block is None:
        return None
    w = BlockReader.of(ev, block, f"wait in template in {where}", attrs=("min", "max"))
    return WaitConfig(min=w.optional_duration("min"), max=w.optional_duration("max"))


def _artifact(ev: Evaluator, block: Block, where: str) -> TaskArtifact:
    r = BlockReader.of(
        ev,
        block,
        f"artifact in {where}",
        attrs=("source", "destination", "mode", "options", "headers", "chown", "insecure"),
        blocks=("options", "headers"),
    )
    r.no_labels(block)
    if not r.has("source"):
        raise block.span.error(f'artifact in {where} is missing the required argument "source"')
    return TaskArtifact(
        getter_source=r.string("source"),
        getter_options=r.string_map_or_block("options"),
        relative_dest=r.string("destination"),
        getter_mode=r.string("mode", "any"),
        getter_headers=r.string_map_or_block("headers"),
        getter_insecure=r.boolean("insecure"),
        chown=r.boolean("chown"),
    )


def _logs(ev: Evaluator, block: Block | None, where: str) -> LogConfig:
    if block is None:
        return LogConfig()
    r = BlockReader.of(
        ev, block, f"logs in {where}", attrs=("max_files", "max_file_size", "disabled", "enabled")
    )
    r.no_labels(block)
    d = LogConfig()
    disabled = r.boolean("disabled") or (r.has("enabled") and not r.boolean("enabled"))
    return LogConfig(
        max_files=r.integer("max_files", d.max_files),
        max_file_size_mb=r.integer("max_file_size", d.max_file_size_mb),
        disabled=disabled,
    )


def _lifecycle(ev: Evaluator, block: Block | None, where: str) -> TaskLifecycle | None:
    if block is None:
        return None
    r = BlockReader.of(ev, block, f"lifecycle in {where}", attrs=("hook", "sidecar"))
    r.no_labels(block)
    hook = r.string("hook")
    if hook not in ("prestart", "poststart", "poststop"):
        raise r.fail(
            "hook",
            f'invalid lifecycle hook "{hook}" in {where}; '
            'use "prestart", "poststart" or "poststop"',
        )
    return TaskLifecycle(hook=hook, sidecar=r.boolean("sidecar"))


def _dispatch_payload(
    ev: Evaluator, block: Block | None, where: str
) -> DispatchPayloadConfig | None:
    if block is None:
        return None
    r = BlockReader.of(ev, block, f"dispatch_payload in {where}", attrs=("file",))
    r.no_labels(block)
    return DispatchPayloadConfig(file=r.string("file"))
