"""Task ``template`` blocks rendered on the client, before the task starts (Nomad's template
hook, without Consul or Vault).

For each template: ``data`` (or the file at ``source``) is rendered with
:mod:`nomadic.client.gotemplate` and :mod:`nomadic.client.templatefuncs`, and written to
``destination`` with ``perms`` (and ``uid``/``gid`` when the client runs as root). Paths are
interpolated with the task environment (``${NOMAD_TASK_DIR}``, ``${meta.x}``...), relative to
the task directory, and must stay inside the allocation directory. ``env = true`` templates are
read as ``KEY=value`` lines whose variables join the task's environment.

Templates are rendered once, at task setup (not again on a restart); ``change_mode`` does not
apply because nothing they read can change without Consul, Vault or Nomad variables.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from nomadic.structs import Node, Task

from .gotemplate import Template as GoTemplate
from .gotemplate import TemplateError
from .taskenv import interpolate
from .templatefuncs import template_functions

__all__ = ["TemplateError", "parse_env_file", "render_task_templates"]

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$")


def render_task_templates(
    task: Task, env: Mapping[str, str], task_dir: Path, alloc_dir: Path, node: Node
) -> dict[str, str]:
    """Render ``task``'s templates; return the variables its ``env = true`` ones define."""
    funcs = template_functions(env, alloc_dir)
    extra: dict[str, str] = {}
    for i, tmpl in enumerate(task.templates):
        where = f"template {i + 1} ({tmpl.dest_path or 'no destination'})"
        dest = _inside(task_dir, alloc_dir, interpolate(tmpl.dest_path, env, node), where)
        text = tmpl.embedded_tmpl
        if tmpl.source_path:
            source = _inside(task_dir, alloc_dir, interpolate(tmpl.source_path, env, node), where)
            try:
                text = source.read_text(encoding="utf-8")
            except OSError as exc:
                raise TemplateError(f"{where}: cannot read source {source}: {exc}") from None
        try:
            rendered = GoTemplate(text, tmpl.left_delim, tmpl.right_delim).render(
                funcs, missing_key_error=tmpl.err_missing_key
            )
        except TemplateError as exc:
            raise TemplateError(f"{where}: {exc}") from None
        _write(dest, rendered, tmpl.perms, tmpl.uid, tmpl.gid, where)
        if tmpl.envvars:
            extra.update(parse_env_file(rendered))
    return extra


def parse_env_file(text: str) -> dict[str, str]:
    """``KEY=value`` lines (``#`` comments, optional ``export``, quoted values), as Nomad's
    env templates are read."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            continue
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
            if line.rstrip().endswith('"'):
                value = value.replace("\\n", "\n").replace('\\"', '"')
        result[key] = value
    return result


def _inside(task_dir: Path, alloc_dir: Path, path: str, where: str) -> Path:
    target = (task_dir / path).resolve()
    if not target.is_relative_to(alloc_dir.resolve()):
        raise TemplateError(f"{where}: path {path!r} escapes the allocation directory")
    return target


def _write(dest: Path, text: str, perms: str, uid: int | None, gid: int | None, where: str) -> None:
    try:
        mode = int(perms or "0644", 8)
    except ValueError:
        raise TemplateError(f'{where}: invalid perms {perms!r}; use octal, like "0644"') from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, mode)
    if os.geteuid() == 0 and (uid is not None or gid is not None):
        os.chown(tmp, -1 if uid is None else uid, -1 if gid is None else gid)
    os.replace(tmp, dest)
