"""JSON job files in Nomad's API shape: ``{"Job": {...}}`` or a bare job object.

This is what ``nomad job run -json`` and ``nomad job inspect`` speak (PascalCase keys,
durations in nanoseconds), decoded straight into :class:`~nomadic.structs.Job`. HCL written
as JSON (the lower-case HCL schema, ``{"job": {"example": {...}}}``) is not this: the caller
tells them apart with :func:`is_hcl_json` and reads that with :mod:`.hcl_json`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from nomadic.errors import JobSpecError
from nomadic.structs import DecodeError, Job, from_builtins

from .diagnostics import error_at

__all__ = ["is_hcl_json", "is_json", "parse_json_job"]

_PATH = re.compile(r"at `\$\.?([^`]*)`")


def is_json(text: str) -> bool:
    """Nomad's rule: a job file is JSON if its first non-space character is ``{``."""
    return text.lstrip()[:1] == "{"


def is_hcl_json(text: str) -> bool:
    """A JSON job file in HCL's schema (``job``/``variable``/``locals`` keys), not API JSON."""
    from .hcl_json import looks_like_hcl_json

    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return False
    return looks_like_hcl_json(data)


def parse_json_job(text: str, path: str) -> Job:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error_at(f"invalid JSON: {exc.msg}", text, path, exc.lineno, exc.colno) from None
    except RecursionError:
        raise JobSpecError("invalid JSON: nested too deeply", path=path) from None
    if not isinstance(data, dict):
        raise JobSpecError("a JSON job file must hold an object", path=path)
    job_data: Any = data.get("Job", data)
    if not isinstance(job_data, dict):
        raise JobSpecError('"Job" must be a JSON object', path=path)
    try:
        job = from_builtins(job_data, Job)
    except DecodeError as exc:
        raise JobSpecError(f"invalid job JSON: {_readable(str(exc))}", path=path) from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise JobSpecError(f"invalid job JSON: {exc}", path=path) from None
    if not job.id:
        raise JobSpecError('the JSON job has no "ID"; set "ID" to the job\'s name', path=path)
    if not job.name:
        job.name = job.id
    return job


def _readable(message: str) -> str:
    """msgspec says "Expected `int`, got `str` - at `$.TaskGroups[0].Count`"; name the field."""
    match = _PATH.search(message)
    if match is None:
        return message
    return f"{message[: match.start()].rstrip(' -')} at Job.{match.group(1)}"
