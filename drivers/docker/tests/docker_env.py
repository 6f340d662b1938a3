"""Docker tests need a running dockerd and the offline test image (.ci/setup.d/20-docker.sh)."""

from __future__ import annotations

import os

import pytest

IMAGE = os.environ.get("NOMADIC_DOCKER_TEST_IMAGE", "nomadic/busybox:test")


def docker_unavailable() -> str:
    """Why the docker tests cannot run here, or an empty string when they can."""
    try:
        import docker
    except ImportError:
        return "the docker SDK for Python is not installed"
    try:
        client = docker.from_env(timeout=5)
    except Exception as exc:
        return f"dockerd is unreachable ({exc}); run .ci/setup.d/20-docker.sh"
    try:
        client.images.get(IMAGE)
    except Exception as exc:
        return f"test image {IMAGE} is missing ({exc}); run .ci/setup.d/20-docker.sh"
    finally:
        client.close()
    return ""


REASON = docker_unavailable()
needs_docker = pytest.mark.skipif(bool(REASON), reason=REASON)
