"""`statistics(groupBy: [TRADE_MODE, MONTH])` in SQL against a fetch-everything baseline.

Run: .venv/bin/python benchmarks/bench_statistics.py [--orders N] [--calls N] [--postgres URL]

Loads the demo data set (5,000 orders by default, through the normal intake path) into a
temporary SQLite file, and into a fresh PostgreSQL database when the server answers, then
times each path over `--calls` calls, each call in its own session as a request would:
  service   `hub.stats.service.statistics`: one GROUP BY statement, conversion in SQL;
  baseline  every order fetched with one SELECT, then grouped, converted and summed in
            Python: what the service would cost if it walked orders.
Prints p50/p95 per call and the SQL statements per call (counted by an engine event
listener), and checks that both paths give the same numbers. No timing assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics as stats
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere without installing

from sqlalchemy import event, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from hub import migrate  # noqa: E402
from hub.config import Settings  # noqa: E402
from hub.demo.loader import load_demo  # noqa: E402
from hub.runtime import Runtime  # noqa: E402
from hub.stats import service  # noqa: E402
from hub.stats.rates import RateTable, configured_rates  # noqa: E402
from hub.stats.service import Dimension, StatisticsFilter, cents  # noqa: E402
from hub.trade.models import Order  # noqa: E402

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SEED = 7
GROUP_BY = [Dimension.TRADE_MODE, Dimension.MONTH]

Groups = dict[tuple[str | None, str], tuple[int, Decimal, int]]


@dataclass
class Measurement:
    """One path on one backend."""

    backend: str
    path: str
    latencies: list[float]
    statements_per_call: float

    def percentile(self, share: float) -> float:
        """The latency (seconds) below which `share` of the calls finished."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def via_service(runtime: Runtime, rates: RateTable) -> Groups:
    """The service path: one GROUP BY statement."""
    async with runtime.session_factory() as session:
        groups = await service.statistics(
            session=session, group_by=GROUP_BY, where=StatisticsFilter(), rates=rates
        )
    return {
        (g.trade_mode, g.month or ""): (g.order_count, g.total_value_cny, g.matched_count)
        for g in groups
    }


async def via_python(runtime: Runtime, rates: RateTable) -> Groups:
    """The baseline: all orders in one SELECT, aggregated in Python."""
    columns = (
        Order.trade_mode,
        Order.order_month,
        Order.currency,
        Order.goods_value,
        Order.match_status,
        Order.status,
    )
    async with runtime.session_factory() as session:
        rows = (await session.execute(select(*columns))).all()
    sums: dict[tuple[str | None, str], list[Any]] = {}
    for trade_mode, month, currency, value, match_status, status in rows:
        if status == "CANCELLED":
            continue
        entry = sums.setdefault((trade_mode, month), [0, Decimal(0), 0])
        entry[0] += 1
        rate = rates.rate(currency)
        if rate is not None:
            entry[1] += Decimal(value) * rate
        entry[2] += match_status == "MATCHED"
    return {key: (n, cents(value), matched) for key, (n, value, matched) in sums.items()}


async def measure(
    runtime: Runtime,
    backend: str,
    path: str,
    call: Callable[[], Awaitable[Groups]],
    calls: int,
) -> tuple[Measurement, Groups]:
    """Times `calls` calls after one warm-up, counting the SQL statements they send."""
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    result = await call()  # warm-up: connection pool, statement caches
    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    latencies = []
    try:
        for _ in range(calls):
            started = time.perf_counter()
            result = await call()
            latencies.append(time.perf_counter() - started)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return Measurement(backend, path, latencies, statements / calls), result


async def run_backend(url: str, backend: str, orders: int, calls: int) -> list[Measurement]:
    """Loads the demo data set into `url` and measures both paths."""
    runtime = Runtime.create(Settings(database_url=url, issuer="http://bench.test", env="test"))
    try:
        started = time.perf_counter()
        summary = await load_demo(runtime=runtime, orders=orders, seed=SEED)
        print(
            f"{backend}: loaded {summary.orders:,} orders ({summary.records:,} records) "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        rates = configured_rates()
        sql, by_sql = await measure(
            runtime, backend, "service", lambda: via_service(runtime, rates), calls
        )
        python, by_python = await measure(
            runtime, backend, "baseline", lambda: via_python(runtime, rates), calls
        )
        agree = by_sql.keys() == by_python.keys() and all(
            by_sql[k][0] == by_python[k][0]
            and by_sql[k][2] == by_python[k][2]
            and abs(by_sql[k][1] - by_python[k][1]) <= Decimal("0.01")
            for k in by_sql
        )
        print(f"{backend}: {len(by_sql)} groups; both paths agree: {agree}")
        return [sql, python]
    finally:
        await runtime.stop()


async def _admin(admin_url: str, statement: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with asyncio.timeout(5), engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def postgres_database(admin_url: str) -> tuple[str, str] | None:
    """A fresh, migrated database on the server, or None (with a message) when unreachable."""
    name = f"hub_bench_stats_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure means: no PostgreSQL to measure
        host = make_url(admin_url).host
        print(f"PostgreSQL skipped: {host} did not answer ({type(exc).__name__}: {exc})")
        return None
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(database_url=url)
    return url, name


def print_table(results: list[Measurement], calls: int) -> None:
    """p50/p95 latency and statements per call, side by side."""
    print(f"\nstatistics(groupBy: [TRADE_MODE, MONTH]), {calls} calls per path")
    print(f"{'backend':<11}{'path':<10}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}{'SQL/call':>10}")
    for m in results:
        print(
            f"{m.backend:<11}{m.path:<10}{m.percentile(0.5) * 1000:>9.2f}"
            f"{m.percentile(0.95) * 1000:>9.2f}{stats.fmean(m.latencies) * 1000:>9.2f}"
            f"{m.statements_per_call:>10.1f}"
        )


def main() -> None:
    """Runs the benchmark on SQLite, and on PostgreSQL when reachable."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="admin URL of a server")
    args = parser.parse_args()
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'hub.db'}"
        migrate.upgrade(database_url=url)
        results += asyncio.run(run_backend(url, "sqlite", args.orders, args.calls))
    created = postgres_database(args.postgres)
    if created is not None:
        pg_url, name = created
        try:
            results += asyncio.run(run_backend(pg_url, "postgresql", args.orders, args.calls))
        finally:
            asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print_table(results, args.calls)


if __name__ == "__main__":
    main()
