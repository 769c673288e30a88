"""Declare throughput as the store grows: records/s at 5 and 30 clients, 10k vs 1M stored.

Run: .venv/bin/python benchmarks/bench_log_growth.py [--sizes 10000,1000000]
        [--clients 5,30] [--seconds 10] [--rounds 2] [--workers 2] [--postgres ADMIN_URL]

For each size, on a fresh PostgreSQL database (`hub db upgrade`, `hub demo --orders 0` for
the standards and clients):
  seed   N synthetic declarations of the benchmark's platform (valid rows: canonical payload,
         its SHA-256, a v1 log entry each) by COPY into `declarations` and `log_entries`,
         their tree built in bulk with `hub.log.merkle.append` (the sequencer's own code) and
         COPYed into `log_nodes`, then a checkpoint signed by the hub's sequencer code over
         the whole tree; the arrival sequence is moved past them. Not timed.
  drive  `hub serve --workers W`; for each client count, that many clients loop on the
         GraphQL `declare` mutation (one new order per call) for `--seconds`; the sizes
         take turns `--rounds` times (a shared machine's load drifts) and each row pools
         its rounds.
Prints records/s, p50/p99 latency and the merge delay `/healthz` reports for each size and
client count, then each client count's records/s at the largest size as a share of the
smallest (issue 11's goal: within 20%). The seeded rows carry no hash-chain link (the chain
is a view the sequencer extends; the benchmark measures writes) and no graph rows: what
grows is the declaration store, its unique and lookup indexes and the log's tables.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere without installing
sys.path.insert(0, str(ROOT / "benchmarks"))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from bench_declare_concurrency import Orders, Result, _hub_call, drive  # noqa: E402
from load import (  # noqa: E402
    DEFAULT_POSTGRES,
    Server,
    _free_port,
    _hub,
    _load_clients,
    _token,
    _wait_until_serving,
    fresh_database,
)
from sqlalchemy.engine import make_url  # noqa: E402

from hub.config import Settings  # noqa: E402
from hub.db import create_engine, create_session_factory  # noqa: E402
from hub.demo import generator  # noqa: E402
from hub.log import merkle  # noqa: E402
from hub.log.entry import of_declaration  # noqa: E402
from hub.log.runtime import LogRuntime  # noqa: E402

CHUNK = 50_000


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _integrate(url: str, issuer: str) -> None:
    """Integrates what is pending and signs a checkpoint over the stored tree (the hub's
    own sequencer code, as `hub demo` runs it)."""
    settings = Settings(database_url=url, issuer=issuer, log_sequencer=False)
    engine = create_engine(settings)
    try:
        await LogRuntime.create(settings).integrate_pending(
            session_factory=create_session_factory(engine)
        )
    finally:
        await engine.dispose()


async def seed(url: str, issuer: str, count: int, declarant: str, client_id: str) -> float:
    """COPYs `count` synthetic declarations, their entries and tree; returns seconds."""
    started = time.perf_counter()
    await _integrate(url, issuer)
    connection = await asyncpg.connect(_dsn(url))
    try:
        version = await connection.fetchval(
            "SELECT version FROM standard_versions WHERE standard_id = $1 ORDER BY pk DESC LIMIT 1",
            generator.ORDER,
        )
        last = await connection.fetchval("SELECT coalesce(max(chain_index), 0) FROM declarations")
        size = await connection.fetchval(
            "SELECT coalesce(max(idx) + 1, 0) FROM log_nodes WHERE level = 0"
        )
        edge_rows = await connection.fetch("SELECT level, idx, hash FROM log_nodes")
        edge = {merkle.Node(r["level"], r["idx"]): bytes(r["hash"]) for r in edge_rows}
        now = datetime.now(UTC)
        for start in range(0, count, CHUNK):
            declarations, entries, leaves = [], [], []
            for n in range(start, min(count, start + CHUNK)):
                index = last + 1 + n
                payload = json.dumps({"seed": n, "seller": declarant}, separators=(",", ":"))
                content_hash = hashlib.sha256(payload.encode()).hexdigest()
                declaration_id = f"s{index:023x}"
                data = of_declaration(
                    declaration_id=declaration_id,
                    content_hash=content_hash,
                    standard_ref=f"{generator.ORDER}@{version}",
                    declarant=declarant,
                    client_id=client_id,
                    received_at=now,
                ).encode()
                leaf = merkle.leaf_hash(data)
                declarations.append(
                    (declaration_id, index, generator.ORDER, version, f"{declarant}|SEED{n}",
                     "1", declarant, client_id, now, payload, content_hash)
                )  # fmt: skip
                entries.append((declaration_id, index, size + len(leaves), data, leaf, now, now))
                leaves.append(leaf)
            created, _ = merkle.append(size, edge, leaves)
            size += len(leaves)
            # Only the new frontier is needed to go on growing.
            edge = {node: (created | edge)[node] for node in merkle.frontier(size)}
            async with connection.transaction():
                await connection.copy_records_to_table(
                    "declarations",
                    records=declarations,
                    columns=["id", "chain_index", "standard_id", "standard_version",
                             "record_key", "app_type", "declarant", "client_id",
                             "received_at", "payload", "content_hash"],
                )  # fmt: skip
                await connection.copy_records_to_table(
                    "log_entries",
                    records=entries,
                    columns=["declaration_id", "seq", "leaf_index", "entry", "leaf_hash",
                             "queued_at", "sequenced_at"],
                )  # fmt: skip
                await connection.copy_records_to_table(
                    "log_nodes",
                    records=[(n.level, n.index, h) for n, h in created.items()],
                    columns=["level", "idx", "hash"],
                )
            print(f"  seeded {min(count, start + CHUNK):,} / {count:,}", file=sys.stderr)
        await connection.execute(
            "SELECT setval('declarations_chain_index_seq', "
            "(SELECT max(chain_index) FROM declarations))"
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    await _integrate(url, issuer)  # the checkpoint over the seeded tree
    return time.perf_counter() - started


@dataclass
class Prepared:
    """A seeded database ready to serve."""

    size: int
    env: dict[str, str]
    cwd: Path
    base: str
    port: int
    orders: Orders
    declarer: dict[str, Any]
    seeded_in: float


def prepare(stack: ExitStack, args: argparse.Namespace, size: int) -> Prepared:
    url = stack.enter_context(fresh_database(args.postgres))
    cwd = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hub-growth-")))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_ISSUER": base}
    _hub("db", "upgrade", env=env, cwd=cwd, timeout=300)
    credentials = cwd / "clients.json"
    _hub("demo", "--orders", "0", "--credentials", str(credentials), env=env, cwd=cwd,
         timeout=600)  # fmt: skip
    clients = _load_clients(credentials)
    orders = Orders(set(clients.declarers), run=f"G{size}")
    declarer = clients.declarers[orders.platform]
    seconds = asyncio.run(seed(url, base, size, orders.platform, declarer["client_id"]))
    print(f"{size:,} seeded in {seconds:.0f} s", file=sys.stderr)
    return Prepared(size, env, cwd, base, port, orders, declarer, seconds)


def measure(args: argparse.Namespace, db: Prepared) -> list[tuple[Result, Any]]:
    """`hub serve` on a prepared database, each client count in turn."""
    server = Server(db.env, db.cwd, db.port, args.workers)
    rows: list[tuple[Result, Any]] = []
    try:
        _wait_until_serving(db.base, server.process)
        time.sleep(1.0)

        async def run(count: int) -> tuple[Result, Any]:
            async with httpx.AsyncClient(base_url=db.base) as http:
                token = (await _token(http, db.declarer)).json()
            call = await _hub_call(token["access_token"])
            result = await drive(base=db.base, clients=count, seconds=args.seconds,
                                 orders=db.orders, call=call, name=f"{count} clients",
                                 workers=args.workers)  # fmt: skip
            await asyncio.sleep(1.0)  # the sequencer's last batch
            async with httpx.AsyncClient(base_url=db.base) as http:
                health = (await http.get("/healthz")).json().get("log")
            return result, health

        for count in [int(c) for c in args.clients.split(",")]:
            rows.append(asyncio.run(run(count)))
    finally:
        server.stop()
    return rows


def _merged(rounds: list[list[tuple[Result, Any]]]) -> list[tuple[Result, Any]]:
    """One row per client count over all rounds (latencies pooled, seconds summed)."""
    merged = []
    for parts in zip(*rounds, strict=True):
        first = parts[0][0]
        merged.append(
            (
                Result(
                    first.name,
                    first.workers,
                    [x for r, _ in parts for x in r.latencies],
                    sum(r.seconds for r, _ in parts),
                    sum(r.errors for r, _ in parts),
                    next((r.sample_error for r, _ in parts if r.sample_error), ""),
                ),
                parts[-1][1],
            )
        )
    return merged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000", help="stored declarations")
    parser.add_argument("--clients", default="5,30", help="comma-separated client counts")
    parser.add_argument("--seconds", type=float, default=10.0, help="per client count")
    parser.add_argument("--workers", type=int, default=2, help="hub serve --workers")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument(
        "--rounds", type=int, default=2, help="measurements alternate between sizes this often"
    )
    args = parser.parse_args()
    random.seed(1)
    table: dict[int, list[tuple[Result, Any]]] = {}
    seeded: dict[int, float] = {}
    with ExitStack() as stack:
        prepared = []
        for size in [int(s) for s in args.sizes.split(",")]:
            print(f"size {size:,}...", file=sys.stderr)
            prepared.append(prepare(stack, args, size))
        # Alternating sizes round by round spreads a shared machine's drift over all of them.
        rounds: dict[int, list[list[tuple[Result, Any]]]] = {db.size: [] for db in prepared}
        for number in range(args.rounds):
            for db in prepared:
                print(f"round {number + 1}: {db.size:,} stored", file=sys.stderr)
                rounds[db.size].append(measure(args, db))
        for db in prepared:
            seeded[db.size], table[db.size] = db.seeded_in, _merged(rounds[db.size])
    print()
    print(f"single declares over HTTP as the store grows, {args.rounds} x {args.seconds:.0f} s "
          "per row (sizes alternating), "
          f"hub serve --workers {args.workers}, PostgreSQL")  # fmt: skip
    print(f"{'stored':>10}{'clients':>9}{'decl/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'merge p99 s':>13}{'seeded in s':>13}")  # fmt: skip
    failed = 0
    for size, rows in table.items():
        for result, health in rows:
            delay = (health or {}).get("mergeDelaySeconds", {}).get("p99")
            print(f"{size:>10,}{result.name.split()[0]:>9}{result.rate:>9.1f}"
                  f"{result.pct(0.5):>9.1f}{result.pct(0.99):>9.1f}{result.errors:>8}"
                  f"{delay if delay is not None else '-':>13}{seeded[size]:>13.0f}")  # fmt: skip
            failed += result.errors
            if result.sample_error:
                print(f"  first error: {result.sample_error[:300]}")
    sizes = sorted(table)
    if len(sizes) >= 2:
        small, large = table[sizes[0]], table[sizes[-1]]
        for (a, _), (b, _) in zip(small, large, strict=True):
            print(f"{a.name}: {b.rate / a.rate:.0%} of the records/s at {sizes[0]:,} "
                  f"with {sizes[-1]:,} stored")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
