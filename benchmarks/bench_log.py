"""The verifiable log: proof size and verification time by tree size, and merge delay.

Run: .venv/bin/python benchmarks/bench_log.py [--sizes 1000,100000,1000000] [--postgres URL]
        [--rate 500] [--seconds 20] [--no-db]

1. For each size n, builds a tree of n v1 entries with `hub.log.merkle` (as the sequencer
   does, in batches of 1,000) and, for 200 random leaves, measures: the inclusion proof's
   length (hashes and bytes), the offline verification time (`merkle.verify_inclusion`,
   what `hub log verify` runs), and beside it the baseline of hashing the entry alone
   (`merkle.leaf_hash`: what checking a declaration costs without any proof). Consistency
   proofs between n/2 + 1 and n likewise.
2. With PostgreSQL (unless --no-db): stores those nodes in `log_nodes` of a fresh database
   and times `store.inclusion_hashes` (the one indexed read that serves a proof).
3. Merge delay under load: a sequencer (interval 200 ms, batch 1,000) on a fresh
   PostgreSQL database while writers queue `--rate` entries/s for `--seconds`; prints the
   p50/p99/max delay from queued to integrated that the sequencer measured.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere without installing

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from hub import migrate  # noqa: E402
from hub.log import merkle, store  # noqa: E402
from hub.log.entry import Entry  # noqa: E402
from hub.log.models import LogEntry, LogNode  # noqa: E402
from hub.log.note import Signer  # noqa: E402
from hub.log.sequencer import Sequencer  # noqa: E402

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SAMPLES = 200


def _entry(n: int) -> bytes:
    return Entry(
        f"{n:024x}",
        f"{n:064x}",
        "cbec.order@1.0.0",
        "91320302MA1XYZ0001",
        "hub_bench",
        "2026-12-02T12:00:00.000000Z",
    ).encode()


def build(size: int) -> tuple[dict[merkle.Node, bytes], bytes, Callable[[int], bytes]]:
    """The stored nodes and root of a tree of `size` synthetic entries."""
    nodes: dict[merkle.Node, bytes] = {}
    root = merkle.EMPTY_ROOT
    for start in range(0, size, 1000):
        leaves = [merkle.leaf_hash(_entry(i)) for i in range(start, min(size, start + 1000))]
        created, root = merkle.append(start, nodes, leaves)
        nodes.update(created)
    return nodes, root, _entry


def _micros(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1e6:8.1f}"


def proofs(size: int) -> tuple[dict[merkle.Node, bytes], list[int], str]:
    started = time.perf_counter()
    nodes, root, entry_of = build(size)
    built = time.perf_counter() - started
    source = lambda wanted: {n: nodes[n] for n in wanted}  # noqa: E731
    rng = random.Random(size)
    indices = [rng.randrange(size) for _ in range(SAMPLES)]
    lengths, verify, baseline = [], [], []
    for index in indices:
        data = entry_of(index)
        t0 = time.perf_counter()
        merkle.leaf_hash(data)
        baseline.append(time.perf_counter() - t0)
        proof = merkle.inclusion_proof(index, size, source)
        t0 = time.perf_counter()
        merkle.verify_inclusion(index, size, merkle.leaf_hash(data), proof, root)
        verify.append(time.perf_counter() - t0)
        lengths.append(len(proof))
    old = size // 2 + 1
    consistency = merkle.consistency_proof(old, size, source)
    old_root = merkle.root_from(old, nodes)
    t0 = time.perf_counter()
    merkle.verify_consistency(old, size, old_root, root, consistency)
    consistency_time = time.perf_counter() - t0
    row = (
        f"{size:>10,}{max(lengths):>8}{max(lengths) * 32:>8}  {_micros(verify)}"
        f"{_micros(baseline)} "
        f"{len(consistency):>8}{consistency_time * 1e6:>10.1f}{built:>9.1f}"
    )
    return nodes, indices, row


async def stored_reads(url: str, size: int, nodes: dict[merkle.Node, bytes], indices: list[int]):
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("TRUNCATE log_nodes"))
            rows = [{"level": n.level, "idx": n.index, "hash": h} for n, h in nodes.items()]
            for start in range(0, len(rows), 20_000):
                await connection.execute(insert(LogNode), rows[start : start + 20_000])
        times = []
        async with engine.connect() as connection:
            for index in indices:
                t0 = time.perf_counter()
                await store.inclusion_hashes(db=connection, leaf_index=index, size=size)
                times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000, sorted(times)[int(0.99 * len(times))] * 1000
    finally:
        await engine.dispose()


async def merge_delay(url: str, rate: int, seconds: float) -> dict[str, float | int | None]:
    engine = create_async_engine(url)
    producer = create_async_engine(url)
    signer = Signer.generate("bench.test/log")
    sequencer = Sequencer(engine=engine, signer=signer, origin="bench.test/log")
    sequencer.start()
    counter = 0
    try:
        deadline = time.perf_counter() + seconds
        tick = 0.05
        per_tick = max(1, int(rate * tick))
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            now = datetime.now(UTC)
            rows = []
            for _ in range(per_tick):
                counter += 1
                data = _entry(counter)
                rows.append(
                    {
                        "declaration_id": f"{counter:024x}",
                        "seq": counter,
                        "leaf_index": None,
                        "entry": data,
                        "leaf_hash": merkle.leaf_hash(data),
                        "prev_hash": None,
                        "chain_hash": None,
                        "queued_at": now,
                        "sequenced_at": None,
                    }
                )
            async with producer.begin() as connection:
                await connection.execute(insert(LogEntry), rows)
            sequencer.wake()
            await asyncio.sleep(max(0.0, tick - (time.perf_counter() - t0)))
        for _ in range(200):  # let the last batches land
            async with producer.connect() as connection:
                pending = await connection.scalar(
                    select(func.count()).select_from(LogEntry).where(LogEntry.leaf_index.is_(None))
                )
            if not pending:
                break
            await asyncio.sleep(0.05)
    finally:
        await sequencer.stop()
        await engine.dispose()
        await producer.dispose()
    summary = sequencer.delays.summary()
    summary["queued"] = counter
    return summary


async def _admin(admin_url: str, statement: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="admin URL of a server")
    parser.add_argument("--rate", type=int, default=500, help="entries/s queued (merge delay)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-db", action="store_true", help="in-memory measurements only")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    url = None
    name = f"hub_bench_log_{uuid.uuid4().hex[:8]}"
    if not args.no_db:
        asyncio.run(_admin(args.postgres, f'CREATE DATABASE "{name}"'))
        url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
        migrate.upgrade(database_url=url)
    try:
        print(f"inclusion proofs ({SAMPLES} random leaves per size; times are medians)")
        print(
            f"{'entries':>10}{'hashes':>8}{'bytes':>8}{'verify µs':>10}{'hash µs':>9}"
            f"{'cons.':>8}{'cons. µs':>10}{'build s':>9}{'  PG read p50/p99 ms':>22}"
        )
        for size in sizes:
            nodes, indices, row = proofs(size)
            if url is not None:
                p50, p99 = asyncio.run(stored_reads(url, size, nodes, indices))
                row += f"{p50:>13.2f} / {p99:.2f}"
            print(row, flush=True)
            del nodes
        print("  hashes/bytes: the longest inclusion proof; verify: merkle.verify_inclusion;")
        print("  hash: SHA-256 of the entry alone (the baseline); cons.: consistency proof")
        print("  from n/2+1 to n (hashes, verification µs); PG read: store.inclusion_hashes.")
        if url is not None:
            asyncio.run(_admin(args.postgres, f'DROP DATABASE "{name}" WITH (FORCE)'))
            asyncio.run(_admin(args.postgres, f'CREATE DATABASE "{name}"'))
            migrate.upgrade(database_url=url)
            summary = asyncio.run(merge_delay(url, args.rate, args.seconds))
            print()
            print(
                f"merge delay, {args.rate} entries/s queued for {args.seconds:.0f} s "
                f"(sequencer every 200 ms or 1,000 entries): p50 {summary['p50']} s, "
                f"p99 {summary['p99']} s, max {summary['max']} s; "
                f"{summary['integrated']:,} of {summary['queued']:,} integrated"
            )
    finally:
        if url is not None:
            asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
