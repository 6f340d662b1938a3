"""A multiregion job's regional copies (pure) and what is wrong with a multiregion block."""

from __future__ import annotations

import msgspec
import pytest

from nomadic.errors import ValidationError
from nomadic.server.multiregion import regionalize, validate_multiregion
from nomadic.structs import (
    Job,
    Multiregion,
    MultiregionRegion,
    MultiregionStrategy,
)
from nomadic.testing.factories import mock_job


def multiregion_job(
    *regions: MultiregionRegion, strategy: MultiregionStrategy | None = None
) -> Job:
    job = mock_job(id="web", region="global", meta={"owner": "armon", "tier": "gold"})
    web = msgspec.structs.replace(job.task_groups[0], name="web", count=1)
    api = msgspec.structs.replace(job.task_groups[0], name="api", count=4)
    return msgspec.structs.replace(
        job,
        task_groups=[web, api],
        multiregion=Multiregion(strategy=strategy, regions=list(regions)),
    )


def test_region_copy_takes_the_regions_settings() -> None:
    job = multiregion_job(
        MultiregionRegion(name="eu", count=3, datacenters=["eu-1"], meta={"tier": "silver"}),
        MultiregionRegion(name="us", node_pool="gpu"),
    )
    eu = regionalize(job, "eu")
    assert eu.region == "eu"
    assert eu.datacenters == ["eu-1"]
    assert eu.meta == {"owner": "armon", "tier": "silver"}
    # the region's count goes to groups that kept the default count; api set its own
    assert [(tg.name, tg.count) for tg in eu.task_groups] == [("web", 3), ("api", 4)]
    us = regionalize(job, "us")
    assert (us.region, us.datacenters, us.node_pool) == ("us", ["dc1"], "gpu")
    assert [tg.count for tg in us.task_groups] == [1, 4]
    assert job.region == "global" and job.task_groups[0].count == 1  # the input is untouched
    assert eu.multiregion == job.multiregion  # every copy knows the other regions


def test_region_not_listed_is_refused() -> None:
    job = multiregion_job(MultiregionRegion(name="eu"))
    with pytest.raises(ValidationError, match="region 'ap' is not in its multiregion"):
        regionalize(job, "ap")


@pytest.mark.parametrize(
    ("regions", "strategy", "problem"),
    [
        pytest.param([], None, "needs at least one region", id="no-regions"),
        pytest.param(["eu", "eu"], None, 'region "eu" is listed twice', id="twice"),
        pytest.param(["eu"], MultiregionStrategy(on_failure="retry"), "on_failure", id="policy"),
        pytest.param(
            ["eu"], MultiregionStrategy(max_parallel=-1), "max_parallel", id="negative-parallel"
        ),
    ],
)
def test_invalid_blocks_say_what_is_wrong(
    regions: list[str], strategy: MultiregionStrategy | None, problem: str
) -> None:
    job = multiregion_job(*(MultiregionRegion(name=r) for r in regions), strategy=strategy)
    errors = validate_multiregion(job)
    assert len(errors) == 1 and problem in errors[0]


def test_valid_block_has_no_errors() -> None:
    job = multiregion_job(
        MultiregionRegion(name="eu"),
        MultiregionRegion(name="us"),
        strategy=MultiregionStrategy(max_parallel=1, on_failure="fail_all"),
    )
    assert validate_multiregion(job) == []
