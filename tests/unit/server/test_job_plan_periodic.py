"""``job plan`` of a periodic job: NextPeriodicLaunch comes from the periodic dispatcher's
cron arithmetic (``nomadic.structs.periodic.next_launch``), and the dry run prints it."""

from __future__ import annotations

import time

from nomadic.cli.job.plan_format import format_dry_run
from nomadic.server.endpoints.job_plan import next_periodic_launch
from nomadic.structs import Job, PeriodicConfig
from nomadic.structs.consts import SECOND
from nomadic.structs.requests import ZERO_TIME, JobPlanResponse

NOW = 1_700_000_000 * SECOND


def test_periodic_job_gets_its_next_launch() -> None:
    job = Job(id="report", periodic=PeriodicConfig(spec="0 * * * *"))
    # NOW is 2023-11-14T22:13:20Z: the next top of the hour
    assert next_periodic_launch(job, NOW) == "2023-11-14T23:00:00Z"


def test_other_jobs_get_go_zero_time() -> None:
    assert next_periodic_launch(Job(id="web"), NOW) == ZERO_TIME
    disabled = Job(id="off", periodic=PeriodicConfig(spec="0 * * * *", enabled=False))
    assert next_periodic_launch(disabled, NOW) == ZERO_TIME


def test_dry_run_prints_the_next_launch() -> None:
    job = Job(id="report", periodic=PeriodicConfig(spec="0 * * * *"))
    launch = time.time_ns() + 2 * 3600 * SECOND + 30 * SECOND
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(launch / SECOND))
    text = format_dry_run(JobPlanResponse(next_periodic_launch=stamp), job)
    lines = text.splitlines()
    assert lines[0] == "- All tasks successfully allocated."
    assert lines[1].startswith("- If submitted now, next periodic launch would be at ")
    assert lines[1].endswith("(2h0m from now).")
