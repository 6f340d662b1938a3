"""The multiregion rollout coordinator's decisions (pure): which region runs, unblocks, fails."""

from __future__ import annotations

from typing import Any

import pytest

from nomadic.errors import RegionUnavailableError
from nomadic.server.multiregion_rollout import MultiregionRollout, RolloutAction, rollout_actions
from nomadic.structs import Deployment, Job, Multiregion, MultiregionRegion, MultiregionStrategy
from nomadic.structs.deployment import DeploymentReply, DeploymentUpdateResponse

REGIONS = ("eu", "us", "ap")


def strategy(max_parallel: int = 1, on_failure: str = "") -> MultiregionStrategy:
    return MultiregionStrategy(max_parallel=max_parallel, on_failure=on_failure)


CASES = [
    # (strategy, statuses in region order eu/us/ap, expected "verb:region" actions)
    pytest.param(strategy(1), ["pending"] * 3, ["run:eu"], id="first-region-first"),
    pytest.param(strategy(2), ["pending"] * 3, ["run:eu", "run:us"], id="max-parallel-2"),
    pytest.param(strategy(0), ["pending"] * 3, ["run:eu", "run:us", "run:ap"], id="unlimited"),
    pytest.param(None, ["pending"] * 3, ["run:eu", "run:us", "run:ap"], id="no-strategy"),
    pytest.param(strategy(1), ["running", "pending", "pending"], [], id="one-at-a-time"),
    pytest.param(strategy(1), ["blocked", "pending", "pending"], ["run:us"], id="next-after-done"),
    pytest.param(strategy(1), ["paused", "pending", "pending"], [], id="paused-counts-running"),
    pytest.param(
        strategy(1),
        ["blocked", "blocked", "blocked"],
        ["unblock:eu", "unblock:us", "unblock:ap"],
        id="all-blocked-unblock-all",
    ),
    pytest.param(
        strategy(1), ["successful", "blocked", "successful"], ["unblock:us"], id="finish-unblocking"
    ),
    pytest.param(strategy(1), ["successful"] * 3, [], id="all-done"),
    pytest.param(strategy(1), ["pending", "", "pending"], [], id="wait-for-every-region"),
    pytest.param(strategy(1), ["cancelled", "pending", "pending"], [], id="superseded"),
    pytest.param(
        strategy(1),
        ["blocked", "failed", "pending"],
        ["fail:ap"],
        id="default-fails-the-later-regions",
    ),
    pytest.param(
        strategy(1, "fail_all"),
        ["blocked", "failed", "pending"],
        ["fail:eu", "fail:ap"],
        id="fail-all",
    ),
    pytest.param(
        strategy(1, "fail_local"), ["blocked", "failed", "pending"], [], id="fail-local-waits"
    ),
    pytest.param(
        strategy(1, "fail_all"), ["failed", "failed", "successful"], [], id="nothing-left-to-fail"
    ),
]


@pytest.mark.parametrize(("strat", "statuses", "expect"), CASES)
def test_rollout_actions(
    strat: MultiregionStrategy | None, statuses: list[str], expect: list[str]
) -> None:
    actions = rollout_actions(strat, list(zip(REGIONS, statuses, strict=True)))
    assert [f"{a.verb}:{a.region}" for a in actions] == expect
    assert all(isinstance(a, RolloutAction) for a in actions)


class FakeSnapshot:
    def __init__(self, jobs: list[Job], local: Deployment | None) -> None:
        self._jobs, self._local = jobs, local

    def jobs(self, namespace: str | None, prefix: str) -> list[Job]:
        return self._jobs

    def latest_deployment_by_job(self, namespace: str, job_id: str) -> Deployment | None:
        return self._local


class FakeServer:
    """Region "eu" leads; remote regions answer from ``remote`` (None: unreachable)."""

    region = "eu"
    cross_region = object()

    def __init__(self, job: Job, local: str, remote: dict[str, str | None]) -> None:
        self.snap = FakeSnapshot([job], Deployment(id="d-eu", status=local))
        self.remote = remote
        self.calls: list[tuple[str, str, str]] = []

    def is_leader(self) -> bool:
        return True

    def snapshot(self) -> FakeSnapshot:
        return self.snap

    async def region_rpc(self, region: str, method: str, body: Any, reply: type[Any]) -> Any:
        status = self.remote.get(region)
        if region != "eu" and status is None:
            raise RegionUnavailableError(f'No path to region "{region}"')
        if method == "Job.LatestDeployment":
            return DeploymentReply(deployment=Deployment(id=f"d-{region}", status=status or ""))
        self.calls.append((region, method, body.deployment_id))
        return DeploymentUpdateResponse()


def job_in(regions: tuple[str, ...], on_failure: str = "") -> Job:
    return Job(
        id="web",
        region="eu",
        multiregion=Multiregion(
            strategy=strategy(1, on_failure),
            regions=[MultiregionRegion(name=r) for r in regions],
        ),
    )


async def test_coordinator_sends_each_action_to_its_regions_deployment() -> None:
    server = FakeServer(job_in(REGIONS), "blocked", {"us": "failed", "ap": "pending"})
    await MultiregionRollout(server).tick()  # type: ignore[arg-type]
    assert server.calls == [("ap", "Deployment.Fail", "d-ap")]  # us failed: later ones fail

    server = FakeServer(job_in(REGIONS), "blocked", {"us": "blocked", "ap": "blocked"})
    await MultiregionRollout(server).tick()  # type: ignore[arg-type]
    assert server.calls == [
        ("eu", "Deployment.Unblock", "d-eu"),
        ("us", "Deployment.Unblock", "d-us"),
        ("ap", "Deployment.Unblock", "d-ap"),
    ]


async def test_coordinator_waits_while_a_region_is_unreachable() -> None:
    server = FakeServer(job_in(REGIONS), "blocked", {"us": "pending", "ap": None})
    await MultiregionRollout(server).tick()  # type: ignore[arg-type]
    assert server.calls == []


async def test_only_the_first_listed_region_coordinates() -> None:
    server = FakeServer(job_in(("us", "eu")), "pending", {"us": "pending"})
    await MultiregionRollout(server).tick()  # type: ignore[arg-type]
    assert server.calls == []
