"""Task ``artifact`` blocks: download, verify and unpack into the task directory before start.

Nomad fetches artifacts with go-getter; nomadic implements the part of it that works without
cloud credentials or VCS tools:

- sources ``http://``, ``https://`` (``insecure = true`` skips certificate checks), ``file://``
  and absolute local paths (a file or a whole directory); ``getter::`` forced schemes other than
  ``http``/``https``/``file`` (``git::``, ``s3::``, ``gcs::``, ``hg::``) are refused with a clear
  error instead of being guessed at;
- go-getter query options, from the URL or from ``options {}``: ``checksum = "type:hex"`` (md5,
  sha1, sha256, sha512) verified before anything is unpacked, and ``archive = "false"`` (or a
  format such as ``"tar.gz"`` to force one);
- archives by extension (``.zip``, ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``/``.tbz2``,
  ``.tar.xz``/``.txz``, and single files ``.gz``, ``.bz2``, ``.xz``), unpacked with tar's ``data``
  filter and zip members checked, so nothing lands outside the destination;
- ``mode``: ``any`` (an archive unpacks into the destination directory, a file lands in it under
  its own name), ``file`` (the destination is the file's path) and ``dir`` (the source must be an
  archive or a directory);
- ``destination`` (default ``local/``) relative to the task directory; one that escapes it is
  refused. Source, destination, options and headers are interpolated like task config
  (``${NOMAD_META_version}``, ``${attr.kernel.name}``).

A failed download is an :class:`ArtifactError`; the task runner reports it as Nomad's "Failed
Artifact Download" event and retries it under the task's restart policy.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import shutil
import ssl
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Mapping
from pathlib import Path

from nomadic.structs import Node, Task, TaskArtifact

from .taskenv import interpolate, interpolate_value

__all__ = ["ArtifactError", "fetch_artifact", "fetch_task_artifacts"]

DOWNLOAD_TIMEOUT = 30.0  # seconds without progress before a download fails
DEFAULT_DEST = "local/"
_CHUNK = 1 << 16
_SCHEMES = ("http", "https", "file")
_HASHES = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256}
_HASHES["sha512"] = hashlib.sha512
# longest suffix first: ".tar.gz" must win over ".gz"
_ARCHIVES = (
    (".tar.gz", "tar.gz"),
    (".tgz", "tar.gz"),
    (".tar.bz2", "tar.bz2"),
    (".tbz2", "tar.bz2"),
    (".tar.xz", "tar.xz"),
    (".txz", "tar.xz"),
    (".tar", "tar"),
    (".zip", "zip"),
    (".gz", "gz"),
    (".bz2", "bz2"),
    (".xz", "xz"),
)
_FORMATS = frozenset(fmt for _, fmt in _ARCHIVES)
_SINGLE = frozenset({"gz", "bz2", "xz"})


class ArtifactError(Exception):
    """An artifact could not be fetched; the message names the source and the reason."""


def fetch_task_artifacts(task: Task, env: Mapping[str, str], node: Node, task_dir: Path) -> None:
    """Fetch every artifact of ``task`` into ``task_dir``, in order."""
    for artifact in task.artifacts:
        fetch_artifact(artifact, env, node, task_dir)


def fetch_artifact(
    artifact: TaskArtifact, env: Mapping[str, str], node: Node, task_dir: Path
) -> None:
    """Fetch one artifact into ``task_dir``; raises :class:`ArtifactError`."""
    source = interpolate(artifact.getter_source, env, node).strip()
    if not source:
        raise ArtifactError("artifact has an empty source")
    options = {k: str(v) for k, v in interpolate_value(artifact.getter_options, env, node).items()}
    headers = {k: str(v) for k, v in interpolate_value(artifact.getter_headers, env, node).items()}
    url, options = _split_options(source, options)
    dest = _destination(task_dir, interpolate(artifact.relative_dest or DEFAULT_DEST, env, node))
    mode = artifact.getter_mode or "any"
    if mode not in ("any", "file", "dir"):
        raise ArtifactError(
            f'artifact {source!r}: mode must be "any", "file" or "dir", not {mode!r}'
        )
    try:
        _fetch(url, options, headers, artifact.getter_insecure, dest, mode)
    except ArtifactError as exc:
        raise ArtifactError(f"failed to download artifact {source!r}: {exc}") from None
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError, lzma.LZMAError) as exc:
        raise ArtifactError(f"failed to download artifact {source!r}: {exc}") from None


def _split_options(source: str, options: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Separate go-getter's own query parameters (checksum, archive) from the URL's."""
    forced, sep, rest = source.partition("::")
    if sep and "://" not in forced:
        if forced not in _SCHEMES:
            raise ArtifactError(
                f"artifact {source!r}: the {forced!r} getter is not supported; nomadic fetches "
                "http, https and file artifacts (download it in a prestart task instead)"
            )
        source = rest
    if source.startswith("/"):
        source = "file://" + source
    parts = urllib.parse.urlsplit(source)
    if parts.scheme not in _SCHEMES:
        raise ArtifactError(
            f"artifact {source!r}: unsupported source; use an http(s):// or file:// URL or an "
            "absolute path"
        )
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if k not in ("checksum", "archive")]
    merged = {k: v for k, v in query if k in ("checksum", "archive")}
    merged.update(options)
    url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(kept)))
    return url, merged


