"""Small statistics cells are suppressed: a group of one order is that order's value.

Every reader but customs (which reads every order anyway) gets cells of fewer than
`HUB_STATS_MIN_GROUP` orders (default 5) as `suppressed: true` with every measure null.

Primary suppression alone can be undone by differencing: the same query without grouping
gives the total, and total − visible cells = the suppressed cell. So suppression is
completed against the margins a caller can ask for (complementary suppression): for each
grouped dimension, the cells that agree on every other dimension form a line whose sum is a
cell of the coarser query (one dimension fewer, or no grouping). In every line, the
suppressed cells must together hold at least the minimum, or the next smallest cells of the
line are suppressed too, until they do (or the whole line is suppressed, in which case the
coarser cell is itself small and suppressed there). Differencing a result against its
margins then yields only sums over at least the minimum number of orders.

Decided here: totals are not published separately (the ungrouped query is itself a cell,
suppressed when small); cells are never merged or rounded, so the unsuppressed cells are
exact. What suppression cannot prevent, documented in the README: differencing two queries
with *different filters* (two overlapping month ranges) is the classical tracker attack;
those reads are in the access log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

G = TypeVar("G")


def suppressed_cells(
    groups: Sequence[G],
    *,
    dimensions: Sequence[str],
    key_of: Callable[[G, str], Hashable],
    count_of: Callable[[G], int],
    min_group: int,
) -> set[int]:
    """The indices of the groups to suppress (primary and complementary)."""
    hidden = {i for i, g in enumerate(groups) if count_of(g) < min_group}
    if not hidden or not dimensions:
        return hidden
    lines: list[list[int]] = []
    for dimension in dimensions:
        by_rest: dict[tuple[Hashable, ...], list[int]] = defaultdict(list)
        for index, group in enumerate(groups):
            rest = tuple(key_of(group, d) for d in dimensions if d != dimension)
            by_rest[rest].append(index)
        lines.extend(by_rest.values())
    changed = True
    while changed:  # each pass only adds cells, so this ends within len(groups) passes
        changed = False
        for line in lines:
            held = sum(count_of(groups[i]) for i in line if i in hidden)
            if not held or held >= min_group:
                continue
            candidates = sorted(
                (i for i in line if i not in hidden), key=lambda i: (count_of(groups[i]), i)
            )
            for index in candidates:
                hidden.add(index)
                changed = True
                held += count_of(groups[index])
                if held >= min_group:
                    break
    return hidden
