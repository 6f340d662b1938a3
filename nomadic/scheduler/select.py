"""Selection: score only a sample of feasible nodes (LimitIterator), keep the best (MaxScore).

Scoring every node would cost too much on large clusters; a random sample of log2(n) nodes
(2 for batch, "the power of two choices") gives good packing. Options scoring at or below 0
(penalised nodes) are skipped, up to three, and used only if nothing better turns up.
"""

from __future__ import annotations

import math
from typing import Final

from .context import EvalContext
from .rank import RankedNode, RankIterator

__all__ = [
    "BATCH_LIMIT",
    "MAX_SKIP",
    "SKIP_SCORE_THRESHOLD",
    "LimitIterator",
    "MaxScoreIterator",
    "service_limit",
]

BATCH_LIMIT: Final = 2
MAX_SKIP: Final = 3
SKIP_SCORE_THRESHOLD: Final = 0.0
# With affinities or spreads, score at least this many nodes (node_limit_for_feasibility_checks).
AFFINITY_SPREAD_LIMIT: Final = 100


def service_limit(node_count: int) -> int:
    """max(2, ceil(log2 n)): 1000 nodes -> 10, 10000 -> 14."""
    if node_count <= 0:
        return BATCH_LIMIT
    return max(BATCH_LIMIT, math.ceil(math.log2(node_count)))


class LimitIterator:
    def __init__(
        self,
        ctx: EvalContext,
        source: RankIterator,
        limit: int,
        score_threshold: float = SKIP_SCORE_THRESHOLD,
        max_skip: int = MAX_SKIP,
    ) -> None:
        self.ctx = ctx
        self.source = source
        self.limit = limit
        self.score_threshold = score_threshold
        self.max_skip = max_skip
        self.seen = 0
        self.skipped: list[RankedNode] = []
        self.skipped_index = 0

    def set_limit(self, limit: int) -> None:
        self.limit = limit

    def next(self) -> RankedNode | None:
        if self.seen == self.limit:
            return None
        option = self._next_option()
        if option is None:
            return None
        while (
            option is not None
            and option.final_score <= self.score_threshold
            and len(self.skipped) < self.max_skip
        ):
            self.skipped.append(option)
            option = self.source.next()
        self.seen += 1
        if option is None:
            return self._next_option()
        return option

    def _next_option(self) -> RankedNode | None:
        option = self.source.next()
        if option is None and self.skipped_index < len(self.skipped):
            option = self.skipped[self.skipped_index]
            self.skipped_index += 1
        return option

    def reset(self) -> None:
        self.source.reset()
        self.seen = 0
        self.skipped = []
        self.skipped_index = 0


class MaxScoreIterator:
    """Consumes its source and returns the option with the highest final score (first wins)."""

    def __init__(self, ctx: EvalContext, source: RankIterator) -> None:
        self.ctx = ctx
        self.source = source
        self.max: RankedNode | None = None
        self.done = False

    def next(self) -> RankedNode | None:
        if self.done:
            return None
        while (option := self.source.next()) is not None:
            if self.max is None or option.final_score > self.max.final_score:
                self.max = option
        self.done = True
        return self.max

    def reset(self) -> None:
        self.source.reset()
        self.max = None
        self.done = False
