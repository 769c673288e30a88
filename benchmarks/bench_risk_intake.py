"""What the risk rules would add to every declaring transaction, by history size.

Run: .venv/bin/python benchmarks/bench_risk_intake.py [--orders 500,2000,8000] [--runs 7]

The rules read the platforms' and sellers' history, so they run off the write path: the
events sequencer's follower (hub/risk/arrivals.py) evaluates them once per round over the
enterprises the new declarations name. This measures why. For each size, on a fresh SQLite
hub with `hub demo --orders N` data and the shipped rule set published, for the platform
with the most orders:
  rules    `evaluation.run(enterprises={that platform}, dry_run=True)`: what an in-transaction
           hook would add to each declaration of that platform (the hub's design before);
  declare  one new order of that platform through `declare_batch` in its own unit of work
           (the baseline: what a declaration costs, rule set published or not).
Prints the p50 of each and rules / declare; the first grows with the platform's history,
the second does not.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere without installing

from hub import migrate  # noqa: E402
from hub.config import Settings  # noqa: E402
from hub.credit import documents  # noqa: E402
from hub.db import unit_of_work  # noqa: E402
from hub.declarations.service import Declarant, DeclareItem, declare_batch  # noqa: E402
from hub.demo import generator  # noqa: E402
from hub.demo.loader import DemoClient, load_demo  # noqa: E402
from hub.risk import evaluation, facts  # noqa: E402
from hub.runtime import Runtime  # noqa: E402

SEED = 7


def _busiest_platform(orders: int) -> tuple[str, tuple[str, dict[str, Any]]]:
    """The platform with the most orders in the data set, and one of its orders."""
    data = generator.generate(orders=orders, seed=SEED)
    mine = [(s, p) for s, p in data.records if s.split("@")[0] == "cbec.order"]
    counts = Counter(p["ebpCode"] for _, p in mine)
    platform = counts.most_common(1)[0][0]
    return platform, next(r for r in mine if r[1]["ebpCode"] == platform)


async def _measure(orders: int, runs: int) -> tuple[int, float, float]:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'hub.db'}"
        await asyncio.to_thread(migrate.upgrade, database_url=url)
        settings = Settings(
            database_url=url,
            env="test",
            log_sequencer=False,
            events_sequencer=False,
            webhook_dispatcher=False,
        )
        runtime = Runtime.create(settings)
        clients: list[DemoClient] = []
        try:
            await load_demo(runtime=runtime, orders=orders, seed=SEED, on_clients=clients.extend)
            # `hub demo` data of 200 orders or more publishes the shipped rule set itself.
            async with runtime.session_factory() as session:
                kind = documents.DocumentKind.RULE_SET
                assert await documents.in_force(session=session, kind=kind) is not None
            platform, (standard, order) = _busiest_platform(orders)
            client = next(c for c in clients if c.enterprise_code == platform)
            declarant = Declarant(client_id=client.client_id, enterprise_code=platform)
            async with runtime.session_factory() as session:
                history = len((await facts.load(session=session, enterprises={platform})).orders)
            rules, declares = [], []
            for run in range(runs):
                async with unit_of_work(runtime.session_factory) as session:
                    started = time.perf_counter()
                    await evaluation.run(
                        session=session, now=datetime.now(UTC), enterprises={platform}, dry_run=True
                    )
                    rules.append(time.perf_counter() - started)
                fresh = order | {"orderNo": f"BENCH-RISK-{run:04d}"}
                started = time.perf_counter()
                async with unit_of_work(runtime.session_factory) as session:
                    outcome = await declare_batch(
                        session=session,
                        declarant=declarant,
                        items=[DeclareItem(standard, fresh)],
                        atomic=True,
                        validators=runtime.validators,
                        rules=runtime.rules,
                    )
                declares.append(time.perf_counter() - started)
                assert outcome.rejected == 0, outcome
        finally:
            await runtime.stop()
    # The first run of each warms caches (validators, statements): not counted.
    return history, statistics.median(rules[1:]), statistics.median(declares[1:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", default="500,2000,8000", help="demo sizes, comma-separated")
    parser.add_argument(
        "--runs", type=int, default=7, help="measurements per size (first not counted)"
    )
    args = parser.parse_args()
    if args.runs < 2:
        parser.error("--runs must be 2 or more")
    print(
        f"{'demo orders':>11} {'platform orders':>15} {'rules p50 ms':>12} "
        f"{'declare p50 ms':>14} {'rules/declare':>13}"
    )
    for size in (int(s) for s in args.orders.split(",")):
        history, rules, declare = asyncio.run(_measure(size, args.runs))
        print(
            f"{size:>11} {history:>15} {rules * 1000:>12.1f} {declare * 1000:>14.1f} "
            f"{rules / declare:>12.1f}x",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
