"""SpreadIterator: the ``spread`` block's score (Nomad's ``scheduler/spread.go``).

For each spread attribute the boost is ((desired - used) / desired) * (weight / sum of
weights), where ``used`` counts the group's existing and proposed allocations with the node's
attribute value plus this one; targets' percentages leave the remainder to the implicit
target ``*``. Without targets, values are spread evenly (:func:`even_spread_score_boost`).
A node missing the attribute scores -1 for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from nomadic.structs import Job, Spread, TaskGroup

from .constraint import resolve_target
from .context import EvalContext
from .rank import RankedNode, RankIterator

__all__ = ["IMPLICIT_TARGET", "SpreadIterator", "even_spread_score_boost"]

IMPLICIT_TARGET: Final = "*"


@dataclass
class _SpreadInfo:
    attribute: str
    weight: int
    desired: dict[str, float] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=dict)


def even_spread_score_boost(used: dict[str, int], value: str | None) -> float:
    """Score for a value when no targets are given: favour the least used values."""
    if not used:
        return 0.0
    if value is None:
        return -1.0
    current = used.get(value, 0)
    lo, hi = min(used.values()), max(used.values())
    if current != lo:
        return (lo - current) / lo if lo else -1.0
    if lo == hi:
        return -1.0
    if lo == 0:
        return 1.0
    return (hi - current) / lo


class SpreadIterator:
    def __init__(self, ctx: EvalContext, source: RankIterator) -> None:
        self.ctx = ctx
        self.source = source
        self.job: Job | None = None
        self.infos: list[_SpreadInfo] = []
        self.sum_weights = 0

    def set_job(self, job: Job) -> None:
        self.job = job

    def set_task_group(self, tg: TaskGroup) -> None:
        assert self.job is not None
        spreads: list[Spread] = [*tg.spreads, *self.job.spreads]
        self.infos = [self._info(s, tg.count) for s in spreads]
        self.sum_weights = sum(s.weight for s in spreads)
        if not self.infos:
            return
        allocs = [
            a
            for a in self.ctx.proposed_job_allocs(self.job.namespace, self.job.id)
            if a.task_group == tg.name
        ]
        for alloc in allocs:
            node = self.ctx.state.node_by_id(alloc.node_id)
            if node is None:
                continue
            for info in self.infos:
                value = resolve_target(info.attribute, node)
                if value is not None:
                    info.used[value] = info.used.get(value, 0) + 1

    def has_spreads(self) -> bool:
        return bool(self.infos)

    def reset(self) -> None:
        self.source.reset()

    def next(self) -> RankedNode | None:
        option = self.source.next()
        if option is None or not self.infos:
            return option
        total = 0.0
        for info in self.infos:
            total += self._boost(info, resolve_target(info.attribute, option.node))
        if total != 0.0:
            option.scores.append(total)
            self.ctx.score_node(option.node, "allocation-spread", total)
        return option

    def _boost(self, info: _SpreadInfo, value: str | None) -> float:
        if value is None:
            return -1.0
        if not info.desired:
            return even_spread_score_boost(info.used, value)
        desired = info.desired.get(value, info.desired.get(IMPLICIT_TARGET))
        if not desired:
            return -1.0
        used = info.used.get(value, 0) + 1
        weight = info.weight / self.sum_weights if self.sum_weights else 0.0
        return ((desired - used) / desired) * weight

    @staticmethod
    def _info(spread: Spread, count: int) -> _SpreadInfo:
        info = _SpreadInfo(attribute=spread.attribute, weight=spread.weight)
        for target in spread.spread_target:
            info.desired[target.value] = target.percent / 100 * count
        total = sum(info.desired.values())
        if 0 < total < count:
            info.desired[IMPLICIT_TARGET] = count - total
        return info
