"""Concurrent reads with group-committed access events, beside one transaction per event.

Run: .venv/bin/python benchmarks/bench_group_commit.py [--reads 400] [--postgres URL]
     [--clients 16,64,256]

One in-process hub (ASGI over httpx, one event loop as under uvicorn) with 20 declared
orders serves `orders(first: 5)` to a customs reader, 16 and 64 (`--clients`) at a time, on
SQLite (and on PostgreSQL with `--postgres`: a fresh database is created there and
dropped). Every read writes an access event before it answers. It prints req/s,
latency, errors, and events per commit for the group-commit writer and, as the baseline
from the same run, for a writer that commits each event on its own (window 0, batch 1).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from hub import migrate  # noqa: E402
from hub.access.audit_writer import AuditWriter  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.auth import clients  # noqa: E402
from hub.config import Settings  # noqa: E402
from hub.db import create_engine, create_session_factory, unit_of_work  # noqa: E402
from hub.standards.shipped import publish_shipped  # noqa: E402
from tests.standards.samples import PLATFORM, sample  # noqa: E402

ISSUER = "http://bench.test"
ORDERS = "{ orders(first: 5) { edges { node { orderNo goodsValue ebpCode } } } }"
DECLARE = """mutation($input: DeclareInput!) {
  declare(input: $input) { errors { code } } }"""


async def _client(url: str, scopes: str, enterprise: str | None) -> tuple[str, str]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            if enterprise is not None:
                await publish_shipped(session=session, actor="bench")
            created = await clients.create(
                session=session, name="bench", scopes=scopes, enterprise_code=enterprise
            )
    finally:
        await engine.dispose()
    return created.client_id, created.client_secret


async def _token(http: httpx.AsyncClient, credentials: tuple[str, str]) -> str:
    response = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=credentials
    )
    return str(response.json()["access_token"])


async def _run(url: str, *, grouped: bool, reads: int, concurrency: int) -> dict[str, float]:
    platform = await _client(url, "declare", PLATFORM)
    customs = await _client(url, "customs:read", None)
    settings = Settings(
        database_url=url, issuer=ISSUER, rate_limit_per_second=0.0, log_sequencer=False
    )
    app = create_app(settings)
    runtime = app.state.runtime
    if not grouped:
        runtime.audit_writer = AuditWriter(
            session_factory=runtime.session_factory, window_seconds=0, max_batch=1
        )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            declare_token = await _token(http, platform)
            for number in range(20):
                payload = dict(sample("cbec.order", "import-9610"))
                payload["orderNo"] = f"BENCH{number:06d}"
                await http.post(
                    "/graphql",
                    json={
                        "query": DECLARE,
                        "variables": {"input": {"standard": "cbec.order", "payload": payload}},
                    },
                    headers={"Authorization": f"Bearer {declare_token}"},
                )
            token = await _token(http, customs)
            headers = {"Authorization": f"Bearer {token}"}
            latencies: list[float] = []
            errors = 0
            remaining = iter(range(reads))
            commits_before = runtime.audit_writer.transactions

            async def client() -> None:
                nonlocal errors
                for _ in remaining:
                    started = time.perf_counter()
                    response = await http.post("/graphql", json={"query": ORDERS}, headers=headers)
                    latencies.append(time.perf_counter() - started)
                    if response.status_code != 200 or "errors" in response.json():
                        errors += 1

            started = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
            commits = runtime.audit_writer.transactions - commits_before
    latencies.sort()
    return {
        "rps": reads / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
        "per_commit": reads / commits if commits else float("nan"),
    }


def _fresh_sqlite() -> str:
    path = Path(tempfile.mkdtemp(prefix="bench-gc-")) / "hub.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(database_url=url)
    return url


async def _admin(server: str, sql: str) -> None:
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=400, help="reads per run (default 400)")
    parser.add_argument("--postgres", help="a PostgreSQL server URL to measure on as well")
    parser.add_argument(
        "--clients", default="16,64", help="concurrent clients, comma-separated (default 16,64)"
    )
    args = parser.parse_args()
    print(
        f"{'database':9} {'clients':>7} {'writer':>13} {'req/s':>7} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'errors':>6} {'events/commit':>13}"
    )
    databases = ["sqlite"] + (["postgres"] if args.postgres else [])
    for database in databases:
        for concurrency in (int(c) for c in args.clients.split(",")):
            for grouped in (True, False):
                if database == "sqlite":
                    url = _fresh_sqlite()
                else:
                    name = f"bench_gc_{uuid.uuid4().hex[:10]}"
                    asyncio.run(_admin(args.postgres, f'CREATE DATABASE "{name}"'))
                    url = make_url(args.postgres).set(database=name).render_as_string(False)
                    migrate.upgrade(database_url=url)
                try:
                    figures = asyncio.run(
                        _run(url, grouped=grouped, reads=args.reads, concurrency=concurrency)
                    )
                finally:
                    if database == "postgres":
                        asyncio.run(_admin(args.postgres, f'DROP DATABASE "{name}" WITH (FORCE)'))
                writer = "group commit" if grouped else "one per event"
                print(
                    f"{database:9} {concurrency:>7} {writer:>13} {figures['rps']:>7.1f} "
                    f"{figures['p50']:>8.1f} {figures['p99']:>8.1f} {figures['errors']:>6.0f} "
                    f"{figures['per_commit']:>13.1f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