def _destination(task_dir: Path, relative: str) -> Path:
    root = task_dir.resolve()
    dest = (root / relative).resolve()
    if dest != root and root not in dest.parents:
        raise ArtifactError(f"artifact destination {relative!r} escapes the task directory")
    return dest


def _fetch(
    url: str,
    options: dict[str, str],
    headers: dict[str, str],
    insecure: bool,
    dest: Path,
    mode: str,
) -> None:
    parts = urllib.parse.urlsplit(url)
    name = Path(urllib.parse.unquote(parts.path)).name
    if parts.scheme == "file":
        local = Path(urllib.parse.unquote(parts.path))
        if local.is_dir():
            if mode == "file":
                raise ArtifactError(f'{local} is a directory but mode is "file"')
            shutil.copytree(local, dest, dirs_exist_ok=True)
            return
        if not local.exists():
            raise ArtifactError(f"{local} does not exist")
    fmt = _archive_format(name, options.get("archive", ""))
    if mode == "dir" and fmt is None:
        raise ArtifactError(f'{name!r} is not an archive but mode is "dir"')
    if mode == "file" and fmt is not None and fmt not in _SINGLE:
        fmt = None  # mode "file" keeps an archive as it is
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".artifact-") as scratch:
        download = Path(scratch) / (name or "artifact")
        _download(url, headers, insecure, download)
        _verify(download, options.get("checksum", ""))
        if fmt is None:
            target = dest if mode == "file" else dest / (name or "artifact")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(download, target)
        elif fmt in _SINGLE:
            target = dest if mode == "file" else dest / _strip_suffix(name, fmt)
            target.parent.mkdir(parents=True, exist_ok=True)
            with _open_compressed(fmt, download) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, _CHUNK)
        else:
            dest.mkdir(parents=True, exist_ok=True)
            _unpack(download, fmt, dest)


def _archive_format(name: str, option: str) -> str | None:
    if option.lower() in ("false", "0", "no"):
        return None
    if option:
        fmt = option.lower().lstrip(".")
        if fmt not in _FORMATS:
            known = ", ".join(sorted(_FORMATS))
            raise ArtifactError(f"unknown archive format {option!r} (known: {known}, false)")
        return fmt
    lowered = name.lower()
    return next((fmt for suffix, fmt in _ARCHIVES if lowered.endswith(suffix)), None)


def _open_compressed(fmt: str, path: Path) -> io.BufferedIOBase:
    if fmt == "gz":
        return gzip.open(path, "rb")
    if fmt == "bz2":
        return bz2.open(path, "rb")
    return lzma.open(path, "rb")


def _strip_suffix(name: str, fmt: str) -> str:
    return name[: -len(fmt) - 1] if name.lower().endswith("." + fmt) else name


def _download(url: str, headers: dict[str, str], insecure: bool, out: Path) -> None:
    context = ssl._create_unverified_context() if insecure else None  # insecure = true
    request = urllib.request.Request(url, headers=headers)
    try:
        with (
            urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT, context=context) as resp,
            open(out, "wb") as file,
        ):
            shutil.copyfileobj(resp, file, _CHUNK)
    except urllib.error.HTTPError as exc:
        raise ArtifactError(f"bad response code: {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise ArtifactError(f"cannot fetch {url}: {exc.reason}") from None
    except TimeoutError:
        raise ArtifactError(f"no data from {url} for {DOWNLOAD_TIMEOUT:.0f}s") from None


def _verify(path: Path, checksum: str) -> None:
    if not checksum:
        return
    kind, sep, expected = checksum.partition(":")
    if not sep:
        kind, expected = _guess_kind(checksum), checksum
    factory = _HASHES.get(kind.lower())
    if factory is None:
        raise ArtifactError(f"unsupported checksum type {kind!r} (md5, sha1, sha256, sha512)")
    digest = factory()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != expected.strip().lower():
        raise ArtifactError(
            f"checksums did not match: expected {kind}:{expected.strip().lower()}, "
            f"got {digest.hexdigest()}"
        )


def _guess_kind(hexdigest: str) -> str:
    """go-getter accepts a bare digest and picks the hash by its length."""
    return {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}.get(len(hexdigest), "?")


def _unpack(archive: Path, fmt: str, dest: Path) -> None:
    if fmt == "zip":
        with zipfile.ZipFile(archive) as zf:
            root = dest.resolve()
            for member in zf.namelist():
                target = (dest / member).resolve()
                if target != root and root not in target.parents:
                    raise ArtifactError(f"archive member {member!r} would land outside {dest}")
            zf.extractall(dest)
        return
    mode = {"tar": "r:", "tar.gz": "r:gz", "tar.bz2": "r:bz2", "tar.xz": "r:xz"}[fmt]
    with tarfile.open(archive, mode) as tf:  # type: ignore[call-overload]
        try:
            tf.extractall(dest, filter="data")
        except tarfile.FilterError as exc:
            raise ArtifactError(f"unsafe archive member: {exc}") from None
