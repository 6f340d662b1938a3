"""``nomadic operator scheduler get-config [-json]``: the scheduler configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

if TYPE_CHECKING:
    from nomadic.structs import SchedulerConfiguration

__all__ = ["get_config", "show_config"]


def show_config(config: SchedulerConfiguration) -> None:
    p = config.preemption_config

    def b(v: bool) -> str:
        return str(v).lower()

    out.kv(
        [
            ("Scheduler Algorithm", config.scheduler_algorithm),
            ("Memory Oversubscription", b(config.memory_oversubscription_enabled)),
            ("Reject Job Registration", b(config.reject_job_registration)),
            ("Pause Eval Broker", b(config.pause_eval_broker)),
            ("Preemption System Scheduler", b(p.system_scheduler_enabled)),
            ("Preemption Service Scheduler", b(p.service_scheduler_enabled)),
            ("Preemption Batch Scheduler", b(p.batch_scheduler_enabled)),
            ("Preemption SysBatch Scheduler", b(p.sysbatch_scheduler_enabled)),
            ("Modify Index", config.modify_index),
        ]
    )


@click.command("get-config")
@click.option("--json", "as_json", is_flag=True, help="Print the configuration as JSON.")
@api_options
@click.pass_context
def get_config(ctx: click.Context, as_json: bool) -> None:
    """Display the current scheduler configuration."""
    from nomadic.api import APIError

    try:
        config = client_from(ctx).operator.scheduler_get_configuration()
    except APIError as exc:
        raise CommandError(f"Error querying scheduler configuration: {exc}") from None
    if as_json:
        out.json(config)
    else:
        show_config(config)
