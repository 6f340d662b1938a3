"""Images for docker tasks: find a local image, ``load`` one from a tarball, pull only when
needed; and the image GC that removes an image some time after its last task is gone.

``containers.run()`` would try a pull for any missing image (slow, and a DNS timeout with no
registry); we look locally first and pull only when the image is absent or ``force_pull``.
The GC removes only images this driver pulled or loaded itself, ``gc.image_delay`` after their
last task was destroyed: an image a user built on the host could not be fetched back, so it
is never deleted behind their back (a departure from Nomad, which removes any image).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from nomadic.plugin import DriverError

from .config import PluginConfig, TaskSpec

log = logging.getLogger("nomadic.driver.docker")


def ensure_image(client: Any, spec: TaskSpec, task: str, task_dir: str) -> tuple[str, bool]:
    """Make ``spec.image`` available locally; returns (image ID, whether we fetched it)."""
    import docker.errors

    if spec.load:
        path = spec.load if os.path.isabs(spec.load) else os.path.join(task_dir, spec.load)
        try:
            with open(path, "rb") as f:
                client.images.load(f.read())
        except OSError as exc:
            raise DriverError(
                f"task {task!r}: cannot read image tarball {path} for load: {exc.strerror}"
            ) from exc
        except docker.errors.APIError as exc:
            raise DriverError(f"task {task!r}: docker load {path} failed: {_explain(exc)}") from exc
    if not spec.force_pull:
        try:
            return str(client.images.get(spec.image).id), bool(spec.load)
        except docker.errors.ImageNotFound:
            if spec.load:
                raise DriverError(
                    f"task {task!r}: tarball {spec.load} was loaded but holds no image named "
                    f"{spec.image!r}; set image to the name the tarball was saved with"
                ) from None
        except docker.errors.APIError as exc:
            raise DriverError(f"task {task!r}: inspecting image failed: {_explain(exc)}") from exc
    return _pull(client, spec.image, task), True


def _pull(client: Any, image: str, task: str) -> str:
    import docker.errors

    repo, tag = _split(image)
    try:
        return str(client.images.pull(repo, tag=tag).id)
    except docker.errors.APIError as exc:
        raise DriverError(
            f"task {task!r}: image {image!r} is not present on this node and pulling it failed: "
            f"{_explain(exc)}. Check the name and that a registry is reachable, or ship the "
            'image with the job (config { load = "image.tar" } and an artifact)',
            recoverable=True,
        ) from exc


def _split(image: str) -> tuple[str, str | None]:
    if "@" in image:
        return image, None
    name, _, tag = image.rpartition(":")
    if name and "/" not in tag:
        return name, tag
    return image, "latest"


def _explain(exc: Any) -> str:
    return str(getattr(exc, "explanation", None) or exc)


class ImageGC:
    """Counts the tasks using each image reference and, once one this driver fetched has been
    unused for ``gc.image_delay``, removes that reference (the image itself goes with its last
    tag; layers shared with other images stay)."""

    def __init__(self, client: Any, config: PluginConfig) -> None:
        self._client = client
        self._config = config
        self._refs: dict[str, int] = {}
        self._fetched: set[str] = set()
        self._timers: dict[str, threading.Timer] = {}
        self._lock = threading.Lock()

    def acquire(self, image: str, fetched: bool) -> None:
        with self._lock:
            self._refs[image] = self._refs.get(image, 0) + 1
            if fetched:
                self._fetched.add(image)
            timer = self._timers.pop(image, None)
        if timer is not None:
            timer.cancel()

    def release(self, image: str) -> None:
        with self._lock:
            left = self._refs.get(image, 0) - 1
            self._refs[image] = max(left, 0)
            if left > 0 or not self._config.gc_image or image not in self._fetched:
                return
            timer = threading.Timer(self._config.gc_image_delay, self._remove, (image,))
            timer.daemon = True
            self._timers[image] = timer
        timer.start()

    def _remove(self, image: str) -> None:
        import docker.errors

        with self._lock:
            self._timers.pop(image, None)
            if self._refs.get(image, 0) > 0:
                return
            self._fetched.discard(image)
        try:
            self._client.images.remove(image)
            log.info("image GC removed %s", image)
        except docker.errors.APIError as exc:  # in use by a container we do not own
            log.info("image GC kept %s: %s", image, _explain(exc))

    def shutdown(self) -> None:
        with self._lock:
            timers, self._timers = list(self._timers.values()), {}
        for timer in timers:
            timer.cancel()
