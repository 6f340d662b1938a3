"""The multiregion rollout coordinator's decisions (pure): which region runs, unblocks, fails."""

from __future__ import annotations

import pytest

from nomadic.server.multiregion_rollout import RolloutAction, rollout_actions
from nomadic.structs import MultiregionStrategy

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
