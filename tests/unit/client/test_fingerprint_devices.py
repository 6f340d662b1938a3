"""GPU fingerprinting through ``nvidia-smi``: a real executable on PATH (a script standing in
for the NVIDIA tool) becomes device groups on the node; no tool means no devices."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from nomadic.client.fingerprint import computed_class, fingerprint_devices
from nomadic.client.fingerprint.devices import parse_nvidia_smi
from nomadic.structs import Node

SMI_OUTPUT = """\
GPU-aaaa, Tesla T4, 15360, 70.00, 1590, 535.104.05
GPU-bbbb, Tesla T4, 15360, 70.00, 1590, 535.104.05
GPU-cccc, NVIDIA A100-SXM4-40GB, 40960, [N/A], 1410, 535.104.05
"""


def test_rows_are_grouped_by_model_with_nomads_attributes() -> None:
    t4, a100 = parse_nvidia_smi(SMI_OUTPUT)
    assert (t4.vendor, t4.type, t4.name) == ("nvidia", "gpu", "Tesla T4")
    assert [i.id for i in t4.instances] == ["GPU-aaaa", "GPU-bbbb"]
    assert (t4.attributes["memory"].int_val, t4.attributes["memory"].unit) == (15360, "MiB")
    assert t4.attributes["power"].int_val == 70
    assert t4.attributes["cores_clock"].unit == "MHz"
    assert t4.attributes["driver_version"].string_val == "535.104.05"
    assert "power" not in a100.attributes  # "[N/A]" is left out


def test_nvidia_smi_on_path_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    smi = tmp_path / "nvidia-smi"
    smi.write_text(f"#!/bin/sh\ncat <<'EOF'\n{SMI_OUTPUT}EOF\n")
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    groups = fingerprint_devices()
    assert [g.name for g in groups] == ["Tesla T4", "NVIDIA A100-SXM4-40GB"]
    plain = Node(id="n1")
    with_gpus = Node(id="n1")
    with_gpus.node_resources.devices = groups
    assert computed_class(plain) != computed_class(with_gpus)


def test_no_nvidia_smi_means_no_devices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert fingerprint_devices() == []


def test_a_failing_nvidia_smi_means_no_devices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert fingerprint_devices() == []
