"""``nomadic job history [-p] [-version N] [-json] <job>``: the job's stored versions.

With ``-p`` each version shows what changed since the one before it, as ``+/- Field: "old" =>
"new"`` lines over the job's API JSON (Nomad's structured diff, flattened to field paths).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from nomadic.cli.options import api_options, client_from
from nomadic.cli.output import CommandError, format_time, out
from nomadic.cli.resolve import resolve_job

if TYPE_CHECKING:
    from nomadic.structs import Job

__all__ = ["history", "job_diff"]

_SERVER_FIELDS = {
    "Version",
    "Stable",
    "SubmitTime",
    "CreateIndex",
    "ModifyIndex",
    "JobModifyIndex",
    "Status",
    "StatusDescription",
}


def _flatten(value: Any, path: str, into: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{path}.{key}" if path else str(key), into)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, item in enumerate(value):
            name = item.get("Name") if isinstance(item, dict) else None
            _flatten(item, f"{path}[{name if name else i}]", into)
    else:
        into[path] = value


def job_diff(old: Job, new: Job) -> list[str]:
    """``+/- path: "old" => "new"`` lines (``+``/``-`` for added/removed fields)."""
    from nomadic.structs import to_builtins

    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    _flatten(to_builtins(old), "", before)
    _flatten(to_builtins(new), "", after)
    lines = []
    for key in sorted(set(before) | set(after)):
        if key.split(".")[0] in _SERVER_FIELDS:
            continue
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        if key not in before:
            lines.append(f'+ {key}: "{b}"')
        elif key not in after:
            lines.append(f'- {key}: "{a}"')
        else:
            lines.append(f'+/- {key}: "{a}" => "{b}"')
    return lines


@click.command()
@click.argument("job_id", metavar="<job>")
@click.option("-p", "show_diff", is_flag=True, help="Show the changes of each version.")
@click.option("--full", is_flag=True, help="Print the full job of each version as JSON.")
@click.option("--version", "only", type=int, default=None, help="Show only this version.")
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON.")
@api_options
@click.pass_context
def history(
    ctx: click.Context, job_id: str, show_diff: bool, full: bool, only: int | None, as_json: bool
) -> None:
    """Display the stored versions of a job, newest first."""
    from nomadic.api import APIError

    client = client_from(ctx)
    try:
        job = resolve_job(client, job_id)
        versions = sorted(client.jobs.versions(job.id), key=lambda j: -j.version)
    except APIError as exc:
        raise CommandError(f"Error retrieving job versions: {exc}") from None
    if only is not None:
        versions = [v for v in versions if v.version == only]
        if not versions:
            raise CommandError(f"Could not find prior version {only} for job {job.id!r}")
    if as_json:
        out.json(versions)
        return
    for i, version in enumerate(versions):
        if i:
            out.line()
        pairs: list[tuple[str, object]] = [
            ("Version", version.version),
            ("Stable", str(version.stable).lower()),
            ("Submit Date", format_time(version.submit_time)),
        ]
        older = versions[i + 1] if i + 1 < len(versions) else None
        if show_diff and older is not None:
            pairs.append(("Diff", ""))
        out.kv(pairs)
        if show_diff and older is not None:
            for line in job_diff(older, version) or ["(no changes)"]:
                out.line(line)
        if full:
            out.json(version)
