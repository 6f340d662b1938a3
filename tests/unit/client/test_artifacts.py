"""Task artifacts: fetched over real HTTP (a server on loopback) or from local paths, verified,
unpacked into the task directory; failures are clear and retried under the restart policy."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nomadic.client.artifacts import ArtifactError, fetch_artifact
from nomadic.structs import Node, RestartPolicy, TaskArtifact
from nomadic.structs.consts import SECOND

from .fakes import FakeServer, eventually, make_alloc
from .test_client import final, make_client


class _Files(http.server.SimpleHTTPRequestHandler):
    """Serves the test's directory; ``/private/*`` wants ``X-Token: s3cret``."""

    def do_GET(self) -> None:
        if self.path.startswith("/private/") and self.headers.get("X-Token") != "s3cret":
            self.send_error(403, "Forbidden")
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    (root / "private").mkdir(parents=True)

    def handler(*args: object, **kwargs: object) -> _Files:
        return _Files(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def _tar_gz(path: Path, files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def _fetch(task_dir: Path, source: str, **fields: object) -> None:
    artifact = TaskArtifact(getter_source=source, **fields)  # type: ignore[arg-type]
    env = {"NOMAD_META_version": "1.2"}
    fetch_artifact(artifact, env, Node(datacenter="dc1"), task_dir)


def test_archive_unpacks_into_local_and_checksum_is_verified(
    tmp_path: Path, served: tuple[str, Path]
) -> None:
    base, root = served
    data = _tar_gz(root / "app-1.2.tar.gz", {"bin/app": "#!/bin/sh\n", "VERSION": "1.2\n"})
    digest = hashlib.sha256(data).hexdigest()
    task_dir = tmp_path / "task"
    _fetch(
        task_dir,
        base + "/app-${NOMAD_META_version}.tar.gz",
        getter_options={"checksum": f"sha256:{digest}"},
    )
    assert (task_dir / "local" / "VERSION").read_text() == "1.2\n"
    assert (task_dir / "local" / "bin" / "app").exists()
    assert not list((task_dir).glob(".artifact-*")), "the scratch directory is removed"


def test_checksum_mismatch_names_both_digests_and_writes_nothing(
    tmp_path: Path, served: tuple[str, Path]
) -> None:
    base, root = served
    _tar_gz(root / "app.tgz", {"x": "1"})
    task_dir = tmp_path / "task"
    with pytest.raises(ArtifactError, match=r"checksums did not match: expected md5:0+, got "):
        _fetch(task_dir, base + "/app.tgz?checksum=md5:" + "0" * 32)
    assert not (task_dir / "local" / "x").exists()


def test_plain_file_modes_archive_false_and_headers(
    tmp_path: Path, served: tuple[str, Path]
) -> None:
    base, root = served
    (root / "private" / "config.json").write_text('{"a": 1}')
    _tar_gz(root / "kept.tar.gz", {"y": "2"})
    task_dir = tmp_path / "task"
    _fetch(task_dir, base + "/private/config.json", getter_headers={"X-Token": "s3cret"})
    assert (task_dir / "local" / "config.json").read_text() == '{"a": 1}'
    _fetch(
        task_dir,
        base + "/private/config.json",
        getter_headers={"X-Token": "s3cret"},
        relative_dest="secrets/app.json",
        getter_mode="file",
    )
    assert (task_dir / "secrets" / "app.json").read_text() == '{"a": 1}'
    _fetch(task_dir, base + "/kept.tar.gz", getter_options={"archive": "false"})
    assert tarfile.is_tarfile(task_dir / "local" / "kept.tar.gz")
    with pytest.raises(ArtifactError, match="bad response code: 403"):
        _fetch(task_dir, base + "/private/config.json")


def test_local_directory_and_zip(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "conf").mkdir(parents=True)
    (src / "conf" / "a.conf").write_text("a")
    task_dir = tmp_path / "task"
    _fetch(task_dir, str(src), relative_dest="local/etc")
    assert (task_dir / "local" / "etc" / "conf" / "a.conf").read_text() == "a"
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as zf:
        zf.writestr("b.txt", "b")
    _fetch(task_dir, f"file://{tmp_path}/bundle.zip", getter_mode="dir")
    assert (task_dir / "local" / "b.txt").read_text() == "b"


@pytest.mark.parametrize(
    ("source", "fields", "message"),
    [
        ("git::https://example.com/repo.git", {}, "the 'git' getter is not supported"),
        ("s3.amazonaws.com/bucket/x", {}, "unsupported source"),
        ("/no/such/file", {}, "/no/such/file does not exist"),
        ("/etc/hostname", {"relative_dest": "../../x"}, "escapes the task directory"),
        ("/etc/hostname", {"getter_mode": "dir"}, 'is not an archive but mode is "dir"'),
        ("/etc/hostname", {"getter_mode": "tree"}, 'mode must be "any", "file" or "dir"'),
        ("/etc/hostname", {"getter_options": {"checksum": "crc:1"}}, "unsupported checksum"),
        ("/etc/hostname", {"getter_options": {"archive": "rar"}}, "unknown archive format"),
    ],
)
def test_bad_artifacts_get_clear_errors(
    tmp_path: Path, source: str, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ArtifactError, match=message):
        _fetch(tmp_path / "task", source, **fields)


def test_archive_members_cannot_escape(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("../../outside.txt", "x")
    _tar_gz(tmp_path / "evil.tar.gz", {"../outside.txt": "x"})
    for name in ("evil.zip", "evil.tar.gz"):
        with pytest.raises(ArtifactError, match=r"outside|unsafe archive member"):
            _fetch(tmp_path / "task", str(tmp_path / name))
    assert not (tmp_path / "outside.txt").exists()


async def test_task_reads_its_artifact_and_a_failed_download_is_retried(
    tmp_path: Path, served: tuple[str, Path]
) -> None:
    """The first download fails (404): a "Failed Artifact Download" event, a restart under the
    policy, and once the file is published the task starts with it."""
    base, root = served
    server = FakeServer()
    client = make_client(tmp_path, server)
    await client.start()
    try:
        alloc = make_alloc(
            client.node_id,
            {"command": "/bin/sh", "args": ["-c", "cat $NOMAD_TASK_DIR/motd.txt"]},
            artifacts=[TaskArtifact(getter_source=base + "/motd.txt")],
        )
        assert alloc.job is not None
        alloc.job.task_groups[0].restart_policy = RestartPolicy(
            attempts=5, interval=60 * SECOND, delay=SECOND // 5, mode="fail"
        )
        server.add_alloc(alloc)

        def failed_download() -> bool:
            for update in server.updates:
                state = update.task_states.get("hello")
                if state and any(e.type == "Failed Artifact Download" for e in state.events):
                    return True
            return False

        await eventually(failed_download, "a failed download event")
        (root / "motd.txt").write_text("welcome\n")
        update = await eventually(lambda: final(server, alloc.id, "complete"), "alloc complete")
        events = update.task_states["hello"].events
        types = [e.type for e in events]
        assert "Restarting" in types and "Started" in types
        assert types.index("Downloading Artifacts") < types.index("Started")
        failed = next(e for e in events if e.type == "Failed Artifact Download")
        assert "bad response code: 404" in failed.display_message
        assert failed.download_error == failed.display_message
        log = client.alloc_dir(alloc.id) / "alloc" / "logs" / "hello.stdout.0"
        await eventually(lambda: log.exists() and log.read_text() == "welcome\n", "task output")
    finally:
        await client.shutdown()
