"""Declaration intake throughput on SQLite and PostgreSQL, against a raw-insert baseline.

Run: .venv/bin/python benchmarks/bench_intake.py [--orders N] [--postgres ADMIN_URL] [--profile]
        [--backends sqlite,postgresql]

Declares the demo data set (2,000 orders ≈ 16,000 records in the 2.0.0 shapes) in
per-declarant batches of 500, each batch its own transaction, three ways on a fresh
database each:
  service   `declare_batch` called directly (validate, hash, chain, project, re-match);
  http      GraphQL `declareBatch` over in-process ASGI with real tokens from /oauth/token;
  baseline  the same records validated by the compiled validator, canonicalised, hashed and
            inserted raw into a one-table store with one executemany per batch: the floor
            that chaining, deduplication, projection and matching add to.
Prints records/s and per-batch p50/p95 latency, and the HTTP path's share of the baseline's
records/s in the same run (issue 11's goal: >= 25%). PostgreSQL runs on a database created and
dropped on the given server; it is skipped with a message when the server does not answer.
`--profile` prints where the service path spends its time on SQLite (cProfile).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere without installing

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from hub import migrate  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.canonical import canonical_json  # noqa: E402
from hub.config import Settings  # noqa: E402
from hub.db import unit_of_work  # noqa: E402
from hub.declarations.service import Declarant, DeclareItem, declare_batch  # noqa: E402
from hub.demo.generator import DemoDataSet, generate  # noqa: E402
from hub.demo.loader import (  # noqa: E402
    BATCH_SIZE,
    DemoBatch,
    DemoClient,
    plan_batches,
    prepare_demo,
)
from hub.runtime import Runtime  # noqa: E402
from hub.standards import service as standards  # noqa: E402
from hub.standards.validation import CompiledValidator  # noqa: E402

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
ISSUER = "http://bench.test"
SEED = 7
TARGETS = {"sqlite": 5_000, "postgresql": 3_000}  # service path, declarations/s (the issue)

DECLARE_BATCH = """
mutation($inputs: [DeclareInput!]!) {
  declareBatch(inputs: $inputs, atomic: false) { accepted rejected }
}"""


@dataclass
class Measurement:
    """One path on one backend."""

    backend: str
    path: str
    records: int
    seconds: float
    latencies: list[float]
    rejected: int

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _settings(url: str) -> Settings:
    return Settings(database_url=url, issuer=ISSUER, env="test")


async def _setup(url: str, data: DemoDataSet) -> list[DemoClient]:
    """Publishes the standards and creates the clients (not timed)."""
    runtime = Runtime.create(_settings(url))
    try:
        return await prepare_demo(runtime=runtime, data=data)
    finally:
        await runtime.stop()


async def _timed_batches(
    batches: list[DemoBatch], declare: Callable[[DemoBatch], Awaitable[int]]
) -> tuple[float, list[float], int]:
    """Runs every batch in order; returns total seconds, full batches' seconds, rejections."""
    latencies: list[float] = []
    rejected = 0
    started = time.perf_counter()
    for batch in batches:
        t0 = time.perf_counter()
        rejected += await declare(batch)
        # Only full batches: the one-record enterprise filings would make the median meaningless.
        if len(batch.records) == BATCH_SIZE:
            latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - started, latencies, rejected


async def bench_service(url: str, data: DemoDataSet, batches: list[DemoBatch]) -> Measurement:
    """`declare_batch` in one unit of work per batch."""
    clients = await _setup(url, data)
    client_of = {c.enterprise_code: c.client_id for c in clients if c.enterprise_code}
    runtime = Runtime.create(_settings(url))

    async def declare(batch: DemoBatch) -> int:
        declarant = Declarant(client_id=client_of[batch.declarant], enterprise_code=batch.declarant)
        async with unit_of_work(runtime.session_factory) as session:
            outcome = await declare_batch(
                session=session,
                declarant=declarant,
                items=[DeclareItem(s, p) for s, p in batch.records],
                atomic=False,
                validators=runtime.validators,
                rules=runtime.rules,
            )
        return outcome.rejected

    try:
        await _warm_validators(runtime, data)
        seconds, latencies, rejected = await _timed_batches(batches, declare)
    finally:
        await runtime.stop()
    return Measurement(
        _backend(url), "service declare_batch", _count(batches), seconds, latencies, rejected
    )


