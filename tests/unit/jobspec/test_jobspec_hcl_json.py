"""HCL-JSON job files (HCL's JSON syntax) parse to the same job as their native twin."""

from __future__ import annotations

import json
from pathlib import Path

from nomadic.jobspec import parse, parse_file

NATIVE = """
variable "n" {
  type    = number
  default = 2
}
variable "dcs" {
  type    = list(string)
  default = ["dc1"]
}
locals {
  image = "redis:${var.n}"
}
job "web" {
  datacenters = var.dcs
  meta { owner = "ops" }
  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }
  constraint { distinct_hosts = true }
  group "cache" {
    count = var.n + 1
    network {
      port "db" { to = 6379 }
    }
    dynamic "task" {
      for_each = ["a", "b"]
      labels   = ["t-${task.value}"]
      content {
        driver = "docker"
        config {
          image = local.image
          args  = ["-c", "say \\"hi\\" ${NOMAD_ALLOC_ID}"]
        }
        env { X = "${node.unique.name}" }
        template {
          data        = "%{ for d in var.dcs }${d} %{ endfor }"
          destination = "local/a"
        }
      }
    }
  }
}
"""

HCL_JSON = {
    "variable": {
        "n": {"type": "number", "default": 2},
        "dcs": {"type": "list(string)", "default": ["dc1"]},
    },
    "locals": {"image": "redis:${var.n}"},
    "job": {
        "web": {
            "//": "comments are ignored",
            "datacenters": "${var.dcs}",
            "meta": {"owner": "ops"},
            "constraint": [
                {"attribute": "${attr.kernel.name}", "value": "linux"},
                {"distinct_hosts": True},
            ],
            "group": {
                "cache": {
                    "count": "${var.n + 1}",
                    "network": {"port": {"db": {"to": 6379}}},
                    "dynamic": {
                        "task": {
                            "for_each": ["a", "b"],
                            "labels": ["t-${task.value}"],
                            "content": {
                                "driver": "docker",
                                "config": {
                                    "image": "${local.image}",
                                    "args": ["-c", 'say "hi" ${NOMAD_ALLOC_ID}'],
                                },
                                "env": {"X": "${node.unique.name}"},
                                "template": [
                                    {
                                        "data": "%{ for d in var.dcs }${d} %{ endfor }",
                                        "destination": "local/a",
                                    }
                                ],
                            },
                        }
                    },
                }
            },
        }
    },
}


def test_hcl_json_matches_native_hcl(tmp_path: Path) -> None:
    path = tmp_path / "web.nomad.json"
    path.write_text(json.dumps(HCL_JSON, indent=2))
    job = parse_file(str(path))
    assert job == parse(NATIVE)
    group = job.task_groups[0]
    assert (job.datacenters, group.count, [t.name for t in group.tasks]) == (
        ["dc1"],
        3,
        ["t-a", "t-b"],
    )
    task = group.tasks[0]
    assert task.config["args"] == ["-c", 'say "hi" ${NOMAD_ALLOC_ID}']
    assert task.env == {"X": "${node.unique.name}"}
    assert task.templates[0].embedded_tmpl == "dc1 "


def test_hcl_json_takes_variables_like_hcl() -> None:
    job = parse(json.dumps(HCL_JSON), "web.json", {"n": "4", "dcs": '["x", "y"]'})
    assert (job.datacenters, job.task_groups[0].count) == (["x", "y"], 5)
    assert job.task_groups[0].tasks[0].config["image"] == "redis:4"


def test_hcl_json_job_level_task_and_variables_block() -> None:
    task = {"driver": "raw_exec", "config": {"command": "${var.cmd}"}}
    text = json.dumps(
        {"variables": {"cmd": "/bin/true"}, "job": {"one": {"type": "batch", "task": {"t": task}}}}
    )
    job = parse(text, "one.json")
    assert [g.name for g in job.task_groups] == ["t"]
    assert job.task_groups[0].tasks[0].config == {"command": "/bin/true"}
