"""The hub's metrics (prometheus_client): what is counted, and the gauges read at scrape time.

With `hub serve --workers N` the workers count into prometheus_client's multiprocess
directory (`PROMETHEUS_MULTIPROC_DIR`, set by `hub serve`), so whichever worker answers a
scrape reports the counters and histograms of all of them. Gauges describe the process
that answered (its id, memory and database pool): they are read at scrape time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from hub.declarations.service import BatchOutcome

# `_created` series double every counter for little use; Prometheus does without them.
prometheus_client.disable_created_metrics()

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Label values come from callers; everything unbounded is folded into "other" so a client
# cannot grow the number of series (and the scrape) without limit.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OPERATION_TYPES = frozenset({"query", "mutation", "subscription"})
MAX_OPERATION_NAMES = 100
OTHER = "other"

# Prometheus' own default buckets: they span 5 ms to 10 s, which covers a GraphQL read
# (milliseconds) as well as a 1,000-record declareBatch (seconds).
DURATION_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def multiprocess_dir() -> str | None:
    """The directory the workers share their counts through, when several serve."""
    return os.environ.get(MULTIPROC_ENV) or None


class HubMetrics:
    """Every series the hub exports; one instance per process (`metrics` below)."""

    def __init__(self, *, max_operation_names: int = MAX_OPERATION_NAMES):
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "hub_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.http_request_duration = Histogram(
            "hub_http_request_duration_seconds",
            "Time from receiving a request to sending the last byte of its response.",
            ("route",),
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.graphql_operations = Counter(
            "hub_graphql_operations",
            "GraphQL operations received, by type and name (anonymous or beyond the first "
            f"{max_operation_names} names of a process: other).",
            ("type", "name"),
            registry=self.registry,
        )
        self.declarations = Counter(
            "hub_declarations",
            "Declared records: accepted (stored), duplicate (already stored), rejected "
            "(refused, including records of an atomic batch aborted by another).",
            ("result",),
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "hub_rate_limited",
            "Requests refused because the caller exceeded its rate.",
            registry=self.registry,
        )
        self._max_operation_names = max_operation_names
        self._operation_names: set[str] = set()
        self._names_lock = threading.Lock()

    def count_request(self, *, method: str, route: str, status: int, seconds: float) -> None:
        """Counts one answered HTTP request and its duration."""
        method = method if method in KNOWN_METHODS else OTHER
        self.http_requests.labels(method=method, route=route, status=str(status)).inc()
        self.http_request_duration.labels(route=route).observe(seconds)

    def count_operation(self, *, operation_type: str | None, name: str | None) -> None:
        """Counts one GraphQL operation; names beyond the cap are counted as "other"."""
        kind = operation_type if operation_type in OPERATION_TYPES else OTHER
        self.graphql_operations.labels(type=kind, name=self._bounded_name(name)).inc()

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
                self.declarations.labels(result=label).inc(amount)

    def sample(self, sample_name: str, /, **labels: str) -> float:
        """This process's value of one sample (0 when the series does not exist yet)."""
        value = self.registry.get_sample_value(sample_name, labels)
        return 0.0 if value is None else value

    def render(self, *, engine: Any | None = None) -> bytes:
        """The text exposition: counters of every worker, gauges of this process."""
        directory = multiprocess_dir()
        if directory is not None:
            counted = CollectorRegistry()
            MultiProcessCollector(counted, path=directory)
        else:
            counted = self.registry
        gauges = CollectorRegistry()
        gauges.register(_ScrapeTimeGauges(engine))
        return generate_latest(counted) + generate_latest(gauges)


class _ScrapeTimeGauges(Collector):
    """Process id, resident memory and pool state of the process answering the scrape."""

    def __init__(self, engine: Any | None) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        yield from process_gauges()
        if self._engine is not None:
            yield pool_gauges(self._engine)


def process_gauges() -> Iterable[GaugeMetricFamily]:
    """This process's id (tells workers apart) and resident memory, when the OS says."""
    pid = GaugeMetricFamily(
        "hub_process_id", "Operating-system id of the process that answered this scrape."
    )
    pid.add_metric([], float(os.getpid()))
    families = [pid]
    rss = resident_memory_bytes()
    if rss is not None:
        memory = GaugeMetricFamily(
            "hub_process_resident_memory_bytes",
            "Resident memory of the process that answered this scrape.",
        )
        memory.add_metric([], float(rss))
        families.append(memory)
    return families


def resident_memory_bytes() -> int | None:
    """Current resident set size from /proc (Linux); None where there is no /proc."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def pool_gauges(engine: Any) -> GaugeMetricFamily:
    """The database pool's state; pools that do not keep connections report what they know.

    A QueuePool (PostgreSQL, and SQLite files under SQLAlchemy 2) has a size, an overflow
    and a checked-out count; NullPool and StaticPool (e.g. SQLite in memory) have none of
    these, so the family is exported without samples rather than with invented numbers.
    """
    family = GaugeMetricFamily(
        "hub_db_pool_connections",
        "Database pool of the answering process: connections checked out, configured "
        "size, overflow connections open.",
        labels=("state",),
    )
    pool = getattr(engine, "pool", None)
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
        family.add_metric([state], value)
    return family


metrics = HubMetrics()
"""The process's metrics: `metrics.rate_limited.inc()` etc. from anywhere in the hub."""
