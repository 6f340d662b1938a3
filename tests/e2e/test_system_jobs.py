"""System jobs, node drain and preemption on real agents: a dev agent (server + client) and a
second client agent that joins it over gRPC.

What a Nomad user notices: a system job runs on every node, including one that joins later;
draining a node moves its service allocation to the other node (system allocs stopped last)
and leaves it ineligible; a high-priority system job evicts a low-priority service alloc that
fills a node.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = pytest.mark.e2e

JOB = """
job "%(name)s" {
  type        = "%(type)s"
  priority    = %(priority)d
  datacenters = ["*"]
  group "g" {
    %(extra)s
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sleep"
        args    = ["300"]
      }
      resources {
        cpu    = 20
        memory = %(memory)d
      }
    }
  }
}
"""


class Pair:
    """A dev agent named "dev1" and a client-only agent "client2" pointed at it."""

    def __init__(self, root: Path) -> None:
        self.dev = AgentProcess(root / "dev1", extra_config='name = "dev1"\n')
        self.client = AgentProcess(root / "client2", dev=False)
        with self.client.config_path.open("a") as f:
            f.write(
                f'name = "client2"\nclient {{\n  enabled = true\n'
                f'  servers = ["127.0.0.1:{self.dev.rpc_port}"]\n}}\n'
                'plugin "raw_exec" {\n  config {\n    enabled = true\n  }\n}\n'
            )
        self.root = root

    def run(self, name: str, *, type_: str = "service", priority: int = 50, memory: int = 16,
            extra: str = "") -> None:  # fmt: skip
        path = self.root / f"{name}.hcl"
        fields = {"name": name, "type": type_, "priority": priority, "memory": memory}
        path.write_text(JOB % {**fields, "extra": extra})
        self.dev.cli("job", "run", "-detach", str(path), check=True)

    def allocs(self, job: str) -> list[dict[str, Any]]:
        allocs: list[dict[str, Any]] = self.dev.get(f"/v1/job/{job}/allocations")
        return allocs

    def running(self, job: str) -> list[dict[str, Any]]:
        return [
            a for a in self.allocs(job)
            if a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"
        ]  # fmt: skip

    def node_id(self, name: str) -> str:
        return next(n["ID"] for n in self.dev.get("/v1/nodes") if n["Name"] == name)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    p = Pair(tmp_path_factory.mktemp("system"))
    try:
        p.dev.start()
        yield p
    except BaseException:
        for agent in (p.dev, p.client):
            print(f"--- {agent.workdir.name} ---\n{agent.log_tail(60)}")
        raise
    finally:
        p.client.stop()
        p.dev.stop()


def test_system_job_follows_a_joining_client(pair: Pair) -> None:
    pair.run("agentd", type_="system")
    wait_for(lambda: len(pair.running("agentd")) == 1, timeout=60, what="agentd on dev1")
    pair.client.start(wait_ready=False)
    wait_for(
        lambda: len([n for n in pair.dev.get("/v1/nodes") if n["Status"] == "ready"]) == 2,
        timeout=60,
        what="client2 to register",
    )
    allocs = wait_for(
        lambda: a if len(a := pair.running("agentd")) == 2 else None,
        timeout=60,
        what="agentd on both nodes",
    )
    assert {a["NodeName"] for a in allocs} == {"dev1", "client2"}
    assert {a["Name"] for a in allocs} == {"agentd.g[0]"}


def test_node_drain_migrates_a_service_alloc_to_the_other_node(pair: Pair) -> None:
    pair.run("web")
    (web,) = wait_for(lambda: pair.running("web"), timeout=60, what="web running")
    drained, other = web["NodeName"], ({"dev1", "client2"} - {web["NodeName"]}).pop()
    node_id = pair.node_id(drained)
    result = pair.dev.cli(
        "node", "drain", "-enable", "-yes", "-deadline", "1m", node_id[:8], timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f'Node "{node_id}" drain strategy set'
    assert "Ctrl-C to stop monitoring: will not cancel the node drain" in lines[1]
    assert lines[-1].endswith(f'Drain complete for node "{node_id}"')
    (moved,) = wait_for(lambda: pair.running("web"), timeout=60, what="web running elsewhere")
    assert moved["NodeName"] == other and moved["ID"] != web["ID"]
    old = next(a for a in pair.allocs("web") if a["ID"] == web["ID"])
    assert old["DesiredStatus"] == "stop"
    assert old["DesiredTransition"]["Migrate"] is True
    # the system alloc on the drained node was stopped too (system jobs go last)
    sys_allocs = [a for a in pair.allocs("agentd") if a["NodeName"] == drained]
    assert sys_allocs and all(a["DesiredStatus"] == "stop" for a in sys_allocs)
    node = pair.dev.get(f"/v1/node/{node_id}")
    assert node["SchedulingEligibility"] == "ineligible"
    assert node["DrainStrategy"] is None and node["Drain"] is False
    assert node["LastDrain"]["Status"] == "complete"
    status = pair.dev.cli("node", "status", check=True).stdout
    assert "ineligible" in status

    # eligible again: the system job comes back to the node
    result = pair.dev.cli("node", "eligibility", "-enable", node_id, check=True)
    assert result.stdout.strip() == (
        f'Node "{node_id}" scheduling eligibility set: eligible for scheduling'
    )
    wait_for(
        lambda: {a["NodeName"] for a in pair.running("agentd")} == {"dev1", "client2"},
        timeout=60,
        what="agentd back on the drained node",
    )


def test_high_priority_system_job_preempts_a_low_priority_service_alloc(pair: Pair) -> None:
    target = pair.node_id("client2")
    node = pair.dev.get(f"/v1/node/{target}")
    used = sum(
        a["AllocatedResources"]["Tasks"]["t"]["Memory"]["MemoryMB"]
        for a in pair.dev.get(f"/v1/node/{target}/allocations")
        if a["DesiredStatus"] == "run" and a["ClientStatus"] in ("pending", "running")
    )
    free = (
        node["NodeResources"]["Memory"]["MemoryMB"]
        - node["ReservedResources"]["Memory"]["MemoryMB"]
        - used
    )
    pin = 'constraint {\n  attribute = "${node.unique.name}"\n  value = "client2"\n}'
    pair.run("filler", priority=20, memory=free - 50, extra=pin)
    (filler,) = wait_for(lambda: pair.running("filler"), timeout=60, what="filler running")
    assert filler["NodeName"] == "client2"
    pair.run("monitor", type_="system", priority=80, memory=200)
    mon = wait_for(
        lambda: a if len(a := pair.running("monitor")) == 2 else None,
        timeout=60,
        what="the monitor system job on both nodes",
    )
    on_target = next(a for a in mon if a["NodeName"] == "client2")
    evicted = next(a for a in pair.allocs("filler") if a["ID"] == filler["ID"])
    assert evicted["DesiredStatus"] == "evict"
    assert evicted["DesiredDescription"] == f"Preempted by alloc ID {on_target['ID']}"
    detail = pair.dev.get(f"/v1/allocation/{on_target['ID']}")
    assert detail["PreemptedAllocations"] == [filler["ID"]]
    wait_for(
        lambda: (
            next(a for a in pair.allocs("filler") if a["ID"] == filler["ID"])["ClientStatus"]
            == "complete"
        ),
        timeout=60,
        what="the evicted alloc to stop",
    )
    triggers = {e["TriggeredBy"] for e in pair.dev.get("/v1/job/filler/evaluations")}
    assert "preemption" in triggers
    # the configuration switch: preemption for system jobs is on by default
    config = pair.dev.get("/v1/operator/scheduler/configuration")["SchedulerConfig"]
    assert config["PreemptionConfig"]["SystemSchedulerEnabled"] is True
