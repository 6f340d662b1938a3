"""Parse time of a 200-line HCL2 job spec: median of 50 parses, cold and warm.

Cold: a fresh Python process per parse (imports, grammar load from the on-disk cache, parse),
which is what one ``nomadic job run`` pays. Warm: repeated parses in one process, which is
what ``POST /v1/jobs/parse`` pays on a running agent.
Run: ``uv run python benchmarks/jobspec_parse.py``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 50

_GROUP = """
  group "web-{i}" {{
    count = {count}

    network {{
      port "http" {{}}
    }}

    restart {{
      attempts = 2
      interval = "30m"
      delay    = "15s"
      mode     = "fail"
    }}

    task "server-{i}" {{
      driver = "raw_exec"

      config {{
        command = "python3"
        args    = ["-m", "http.server", "${{NOMAD_PORT_http}}"]
      }}

      env {{
        GREETING = upper(local.greeting)
        INDEX    = "{i}"
      }}

      template {{
        data        = <<EOT
name = {{{{ env "NOMAD_TASK_NAME" }}}}
peers = ${{join(" ", var.peers)}}
EOT
        destination = "local/app.conf"
      }}

      resources {{
        cpu    = 100
        memory = 64
      }}
    }}
  }}
"""


def spec() -> str:
    head = (
        'variable "peers" {\n  type    = list(string)\n  default = ["a", "b", "c"]\n}\n\n'
        'locals {\n  greeting = "hello ${join(",", var.peers)}"\n}\n\n'
        'job "bench" {\n  datacenters = ["*"]\n  type        = "service"\n'
    )
    groups = "".join(_GROUP.format(i=i, count=i + 1) for i in range(5))
    return head + groups + "}\n"


def main() -> None:
    text = spec()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.nomad.hcl"
        path.write_text(text)
        print(f"spec: {len(text.splitlines())} lines, {len(text)} bytes")

        from nomadic.jobspec import parse_file

        parse_file(str(path))  # builds the grammar cache if it is missing
        warm = []
        for _ in range(RUNS):
            start = time.perf_counter()
            parse_file(str(path))
            warm.append(time.perf_counter() - start)

        code = f"from nomadic.jobspec import parse_file; parse_file({str(path)!r})"
        base_code = "import nomadic.structs"
        cold, base = [], []
        for _ in range(RUNS):
            for bucket, snippet in ((cold, code), (base, base_code)):
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", snippet], check=True)
                bucket.append(time.perf_counter() - start)
    ms = 1000
    print(f"warm parse (in-process):           median {statistics.median(warm) * ms:7.1f} ms")
    print(f"cold parse (new process, total):   median {statistics.median(cold) * ms:7.1f} ms")
    print(
        "cold parse minus interpreter start: median "
        f"{(statistics.median(cold) - statistics.median(base)) * ms:6.1f} ms"
    )


if __name__ == "__main__":
    main()
