"""Task templates on the client: destinations, perms, env templates, runtime interpolation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nomadic.client.templates import TemplateError, parse_env_file, render_task_templates
from nomadic.structs import Node, Task, Template

from .fakes import FakeServer, eventually, make_alloc
from .test_client import final, make_client


def dirs(tmp_path: Path) -> tuple[Path, Path]:
    task_dir = tmp_path / "alloc" / "web"
    (task_dir / "local").mkdir(parents=True)
    return task_dir, tmp_path / "alloc"


def test_renders_to_interpolated_destination_with_perms(tmp_path: Path) -> None:
    task_dir, alloc_dir = dirs(tmp_path)
    task = Task(
        name="web",
        templates=[
            Template(
                embedded_tmpl='port={{ env "NOMAD_PORT_http" }}\n',
                dest_path="local/${node.datacenter}/${NOMAD_TASK_NAME}.conf",
                perms="0600",
            )
        ],
    )
    env = {"NOMAD_PORT_http": "8080", "NOMAD_TASK_NAME": "web"}
    extra = render_task_templates(task, env, task_dir, alloc_dir, Node(datacenter="dc1"))
    out = task_dir / "local" / "dc1" / "web.conf"
    assert out.read_text() == "port=8080\n"
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    assert extra == {}


def test_source_file_and_env_template(tmp_path: Path) -> None:
    task_dir, alloc_dir = dirs(tmp_path)
    (task_dir / "local" / "app.tpl").write_text(
        'A={{ env "X" }}\n# comment\nexport B="two words"\n'
    )
    task = Task(
        templates=[Template(source_path="local/app.tpl", dest_path="secrets/app.env", envvars=True)]
    )
    extra = render_task_templates(task, {"X": "1"}, task_dir, alloc_dir, Node())
    assert extra == {"A": "1", "B": "two words"}
    assert (task_dir / "secrets" / "app.env").exists()


def test_destination_escaping_the_alloc_dir_is_refused(tmp_path: Path) -> None:
    task_dir, alloc_dir = dirs(tmp_path)
    task = Task(templates=[Template(embedded_tmpl="x", dest_path="../../../etc/x")])
    with pytest.raises(TemplateError, match="escapes the allocation directory"):
        render_task_templates(task, {}, task_dir, alloc_dir, Node())


def test_parse_env_file() -> None:
    text = 'A=1\n\n# c\nexport B = "x y"\nC=\'q\'\nnot a line\nD="l1\\nl2"\n'
    assert parse_env_file(text) == {"A": "1", "B": "x y", "C": "q", "D": "l1\nl2"}


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


async def test_env_template_feeds_the_running_task(tmp_path: Path, server: FakeServer) -> None:
    client = make_client(tmp_path, server)
    await client.start()
    try:
        template = Template(
            embedded_tmpl='GREETING=hello-{{ env "NOMAD_ALLOC_INDEX" }}\n',
            dest_path="local/g.env",
            envvars=True,
        )
        alloc = make_alloc(
            client.node_id,
            {
                "command": "/bin/sh",
                "args": ["-c", "echo $GREETING; cat $NOMAD_TASK_DIR/g.env"],
            },
            templates=[template],
        )
        server.add_alloc(alloc)
        await eventually(lambda: final(server, alloc.id, "complete"), "alloc complete")
        log = client.alloc_dir(alloc.id) / "alloc" / "logs" / "hello.stdout.0"
        await eventually(
            lambda: log.exists() and log.read_text().count("hello-0") == 2, "the rendered env"
        )
    finally:
        await client.shutdown()


async def test_template_error_fails_the_task_with_a_clear_event(
    tmp_path: Path, server: FakeServer
) -> None:
    client = make_client(tmp_path, server)
    await client.start()
    try:
        template = Template(embedded_tmpl='{{ key "db/url" }}', dest_path="local/db")
        alloc = make_alloc(client.node_id, {"command": "/bin/true"}, templates=[template])
        server.add_alloc(alloc)
        update = await eventually(lambda: final(server, alloc.id, "failed"), "alloc failed")
        events = update.task_states["hello"].events
        failure = next(e for e in events if e.type == "Setup Failure")
        assert "Template failed: template 1 (local/db): line 1: Consul is not available" in (
            failure.display_message
        )
    finally:
        await client.shutdown()
