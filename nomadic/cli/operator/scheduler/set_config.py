"""``nomadic operator scheduler set-config [-scheduler-algorithm binpack|spread]
[-preempt-system-scheduler=bool] [-preempt-sysbatch-scheduler=bool]
[-preempt-batch-scheduler=bool] [-preempt-service-scheduler=bool]
[-memory-oversubscription=bool] [-reject-job-registration=bool] [-pause-eval-broker=bool]``:
change only the options given, keep the rest."""

from __future__ import annotations

import click
import msgspec

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out

__all__ = ["set_config"]

_BOOL_FLAGS = (
    ("preempt_system_scheduler", "system_scheduler_enabled"),
    ("preempt_sysbatch_scheduler", "sysbatch_scheduler_enabled"),
    ("preempt_batch_scheduler", "batch_scheduler_enabled"),
    ("preempt_service_scheduler", "service_scheduler_enabled"),
)


@click.command("set-config")
@click.option("--scheduler-algorithm", type=click.Choice(["binpack", "spread"]), default=None)
@click.option("--preempt-system-scheduler", type=bool, default=None)
@click.option("--preempt-sysbatch-scheduler", type=bool, default=None)
@click.option("--preempt-batch-scheduler", type=bool, default=None)
@click.option("--preempt-service-scheduler", type=bool, default=None)
@click.option("--memory-oversubscription", type=bool, default=None)
@click.option("--reject-job-registration", type=bool, default=None)
@click.option("--pause-eval-broker", type=bool, default=None)
@api_options
@click.pass_context
def set_config(
    ctx: click.Context, /, scheduler_algorithm: str | None, **flags: bool | None
) -> None:
    """Modify the scheduler configuration (only the options given change)."""
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        config = client.operator.scheduler_get_configuration()
        preemption = config.preemption_config
        for flag, field in _BOOL_FLAGS:
            value = flags.pop(flag)
            if value is not None:
                preemption = msgspec.structs.replace(preemption, **{field: value})
        changes: dict[str, object] = {"preemption_config": preemption}
        if scheduler_algorithm is not None:
            changes["scheduler_algorithm"] = scheduler_algorithm
        for flag, field in (
            ("memory_oversubscription", "memory_oversubscription_enabled"),
            ("reject_job_registration", "reject_job_registration"),
            ("pause_eval_broker", "pause_eval_broker"),
        ):
            value = flags.pop(flag)
            if value is not None:
                changes[field] = value
        client.operator.scheduler_set_configuration(msgspec.structs.replace(config, **changes))
    except APIError as exc:
        raise CommandError(f"Error setting scheduler configuration: {exc}") from None
    out.line("Scheduler configuration updated!")
