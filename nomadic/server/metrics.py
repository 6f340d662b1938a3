"""The server's gauges (``nomad.nomad.*`` and ``nomad.raft.*``), computed every
``collection_interval`` from what the server already holds; its timers and counters are
recorded where the work happens (broker, worker, plan applier, FSM, Raft).

Leader only, as in Nomad (followers' queues are empty and their summaries would be counted
three times by a dashboard summing over servers): broker and blocked-eval depths, plan queue
depth, heartbeat timers, job summaries and job status counts. Every server: Raft peers and
the time since each follower last answered (leader), and its own Raft state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nomadic.telemetry import GaugeSet

if TYPE_CHECKING:
    from .server import Server

__all__ = ["ServerMetrics"]

_SUMMARY_FIELDS = ("queued", "starting", "running", "complete", "failed", "lost", "unknown")
_JOB_STATUSES = ("pending", "running", "dead")


class ServerMetrics:
    def __init__(self, server: Server) -> None:
        self.server = server

    def collect(self, gauges: GaugeSet) -> None:
        server = self.server
        state = server.raft.state_name()
        for name in ("leader", "follower", "candidate"):
            gauges.set(f"nomad.raft.state.{name}.active", 1 if state == name else 0)
        gauges.set("nomad.raft.peers", len(server.raft.peers()))
        gauges.set("nomad.raft.appliedIndex", server.fsm.last_index)
        for peer, seconds in server.raft.last_contact().items():
            gauges.set("nomad.raft.leader.lastContact", seconds * 1000.0, {"peer": peer})
        if not server.is_leader():
            return
        self._broker(gauges)
        self._jobs(gauges)

    def _broker(self, gauges: GaugeSet) -> None:
        server = self.server
        stats = server.broker.stats()
        gauges.set("nomad.nomad.broker.total_ready", stats["TotalReady"])
        gauges.set("nomad.nomad.broker.total_unacked", stats["TotalUnacked"])
        gauges.set("nomad.nomad.broker.total_pending", stats["TotalPending"])
        gauges.set("nomad.nomad.broker.total_waiting", stats["TotalWaiting"])
        gauges.set("nomad.nomad.broker.total_failed", stats["TotalFailedQueue"])
        for sched, (ready, unacked) in server.broker.scheduler_stats().items():
            gauges.set(f"nomad.nomad.broker.{sched}_ready", ready)
            gauges.set(f"nomad.nomad.broker.{sched}_unacked", unacked)
        blocked = server.blocked.stats()
        gauges.set("nomad.nomad.blocked_evals.total_blocked", blocked["TotalBlocked"])
        gauges.set("nomad.nomad.blocked_evals.total_escaped", blocked["TotalEscaped"])
        gauges.set("nomad.nomad.plan.queue_depth", len(server.plan_queue))
        gauges.set("nomad.nomad.heartbeat.active", len(server.heartbeater.tracked()))

    def _jobs(self, gauges: GaugeSet) -> None:
        snap = self.server.snapshot()
        for summary in snap.tables.job_summary.values():
            for group, counts in summary.summary.items():
                labels = {
                    "job": summary.job_id,
                    "task_group": group,
                    "namespace": summary.namespace,
                }
                for field in _SUMMARY_FIELDS:
                    gauges.set(f"nomad.nomad.job_summary.{field}", getattr(counts, field), labels)
        statuses = dict.fromkeys(_JOB_STATUSES, 0)
        for job in snap.tables.jobs.values():
            if job.status in statuses:
                statuses[job.status] += 1
        for status, n in statuses.items():
            gauges.set(f"nomad.nomad.job_status.{status}", n)
