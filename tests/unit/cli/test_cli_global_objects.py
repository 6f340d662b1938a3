"""``nomadic namespace ...`` and ``nomadic node pool ...`` against a real HTTP app over fakes:
exact output and exit codes."""

from __future__ import annotations

from pathlib import Path

from cli_agent import Agent


def test_namespace_apply_list_status_delete(agent: Agent) -> None:
    result = agent.run(
        "namespace", "apply", "-description", "Dev jobs", "-meta", "owner=web", "dev"
    )
    assert (result.exit_code, result.output) == (0, 'Successfully applied namespace "dev"!\n')
    # applying again with only -meta keeps the description and adds to the meta
    assert agent.run("namespace", "apply", "-meta", "tier=2", "dev").exit_code == 0
    result = agent.run("namespace", "list")
    assert result.output.splitlines() == [
        "Name     Description",
        "default  Default shared namespace",
        "dev      Dev jobs",
    ]
    result = agent.run("namespace", "status", "dev")
    assert (result.exit_code, result.output) == (
        0,
        "Name        = dev\n"
        "Description = Dev jobs\n"
        "Quota       = <none>\n"
        "\n"
        "Metadata\n"
        "owner = web\n"
        "tier  = 2\n",
    )
    result = agent.run("namespace", "delete", "dev")
    assert (result.exit_code, result.output) == (0, 'Successfully deleted namespace "dev"!\n')
    result = agent.run("namespace", "status", "dev")
    assert (result.exit_code, result.output) == (1, 'Namespace "dev" not found\n')


def test_namespace_apply_from_a_spec_file(agent: Agent, tmp_path: Path) -> None:
    spec = tmp_path / "dev.hcl"
    spec.write_text(
        'namespace "dev" {\n  description = "from a file"\n'
        '  node_pool_config {\n    default = "gpu"\n    allowed = ["gpu", "all"]\n  }\n}\n'
    )
    result = agent.run("namespace", "apply", str(spec))
    assert (result.exit_code, result.output) == (0, 'Successfully applied namespace "dev"!\n')
    ns = agent.server.store.snapshot().namespace_by_name("dev")
    assert ns is not None and ns.description == "from a file"
    assert ns.node_pool_configuration is not None
    assert ns.node_pool_configuration.allowed == ["gpu", "all"]


def test_namespace_errors(agent: Agent, tmp_path: Path) -> None:
    result = agent.run("namespace", "delete", "default")
    assert (result.exit_code, result.output) == (
        1,
        "Error deleting namespace: Unexpected response code: 400 "
        "(default namespace can not be deleted)\n",
    )
    result = agent.run("namespace", "apply", "no/slash")
    assert result.exit_code == 1
    assert "invalid name 'no/slash'" in result.output
    spec = tmp_path / "bad.hcl"
    spec.write_text('namespace "x" {\n  descripton = "typo"\n}\n')
    result = agent.run("namespace", "apply", str(spec))
    assert result.exit_code == 1
    assert f"Error parsing {spec}:\n{spec}:2:3: unsupported argument" in result.output
    assert 'did you mean "description"?' in result.output


def test_node_pool_commands(agent: Agent, tmp_path: Path) -> None:
    spec = tmp_path / "gpu.hcl"
    spec.write_text(
        'node_pool "gpu" {\n  description = "GPU nodes"\n  meta {\n    vendor = "nvidia"\n  }\n'
        '  scheduler_config {\n    scheduler_algorithm = "spread"\n  }\n}\n'
    )
    result = agent.run("node", "pool", "apply", str(spec))
    assert (result.exit_code, result.output) == (0, 'Successfully applied node pool "gpu"!\n')
    assert agent.run("node", "pool", "apply", "-description", "Batch", "batch").exit_code == 0
    result = agent.run("node", "pool", "list")
    assert result.output.splitlines() == [
        "Name     Description",
        "all      Node pool with all nodes in the cluster.",
        "batch    Batch",
        "default  Default node pool.",
        "gpu      GPU nodes",
    ]
    result = agent.run("node", "pool", "info", "gpu")
    assert result.output == (
        "Name        = gpu\n"
        "Description = GPU nodes\n"
        "\n"
        "Metadata\n"
        "vendor = nvidia\n"
        "\n"
        "Scheduler Configuration\n"
        "Scheduler Algorithm             = spread\n"
        "Memory Oversubscription Enabled = <default>\n"
    )
    node = agent.server.add_node("g1", node_pool="gpu")
    result = agent.run("node", "pool", "nodes", "gpu")
    assert result.output.splitlines() == [
        "ID        Node Pool  DC   Name  Class   Drain  Eligibility  Status",
        f"{node.id[:8]}  gpu        dc1  g1    <none>  false  eligible     ready",
    ]
    result = agent.run("node", "pool", "jobs", "gpu")
    assert (result.exit_code, result.output) == (0, 'No jobs in node pool "gpu"\n')
    result = agent.run("node", "pool", "delete", "gpu")
    assert result.exit_code == 1
    assert result.output == (
        "Error deleting node pool: Unexpected response code: 400 "
        '(node pool "gpu" has nodes in regions: [global]; move them to another pool '
        "(client node_pool) before deleting it)\n"
    )
    result = agent.run("node", "pool", "delete", "batch")
    assert (result.exit_code, result.output) == (0, 'Successfully deleted node pool "batch"!\n')
    result = agent.run("node", "pool", "info", "batch")
    assert (result.exit_code, result.output) == (1, 'Node pool "batch" not found\n')


def test_builtin_node_pools_cannot_change(agent: Agent) -> None:
    result = agent.run("node", "pool", "apply", "-description", "mine", "all")
    assert (result.exit_code, result.output) == (
        1,
        "Error applying node pool: Unexpected response code: 400 "
        '(modifying node pool "all" is not allowed: it is built in)\n',
    )


def test_namespace_flag_and_env_pick_the_namespace_of_job_commands(agent: Agent) -> None:
    import asyncio

    from http_fakes import web_job

    from nomadic.structs import from_builtins
    from nomadic.structs.job import Job

    job = from_builtins({**web_job(), "Namespace": "dev"}, Job)
    asyncio.run(agent.server.job_register(job))
    assert "No running jobs" in agent.run("job", "status").output
    listed = agent.run("job", "status", "-namespace", "dev").output
    assert listed.splitlines()[1].split()[0] == "web"
    by_env = agent.run_env({"NOMAD_NAMESPACE": "dev"}, "job", "status").output
    assert by_env == listed
