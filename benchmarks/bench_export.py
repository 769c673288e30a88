"""Does `hub export` run in constant memory? Peak Python memory while exporting N orders.

Run: .venv/bin/python benchmarks/bench_export.py [--orders 100000] [--format ndjson]

Fills an SQLite hub with N order rows (straight into the graph's table: the export reads
the graph, not the intake), then exports them as customs through `hub.exports.service`
(the graph's own `orders` query, page by page) and prints rows/s and the peak of
`tracemalloc` at every quarter of the export: flat across quarters means constant memory.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from hub import migrate  # noqa: E402
from hub.auth import clients  # noqa: E402
from hub.auth.models import Client  # noqa: E402
from hub.config import Settings  # noqa: E402
from hub.db import unit_of_work  # noqa: E402
from hub.events.principals import principal_of  # noqa: E402
from hub.exports import service, writers  # noqa: E402
from hub.graphql.schema import build_schema  # noqa: E402
from hub.runtime import Runtime  # noqa: E402
from hub.trade import projection  # noqa: E402
from hub.trade.models import Order  # noqa: E402
from tests.standards.samples import sample  # noqa: E402


async def fill(runtime: Runtime, count: int) -> None:
    base = sample("cbec.order", "import-9610")
    now = datetime.now(UTC)
    for start in range(0, count, 5000):
        rows = []
        for n in range(start, min(count, start + 5000)):
            payload = dict(base, orderNo=f"BENCH-{n:07d}")
            row = projection._order_row(payload)  # the projection's own row shape
            row |= {
                "record_key": f"{payload['ebpCode']}|{payload['orderNo']}",
                "status": "ACTIVE",
                "version": 1,
                "payload": payload,
                "declaration_id": f"bench{n:027d}",
                "updated_at": now,
            }
            rows.append(row)
        async with unit_of_work(runtime.session_factory) as session:
            await session.execute(insert(Order.__table__), rows)


async def main(count: int, fmt: str) -> None:
    directory = Path(tempfile.mkdtemp(prefix="hub-bench-export-"))
    url = f"sqlite+aiosqlite:///{directory / 'hub.db'}"
    await asyncio.to_thread(migrate.upgrade, database_url=url)
    settings = Settings(database_url=url, issuer="http://bench.test", env="test")
    runtime = Runtime.create(settings)
    await runtime.keys.ensure_key()
    async with unit_of_work(runtime.session_factory) as session:
        made = await clients.create(session=session, name="customs", scopes="customs:read")
    async with runtime.session_factory() as session:
        client = await session.scalar(select(Client).where(Client.client_id == made.client_id))
    principal = principal_of(client, settings)
    assert principal is not None
    began = time.perf_counter()
    await fill(runtime, count)
    print(f"filled {count:,} orders in {time.perf_counter() - began:.1f} s")
    peaks: list[tuple[int, float]] = []
    marks = {count * q // 4 for q in (1, 2, 3, 4)}

    def progress(done: int) -> None:
        if any(done >= m > (peaks[-1][0] if peaks else 0) for m in marks):
            peaks.append((done, tracemalloc.get_traced_memory()[1] / 2**20))

    out_path = directory / f"orders.{fmt}"
    columns = [*service.ORDER_FIELDS, "matchStatus"]
    tracemalloc.start()
    began = time.perf_counter()
    with out_path.open("wb") as out:
        writer: writers.Writer = (
            writers.NdjsonWriter(out)
            if fmt == "ndjson"
            else writers.CsvWriter(out, columns)
            if fmt == "csv"
            else writers.ParquetWriter(out_path, columns)
        )
        result = await service.export_orders(
            runtime=runtime,
            schema=build_schema(settings),
            principal=principal,
            writer=writer,
            progress=progress,
        )
        writer.close()
    elapsed = time.perf_counter() - began
    tracemalloc.stop()
    rate = result.rows / elapsed
    print(f"exported {result.rows:,} orders ({fmt}) in {elapsed:.1f} s, {rate:,.0f}/s")
    for done, peak in peaks:
        print(f"  after {done:>8,} orders: peak traced memory {peak:7.1f} MiB")
    print(f"  file: {out_path.stat().st_size / 2**20:.1f} MiB")
    runtime.validators.close()
    await runtime.engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--format", choices=writers.FORMATS, default="ndjson")
    args = parser.parse_args()
    asyncio.run(main(args.orders, args.format))
