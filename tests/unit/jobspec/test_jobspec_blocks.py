"""Every job spec block lands in the right struct fields (table-driven, one row per block)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nomadic.jobspec import parse
from nomadic.structs import (
    Affinity,
    ChangeScript,
    CNIConfig,
    Constraint,
    Consul,
    CSIPluginConfig,
    DisconnectStrategy,
    DispatchPayloadConfig,
    DNSConfig,
    EphemeralDisk,
    Job,
    JobUIConfig,
    JobUILink,
    LogConfig,
    MigrateStrategy,
    Multiregion,
    MultiregionRegion,
    MultiregionStrategy,
    ParameterizedJobConfig,
    PeriodicConfig,
    Port,
    RequestedDevice,
    ReschedulePolicy,
    RestartPolicy,
    ScalingPolicy,
    Service,
    ServiceCheck,
    Spread,
    SpreadTarget,
    TaskArtifact,
    TaskLifecycle,
    Template,
    UpdateStrategy,
    Vault,
    VolumeMount,
    VolumeRequest,
    WaitConfig,
    WorkloadIdentity,
)

S = SECOND = 1_000_000_000
M = 60 * S


def in_job(text: str) -> Job:
    return parse(
        f'job "web" {{\n{text}\n  group "g" {{ task "t" {{ driver = "raw_exec" }} }}\n}}\n'
    )


def in_group(text: str) -> Job:
    return parse(
        f'job "web" {{\n  group "g" {{\n{text}\n    task "t" {{ driver = "raw_exec" }}\n  }}\n}}\n'
    )


def in_task(text: str, job_type: str = "service") -> Job:
    return parse(
        f'job "web" {{\n  type = "{job_type}"\n  group "g" {{\n    task "t" {{\n{text}\n'
        "    }\n  }\n}\n"
    )


def group(job: Job) -> Any:
    return job.task_groups[0]


def task(job: Job) -> Any:
    return job.task_groups[0].tasks[0]


CASES: list[tuple[str, Callable[[str], Job], str, Callable[[Any], Any], Any]] = [
    # -- job level --
    (
        "job-defaults",
        in_job,
        "",
        lambda j: (j.id, j.name, j.type, j.priority, j.datacenters),
        ("web", "web", "service", 50, ["*"]),
    ),
    (
        "job-attrs",
        in_job,
        'name = "Web"\nregion = "eu"\nnamespace = "prod"\nnode_pool = "gpu"\npriority = 70\n'
        'type = "batch"\nall_at_once = true\ndatacenters = ["dc1", "dc2"]',
        lambda j: (
            j.name,
            j.region,
            j.namespace,
            j.node_pool,
            j.priority,
            j.type,
            j.all_at_once,
            j.datacenters,
        ),
        ("Web", "eu", "prod", "gpu", 70, "batch", True, ["dc1", "dc2"]),
    ),
    (
        "job-meta-block",
        in_job,
        'meta {\n team = "a"\n n = 3\n}',
        lambda j: j.meta,
        {"team": "a", "n": "3"},
    ),
    ("job-meta-attr", in_job, 'meta = { "a.b" = "c" }', lambda j: j.meta, {"a.b": "c"}),
    (
        "periodic-cron",
        in_job,
        'periodic {\n cron = "*/5 * * * *"\n prohibit_overlap = true\n'
        ' time_zone = "Europe/Paris"\n}',
        lambda j: j.periodic,
        PeriodicConfig(
            spec="*/5 * * * *", spec_type="cron", prohibit_overlap=True, time_zone="Europe/Paris"
        ),
    ),
    (
        "periodic-crons-disabled",
        in_job,
        'periodic {\n crons = ["@daily", "0 1 * * *"]\n enabled = false\n}',
        lambda j: (j.periodic.specs, j.periodic.enabled, j.periodic.spec_type),
        (["@daily", "0 1 * * *"], False, "cron"),
    ),
    (
        "parameterized",
        in_job,
        'parameterized {\n payload = "required"\n meta_required = ["a"]\n meta_optional = ["b"]\n}',
        lambda j: j.parameterized_job,
        ParameterizedJobConfig(payload="required", meta_required=["a"], meta_optional=["b"]),
    ),
    (
        "parameterized-default",
        in_job,
        "parameterized {}",
        lambda j: j.parameterized_job.payload,
        "optional",
    ),
    (
        "job-update-merged-over-defaults",
        in_job,
        "update {\n max_parallel = 3\n canary = 1\n}",
        lambda j: j.update,
        UpdateStrategy(
            stagger=30 * S,
            max_parallel=3,
            health_check="checks",
            min_healthy_time=10 * S,
            healthy_deadline=5 * M,
            progress_deadline=10 * M,
            canary=1,
        ),
    ),
    (
        "job-reschedule",
        in_job,
        'reschedule {\n attempts = 3\n interval = "1h"\n unlimited = false\n}',
        lambda j: (j.reschedule.attempts, j.reschedule.interval, j.reschedule.delay_function),
        (3, 60 * M, "exponential"),
    ),
    (
        "job-level-task-promoted",
        lambda t: parse(f'job "web" {{\n{t}\n}}'),
        'task "solo" { driver = "raw_exec" }',
        lambda j: [(g.name, g.count, [t.name for t in g.tasks]) for g in j.task_groups],
        [("solo", 1, ["solo"])],
    ),
    # -- placement --
    (
        "constraint-plain",
        in_job,
        'constraint {\n attribute = "${attr.kernel.name}"\n value = "linux"\n}',
        lambda j: j.constraints,
        [Constraint(l_target="${attr.kernel.name}", r_target="linux", operand="=")],
    ),
    (
        "constraint-operator",
        in_job,
        'constraint {\n attribute = "${attr.cpu.numcores}"\n operator = ">="\n value = 4\n}',
        lambda j: j.constraints[0],
        Constraint(l_target="${attr.cpu.numcores}", r_target="4", operand=">="),
    ),
    (
        "constraint-distinct-hosts",
        in_job,
        "constraint {\n distinct_hosts = true\n}",
        lambda j: j.constraints[0],
        Constraint(operand="distinct_hosts"),
    ),
    (
        "constraint-distinct-property",
        in_job,
        'constraint {\n distinct_property = "${meta.rack}"\n value = "2"\n}',
        lambda j: j.constraints[0],
        Constraint(l_target="${meta.rack}", r_target="2", operand="distinct_property"),
    ),
    (
        "constraint-version",
        in_job,
        'constraint {\n attribute = "${attr.x}"\n version = ">= 1.2"\n}',
        lambda j: j.constraints[0],
        Constraint(l_target="${attr.x}", r_target=">= 1.2", operand="version"),
    ),
    (
        "constraint-regexp",
        in_job,
        'constraint {\n attribute = "${attr.x}"\n regexp = "^a.*"\n}',
        lambda j: j.constraints[0].operand,
        "regexp",
    ),
    (
        "constraint-semver",
        in_job,
        'constraint {\n attribute = "${attr.x}"\n semver = "~> 1.0"\n}',
        lambda j: (j.constraints[0].operand, j.constraints[0].r_target),
        ("semver", "~> 1.0"),
    ),
    (
        "constraint-set-contains-any",
        in_job,
        'constraint {\n attribute = "${attr.x}"\n set_contains_any = "a,b"\n}',
        lambda j: (j.constraints[0].operand, j.constraints[0].r_target),
        ("set_contains_any", "a,b"),
    ),
    (
        "constraint-set-contains",
        in_task,
        'constraint {\n attribute = "${attr.x}"\n set_contains = "a"\n}',
        lambda j: task(j).constraints[0].operand,
        "set_contains",
    ),
    (
        "affinity",
        in_group,
        'affinity {\n attribute = "${node.datacenter}"\n value = "dc1"\n weight = -50\n}',
        lambda j: group(j).affinities,
        [Affinity(l_target="${node.datacenter}", r_target="dc1", operand="=", weight=-50)],
    ),
    (
        "affinity-default-weight",
        in_task,
        'affinity {\n attribute = "${meta.x}"\n regexp = "a"\n}',
        lambda j: (task(j).affinities[0].weight, task(j).affinities[0].operand),
        (50, "regexp"),
    ),
    (
        "spread",
        in_group,
        'spread {\n attribute = "${meta.rack}"\n weight = 80\n target "r1" { percent = 70 }\n'
        ' target "r2" { percent = 30 }\n}',
        lambda j: group(j).spreads,
        [
            Spread(
                attribute="${meta.rack}",
                weight=80,
                spread_target=[
                    SpreadTarget(value="r1", percent=70),
                    SpreadTarget(value="r2", percent=30),
                ],
            )
        ],
    ),
    # -- group level --
    (
        "group-count-and-delays",
        in_group,
        'count = 3\nshutdown_delay = "5s"\nstop_after_client_disconnect = "1m"\n'
        'max_client_disconnect = "1h"',
        lambda j: (
            group(j).count,
            group(j).shutdown_delay,
            group(j).stop_after_client_disconnect,
            group(j).max_client_disconnect,
        ),
        (3, 5 * S, M, 60 * M),
    ),
    ("group-count-string-number", in_group, 'count = "2"', lambda j: group(j).count, 2),
    (
        "group-count-from-scaling-min",
        in_group,
        "scaling {\n min = 2\n max = 5\n}",
        lambda j: group(j).count,
        2,
    ),
    (
        "network-ports",
        in_group,
        'network {\n mode = "bridge"\n hostname = "h"\n port "http" { static = 8080 }\n'
        ' port "db" { to = 6379 }\n port "x" { host_network = "public" }\n}',
        lambda j: (
            group(j).networks[0].mode,
            group(j).networks[0].hostname,
            group(j).networks[0].reserved_ports,
            group(j).networks[0].dynamic_ports,
        ),
        (
            "bridge",
            "h",
            [Port(label="http", value=8080)],
            [Port(label="db", to=6379), Port(label="x", host_network="public")],
        ),
    ),
    (
        "restart-merged-over-service-defaults",
        in_group,
        "restart {\n attempts = 5\n}",
        lambda j: group(j).restart_policy,
        RestartPolicy(attempts=5, interval=30 * M, delay=15 * S, mode="fail"),
    ),
    (
        "restart-full",
        in_group,
        'restart {\n attempts = 1\n interval = "1m"\n delay = "250ms"\n mode = "delay"\n'
        " render_templates = true\n}",
        lambda j: group(j).restart_policy,
        RestartPolicy(
            attempts=1, interval=M, delay=250_000_000, mode="delay", render_templates=True
        ),
    ),
    (
        "restart-absent-left-to-server",
        in_group,
        "",
        lambda j: (
            group(j).restart_policy,
            task(j).restart_policy,
            group(j).reschedule_policy,
            group(j).update,
        ),
        (None, None, None, None),
    ),
    (
        "reschedule",
        in_group,
        'reschedule {\n delay = "10s"\n delay_function = "fibonacci"\n max_delay = "2m"\n}',
        lambda j: group(j).reschedule_policy,
        ReschedulePolicy(delay=10 * S, delay_function="fibonacci", max_delay=2 * M, unlimited=True),
    ),
    (
        "update",
        in_group,
        "update {\n max_parallel = 2\n canary = 1\n auto_promote = true\n auto_revert = true\n"
        ' health_check = "task_states"\n min_healthy_time = "2s"\n healthy_deadline = "1m"\n'
        ' progress_deadline = "3m"\n stagger = "5s"\n}',
        lambda j: group(j).update,
        UpdateStrategy(
            stagger=5 * S,
            max_parallel=2,
            health_check="task_states",
            min_healthy_time=2 * S,
            healthy_deadline=M,
            progress_deadline=3 * M,
            auto_revert=True,
            auto_promote=True,
            canary=1,
        ),
    ),
    (
        "migrate",
        in_group,
        'migrate {\n max_parallel = 2\n min_healthy_time = "3s"\n}',
        lambda j: group(j).migrate,
        MigrateStrategy(
            max_parallel=2, health_check="checks", min_healthy_time=3 * S, healthy_deadline=5 * M
        ),
    ),
    (
        "ephemeral-disk",
        in_group,
        "ephemeral_disk {\n size = 500\n sticky = true\n migrate = true\n}",
        lambda j: group(j).ephemeral_disk,
        EphemeralDisk(size_mb=500, sticky=True, migrate=True),
    ),
    (
        "group-service-check",
        in_group,
        'service {\n name = "web"\n port = "http"\n tags = ["a", "b"]\n provider = "nomad"\n'
        ' check {\n  name = "alive"\n  type = "http"\n  path = "/health"\n  interval = "10s"\n'
        '  timeout = "2s"\n }\n}',
        lambda j: group(j).services,
        [
            Service(
                name="web",
                port_label="http",
                tags=["a", "b"],
                provider="nomad",
                checks=[
                    ServiceCheck(
                        name="alive", type="http", path="/health", interval=10 * S, timeout=2 * S
                    )
                ],
            )
        ],
    ),
    ("group-meta", in_group, 'meta { owner = "me" }', lambda j: group(j).meta, {"owner": "me"}),
    # -- task level --
    (
        "task-basics",
        in_task,
        'driver = "exec"\nuser = "nobody"\nkill_timeout = "20s"\nkill_signal = "SIGINT"\n'
        'shutdown_delay = "1s"\nleader = true',
        lambda j: (
            task(j).driver,
            task(j).user,
            task(j).kill_timeout,
            task(j).kill_signal,
            task(j).shutdown_delay,
            task(j).leader,
        ),
        ("exec", "nobody", 20 * S, "SIGINT", S, True),
    ),
    (
        "duration-number-is-nanoseconds",
        in_task,
        "kill_timeout = 1500",
        lambda j: task(j).kill_timeout,
        1500,
    ),
    (
        "duration-compound",
        in_task,
        'kill_timeout = "1h30m"',
        lambda j: task(j).kill_timeout,
        90 * M,
    ),
    (
        "config-plain-data",
        in_task,
        'config {\n image = "redis:7"\n ports = ["db"]\n n = 2\n x = 1.5\n'
        ' auth {\n  username = "u"\n }\n'
        ' mount {\n  type = "bind"\n }\n mount {\n  type = "tmpfs"\n }\n labels = { a = "b" }\n}',
        lambda j: task(j).config,
        {
            "image": "redis:7",
            "ports": ["db"],
            "n": 2,
            "x": 1.5,
            "labels": {"a": "b"},
            "auth": [{"username": "u"}],
            "mount": [{"type": "bind"}, {"type": "tmpfs"}],
        },
    ),
    (
        "resources",
        in_task,
        "resources {\n cpu = 500\n memory = 256\n memory_max = 512\n disk = 100\n"
        ' device "nvidia/gpu" {\n  count = 2\n  constraint {\n   attribute = "${device.model}"\n'
        '   value = "T4"\n  }\n }\n}',
        lambda j: (
            task(j).resources.cpu,
            task(j).resources.memory_mb,
            task(j).resources.memory_max_mb,
            task(j).resources.disk_mb,
            task(j).resources.devices,
        ),
        (
            500,
            256,
            512,
            100,
            [
                RequestedDevice(
                    name="nvidia/gpu",
                    count=2,
                    constraints=[Constraint(l_target="${device.model}", r_target="T4")],
                )
            ],
        ),
    ),
    (
        "resources-cores",
        in_task,
        "resources {\n cores = 2\n}",
        lambda j: (task(j).resources.cores, task(j).resources.memory_mb),
        (2, 300),
    ),
    (
        "env-block",
        in_task,
        'env {\n A = "1"\n B = 2\n C = true\n}',
        lambda j: task(j).env,
        {"A": "1", "B": "2", "C": "true"},
    ),
    (
        "env-attr",
        in_task,
        'env = { "A.B" = "x", C = "${NOMAD_ALLOC_ID}" }',
        lambda j: task(j).env,
        {"A.B": "x", "C": "${NOMAD_ALLOC_ID}"},
    ),
    ("task-meta", in_task, 'meta { k = "v" }', lambda j: task(j).meta, {"k": "v"}),
    (
        "task-restart-merged-over-batch-defaults",
        lambda t: in_task(t, "batch"),
        "restart {\n attempts = 1\n}",
        lambda j: task(j).restart_policy,
        RestartPolicy(attempts=1, interval=24 * 60 * M, delay=15 * S, mode="fail"),
    ),
    (
        "logs",
        in_task,
        "logs {\n max_files = 3\n max_file_size = 5\n}",
        lambda j: task(j).log_config,
        LogConfig(max_files=3, max_file_size_mb=5),
    ),
    (
        "logs-disabled",
        in_task,
        "logs {\n enabled = false\n}",
        lambda j: task(j).log_config.disabled,
        True,
    ),
    (
        "lifecycle",
        in_task,
        'lifecycle {\n hook = "prestart"\n sidecar = true\n}',
        lambda j: task(j).lifecycle,
        TaskLifecycle(hook="prestart", sidecar=True),
    ),
    (
        "dispatch-payload",
        in_task,
        'dispatch_payload { file = "input.txt" }',
        lambda j: task(j).dispatch_payload,
        DispatchPayloadConfig(file="input.txt"),
    ),
    (
        "template-full",
        in_task,
        'template {\n source = "in.tpl"\n destination = "local/out"\n change_mode = "signal"\n'
        ' change_signal = "SIGHUP"\n splay = "10s"\n perms = "0600"\n left_delimiter = "[["\n'
        ' right_delimiter = "]]"\n env = true\n}',
        lambda j: task(j).templates,
        [
            Template(
                source_path="in.tpl",
                dest_path="local/out",
                change_mode="signal",
                change_signal="SIGHUP",
                splay=10 * S,
                perms="0600",
                left_delim="[[",
                right_delim="]]",
                envvars=True,
            )
        ],
    ),
    (
        "template-data-defaults",
        in_task,
        'template {\n data = "{{ env \\"HOME\\" }}"\n destination = "x"\n}',
        lambda j: task(j).templates[0],
        Template(embedded_tmpl='{{ env "HOME" }}', dest_path="x"),
    ),
    (
        "artifact",
        in_task,
        'artifact {\n source = "https://x/y.tgz"\n destination = "local/y"\n mode = "dir"\n'
        ' options {\n  checksum = "sha256:abc"\n }\n}',
        lambda j: task(j).artifacts,
        [
            TaskArtifact(
                getter_source="https://x/y.tgz",
                relative_dest="local/y",
                getter_mode="dir",
                getter_options={"checksum": "sha256:abc"},
            )
        ],
    ),
    (
        "service-and-check-details",
        in_task,
        'service {\n name = "api"\n port = "http"\n canary_tags = ["c"]\n address = "10.0.0.1"\n'
        ' enable_tag_override = true\n meta { v = 1 }\n check {\n  type = "http"\n'
        '  method = "POST"\n  protocol = "https"\n  tls_skip_verify = true\n'
        '  initial_status = "passing"\n  header {\n   Authorization = ["Basic x"]\n  }\n }\n'
        ' check {\n  type = "script"\n  command = "/bin/check"\n  args = ["-v"]\n }\n}',
        lambda j: task(j).services,
        [
            Service(
                name="api",
                port_label="http",
                canary_tags=["c"],
                address="10.0.0.1",
                enable_tag_override=True,
                meta={"v": "1"},
                checks=[
                    ServiceCheck(
                        type="http",
                        method="POST",
                        protocol="https",
                        tls_skip_verify=True,
                        initial_status="passing",
                        header={"Authorization": ["Basic x"]},
                    ),
                    ServiceCheck(type="script", command="/bin/check", args=["-v"]),
                ],
            )
        ],
    ),
    (
        "task-service",
        in_task,
        'service {\n name = "api"\n port = "http"\n}',
        lambda j: (task(j).services[0].name, task(j).services[0].port_label),
        ("api", "http"),
    ),
    (
        "task-integration-blocks",
        in_task,
        'identity {\n env = true\n}\nidentity {\n name = "aws"\n aud = ["sts"]\n ttl = "1h"\n}\n'
        'vault {\n role = "x"\n}\nconsul { namespace = "n" }\n'
        'volume_mount {\n volume = "data"\n destination = "/srv"\n}',
        lambda j: (
            task(j).identity,
            task(j).identities,
            task(j).vault,
            task(j).consul,
            task(j).volume_mounts,
        ),
        (
            WorkloadIdentity(name="default", env=True),
            [WorkloadIdentity(name="aws", audience=["sts"], ttl=3600 * SECOND)],
            Vault(role="x"),
            Consul(namespace="n"),
            [VolumeMount(volume="data", destination="/srv", propagation_mode="private")],
        ),
    ),
    (
        "group-volume-scaling-disconnect",
        in_group,
        'volume "data" {\n type = "host"\n source = "shared"\n read_only = true\n}\n'
        'scaling {\n min = 2\n max = 5\n policy { cooldown = "1m" }\n}\n'
        'disconnect {\n lost_after = "6h"\n reconcile = "keep_original"\n}',
        lambda j: (group(j).volumes, group(j).scaling, group(j).disconnect, group(j).count),
        (
            {"data": VolumeRequest(name="data", type="host", source="shared", read_only=True)},
            ScalingPolicy(type="horizontal", min=2, max=5, policy={"cooldown": "1m"}),
            DisconnectStrategy(lost_after=6 * 3600 * SECOND, reconcile="keep_original"),
            2,
        ),
    ),
    (
        "job-vault-hoisted-into-tasks",
        in_job,
        'vault {\n policies = ["p"]\n}\nui {\n description = "d"\n link {\n label = "l"\n'
        ' url = "https://x"\n }\n}\nmultiregion {\n strategy { max_parallel = 1 }\n'
        ' region "west" { count = 2 }\n}',
        lambda j: (task(j).vault, j.ui, j.multiregion),
        (
            Vault(policies=["p"]),
            JobUIConfig(description="d", links=[JobUILink(label="l", url="https://x")]),
            Multiregion(
                strategy=MultiregionStrategy(max_parallel=1),
                regions=[MultiregionRegion(name="west", count=2)],
            ),
        ),
    ),
    (
        "template-all-attributes",
        in_task,
        'template {\n data = "x"\n destination = "local/x"\n uid = 1000\n gid = 1000\n'
        ' once = true\n error_on_missing_key = true\n change_mode = "script"\n'
        ' change_script {\n command = "/bin/reload"\n }\n wait {\n min = "2s"\n max = "10s"\n }\n}',
        lambda j: task(j).templates[0],
        Template(
            embedded_tmpl="x",
            dest_path="local/x",
            uid=1000,
            gid=1000,
            once=True,
            err_missing_key=True,
            change_mode="script",
            change_script=ChangeScript(command="/bin/reload"),
            wait=WaitConfig(min=2 * SECOND, max=10 * SECOND),
        ),
    ),
    (
        "artifact-headers",
        in_task,
        'artifact {\n source = "https://x/a.tgz"\n headers { X-Token = "t" }\n insecure = true\n'
        " chown = true\n}",
        lambda j: task(j).artifacts[0],
        TaskArtifact(
            getter_source="https://x/a.tgz",
            getter_headers={"X-Token": "t"},
            getter_insecure=True,
            chown=True,
        ),
    ),
    (
        "network-dns-cni-ignore-collision",
        in_group,
        'network {\n port "http" {\n static = 80\n ignore_collision = true\n }\n'
        ' dns {\n servers = ["1.1.1.1"]\n }\n cni { args = { a = "b" } }\n}',
        lambda j: (
            group(j).networks[0].reserved_ports[0].ignore_collision,
            group(j).networks[0].dns,
            group(j).networks[0].cni,
        ),
        (True, DNSConfig(servers=["1.1.1.1"]), CNIConfig(args={"a": "b"})),
    ),
    (
        "csi-plugin",
        in_task,
        'csi_plugin {\n id = "ebs"\n type = "node"\n mount_dir = "/csi"\n}',
        lambda j: task(j).csi_plugin_config,
        CSIPluginConfig(id="ebs", type="node", mount_dir="/csi"),
    ),
]


@pytest.mark.parametrize(
    ("wrap", "text", "get", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_block_maps_onto_struct(
    wrap: Callable[[str], Job], text: str, get: Callable[[Job], Any], expected: Any
) -> None:
    assert get(wrap(text)) == expected
