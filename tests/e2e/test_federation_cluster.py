"""A 3-server region (``us``) federated with a 1-server region (``eu``) by ``server join``.

Only ``us``'s own servers form its Raft quorum; ``eu`` learns all three through gossip, and
writes sent from ``eu`` to ``us`` reach ``us``'s leader whichever ``us`` server takes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_cluster import Cluster

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = pytest.mark.e2e

GOSSIP = '  wan_gossip_interval = "200ms"\n  wan_failure_timeout = "3s"\n'


class USCluster(Cluster):
    def __init__(self, root: Path) -> None:
        self.servers = [AgentProcess(root / f"us{i}", dev=False) for i in range(3)]
        join = json.dumps([f"127.0.0.1:{s.rpc_port}" for s in self.servers])
        for s in self.servers:
            with s.config_path.open("a") as f:
                f.write(
                    f'name = "{s.workdir.name}"\nregion = "us"\nserver {{\n  enabled = true\n'
                    f"  bootstrap_expect = 3\n  num_schedulers = 1\n"
                    f"  server_join {{\n    retry_join = {join}\n  }}\n{GOSSIP}}}\n"
                )
        self.clients = []


@dataclass
class Federation:
    us: USCluster
    eu: AgentProcess


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    root = tmp_path_factory.mktemp("federation3")
    us = USCluster(root)
    eu = AgentProcess(root / "eu")
    with eu.config_path.open("a") as f:
        f.write(f'name = "eu1"\nregion = "eu"\nserver {{\n{GOSSIP}}}\n')
    try:
        for s in us.servers:
            s.start(wait_ready=False)
        # a loaded machine may need more than one election round
        wait_for(us.leader, timeout=90, what="us's servers to elect a leader")
        eu.start()
        yield Federation(us=us, eu=eu)
    except BaseException:
        for agent in [*us.servers, eu]:
            print(f"--- {agent.workdir.name} ---\n{agent.log_tail(60)}")
        raise
    finally:
        eu.stop()
        us.stop()


def members(agent: AgentProcess) -> dict[str, dict[str, str]]:
    body = agent.get("/v1/agent/members")
    return {m["Name"]: {"Status": m["Status"], **m["Tags"]} for m in body["Members"]}


def test_join_federates_without_touching_raft(federation: Federation) -> None:
    eu, us = federation.eu, federation.us
    joined = eu.cli("server", "join", f"127.0.0.1:{us.servers[0].rpc_port}", check=True)
    assert joined.stdout.strip() == "Joined 1 servers successfully"

    names = {"eu1.eu", "us0.us", "us1.us", "us2.us"}
    for agent in [eu, *us.servers]:
        wait_for(
            lambda a=agent: (
                set(members(a)) == names  # type: ignore[misc]
                and all(m["Status"] == "alive" for m in members(a).values())
            ),
            timeout=30,
            what=f"{agent.workdir.name} to see all four servers alive",
        )
    leader = us.leader()
    seen = members(eu)
    assert [n for n, m in seen.items() if m["region"] == "us" and m["leader"] == "true"] == [
        f"{leader.workdir.name}.us"
    ]
    # us's Raft quorum is still its three servers; eu's is itself
    assert len(leader.get("/v1/status/peers")) == 3
    assert eu.get("/v1/status/peers") == [f"127.0.0.1:{eu.rpc_port}"]
    assert eu.get("/v1/status/peers?region=us") == sorted(
        f"127.0.0.1:{s.rpc_port}" for s in us.servers
    )


def test_writes_from_eu_reach_the_us_leader(federation: Federation) -> None:
    eu, us = federation.eu, federation.us
    wait_for(lambda: eu.get("/v1/regions") == ["eu", "us"], timeout=30, what="eu to know us")
    job = {
        "ID": "",
        "Type": "service",
        "Datacenters": ["*"],
        "TaskGroups": [
            {
                "Name": "web",
                "Count": 1,
                "Tasks": [{"Name": "web", "Driver": "raw_exec", "Config": {"command": "true"}}],
            }
        ],
    }
    # a random us server takes each request: followers forward to the leader
    for i in range(6):
        body = {"Job": {**job, "ID": f"from-eu-{i}", "Region": "us"}}
        status, answer = eu.request("PUT", "/v1/jobs", body)
        assert status == 200, answer
    leader = us.leader()
    ids = {j["ID"] for j in leader.get("/v1/jobs")}
    assert {f"from-eu-{i}" for i in range(6)} <= ids
    assert not [j for j in eu.get("/v1/jobs") if j["ID"].startswith("from-eu")]

    # a multiregion job: the us copy goes over gRPC (region_rpc) to any us server
    multi = {
        **job,
        "ID": "both",
        "Multiregion": {"Regions": [{"Name": "eu"}, {"Name": "us", "Count": 3}]},
    }
    status, answer = eu.request("PUT", "/v1/jobs", {"Job": multi})
    assert status == 200, answer
    us_copy = leader.get("/v1/job/both")
    assert (us_copy["Region"], us_copy["TaskGroups"][0]["Count"]) == ("us", 3)
    assert eu.get("/v1/job/both")["Region"] == "eu"


def test_a_server_that_shuts_down_is_listed_left(federation: Federation) -> None:
    """Runs last: it stops one us server (the other two keep us's quorum)."""
    eu, us = federation.eu, federation.us
    leaving = next(s for s in us.servers if s is not us.leader())
    assert leaving.stop() == 0
    name = f"{leaving.workdir.name}.us"
    wait_for(
        lambda: members(eu)[name]["Status"] == "left",
        timeout=30,
        what=f"eu to list {name} as left",
    )
    assert all(m["Status"] == "alive" for n, m in members(eu).items() if n != name)
    assert eu.get("/v1/regions") == ["eu", "us"]
