"""The allocation directory, laid out as Nomad lays it out under ``<data_dir>/alloc/<alloc_id>/``::

alloc/            shared by every task of the group
  data/           kept across sticky/migrating disks
  logs/           <task>.stdout.N / <task>.stderr.N, and the .fifo pipes
  tmp/
<task>/
  local/          NOMAD_TASK_DIR: the task's scratch space and working directory
  secrets/        NOMAD_SECRETS_DIR (mode 0700)
  tmp/
  private/
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["AllocDir", "TaskDir"]


@dataclass(frozen=True)
class TaskDir:
    root: Path

    @property
    def local(self) -> Path:
        return self.root / "local"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def build(self) -> None:
        for sub in (self.local, self.tmp, self.root / "private"):
            sub.mkdir(parents=True, exist_ok=True)
        self.secrets.mkdir(parents=True, exist_ok=True)
        os.chmod(self.secrets, 0o700)


@dataclass(frozen=True)
class AllocDir:
    root: Path

    @classmethod
    def for_alloc(cls, alloc_root: Path, alloc_id: str) -> AllocDir:
        return cls(alloc_root / alloc_id)

    @property
    def shared(self) -> Path:
        return self.root / "alloc"

    @property
    def logs(self) -> Path:
        return self.shared / "logs"

    def task(self, name: str) -> TaskDir:
        return TaskDir(self.root / name)

    def build(self, tasks: list[str]) -> None:
        """Create the shared dirs and each task's dirs (idempotent)."""
        for sub in ("data", "logs", "tmp"):
            (self.shared / sub).mkdir(parents=True, exist_ok=True)
        for name in tasks:
            self.task(name).build()

    def destroy(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
