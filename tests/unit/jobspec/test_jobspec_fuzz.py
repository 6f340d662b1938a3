"""Junk in, JobSpecError out: random mutations of valid job files never raise anything else.

A seeded, hypothesis-free fuzz loop. Besides "only JobSpecError", it also asserts the parser
never falls back to its catch-all ("internal error"), which would mean an unexpected
exception: a bug to fix, even though the user would still get a clean message.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from nomadic.errors import JobSpecError
from nomadic.jobspec import parse

FIXTURES = Path(__file__).parent / "fixtures"
EXTRA = """
variable "n" {
  type    = number
  default = 2
}
locals {
  name = "web-${var.n}"
  list = [for i in range(var.n) : "${i}" if i >= 0]
}
job "fuzz" {
  meta = { a = local.name, b = jsonencode(local.list), c = var.n > 1 ? "x" : "y" }
  group "g" {
    count = var.n * 2
    task "t" {
      driver = "raw_exec"
      env { A = "${NOMAD_ALLOC_ID}-${upper(local.name)}" }
      template {
        data        = <<-EOT
          {{ key "a" }} ${var.n}
          EOT
        destination = "local/a"
      }
    }
  }
}
"""
ALPHABET = (
    list('{}[]()"=$%<>#,.:?!-+*/\\~\n\t ')
    + list("abcxyz019_")
    + ["${", "%{", "<<EOT\n", "EOT\n", "null", "for", "in", "if"]
)


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        if not text:
            return text
        i = rng.randrange(len(text))
        choice = rng.randrange(6)
        if choice == 0:
            text = text[:i] + text[i + rng.randint(1, 8) :]
        elif choice == 1:
            text = text[:i] + rng.choice(ALPHABET) + text[i:]
        elif choice == 2:
            text = text[:i]
        elif choice == 3:
            lines = text.split("\n")
            j = rng.randrange(len(lines))
            lines.insert(rng.randrange(len(lines)), lines[j])
            text = "\n".join(lines)
        elif choice == 4:
            text = text[:i] + rng.choice(ALPHABET) + text[i + 1 :]
        else:
            j = rng.randrange(len(text))
            a, b = sorted((i, j))
            text = text[:a] + text[b:] + text[a:b]
    return text


SEEDS = [*(p.read_text() for p in sorted(FIXTURES.glob("*.hcl")) if "xyz" not in p.name), EXTRA]


@pytest.mark.parametrize("seed", range(8))
def test_mutations_only_raise_jobspec_error(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        text = _mutate(rng, rng.choice(SEEDS))
        try:
            parse(text, path="fuzz.hcl")
        except JobSpecError as exc:
            assert str(exc).startswith("fuzz.hcl"), str(exc)
            assert "internal error" not in str(exc), f"{exc}\n--- input ---\n{text}"


def test_json_junk_only_raises_jobspec_error() -> None:
    rng = random.Random(7)
    base = (
        '{"Job": {"ID": "x", "TaskGroups": [{"Name": "g", "Count": 1, "Tasks": [{"Name": "t"}]}]}}'
    )
    for _ in range(200):
        text = _mutate(rng, base)
        try:
            parse(text, path="fuzz.json")
        except JobSpecError as exc:
            assert "internal error" not in str(exc), f"{exc}\n--- input ---\n{text}"


HCL_JSON_SEED = (
    '{"variable": {"n": {"type": "number", "default": 2}}, "locals": {"s": "x-${var.n}"},\n'
    ' "job": {"web": {"meta": {"a": "${local.s}"}, "constraint": [{"distinct_hosts": true}],\n'
    '  "group": {"g": {"count": "${var.n}", "network": {"port": {"http": {"to": 80}}},\n'
    '   "task": {"t": {"driver": "raw_exec", "config": {"args": ["%{ if true }a%{ endif }"]},\n'
    '    "template": [{"data": "{{ env \\"X\\" }}", "destination": "local/x"}]}}}}}}}'
)


@pytest.mark.parametrize("seed", range(4))
def test_hcl_json_mutations_only_raise_jobspec_error(seed: int) -> None:
    parse(HCL_JSON_SEED, path="fuzz.json")  # the seed itself is valid
    rng = random.Random(seed)
    for _ in range(80):
        text = _mutate(rng, HCL_JSON_SEED)
        try:
            parse(text, path="fuzz.json")
        except JobSpecError as exc:
            assert "internal error" not in str(exc), f"{exc}\n--- input ---\n{text}"
