"""Agent log output: Nomad-style text lines or JSON lines (``log_json``)."""

from __future__ import annotations

import json
import logging
import sys
import time

_TEXT_FORMAT = "%(asctime)s [%(levelname)s] %(name)s: %(message)s"


class JSONFormatter(logging.Formatter):
    """One JSON object per line: @timestamp, @level, @module, @message and any extras."""

    _RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "@timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "@level": record.levelname.lower(),
            "@module": record.name,
            "@message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._RESERVED and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["@exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    """Nomad-style text lines; structured extras (eval_id, alloc_id ...) appended as k=v."""

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [
            f"{key}={value}"
            for key, value in vars(record).items()
            if key not in JSONFormatter._RESERVED and not key.startswith("_")
        ]
        return f"{line}: {' '.join(extras)}" if extras else line


def setup(level: str = "INFO", json_format: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if json_format else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # pysyncobj and aiohttp are chatty at DEBUG; keep our own debug output readable.
    for noisy in ("aiohttp.access", "pysyncobj", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, root.level))
