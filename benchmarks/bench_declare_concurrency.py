"""Concurrent single declares over HTTP beside a plain endpoint, 1 and 2 workers, PostgreSQL.

Run: .venv/bin/python benchmarks/bench_declare_concurrency.py [--clients 20] [--seconds 15]
        [--workers 1,2] [--postgres ADMIN_URL] [--hub-src DIR]

For each worker count, on a fresh database (`hub db upgrade`, `hub demo --orders 0` for the
standards and clients):
  hub    `hub serve --workers N`; each of `--clients` concurrent clients loops on the GraphQL
         `declare` mutation, one new order per call, with the platform's `declare` token;
  plain  a Starlette endpoint under `uvicorn --workers N` that does only what the floor of
         a declaration is: parse the JSON body, validate with the same compiled validator,
         canonicalise, SHA-256, INSERT one row in its own transaction (no auth, no graph).
Both get the same orders and the same client count on the same cores, one after the other.
Prints p50/p99 latency and declarations/s for each, the hub's share of the plain
throughput, the 2-worker/1-worker ratio, and the merge delay the hub's sequencer reported.
`--hub-src` runs another checkout of the hub (e.g. `git archive main`) for a before/after.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere without installing
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402
from load import (  # noqa: E402
    DEFAULT_POSTGRES,
    Server,
    _free_port,
    _graphql_errors,
    _hub,
    _load_clients,
    _token,
    _wait_until_serving,
    fresh_database,
)

from hub.demo import generator  # noqa: E402

DECLARE = """
mutation Bench($input: DeclareInput!) {
  declare(input: $input) { declaration { id } duplicate errors { code message } }
}"""


# --- the plain endpoint ----------------------------------------------------------------


def plain_app() -> Any:
    """The floor: parse, validate, canonicalise, hash, insert one row (uvicorn --factory)."""
    from contextlib import asynccontextmanager

    from sqlalchemy import text
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from hub.canonical import canonical_json
    from hub.config import Settings
    from hub.runtime import Runtime
    from hub.standards import service as standards

    runtime = Runtime.create(Settings.from_env())
    state: dict[str, Any] = {}
    insert = text(
        "INSERT INTO bench_plain (standard_id, declarant, payload, content_hash) "
        "VALUES (:standard_id, :declarant, :payload, :content_hash)"
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> Any:
        async with runtime.session_factory() as session:
            resolved = await standards.resolve(session=session, ref=generator.ORDER)
            state["validator"] = await runtime.validators.get(
                session=session, version=resolved.version
            )
        yield
        await runtime.stop()

    async def declare(request: Request) -> JSONResponse:
        payload = json.loads(await request.body())["payload"]
        if not state["validator"].is_valid(payload):
            return JSONResponse({"error": "invalid"}, status_code=400)
        canonical = canonical_json(payload)
        digest = hashlib.sha256(canonical).hexdigest()
        async with runtime.engine.begin() as connection:
            await connection.execute(
                insert,
                {
                    "standard_id": generator.ORDER,
                    "declarant": payload["ebpCode"],
                    "payload": canonical.decode("utf-8"),
                    "content_hash": digest,
                },
            )
        return JSONResponse({"contentHash": digest})

    return Starlette(routes=[Route("/plain", declare, methods=["POST"])], lifespan=lifespan)


PLAIN_TABLE = (
    "CREATE TABLE bench_plain (id BIGSERIAL PRIMARY KEY, standard_id TEXT NOT NULL, "
    "declarant TEXT NOT NULL, payload TEXT NOT NULL, content_hash TEXT NOT NULL)"
)


async def _create_plain_table(url: str) -> None:
    # Made once here: two workers racing on CREATE TABLE IF NOT EXISTS can both fail.
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(PLAIN_TABLE))
    finally:
        await engine.dispose()


class PlainServer:
    """The plain endpoint under `uvicorn --workers N`."""

    def __init__(self, env: dict[str, str], cwd: Path, port: int, workers: int) -> None:
        self.log = (cwd / "plain.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "bench_declare_concurrency:plain_app",
                "--factory", "--app-dir", str(ROOT / "benchmarks"), "--port", str(port),
                "--workers", str(workers), "--log-level", "warning", "--no-access-log",
            ],
            env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def stop(self) -> None:
        Server.stop(self)  # type: ignore[arg-type]  # same shape: process and log


def _wait_for_plain(base: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the plain endpoint exited with {process.returncode}")
        try:
            httpx.post(f"{base}/plain", content=b"{}", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the plain endpoint did not start")


# --- driving ---------------------------------------------------------------------------


class Orders:
    """New valid orders of one platform, unique per call."""

    def __init__(self, platforms: set[str], run: str) -> None:
        data = generator.generate(orders=200, seed=11)
        by_platform: dict[str, list[dict[str, Any]]] = {}
        for standard, payload in data.records:
            if standard == generator.ORDER and payload["ebpCode"] in platforms:
                by_platform.setdefault(payload["ebpCode"], []).append(payload)
        self.platform, self.templates = max(by_platform.items(), key=lambda kv: len(kv[1]))
        self.run = run
        self.counter = 0

    def next(self, rng: random.Random) -> dict[str, Any]:
        self.counter += 1
        payload = copy.deepcopy(rng.choice(self.templates))
        payload["orderNo"] = f"CC{self.run}{self.counter:08d}"
        return payload


@dataclass
class Result:
    name: str
    workers: int
    latencies: list[float]
    seconds: float
    errors: int
    sample_error: str = ""

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, share: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


async def drive(
    *,
    base: str,
    clients: int,
    seconds: float,
    orders: Orders,
    call: Any,
    name: str,
    workers: int,
) -> Result:
    latencies: list[float] = []
    errors = [0]
    sample = [""]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        started = time.perf_counter()
        deadline = started + seconds

        async def client(index: int) -> None:
            rng = random.Random(index)
            while time.perf_counter() < deadline:
                payload = orders.next(rng)
                t0 = time.perf_counter()
                try:
                    problem = await call(http, payload)
                except httpx.HTTPError as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                elapsed = time.perf_counter() - t0
                if problem:
                    errors[0] += 1
                    sample[0] = sample[0] or problem
                else:
                    latencies.append(elapsed)

        await asyncio.gather(*(client(i) for i in range(clients)))
        total = time.perf_counter() - started
    return Result(name, workers, latencies, total, errors[0], sample[0])


async def _hub_call(token: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"}

    async def call(http: httpx.AsyncClient, payload: dict[str, Any]) -> str | None:
        response = await http.post(
            "/graphql",
            json={"query": DECLARE, "variables": {"input": {"standard": "cbec.order",
                                                            "payload": payload}}},
            headers=headers,
        )  # fmt: skip
        problem = _graphql_errors(response)
        if problem:
            return problem
        result = response.json()["data"]["declare"]
        return json.dumps(result["errors"]) if result["errors"] else None

    return call


async def _plain_call(http: httpx.AsyncClient, payload: dict[str, Any]) -> str | None:
    response = await http.post("/plain", content=json.dumps({"payload": payload}))
    return None if response.status_code == 200 else f"HTTP {response.status_code}"


def run_workers(args: argparse.Namespace, workers: int) -> tuple[Result, Result, Any]:
    with (
        fresh_database(args.postgres) as url,
        tempfile.TemporaryDirectory(prefix="hub-cc-") as folder,
    ):
        cwd = Path(folder)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_ISSUER": base}
        if args.hub_src:
            env["PYTHONPATH"] = str(Path(args.hub_src).resolve())
        _hub("db", "upgrade", env=env, cwd=cwd, timeout=300)
        credentials = cwd / "clients.json"
        _hub("demo", "--orders", "0", "--credentials", str(credentials), env=env, cwd=cwd,
             timeout=600)  # fmt: skip
        clients = _load_clients(credentials)
        orders = Orders(set(clients.declarers), run=f"{workers}")
        server = Server(env, cwd, port, workers)
        try:
            _wait_until_serving(base, server.process)
            time.sleep(1.0)

            async def hub_run() -> tuple[Result, Any]:
                async with httpx.AsyncClient(base_url=base) as http:
                    token = (await _token(http, clients.declarers[orders.platform])).json()
                call = await _hub_call(token["access_token"])
                result = await drive(base=base, clients=args.clients, seconds=args.seconds,
                                     orders=orders, call=call, name="hub declare",
                                     workers=workers)  # fmt: skip
                await asyncio.sleep(1.0)  # the sequencer's last batch
                async with httpx.AsyncClient(base_url=base) as http:
                    health = (await http.get("/healthz")).json().get("log")
                return result, health

            hub_result, health = asyncio.run(hub_run())
        finally:
            server.stop()
        plain_port = _free_port()
        plain_base = f"http://127.0.0.1:{plain_port}"
        asyncio.run(_create_plain_table(url))
        plain = PlainServer(env, cwd, plain_port, workers)
        try:
            _wait_for_plain(plain_base, plain.process)
            time.sleep(1.0)
            orders.run = f"P{workers}"
            plain_result = asyncio.run(
                drive(base=plain_base, clients=args.clients, seconds=args.seconds,
                      orders=orders, call=_plain_call, name="plain insert", workers=workers)
            )  # fmt: skip
        finally:
            plain.stop()
        return hub_result, plain_result, health


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--hub-src", default=None, help="run the hub from this checkout")
    args = parser.parse_args()
    rows: list[tuple[Result, Result, Any]] = []
    for workers in [int(w) for w in args.workers.split(",")]:
        print(f"{workers} worker(s)...", file=sys.stderr)
        rows.append(run_workers(args, workers))
    print()
    print(f"{args.clients} concurrent single declares over HTTP, {args.seconds:.0f} s each, "
          f"PostgreSQL{' (hub from ' + args.hub_src + ')' if args.hub_src else ''}")  # fmt: skip
    print(f"{'endpoint':<14}{'workers':>8}{'p50 ms':>9}{'p99 ms':>9}{'p99/p50':>9}"
          f"{'decl/s':>9}{'errors':>8}{'of plain':>10}")  # fmt: skip
    failed = 0
    for hub_result, plain_result, _ in rows:
        for r in (hub_result, plain_result):
            share = f"{hub_result.rate / plain_result.rate:.0%}" if r is hub_result else ""
            print(f"{r.name:<14}{r.workers:>8}{r.pct(0.5):>9.1f}{r.pct(0.99):>9.1f}"
                  f"{r.pct(0.99) / r.pct(0.5):>9.1f}{r.rate:>9.0f}"
                  f"{r.errors:>8}{share:>10}")  # fmt: skip
            failed += r.errors
            if r.sample_error:
                print(f"  first error: {r.sample_error[:300]}")
    if len(rows) >= 2:
        one, two = rows[0][0], rows[1][0]
        print(
            f"hub throughput {two.workers} vs {one.workers} worker(s): {two.rate / one.rate:.2f}x"
        )
    for hub_result, _, health in rows:
        print(f"merge delay ({hub_result.workers} worker(s), one worker's view): {health}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
