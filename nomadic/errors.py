"""The one exception tree of nomadic. Translate only at the edges (HTTP status, CLI exit code).

NomadicError
├── UserError                 bad input from a user: says what, where, how to fix
│   ├── JobSpecError          HCL/JSON job file problems (file:line:col)
│   ├── ValidationError       a job or request that fails validation (HTTP 400)
│   └── NotFoundError         unknown job/alloc/eval/node ID (HTTP 404)
├── NoLeaderError             no cluster leader: writes refused (HTTP 500 "No cluster leader")
├── RegionUnavailableError    no live server of the region a request is for (HTTP 500
│                             "No path to region ...")
├── RaftError                 a write could not be committed (timeout, lost outcome)
├── DriverError               a task driver failed to start/stop/inspect a task
│   └── DriverNotFoundError   no such driver on this client
└── ConfigError               agent configuration problems
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DriverError",
    "DriverNotFoundError",
    "JobSpecError",
    "NoLeaderError",
    "NomadicError",
    "NotFoundError",
    "RaftError",
    "RegionUnavailableError",
    "UserError",
    "ValidationError",
]


class NomadicError(Exception):
    """Base of every error nomadic raises on purpose."""


class UserError(NomadicError):
    """The user asked for something wrong; the message tells them how to fix it."""


class JobSpecError(UserError):
    """A job file that cannot be parsed or decoded; message starts with ``file:line:col:``."""

    def __init__(self, message: str, *, path: str = "", line: int = 0, column: int = 0) -> None:
        self.path = path
        self.line = line
        self.column = column
        where = path
        if line:
            where += f":{line}"
            if column:
                where += f":{column}"
        super().__init__(f"{where}: {message}" if where else message)


class ValidationError(UserError):
    """One or more validation problems; ``errors`` lists them, the message joins them."""

    def __init__(self, errors: list[str] | str) -> None:
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        if len(self.errors) == 1:
            msg = self.errors[0]
        else:
            msg = f"{len(self.errors)} errors occurred:\n" + "\n".join(
                f"\t* {e}" for e in self.errors
            )
        super().__init__(msg)


class NotFoundError(UserError):
    """An ID that names nothing (HTTP 404)."""


class NoLeaderError(NomadicError):
    def __init__(self, message: str = "No cluster leader") -> None:
        super().__init__(message)


class RegionUnavailableError(NomadicError):
    """A request for a region with no live server known (unknown, or every server failed)."""


class RaftError(NomadicError):
    """A write that Raft did not confirm; the outcome may be unknown (retry is safe)."""


class DriverError(NomadicError):
    """A driver could not do what was asked; the message is shown in task events."""

    def __init__(self, message: str, *, recoverable: bool = False) -> None:
        self.recoverable = recoverable
        super().__init__(message)


class DriverNotFoundError(DriverError):
    pass


class ConfigError(NomadicError):
    pass
