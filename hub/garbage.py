"""The cyclic garbage collector, tuned for a server: start-up objects frozen, rarer passes.

A request allocates tens of thousands of short-lived objects (rows, dicts, coroutines);
with the default thresholds (700, 10, 10) the collector ran about 6 full collections per
30 department queries, each walking every object the process ever loaded (the schema,
SQLAlchemy's mappers, the standards): the p95 tail. Frozen, those start-up objects are
never walked again; a larger first threshold makes young collections rarer, and each one
still finds the request's cycles (benchmarks/bench_read_path.py measures both).
"""

from __future__ import annotations

import gc

# Allocations (minus deallocations) between young collections; the default is 700.
YOUNG_THRESHOLD = 50_000
# Young collections per middle one, middle ones per full one (the defaults are 10, 10).
MIDDLE_THRESHOLD = 20
OLD_THRESHOLD = 20


def freeze_startup() -> tuple[int, int, int]:
    """Collects once, freezes every object alive (start-up state) and raises the
    thresholds; returns the previous thresholds for `thaw`."""
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
    return previous


def thaw(previous: tuple[int, int, int]) -> None:
    """Undoes `freeze_startup` (at shutdown: a test process starts many apps)."""
    gc.unfreeze()
    gc.set_threshold(*previous)
