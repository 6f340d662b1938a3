"""exec, java and qemu jobs through ``nomadic job run`` on a real dev agent.

The dev agent enables each of these drivers when its fingerprint is healthy (as Nomad does):
exec and java need root and cgroups, qemu needs qemu-system-x86_64 and the guest assets
built by ``.ci/setup.d/30-qemu.sh``. A test skips, saying why, when its driver is unhealthy.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import psutil
import pytest

from nomadic.testing.agent_process import AgentProcess, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
QEMU_ASSETS = Path("/var/cache/nomadic/qemu")
APPEND = "console=ttyS0 quiet panic=-1 nomadic_mode=echo nomadic_text=hello_from_the_vm"


def need_driver(agent: AgentProcess, name: str) -> None:
    info = agent.get("/v1/nodes")[0]
    node = agent.get(f"/v1/node/{info['ID']}")
    driver = node["Drivers"].get(name) or {}
    if not driver.get("Healthy"):
        pytest.skip(f"driver {name} is not healthy here: {driver.get('HealthDescription')}")


def run_job(agent: AgentProcess, tmp_path: Path, name: str, hcl: str) -> dict[str, Any]:
    """Run the job and return its allocation once it has finished (complete or failed)."""
    path = tmp_path / f"{name}.hcl"
    path.write_text(textwrap.dedent(hcl))
    agent.cli("job", "run", "-detach", str(path), check=True)

    def finished() -> dict[str, Any] | None:
        allocs = agent.get(f"/v1/job/{name}/allocations")
        done = [a for a in allocs if a["ClientStatus"] in ("complete", "failed")]
        return agent.get(f"/v1/allocation/{done[0]['ID']}") if done else None

    return wait_for(finished, timeout=120, what=f"job {name} to finish")


def logs(agent: AgentProcess, alloc: dict[str, Any], task: str) -> str:
    return agent.cli("alloc", "logs", alloc["ID"][:8], task, check=True).stdout


NO_RESTART = """
    restart {
      attempts = 0
      mode     = "fail"
    }
    reschedule {
      attempts  = 0
      unlimited = false
    }
