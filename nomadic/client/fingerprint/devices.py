"""Device fingerprinting: the node's GPUs as device groups the scheduler can place on.

Nomad fingerprints devices through device plugins; nomadic has one built-in source, NVIDIA
GPUs through ``nvidia-smi`` (when it is on PATH), reported like Nomad's nvidia plugin: vendor
``nvidia``, type ``gpu``, one group per model, instance IDs the GPU UUIDs, attributes
``memory`` (MiB), ``power`` (W), ``cores_clock`` (MHz) and ``driver_version``. A missing or
failing ``nvidia-smi`` means no devices, never an error.
"""

from __future__ import annotations

import csv
import logging
import shutil
import subprocess

from nomadic.structs import Attribute, NodeDevice, NodeDeviceResource

__all__ = ["NVIDIA_SMI_QUERY", "fingerprint_devices", "parse_nvidia_smi"]

log = logging.getLogger("nomadic.client.fingerprint")

NVIDIA_SMI_QUERY = (
    "--query-gpu=uuid,name,memory.total,power.limit,clocks.max.graphics,driver_version",
    "--format=csv,noheader,nounits",
)
TIMEOUT = 10.0  # seconds


def fingerprint_devices() -> list[NodeDeviceResource]:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        result = subprocess.run(
            [smi, *NVIDIA_SMI_QUERY], capture_output=True, text=True, timeout=TIMEOUT, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("nvidia-smi failed, no GPUs fingerprinted: %s", exc)
        return []
    return parse_nvidia_smi(result.stdout)


def _number(text: str, unit: str) -> Attribute | None:
    try:
        value = float(text)
    except ValueError:
        return None  # "[N/A]"
    return Attribute(int_val=int(value), unit=unit)


def parse_nvidia_smi(output: str) -> list[NodeDeviceResource]:
    """Group ``nvidia-smi`` CSV rows (see NVIDIA_SMI_QUERY) by model."""
    groups: dict[str, NodeDeviceResource] = {}
    for row in csv.reader(line for line in output.splitlines() if line.strip()):
        if len(row) < 6:
            continue
        uuid, name, memory, power, clock, driver = (c.strip() for c in row[:6])
        group = groups.get(name)
        if group is None:
            attrs = {
                k: a
                for k, a in (
                    ("memory", _number(memory, "MiB")),
                    ("power", _number(power, "W")),
                    ("cores_clock", _number(clock, "MHz")),
                )
                if a is not None
            }
            attrs["driver_version"] = Attribute(string_val=driver)
            group = groups[name] = NodeDeviceResource(
                vendor="nvidia", type="gpu", name=name, attributes=attrs
            )
        group.instances.append(NodeDevice(id=uuid, healthy=True))
    return list(groups.values())
