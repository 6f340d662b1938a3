"""The "Multiregion" section of ``job status``: each region's copy of a multiregion job.

Regions share no state, so each row is read from that region (``?region=<name>``, forwarded by
the agent); a region that cannot be reached says so in its row instead of failing the command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nomadic.cli.output import out

if TYPE_CHECKING:
    from nomadic.api import Client
    from nomadic.structs import Job

__all__ = ["show_multiregion"]

HEADER = ("Region", "Status", "Version", "Desired", "Running", "Deployment", "Datacenters")


def _latest_deployment(client: Client, job_id: str) -> str:
    """The status of the region's latest deployment of the job, "-" when it has none."""
    from urllib.parse import quote

    found = client.deployments.latest_of_job(quote(job_id, safe=""))
    return found.status if found is not None else "-"


def show_multiregion(client: Client, job: Job) -> None:
    from nomadic.api import APIError, Client

    if job.multiregion is None:
        return
    rows: list[tuple[object, ...]] = []
    for spec in job.multiregion.regions:
        regional = Client(client.address, region=spec.name, token=client.token, tls=client.tls)
        try:
            copy = regional.jobs.info(job.id)
            summary = regional.jobs.summary(job.id)
            deployment = _latest_deployment(regional, job.id)
        except APIError as exc:
            rows.append((spec.name, f"unreachable: {exc.message}", "", "", "", "", ""))
            continue
        finally:
            regional.close()
        desired = sum(tg.count for tg in copy.task_groups)
        running = sum(c.running for c in summary.summary.values())
        status = "stopped" if copy.stop else copy.status
        datacenters = ",".join(copy.datacenters)
        rows.append((spec.name, status, copy.version, desired, running, deployment, datacenters))
    out.line("\nMultiregion")
    out.table(HEADER, rows)