"""


def test_exec_task_cannot_see_host_processes(dev_agent: AgentProcess, tmp_path: Path) -> None:
    need_driver(dev_agent, "exec")
    alloc = run_job(
        dev_agent,
        tmp_path,
        "exec-pids",
        """
        job "exec-pids" {
          type = "batch"
          group "g" {
            task "ps" {
              driver = "exec"
              config {
                command = "/bin/sh"
                args    = ["-c", "id -un; ps -eo pid=,comm="]
              }
              resources {
                cpu    = 100
                memory = 64
              }
            }
          }
        }
        """,
    )
    assert alloc["ClientStatus"] == "complete", alloc["TaskStates"]
    out = logs(dev_agent, alloc, "ps").splitlines()
    assert out[0] == "nobody"
    procs = {int(line.split()[0]): line.split()[1] for line in out[1:]}
    # only the task's own namespace: its init (PID 1), the shell and ps
    assert set(procs.values()) <= {"python3", "python", "sh", "ps"}, procs
    assert max(procs) < 10 and 1 in procs, procs


def test_exec_task_is_oom_killed_at_its_memory_limit(
    dev_agent: AgentProcess, tmp_path: Path
) -> None:
    need_driver(dev_agent, "exec")
    hcl = (
        """
    job "exec-oom" {
      type = "batch"
      group "g" {
        NO_RESTART
        task "hog" {
          driver = "exec"
          config {
            command = "/usr/bin/tail"
            args    = ["/dev/zero"]
          }
          resources {
            cpu    = 100
            memory = 32
          }
        }
      }
    }
    """
    ).replace("NO_RESTART", NO_RESTART)
    alloc = run_job(dev_agent, tmp_path, "exec-oom", hcl)
    assert alloc["ClientStatus"] == "failed"
    events = alloc["TaskStates"]["hog"]["Events"]
    terminated = [e for e in events if e["Type"] == "Terminated"]
    assert terminated and "OOM Killed" in terminated[0]["DisplayMessage"], events
    status = dev_agent.cli("alloc", "status", alloc["ID"][:8], check=True).stdout
    assert "OOM Killed" in status


@pytest.mark.skipif(shutil.which("javac") is None, reason="no javac to build the test jar")
def test_java_jar_prints_its_args(dev_agent: AgentProcess, tmp_path: Path) -> None:
    need_driver(dev_agent, "java")
    src = tmp_path / "src"
    src.mkdir()
    (src / "Hello.java").write_text(
        "public class Hello { public static void main(String[] a) {"
        ' System.out.println("args: " + String.join(",", a)); } }'
    )
    subprocess.run(["javac", "-d", str(src), str(src / "Hello.java")], check=True)
    jar = tmp_path / "hello.jar"
    subprocess.run(
        ["jar", "--create", "--file", str(jar), "--main-class", "Hello", "-C", str(src), "."],
        check=True,
    )
    # a prestart task stands in for Nomad's artifact block: it puts the jar in the alloc dir
    alloc = run_job(
        dev_agent,
        tmp_path,
        "java-hello",
        f"""
        job "java-hello" {{
          type = "batch"
          group "g" {{
            task "fetch" {{
              driver = "raw_exec"
              lifecycle {{
                hook = "prestart"
              }}
              config {{
                command = "/bin/cp"
                args    = ["{jar}", "${{NOMAD_ALLOC_DIR}}/hello.jar"]
              }}
            }}
            task "app" {{
              driver = "java"
              config {{
                jar_path    = "/alloc/hello.jar"
                jvm_options = ["-Xmx64m"]
                args        = ["one", "two", "three"]
              }}
              resources {{
                cpu    = 200
                memory = 256
              }}
            }}
          }}
        }}
        """,
    )
    assert alloc["ClientStatus"] == "complete", alloc["TaskStates"]
    assert logs(dev_agent, alloc, "app") == "args: one,two,three\n"


@pytest.mark.skipif(
    not (QEMU_ASSETS / "vmlinuz").exists(), reason="no guest assets: run .ci/setup.d/30-qemu.sh"
)
def test_qemu_console_line_reaches_alloc_logs(dev_agent: AgentProcess, tmp_path: Path) -> None:
    need_driver(dev_agent, "qemu")
    disk = tmp_path / "disk.img"  # our own copy: qemu write-locks its image
    shutil.copy(QEMU_ASSETS / "disk.img", disk)
    alloc = run_job(
        dev_agent,
        tmp_path,
        "qemu-hello",
        f"""
        job "qemu-hello" {{
          type = "batch"
          group "g" {{
            task "vm" {{
              driver = "qemu"
              config {{
                image_path  = "{disk}"
                accelerator = "tcg"
                args = [
                  "-kernel", "{QEMU_ASSETS / "vmlinuz"}",
                  "-initrd", "{QEMU_ASSETS / "initramfs.cpio.gz"}",
                  "-append", "{APPEND}",
                  "-no-reboot",
                ]
              }}
              resources {{
                cpu    = 500
                memory = 128
              }}
            }}
          }}
        }}
        """,
    )
    assert alloc["ClientStatus"] == "complete", alloc["TaskStates"]
    assert "hello from the vm" in logs(dev_agent, alloc, "vm")


def task_process(agent: AgentProcess) -> psutil.Process | None:
    """The task's ``sleep``: its working directory is in the agent's alloc dir."""
    for proc in psutil.process_iter(["name", "cwd"]):
        if proc.info["name"] == "sleep" and str(proc.info["cwd"] or "").startswith(
            str(agent.data_dir)
        ):
            return proc
    return None


def test_exec_task_survives_an_agent_restart(tmp_path: Path) -> None:
    """The executor owns the task: the agent stops and starts again, the task runs on, and
    the restarted client re-attaches to it (and can still stop it)."""
    agent = AgentProcess(tmp_path / "agent").start()
    try:
        need_driver(agent, "exec")
        job = tmp_path / "sleeper.hcl"
        job.write_text(
            textwrap.dedent(
                """
                job "sleeper" {
                  group "g" {
                    task "s" {
                      driver = "exec"
                      config {
                        command = "/bin/sleep"
                        args    = ["600"]
                      }
                    }
                  }
                }
                """
            )
        )
        agent.cli("job", "run", "-detach", str(job), check=True)

        def running() -> dict[str, Any] | None:
            allocs = agent.get("/v1/job/sleeper/allocations")
            live = [a for a in allocs if a["ClientStatus"] == "running"]
            return live[0] if live else None

        alloc = wait_for(running, timeout=60, what="the sleeper to run")
        task = wait_for(lambda: task_process(agent), timeout=30, what="the task's process")
        agent.stop(signal.SIGKILL)  # a crash: nothing is stopped on the way down
        assert task.is_running(), "the task died with the agent"
        agent.start()
        assert (
            wait_for(running, timeout=60, what="the sleeper to be running again")["ID"]
            == (alloc["ID"])
        )
        agent.cli("job", "stop", "sleeper", check=True)

        def stopped() -> bool:
            return bool(agent.get(f"/v1/allocation/{alloc['ID']}")["ClientStatus"] == "complete")

        wait_for(stopped, timeout=60, what="the sleeper to stop")
        wait_for(lambda: not task.is_running(), timeout=30, what="the task's process to end")
    finally:
        agent.stop()
