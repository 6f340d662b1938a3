"""``POST /v1/jobs/parse``: HCL2 (or JSON) job text to the job's API JSON, on the agent.

The body is Nomad's ``JobsParseRequest``: ``{"JobHCL": "...", "Variables": "<var file
content>", "Canonicalize": true}``. The answer is the bare Job object (not wrapped in
``{"Job": ...}``), canonicalized (server defaults filled) when asked. Filesystem functions are
disabled here, as in Nomad: the agent must not read files on behalf of an HTTP caller.
A job file the parser refuses is a 400 whose text is the parser's ``file:line:col`` message.
"""

from __future__ import annotations

from aiohttp import web

from nomadic.errors import ValidationError
from nomadic.http.query import json_response, read_json
from nomadic.structs import canonicalize

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.put("/v1/jobs/parse")
@routes.post("/v1/jobs/parse")
async def parse_job(request: web.Request) -> web.Response:
    from nomadic import jobspec

    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValidationError('request body must be a JSON object with a "JobHCL" string')
    text, variables = body.get("JobHCL"), body.get("Variables") or ""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError('"JobHCL" must be a non-empty string holding the job file')
    if not isinstance(variables, str):
        raise ValidationError('"Variables" must be a string in variable-file (HCL) form')
    if body.get("HCLv1"):
        raise ValidationError("HCL1 job files are not supported; write the job in HCL2")
    cli_vars = jobspec.parse_var_text(variables, "<variables>")
    job = jobspec.parse(text, "<input>", cli_vars)
    if body.get("Canonicalize"):
        job = canonicalize(job)
    return json_response(request, job)
