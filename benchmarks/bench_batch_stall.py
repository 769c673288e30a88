"""Does a large invalid batch stall other requests? /healthz latency while one is validated.

Run: .venv/bin/python benchmarks/bench_batch_stall.py [--batches 3]

One in-process hub (SQLite, ASGI over httpx, one event loop as under uvicorn) receives
`declareBatch` with 1,000 invalid `cbec.order` records (several errors each: the reference
validator writes every message), while a prober sends `GET /healthz` back to back. It
prints the probes' latency during the batches, for the hub as it is (validation on its
thread pool) and, as the baseline from the same run, for validation on the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from hub import migrate  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.auth import clients  # noqa: E402
from hub.config import Settings  # noqa: E402
from hub.db import create_engine, create_session_factory, unit_of_work  # noqa: E402
from hub.standards import service as standards  # noqa: E402
from hub.standards.shipped import publish_shipped  # noqa: E402
from tests.standards.samples import PLATFORM, sample  # noqa: E402

ISSUER = "http://bench.test"
BATCH = """mutation($inputs: [DeclareInput!]!) {
  declareBatch(inputs: $inputs) { rejected }
}"""


def _invalid_orders(count: int) -> list[dict[str, Any]]:
    record = sample("cbec.order", "import-9610")
    inputs = []
    for i in range(count):
        broken = copy.deepcopy(record)
        broken["orderNo"] = f"STALL{i:06d}"
        broken["ebpCode"] = broken["ebpCode"][:17] + "0"  # bad USCC check character
        broken["items"][1]["gnum"] = 0
        del broken["buyerIdNumber"]
        inputs.append({"standard": "cbec.order", "payload": broken})
    return inputs


async def _prepare(url: str) -> tuple[str, str]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            await publish_shipped(session=session, actor="bench")
            created = await clients.create(
                session=session, name="platform", scopes="declare", enterprise_code=PLATFORM
            )
    finally:
        await engine.dispose()
    return created.client_id, created.client_secret


async def _measure(url: str, credentials: tuple[str, str], batches: int) -> dict[str, float]:
    app = create_app(Settings(database_url=url, issuer=ISSUER, env="test", rate_limit_per_second=0))
    inputs = _invalid_orders(1000)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            token = (
                await http.post(
                    "/oauth/token", data={"grant_type": "client_credentials"}, auth=credentials
                )
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
            # Encoded once, beforehand: the prober shares the loop with this client, and
            # encoding 1.5 MB of JSON there would count against the hub.
            body = json.dumps({"query": BATCH, "variables": {"inputs": inputs}}).encode()
            # Warm-up: compiles the validator and the document cache.
            warm_up = {"query": BATCH, "variables": {"inputs": inputs[:5]}}
            await http.post("/graphql", content=json.dumps(warm_up).encode(), headers=headers)
            latencies: list[float] = []
            failures = 0
            batch_seconds: list[float] = []
            for _ in range(batches):
                done = asyncio.Event()

                async def probe(done: asyncio.Event = done) -> None:
                    nonlocal failures
                    while not done.is_set():
                        started = time.perf_counter()
                        response = await http.get("/healthz")
                        # A stalled loop can outlast the health check's own 3 s timeout.
                        failures += response.status_code != 200
                        latencies.append(time.perf_counter() - started)
                        await asyncio.sleep(0.005)

                prober = asyncio.create_task(probe())
                await asyncio.sleep(0.05)
                started = time.perf_counter()
                response = await http.post("/graphql", content=body, headers=headers)
                batch_seconds.append(time.perf_counter() - started)
                assert response.json()["data"]["declareBatch"]["rejected"] == 1000
                done.set()
                await prober
    return {
        "batch_s": statistics.median(batch_seconds),
        "probes": len(latencies),
        "p50_ms": statistics.median(latencies) * 1000,
        "max_ms": max(latencies) * 1000,
        "not_ok": failures,
    }


async def _on_the_loop(self: Any, work: Any, /, *args: Any) -> Any:
    """The baseline: validation on the event loop, as before the thread pool."""
    return work(*args)


async def main(batches: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/bench.db"
        await asyncio.to_thread(migrate.upgrade, database_url=url)
        credentials = await _prepare(url)
        hub = await _measure(url, credentials, batches)
        original = standards.ValidatorCache.run
        standards.ValidatorCache.run = _on_the_loop  # type: ignore[method-assign]
        try:
            baseline = await _measure(url, credentials, batches)
        finally:
            standards.ValidatorCache.run = original  # type: ignore[method-assign]
    print(f"/healthz during a 1,000-record invalid declareBatch ({batches} batches, SQLite)")
    print(
        f"{'validation':<22} {'batch s':>8} {'probes':>7} {'p50 ms':>8} {'max ms':>8} {'503s':>5}"
    )
    for name, row in (("thread pool (hub)", hub), ("event loop (baseline)", baseline)):
        print(
            f"{name:<22} {row['batch_s']:>8.2f} {row['probes']:>7.0f} "
            f"{row['p50_ms']:>8.1f} {row['max_ms']:>8.1f} {row['not_ok']:>5.0f}"
        )
    print(f"max /healthz latency, baseline / hub: {baseline['max_ms'] / hub['max_ms']:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=3)
    asyncio.run(main(parser.parse_args().batches))
