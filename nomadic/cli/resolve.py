"""Turn what a user typed (a full ID or a unique prefix) into one object, as Nomad's CLI does.

Prefixes are resolved through the list endpoints' ``?prefix``; a prefix matching several
objects is an error that lists them, so the user can type more characters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nomadic.cli.output import CommandError, columnize, short_id

if TYPE_CHECKING:
    from nomadic.api import Client
    from nomadic.structs import Allocation, Evaluation, Job, Node

__all__ = ["resolve_alloc", "resolve_eval", "resolve_job", "resolve_node", "uuid_prefix"]


def uuid_prefix(text: str, what: str) -> str:
    """Nomad's checks on a UUID prefix: two characters at least, an even number of hex digits."""
    if len(text) < 2:
        raise CommandError(f"{what} ID must contain at least two characters.")
    hex_only = text.replace("-", "")
    return text[:-1] if len(hex_only) % 2 else text


def _ambiguous(kind: str, rows: list[list[str]]) -> CommandError:
    table = "\n".join(columnize(rows))
    return CommandError(f"Prefix matched multiple {kind}\n\n{table}")


def resolve_job(client: Client, job_id: str) -> Job:
    stubs = client.jobs.list(prefix=job_id)
    exact = [s for s in stubs if s.id == job_id]
    if exact:
        stubs = exact
    if not stubs:
        raise CommandError(f'No job(s) with prefix or id "{job_id}" found')
    if len(stubs) > 1:
        rows = [["ID", "Type", "Priority", "Status"]]
        rows += [[s.id, s.type, str(s.priority), s.status] for s in stubs]
        raise _ambiguous("jobs", rows)
    return client.jobs.info(stubs[0].id)


def resolve_alloc(client: Client, alloc_id: str) -> Allocation:
    stubs = client.allocations.list(prefix=uuid_prefix(alloc_id, "Alloc"))
    if not stubs:
        raise CommandError(f'No allocation(s) with prefix or id "{alloc_id}" found')
    if len(stubs) > 1:
        rows = [["ID", "Eval ID", "Job ID", "Task Group", "Desired Status", "Client Status"]]
        rows += [
            [
                short_id(s.id),
                short_id(s.eval_id),
                s.job_id,
                s.task_group,
                s.desired_status,
                s.client_status,
            ]
            for s in stubs
        ]
        raise _ambiguous("allocations", rows)
    return client.allocations.info(stubs[0].id)


def resolve_eval(client: Client, eval_id: str) -> Evaluation:
    evals = client.evaluations.list(prefix=uuid_prefix(eval_id, "Eval"))
    if not evals:
        raise CommandError(f'No evaluation(s) with prefix or id "{eval_id}" found')
    if len(evals) > 1:
        rows = [["ID", "Priority", "Triggered By", "Job ID", "Status"]]
        rows += [
            [short_id(e.id), str(e.priority), e.triggered_by, e.job_id, e.status] for e in evals
        ]
        raise _ambiguous("evaluations", rows)
    return evals[0]


def resolve_node(client: Client, node_id: str) -> Node:
    stubs = client.nodes.list(prefix=uuid_prefix(node_id, "Node"))
    if not stubs:
        raise CommandError(f'No node(s) with prefix "{node_id}" found')
    if len(stubs) > 1:
        rows = [["ID", "DC", "Name", "Class", "Drain", "Eligibility", "Status"]]
        rows += [
            [
                short_id(n.id),
                n.datacenter,
                n.name,
                n.node_class or "<none>",
                str(n.drain).lower(),
                n.scheduling_eligibility,
                n.status,
            ]
            for n in stubs
        ]
        raise _ambiguous("nodes", rows)
    return client.nodes.info(stubs[0].id)
