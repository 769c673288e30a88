"""The hub's metrics: what is counted, and the gauges read when /metrics is scraped."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hub.observability.registry import Counter, GaugeFamily, Histogram, render

if TYPE_CHECKING:
    from hub.declarations.service import BatchOutcome

# Label values come from callers; everything unbounded is folded into "other" so a client
# cannot grow the number of series (and the scrape) without limit.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OPERATION_TYPES = frozenset({"query", "mutation", "subscription"})
MAX_OPERATION_NAMES = 100
OTHER = "other"


class HubMetrics:
    """Every series the hub exports; one instance per process (`metrics` below)."""

    def __init__(self, *, max_operation_names: int = MAX_OPERATION_NAMES):
        self.http_requests = Counter(
            "hub_http_requests_total",
            "HTTP requests answered, by method, route template and status code.",
            ("method", "route", "status"),
        )
        self.http_request_duration = Histogram(
            "hub_http_request_duration_seconds",
            "Time from receiving a request to sending the last byte of its response.",
            ("route",),
        )
        self.graphql_operations = Counter(
            "hub_graphql_operations_total",
            "GraphQL operations received, by type and name (anonymous or beyond the first "
            f"{max_operation_names} names: other).",
            ("type", "name"),
        )
        self.declarations = Counter(
            "hub_declarations_total",
            "Declared records: accepted (stored), duplicate (already stored), rejected "
            "(refused, including records of an atomic batch aborted by another).",
            ("result",),
        )
        self.rate_limited = Counter(
            "hub_rate_limited_total", "Requests refused because the caller exceeded its rate."
        )
        self._max_operation_names = max_operation_names
        self._operation_names: set[str] = set()
        self._names_lock = threading.Lock()

    def count_request(self, *, method: str, route: str, status: int, seconds: float) -> None:
        """Counts one answered HTTP request and its duration."""
        method = method if method in KNOWN_METHODS else OTHER
        self.http_requests.inc(method=method, route=route, status=str(status))
        self.http_request_duration.observe(seconds, route=route)

    def count_operation(self, *, operation_type: str | None, name: str | None) -> None:
        """Counts one GraphQL operation; names beyond the cap are counted as "other"."""
        kind = operation_type if operation_type in OPERATION_TYPES else OTHER
        self.graphql_operations.inc(type=kind, name=self._bounded_name(name))

    def _bounded_name(self, name: str | None) -> str:
        if not name:
            return OTHER
        with self._names_lock:
            if name in self._operation_names:
                return name
            if len(self._operation_names) < self._max_operation_names:
                self._operation_names.add(name)
                return name
        return OTHER

    def count_declarations(self, outcome: BatchOutcome, *, committed: bool) -> None:
        """Counts each record of a finished declare/declareBatch by its result."""
        accepted = duplicate = rejected = 0
        for result in outcome.results:
            if result.declaration is None or not committed:
                rejected += 1
            elif result.duplicate:
                duplicate += 1
            else:
                accepted += 1
        for label, amount in (
            ("accepted", accepted),
            ("duplicate", duplicate),
            ("rejected", rejected),
        ):
            if amount:
                self.declarations.inc(amount, result=label)

    def render(self, *, engine: Any | None = None) -> str:
        """The text exposition of every series, with gauges read now."""
        families: list[Any] = [
            self.http_requests,
            self.http_request_duration,
            self.graphql_operations,
            self.declarations,
            self.rate_limited,
            *process_gauges(),
        ]
        if engine is not None:
            families.append(pool_gauges(engine))
        return render(families)


def process_gauges() -> Sequence[GaugeFamily]:
    """This process's id (tells workers apart) and resident memory, when the OS says."""
    families = [
        GaugeFamily(
            "hub_process_id",
            "Operating-system id of the process that answered this scrape.",
            samples=(((), float(os.getpid())),),
        )
    ]
    rss = resident_memory_bytes()
    if rss is not None:
        families.append(
            GaugeFamily(
                "hub_process_resident_memory_bytes",
                "Resident memory of this process.",
                samples=(((), float(rss)),),
            )
        )
    return families


def resident_memory_bytes() -> int | None:
    """Current resident set size from /proc (Linux); None where there is no /proc."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def pool_gauges(engine: Any) -> GaugeFamily:
    """The database pool's state; pools that do not keep connections report what they know.

    A QueuePool (PostgreSQL, and SQLite files under SQLAlchemy 2) has a size, an overflow
    and a checked-out count; NullPool and StaticPool (e.g. SQLite in memory) have none of
    these, so the family is exported without samples rather than with invented numbers.
    """
    pool = getattr(engine, "pool", None)
    samples: list[tuple[tuple[str, ...], float]] = []
    for state, method in (
        ("checked_out", "checkedout"),
        ("size", "size"),
        ("overflow", "overflow"),
    ):
        reader = getattr(pool, method, None)
        if not callable(reader):
            continue
        value = float(reader())
        if state == "overflow":
            # QueuePool counts overflow from -size up while it opens its first connections;
            # only connections beyond `size` are overflow in the sense a dashboard means.
            value = max(0.0, value)
        samples.append(((state,), value))
    return GaugeFamily(
        "hub_db_pool_connections",
        "Database pool: connections checked out, configured size, overflow connections open.",
        ("state",),
        tuple(samples),
    )


metrics = HubMetrics()
"""The process's metrics: `metrics.rate_limited.inc()` etc. from anywhere in the hub."""
