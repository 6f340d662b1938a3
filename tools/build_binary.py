"""Build the single-file ``nomadic`` executable: a shiv zipapp bundling nomadic, every
dependency and the first-party drivers. It needs only a Python 3.11+ on the target machine.

    uv run python tools/build_binary.py [dist/nomadic]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build(output: Path) -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    drivers = sorted(str(p.parent) for p in (REPO / "drivers").glob("*/pyproject.toml"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "shiv",
            "--console-script",
            "nomadic",
            "--output-file",
            str(output),
            "--python",
            "/usr/bin/env python3",
            "--reproducible",
            "--compressed",
            str(REPO),
            *drivers,
        ],
        check=True,
    )
    return output


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "dist" / "nomadic"
    print(build(target))
