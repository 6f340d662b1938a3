"""Job files to :class:`~nomadic.structs.Job`: HCL2 (native or HCL-JSON syntax) or API JSON.

The pipeline, one module per stage::

    text --grammar--> Lark tree --syntax--> Body/Block/Attribute (+ positions)
         --variables--> Scope (var.*, local.*)
         --job/group/task/...--> Job      (expressions evaluated on demand by `expressions`)

Every problem is a :class:`~nomadic.errors.JobSpecError` reading
``file:line:col: what is wrong; how to fix it`` with the source line quoted below it. No
other exception escapes :func:`parse` for any input.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from nomadic.errors import JobSpecError

from .json_job import is_hcl_json, is_json, parse_json_job

if TYPE_CHECKING:
    from nomadic.structs import Job

    from .syntax import Body

__all__ = ["parse", "parse_file", "parse_var_file", "parse_var_text"]

_TOP_LEVEL = ("job", "variable", "variables", "locals")


def parse_file(
    path: str,
    variables: dict[str, str] | None = None,
    *,
    envs: Mapping[str, str] | None = None,
    allow_fs: bool = False,
) -> Job:
    """Parse the job file at ``path``; see :func:`parse`.

    ``allow_fs`` enables ``file()`` and the other filesystem functions, relative to the
    directory holding the job file (the CLI's local parse does; the server's does not).
    """
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        raise JobSpecError("the job file is not valid UTF-8 text", path=path) from None
    except OSError as exc:
        raise JobSpecError(f"cannot read job file: {exc.strerror or exc}", path=path) from None
    base_dir = os.path.dirname(os.path.abspath(path)) if allow_fs else None
    return parse(text, path=os.fspath(path), variables=variables, envs=envs, base_dir=base_dir)


def parse(
    text: str,
    path: str = "<stdin>",
    variables: dict[str, str] | None = None,
    *,
    envs: Mapping[str, str] | None = None,
    base_dir: str | None = None,
) -> Job:
    """Parse a job spec into a Job: HCL2; or, if it starts with ``{``, HCL-JSON (lower-case
    ``job``/``variable``/``locals`` keys) or Nomad API JSON (``{"Job": {...}}`` or bare).

    ``variables`` are the ``-var name=value`` overrides; ``envs`` is the environment to read
    ``NOMAD_VAR_<name>`` values from (the CLI passes ``os.environ``; ``None`` reads none).
    ``base_dir`` enables the filesystem functions relative to it (``None``: disabled).
    Raises :class:`~nomadic.errors.JobSpecError`, and nothing else, for any bad input.
    """
    text = text.removeprefix("\ufeff")  # a UTF-8 byte order mark, as some editors write
    try:
        from .filesystem import filesystem_access

        with filesystem_access(base_dir):
            if is_json(text) and is_hcl_json(text):
                from .hcl_json import parse_hcl_json

                body = parse_hcl_json(text, path)
                return decode_body(body, text, path, variables or {}, envs or {})
            if is_json(text):
                return parse_json_job(text, path)
            return _parse_hcl(text, path, variables or {}, envs or {})
    except JobSpecError:
        raise
    except RecursionError:
        raise JobSpecError("the job file is nested too deeply to parse", path=path) from None
    except Exception as exc:  # the promise: users see a JobSpecError, never a traceback
        raise JobSpecError(
            f"internal error while parsing the job file ({type(exc).__name__}: {exc}); "
            "please report this with the file attached",
            path=path,
        ) from exc


def _parse_hcl(text: str, path: str, cli_vars: Mapping[str, str], envs: Mapping[str, str]) -> Job:
    # Imported here, not at the top: Lark and the grammar cost ~0.25 s to import, which CLI
    # commands that never read HCL (or read API JSON) should not pay.
    from .syntax import parse_body

    return decode_body(parse_body(text, path), text, path, cli_vars, envs)


def decode_body(
    body: Body, text: str, path: str, cli_vars: Mapping[str, str], envs: Mapping[str, str]
) -> Job:
    """A parsed HCL (or HCL-JSON) file body to a Job: variables, locals, then the job block."""
    from .diagnostics import Source, Span, did_you_mean
    from .dynamic import expand_dynamic
    from .expressions import Evaluator
    from .job import decode_job, find_job_block
    from .variables import build_scope

    source = Source(text, path)
    for attr in body.attributes.values():
        raise attr.span.error(
            f'unsupported argument "{attr.name}" at the top level; a job file holds '
            'variable, variables, locals and one job "<id>" block'
        )
    for block in body.blocks:
        if block.type not in _TOP_LEVEL:
            hint = did_you_mean(block.type, _TOP_LEVEL)
            raise block.span.error(f'unsupported block type "{block.type}" at the top level{hint}')
    job_block = find_job_block(body, Span(source, 1, 1))
    scope = build_scope(body, source, cli_vars, envs)
    evaluator = Evaluator(scope)
    return decode_job(evaluator, expand_dynamic(evaluator, job_block))


def parse_var_file(path: str) -> dict[str, str]:
    """A ``-var-file``: HCL (``name = value`` lines) or JSON (``{"name": value}``).

    Values come back in ``-var`` form, ready to merge with ``-var`` arguments (later wins) and
    pass as ``variables``: strings as they are, anything else as an HCL/JSON expression that
    :func:`parse` converts to the variable's declared type.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        raise JobSpecError("the variable file is not valid UTF-8 text", path=path) from None
    except OSError as exc:
        raise JobSpecError(f"cannot read variable file: {exc.strerror or exc}", path=path) from None
    return parse_var_text(text, path)


def parse_var_text(text: str, path: str = "<variables>") -> dict[str, str]:
    """Variables file content (HCL or JSON), as :func:`parse_var_file` reads it.

    ``POST /v1/jobs/parse`` takes its ``Variables`` in this form.
    """
    import json

    text = text.removeprefix("\ufeff")
    if not text.strip():
        return {}
    try:
        if is_json(text):
            data = json.loads(text)
            if not isinstance(data, dict):
                raise JobSpecError("a JSON variable file must hold an object", path=path)
        else:
            from .expressions import Evaluator, Scope
            from .syntax import parse_body

            body = parse_body(text, path)
            if body.blocks:
                raise body.blocks[0].span.error("a variable file holds only name = value lines")
            evaluator = Evaluator(Scope())
            data = {name: evaluator.eval(a.expr) for name, a in body.attributes.items()}
    except JobSpecError:
        raise
    except json.JSONDecodeError as exc:
        raise JobSpecError(f"invalid JSON: {exc.msg} (line {exc.lineno})", path=path) from None
    except RecursionError:
        raise JobSpecError("the variable file is nested too deeply", path=path) from None
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
