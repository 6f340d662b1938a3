"""``/v1/event/stream`` and structured logs on a real ``-dev`` agent.

A user following the event stream while running a job sees Nomad's sequence: the job and its
evaluation registered, the plan placing the allocation, the client reporting it running, the
evaluation completing; ``index=`` replays it. With ``log_json`` the agent's log lines about
that evaluation, allocation and node carry their IDs as fields, and ``nomadic monitor -json``
streams the same.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = pytest.mark.e2e

JOB = """
job "%s" {
  datacenters = ["*"]
  group "g" {
    task "t" {
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


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    agent = AgentProcess(tmp_path_factory.mktemp("events"), extra_config="log_json = true\n")
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


class Stream:
    """Reads an NDJSON stream in a thread; lines land in a queue."""

    def __init__(self, url: str, params: list[tuple[str, str]]) -> None:
        self.lines: queue.Queue[Any] = queue.Queue()
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, read=None))
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url, params), daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the stream did not open"

    def _read(self, url: str, params: list[tuple[str, str]]) -> None:
        try:
            with self._client.stream("GET", url, params=params) as resp:
                self._ready.set()
                for line in resp.iter_lines():
                    if line.strip():
                        self.lines.put(json.loads(line))
        except httpx.HTTPError:
            self._ready.set()

    def events_until(self, done: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []

        def more() -> bool:
            while True:
                try:
                    frame = self.lines.get_nowait()
                except queue.Empty:
                    return bool(done(seen))
                seen.extend(frame.get("Events", []))

        wait_for(more, timeout=timeout, what=f"events; got {[_short(e) for e in seen]}")
        return seen

    def close(self) -> None:
        self._client.close()


def _short(ev: dict[str, Any]) -> tuple[str, str]:
    return ev["Topic"], ev["Type"]


def run_job(agent: AgentProcess, name: str) -> None:
    path = agent.workdir / f"{name}.hcl"
    path.write_text(JOB % name)
    agent.cli("job", "run", "-detach", str(path), check=True)


def _alloc_running(ev: dict[str, Any]) -> bool:
    return ev["Topic"] == "Allocation" and ev["Payload"]["Allocation"]["ClientStatus"] == "running"


def test_a_job_run_yields_nomads_event_sequence(agent: AgentProcess) -> None:
    topics = [("topic", f"{t}:evjob") for t in ("Job", "Evaluation", "Allocation")]
    stream = Stream(f"{agent.address}/v1/event/stream", topics)
    try:
        run_job(agent, "evjob")
        events = stream.events_until(lambda seen: any(_alloc_running(e) for e in seen))
    finally:
        stream.close()

    first = events[0]
    assert _short(first) == ("Job", "JobRegistered")
    assert first["Key"] == "evjob"
    assert first["Namespace"] == "default"
    assert first["Payload"]["Job"]["ID"] == "evjob"
    assert first["Payload"]["Job"]["TaskGroups"][0]["Name"] == "g"
    assert _short(events[1]) == ("Evaluation", "JobRegistered")
    eval_id = events[1]["Key"]
    assert events[1]["Payload"]["Evaluation"]["Status"] == "pending"
    assert events[1]["FilterKeys"] == ["evjob"]

    kinds = [_short(e) for e in events]
    placed = kinds.index(("Allocation", "PlanResult"))
    alloc = events[placed]["Payload"]["Allocation"]
    assert alloc["JobID"] == "evjob" and alloc["EvalID"] == eval_id
    assert alloc.get("Job") is None  # stripped, as Nomad does
    completed = next(
        i
        for i, e in enumerate(events)
        if e["Topic"] == "Evaluation"
        and e["Key"] == eval_id
        and e["Payload"]["Evaluation"]["Status"] == "complete"
    )
    running = next(i for i, e in enumerate(events) if _alloc_running(e))
    assert events[running]["Type"] == "AllocationUpdated"
    assert events[running]["Key"] == alloc["ID"]
    assert 1 < placed < running
    assert placed <= completed
    indexes = [e["Index"] for e in events]
    assert indexes == sorted(indexes)
    # other jobs' events are filtered out
    assert {e["Payload"].get("Job", {}).get("ID", "evjob") for e in events} == {"evjob"}


def test_index_replays_buffered_events(agent: AgentProcess) -> None:
    run_job(agent, "replayjob")
    wait_for(
        lambda: any(
            a["ClientStatus"] == "running" for a in agent.get("/v1/job/replayjob/allocations")
        ),
        what="replayjob running",
    )
    job_index = agent.get("/v1/job/replayjob")["CreateIndex"]
    stream = Stream(
        f"{agent.address}/v1/event/stream",
        [("topic", "Job:replayjob"), ("index", str(job_index))],
    )
    try:
        events = stream.events_until(lambda seen: len(seen) >= 1)
    finally:
        stream.close()
    assert _short(events[0]) == ("Job", "JobRegistered")
    assert events[0]["Index"] == job_index


def test_node_events_and_bad_topic(agent: AgentProcess) -> None:
    stream = Stream(f"{agent.address}/v1/event/stream", [("topic", "Node"), ("index", "1")])
    try:
        events = stream.events_until(lambda seen: len(seen) >= 1)
    finally:
        stream.close()
    assert _short(events[0]) == ("Node", "NodeRegistration")
    assert events[0]["Payload"]["Node"]["SecretID"] == ""
    status, body = agent.request("GET", "/v1/event/stream?topic=Jobs:web")
    assert status == 400
    assert b"invalid topic 'Jobs:web'" in body


def _json_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_json_logs_carry_eval_alloc_node_and_job_ids(agent: AgentProcess) -> None:
    run_job(agent, "logjob")
    alloc = wait_for(
        lambda: next(
            (a for a in agent.get("/v1/job/logjob/allocations") if a["ClientStatus"] == "running"),
            None,
        ),
        what="logjob running",
    )

    def lines_about(key: str, value: str) -> list[dict[str, Any]]:
        return [r for r in _json_lines(agent.log_path.read_text()) if r.get(key) == value]

    about_alloc = wait_for(lambda: lines_about("alloc_id", alloc["ID"]), what="alloc log lines")
    assert {r["@message"] for r in about_alloc} >= {"running allocation", "task started"}
    assert all(r["job_id"] == "logjob" for r in about_alloc if "job_id" in r)
    about_eval = lines_about("eval_id", alloc["EvalID"])
    assert any(r["@message"] == "allocation placed" for r in about_eval), about_eval
    placed = next(r for r in about_eval if r["@message"] == "allocation placed")
    assert placed["alloc_id"] == alloc["ID"] and placed["node_id"] == alloc["NodeID"]
    assert lines_about("node_id", alloc["NodeID"]), "no log line names the node"
    for record in about_alloc + about_eval:
        assert {"@timestamp", "@level", "@module", "@message"} <= set(record)


def test_monitor_streams_json_log_lines(agent: AgentProcess, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*agent.command, "monitor", "-log-level", "debug", "-json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=agent.env(),
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.put(raw.decode())

    threading.Thread(target=read, daemon=True).start()
    try:
        seen: list[dict[str, Any]] = []

        def job_registered() -> bool:
            # the monitor may connect after a registration: register (again) until one shows
            run_job(agent, "monjob")
            while not lines.empty():
                seen.extend(_json_lines(lines.get_nowait()))
            return any(r.get("job_id") == "monjob" for r in seen)

        wait_for(job_registered, timeout=30, interval=0.5, what="monjob in the monitor")
        registered = [r for r in seen if r["@message"] == "job registered"]
        assert registered and registered[0]["job_id"] == "monjob"
        assert registered[0]["eval_id"], registered[0]
        assert any(r["@level"] == "debug" for r in seen), "-log-level debug sent no debug lines"
    finally:
        proc.terminate()
        proc.wait(10)