async def bench_http(url: str, data: DemoDataSet, batches: list[DemoBatch]) -> Measurement:
    """GraphQL `declareBatch` through the ASGI app, with tokens from /oauth/token."""
    clients = await _setup(url, data)
    app = create_app(_settings(url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            tokens: dict[str, str] = {}
            for client in clients:
                if client.enterprise_code:
                    response = await http.post(
                        "/oauth/token",
                        data={"grant_type": "client_credentials"},
                        auth=(client.client_id, client.client_secret),
                    )
                    response.raise_for_status()
                    tokens[client.enterprise_code] = response.json()["access_token"]

            async def declare(batch: DemoBatch) -> int:
                inputs = [{"standard": s, "payload": p} for s, p in batch.records]
                response = await http.post(
                    "/graphql",
                    json={"query": DECLARE_BATCH, "variables": {"inputs": inputs}},
                    headers={"Authorization": f"Bearer {tokens[batch.declarant]}"},
                )
                body = response.json()
                if "errors" in body:
                    raise RuntimeError(f"GraphQL errors: {body['errors']}")
                return int(body["data"]["declareBatch"]["rejected"])

            # One untimed call compiles the validators, as the service path's warm-up does.
            await http.post(
                "/graphql",
                json={"query": DECLARE_BATCH, "variables": {"inputs": []}},
                headers={"Authorization": f"Bearer {next(iter(tokens.values()))}"},
            )
            seconds, latencies, rejected = await _timed_batches(batches, declare)
    return Measurement(
        _backend(url), "HTTP GraphQL declareBatch", _count(batches), seconds, latencies, rejected
    )


async def bench_baseline(url: str, data: DemoDataSet, batches: list[DemoBatch]) -> Measurement:
    """Validate with the compiled validator, canonicalise, hash, executemany per batch."""
    import hashlib

    await _setup(url, data)  # the published standards are what the validators compile from
    runtime = Runtime.create(_settings(url))
    serial = "INTEGER PRIMARY KEY" if url.startswith("sqlite") else "BIGSERIAL PRIMARY KEY"
    try:
        validators = await _warm_validators(runtime, data)
        async with runtime.engine.begin() as connection:
            await connection.execute(
                text(
                    f"CREATE TABLE bench_raw (id {serial}, standard_id TEXT NOT NULL, "
                    "declarant TEXT NOT NULL, payload TEXT NOT NULL, content_hash TEXT NOT NULL)"
                )
            )
        insert = text(
            "INSERT INTO bench_raw (standard_id, declarant, payload, content_hash) "
            "VALUES (:standard_id, :declarant, :payload, :content_hash)"
        )

        async def declare(batch: DemoBatch) -> int:
            rows = []
            rejected = 0
            for standard, payload in batch.records:
                if not validators[standard].is_valid(payload):
                    rejected += 1
                    continue
                canonical = canonical_json(payload)
                rows.append(
                    {
                        "standard_id": standard,
                        "declarant": batch.declarant,
                        "payload": canonical.decode("utf-8"),
                        "content_hash": hashlib.sha256(canonical).hexdigest(),
                    }
                )
            async with runtime.engine.begin() as connection:
                await connection.execute(insert, rows)
            return rejected

        seconds, latencies, rejected = await _timed_batches(batches, declare)
    finally:
        await runtime.stop()
    return Measurement(
        _backend(url),
        "baseline validate+executemany",
        _count(batches),
        seconds,
        latencies,
        rejected,
    )


async def _warm_validators(runtime: Runtime, data: DemoDataSet) -> dict[str, CompiledValidator]:
    """Compiles each standard's validator before timing starts."""
    wanted = {standard for standard, _ in data.enterprises + data.records}
    compiled: dict[str, CompiledValidator] = {}
    async with runtime.session_factory() as session:
        for standard in sorted(wanted):
            resolved = await standards.resolve(session=session, ref=standard)
            compiled[standard] = await runtime.validators.get(
                session=session, version=resolved.version
            )
    return compiled


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _count(batches: list[DemoBatch]) -> int:
    return sum(len(b.records) for b in batches)


# -- databases --------------------------------------------------------------------------------


async def _admin(admin_url: str, statement: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with asyncio.timeout(5), engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


class PostgresDatabases:
    """Fresh databases on a PostgreSQL server, all dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def reachable(self) -> str | None:
        """None when the server answers, else why not."""
        try:
            asyncio.run(_admin(self.admin_url, "SELECT 1"))
        except Exception as exc:  # any failure means "no PostgreSQL here": report and skip
            return f"{type(exc).__name__}: {exc}"
        return None

    def fresh(self) -> str:
        name = f"hub_bench_{uuid.uuid4().hex[:10]}"
        asyncio.run(_admin(self.admin_url, f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for name in self.created:
            asyncio.run(_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _migrated(url: str) -> str:
    migrate.upgrade(database_url=url)
    return url


PATHS = (bench_service, bench_http, bench_baseline)


def run_backend(
    fresh_url: Callable[[], str], data: DemoDataSet, batches: list[DemoBatch]
) -> list[Measurement]:
    """Every path on its own fresh, migrated database of one backend."""
    results = []
    for path in PATHS:
        url = _migrated(fresh_url())
        results.append(asyncio.run(path(url, data, batches)))
        print(f"  measured {results[-1].backend} {results[-1].path}", file=sys.stderr)
    return results


def profile_service(
    fresh_url: Callable[[], str], data: DemoDataSet, batches: list[DemoBatch]
) -> None:
    """Prints the functions the service path spends most time in (SQLite)."""
    url = _migrated(fresh_url())
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(bench_service(url, data, batches))
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    print(out.getvalue())


def print_table(results: list[Measurement]) -> None:
    """The results as a table, then the verdicts against the issue's targets."""
    header = (
        f"{'backend':<11} {'path':<30} {'records':>8} {'seconds':>8} {'records/s':>10} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'rejected':>8}"
    )
    print(header)
    print("-" * len(header))
    for m in results:
        print(
            f"{m.backend:<11} {m.path:<30} {m.records:>8,} {m.seconds:>8.2f} {m.rate:>10,.0f} "
            f"{m.percentile(0.5) * 1000:>7.0f} {m.percentile(0.95) * 1000:>7.0f} {m.rejected:>8}"
        )
    print(f"(p50/p95: latency of one full batch of {BATCH_SIZE} records, one transaction)\n")
    for m in results:
        if m.path.startswith("service") and m.backend in TARGETS:
            target = TARGETS[m.backend]
            verdict = "meets" if m.rate >= target else "MISSES"
            print(f"{m.backend}: service path {verdict} the target of {target:,} declarations/s")
    for backend in dict.fromkeys(m.backend for m in results):
        rates = {m.path.split()[0]: m.rate for m in results if m.backend == backend}
        if rates.get("baseline") and "HTTP" in rates:
            share = rates["HTTP"] / rates["baseline"]
            print(f"{backend}: HTTP declareBatch is {share:.0%} of the baseline's records/s")


def main() -> None:
    """Parses the arguments, measures and prints."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="admin URL of a server")
    parser.add_argument("--profile", action="store_true", help="cProfile the SQLite service path")
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    args = parser.parse_args()
    backends = set(args.backends.split(","))

    data = generate(orders=args.orders, seed=SEED)
    batches = plan_batches(data=data)
    print(
        f"{_count(batches):,} records of {args.orders:,} demo orders in {len(batches)} "
        f"per-declarant batches (≤ 500 records, one transaction each)\n",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
        files = iter(range(1_000))

        def fresh_sqlite() -> str:
            return f"sqlite+aiosqlite:///{Path(folder) / f'bench{next(files)}.db'}"

        if args.profile:
            profile_service(fresh_sqlite, data, batches)
            return
        results = run_backend(fresh_sqlite, data, batches) if "sqlite" in backends else []

    postgres = PostgresDatabases(args.postgres)
    problem = postgres.reachable() if "postgresql" in backends else None
    if problem is None and "postgresql" in backends:
        try:
            results += run_backend(postgres.fresh, data, batches)
        finally:
            postgres.drop_all()
    print()
    print_table(results)
    if problem is not None:
        print(f"\nPostgreSQL skipped: {make_url(args.postgres).host} did not answer ({problem})")


if __name__ == "__main__":
    main()
