"""``client.fs``: an allocation's files and its tasks' logs, read from the client node."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from nomadic.structs.codec import Base

if TYPE_CHECKING:
    from nomadic.api.client import Client

__all__ = ["FS", "AllocFileInfo"]


class AllocFileInfo(Base):
    name: str = ""
    is_dir: bool = False
    size: int = 0
    file_mode: str = ""
    mod_time: str = ""
    content_type: str = ""


class FS:
    def __init__(self, client: Client) -> None:
        self._c = client

    def logs(
        self,
        alloc_id: str,
        task: str,
        *,
        stderr: bool = False,
        follow: bool = False,
        origin: str = "start",
        offset: int = 0,
    ) -> Iterator[bytes]:
        """The task's stdout (or stderr) as it arrives, across rotated files."""
        params = {
            "task": task,
            "type": "stderr" if stderr else "stdout",
            "follow": follow,
            "origin": origin,
            "offset": offset or None,
            "plain": True,
        }
        return self._c.stream(f"/v1/client/fs/logs/{alloc_id}", params)

    def ls(self, alloc_id: str, path: str = "/") -> list[AllocFileInfo]:
        return self._c.query(
            f"/v1/client/fs/ls/{alloc_id}", list[AllocFileInfo], params={"path": path}
        )

    def stat(self, alloc_id: str, path: str) -> AllocFileInfo:
        return self._c.query(f"/v1/client/fs/stat/{alloc_id}", AllocFileInfo, params={"path": path})

    def cat(self, alloc_id: str, path: str) -> bytes:
        resp = self._c.request("GET", f"/v1/client/fs/cat/{alloc_id}", params={"path": path})
        return resp.content
