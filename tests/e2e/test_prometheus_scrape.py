"""A real Prometheus server scrapes a 3-server + 1-client cluster running a job.

What a user of a Nomad dashboard notices: PromQL over nomadic's exposition answers how many
allocations of a job are running and how much memory each one uses, under Nomad's metric
names; and ``promtool`` accepts every agent's exposition without a parse error.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nomadic.testing.agent_process import AgentProcess, free_port, wait_for

pytestmark = pytest.mark.e2e

TELEMETRY = """
telemetry {
  prometheus_metrics         = true
  publish_allocation_metrics = true
  publish_node_metrics       = true
  collection_interval        = "500ms"
}
"""

JOB = """
job "promjob" {
  datacenters = ["*"]
  group "web" {
    count = 2
    task "web" {
      driver = "raw_exec"
      config {
        command = "/bin/sleep"
        args    = ["300"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
"""


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run .ci/setup.d/40-prometheus.sh")
    return path


class MetricsCluster:
    def __init__(self, root: Path) -> None:
        self.servers = [AgentProcess(root / f"server{i}", dev=False) for i in range(3)]
        join = json.dumps([f"127.0.0.1:{s.rpc_port}" for s in self.servers])
        for s in self.servers:
            with s.config_path.open("a") as f:
                f.write(
                    f'name = "{s.workdir.name}"\nserver {{\n  enabled = true\n'
                    f"  bootstrap_expect = 3\n  num_schedulers = 1\n"
                    f"  server_join {{\n    retry_join = {join}\n  }}\n}}\n{TELEMETRY}"
                )
        self.client = AgentProcess(root / "client0", dev=False)
        with self.client.config_path.open("a") as f:
            f.write(
                'name = "client0"\nclient {\n  enabled = true\n'
                f"  servers = {join}\n}}\n"
                'plugin "raw_exec" {\n  config {\n    enabled = true\n  }\n}\n' + TELEMETRY
            )

    @property
    def agents(self) -> list[AgentProcess]:
        return [*self.servers, self.client]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetricsCluster]:
    root = tmp_path_factory.mktemp("promcluster")
    c = MetricsCluster(root)
    try:
        for s in c.servers:
            s.start(wait_ready=False)
        c.client.start(wait_ready=False)
        wait_for(
            lambda: [n for n in c.servers[0].get("/v1/nodes") if n["Status"] == "ready"],
            timeout=60,
            what="the client node to be ready",
        )
        job = root / "promjob.hcl"
        job.write_text(JOB)
        c.servers[1].cli("job", "run", "-detach", str(job), check=True)
        wait_for(
            lambda: (
                len(
                    [
                        a
                        for a in c.servers[0].get("/v1/job/promjob/allocations")
                        if a["ClientStatus"] == "running"
                    ]
                )
                == 2
            ),
            timeout=60,
            what="2 running allocations of promjob",
        )
        yield c
    except BaseException:
        for agent in c.agents:
            print(f"--- {agent.workdir.name} ---\n{agent.log_tail(40)}")
        raise
    finally:
        for agent in [c.client, *c.servers]:
            agent.stop()


@pytest.fixture(scope="module")
def prometheus(cluster: MetricsCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A prometheus server of our own, on a free port, scraping every agent each second."""
    root = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    targets = [f"127.0.0.1:{a.http_port}" for a in cluster.agents]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": "nomadic",
                "metrics_path": "/v1/metrics",
                "params": {"format": ["prometheus"]},
                "static_configs": [{"targets": targets}],
            }
        ],
    }
    (root / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    log = (root / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            _binary("prometheus"),
            f"--config.file={root / 'prometheus.yml'}",
            f"--storage.tsdb.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _http(f"{url}/-/ready"), timeout=60, what="prometheus to be ready")
        yield url
    except BaseException:
        print((root / "prometheus.log").read_text(errors="replace")[-3000:])
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def _http(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.read() if resp.status == 200 else None
    except OSError:
        return None


def promql(url: str, query: str) -> list[dict[str, Any]]:
    body = _http(f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": query}))
    if body is None:
        return []
    answer = json.loads(body)
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def await_query(url: str, query: str, ok: Any, what: str) -> list[dict[str, Any]]:
    """Poll ``query`` until ``ok(result)``; a timeout shows the last answer."""
    last: list[list[dict[str, Any]]] = [[]]

    def check() -> list[dict[str, Any]] | None:
        last[0] = promql(url, query)
        return last[0] if ok(last[0]) else None

    try:
        return wait_for(check, timeout=60, what=what)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; last answer to {query!r}: {last[0]}") from None


def test_all_targets_are_scraped_healthy(cluster: MetricsCluster, prometheus: str) -> None:
    up = await_query(
        prometheus, 'up{job="nomadic"} == 1', lambda r: len(r) == 4, "4 agents scraped"
    )
    assert len(up) == 4


def test_promql_counts_the_jobs_running_allocations(
    cluster: MetricsCluster, prometheus: str
) -> None:
    # Only the leader publishes job summaries, so the sum over servers is the cluster's count.
    # Prometheus renames the metric's ``job`` label to ``exported_job`` (its own ``job`` is the
    # scrape job's name), exactly as with Nomad; Nomad dashboards query ``exported_job``.
    query = 'sum(nomad_nomad_job_summary_running{exported_job="promjob",task_group="web"})'
    result = await_query(
        prometheus,
        query,
        lambda r: r and float(r[0]["value"][1]) == 2,
        "the job summary's running count of promjob in prometheus",
    )
    assert float(result[0]["value"][1]) == 2
    by_state = promql(prometheus, "sum(nomad_client_allocations_running)")
    assert float(by_state[0]["value"][1]) == 2


def test_promql_reports_memory_per_allocation(cluster: MetricsCluster, prometheus: str) -> None:
    allocs = {a["ID"] for a in cluster.servers[0].get("/v1/job/promjob/allocations")}
    query = 'nomad_client_allocs_memory_rss{exported_job="promjob",task="web"} > 0'
    result = await_query(
        prometheus,
        query,
        lambda r: len(r) == 2,
        "memory RSS of both promjob allocations in prometheus",
    )
    assert {r["metric"]["alloc_id"] for r in result} == allocs
    for series in result:
        labels = series["metric"]
        assert labels["task_group"] == "web"
        assert labels["namespace"] == "default"
        assert labels["host"] == "client0"
        assert 0 < float(series["value"][1]) < 64 * 1024 * 1024  # /bin/sleep's RSS, in bytes
    allocated = promql(prometheus, 'nomad_client_allocs_memory_allocated{exported_job="promjob"}')
    assert {float(r["value"][1]) for r in allocated} == {16 * 1024 * 1024}


def test_promql_sees_server_timers_and_raft(cluster: MetricsCluster, prometheus: str) -> None:
    leaders = await_query(
        prometheus, "sum(nomad_raft_state_leader_active)", bool, "raft state gauges"
    )
    assert float(leaders[0]["value"][1]) == 1
    peers = promql(prometheus, "nomad_raft_peers")
    assert {float(r["value"][1]) for r in peers} == {3}
    submitted = promql(prometheus, "sum(nomad_nomad_plan_submit_count)")
    assert float(submitted[0]["value"][1]) >= 1
    http = promql(prometheus, 'nomad_http_request_count{path="/v1/jobs",method="PUT"}')
    assert http, "the job registration's HTTP request was not counted"


def test_promtool_accepts_every_agents_exposition(cluster: MetricsCluster) -> None:
    promtool = _binary("promtool")
    for agent in cluster.agents:
        status, body = agent.request("GET", "/v1/metrics?format=prometheus")
        assert status == 200
        check = subprocess.run(
            [promtool, "check", "metrics"], input=body, capture_output=True, timeout=60
        )
        # 0: clean; 3: lint warnings only (Nomad's own names, e.g. counters without _total);
        # 1 would be a parse error.
        assert check.returncode in (0, 3), (agent.workdir.name, check.stdout, check.stderr)
