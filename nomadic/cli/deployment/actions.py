"""``nomadic deployment promote|fail|pause|resume|unblock [-detach] <deployment>``: act on a
deployment, then monitor the evaluation the server created (Nomad's behaviour), or print its
ID with ``-detach``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from nomadic.cli.deployment.format import resolve_deployment
from nomadic.cli.monitor import monitor_eval
from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, out, short_id

if TYPE_CHECKING:
    from nomadic.api import Client
    from nomadic.structs.deployment import DeploymentUpdateResponse

__all__ = ["fail", "pause", "promote", "resume", "unblock"]

Act = Callable[["Client", str], "DeploymentUpdateResponse"]


def _act(ctx: click.Context, text: str, act: Act, done: str, detach: bool, verbose: bool) -> None:
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        d = resolve_deployment(client, text)
        resp = act(client, d.id)
    except APIError as exc:
        raise CommandError(f"Error updating deployment: {exc}") from None
    out.line(f'Deployment "{short_id(d.id, verbose)}" {done}')
    if resp.reverted_job_version is not None:
        out.line(f"Job reverted to version {resp.reverted_job_version}")
    if not resp.eval_id:
        return
    if detach:
        out.line(f"Evaluation ID: {resp.eval_id}")
        return
    out.line()
    try:
        code = monitor_eval(client, resp.eval_id, verbose)
    except APIError as exc:
        raise CommandError(f"Error monitoring evaluation: {exc}") from None
    ctx.exit(code)


def _command(name: str, help_text: str, act: Act, done: str) -> click.Command:
    @click.command(name, help=help_text)
    @click.option("--detach", is_flag=True, help="Return at once with the evaluation ID.")
    @click.option("--verbose", is_flag=True, help="Show full IDs.")
    @click.argument("deployment_id")
    @api_options
    @click.pass_context
    def command(ctx: click.Context, detach: bool, verbose: bool, deployment_id: str) -> None:
        _act(ctx, deployment_id, act, done, detach, verbose)

    return command


fail = _command(
    "fail",
    "Mark a deployment failed (an auto_revert job goes back to its stable version).",
    lambda c, i: c.deployments.fail(i),
    "failed",
)
pause = _command(
    "pause", "Pause a deployment.", lambda c, i: c.deployments.pause(i, True), "paused"
)
resume = _command(
    "resume", "Resume a paused deployment.", lambda c, i: c.deployments.pause(i, False), "resumed"
)
unblock = _command(
    "unblock",
    "Unblock a multiregion deployment that finished in this region.",
    lambda c, i: c.deployments.unblock(i),
    "unblocked",
)


@click.command("promote")
@click.option("--group", "groups", multiple=True, help="Promote only this group (repeatable).")
@click.option("--detach", is_flag=True, help="Return at once with the evaluation ID.")
@click.option("--verbose", is_flag=True, help="Show full IDs.")
@click.argument("deployment_id")
@api_options
@click.pass_context
def promote(
    ctx: click.Context, groups: tuple[str, ...], detach: bool, verbose: bool, deployment_id: str
) -> None:
    """Promote the canaries of a deployment (every group unless -group is given)."""
    _act(
        ctx,
        deployment_id,
        lambda c, i: c.deployments.promote(i, list(groups)),
        "promoted",
        detach,
        verbose,
    )
