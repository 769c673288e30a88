"""Load test: a real `hub serve --workers N` on a fresh PostgreSQL database, many clients.

Run: .venv/bin/python benchmarks/load.py [--clients 50] [--seconds 60] [--workers 2]
                                          [--postgres ADMIN_URL] [--orders 500]

Creates a database on the given server, runs `hub db upgrade` and `hub demo --orders N`
against it (subprocesses with HUB_DATABASE_URL), starts `hub serve --workers N` on a free
loopback port and drives a mixed workload from `--clients` concurrent clients (asyncio +
httpx) for `--seconds`:
  declare      declareBatch of 5 new orders (fresh, unique order numbers) by the platform
               that sells them, with its `declare` token;
  dept-orders  a department (customs, tax, forex) lists orders with their payment, waybill,
               inventory, matching and provenance;
  enterprise   customs reads one enterprise with its latest orders;
  statistics   a department's statistics grouped by trade mode and month;
  token        a client-credentials token request at /oauth/token.
Every loop is bounded in time and count; the script stops by itself, stops the server and
drops the database. It prints throughput, p50/p95/p99 latency per operation, every error
(a non-2xx answer, a GraphQL error or a refused record: there must be none) and the
resident memory (VmRSS) of the server processes, master and workers, at start and end.
Exit status 1 when any error was counted.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere without installing

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from hub.demo import generator  # noqa: E402

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
BATCH = 5  # records per declareBatch
MAX_REQUESTS_PER_CLIENT = 100_000  # a hard bound besides the deadline
REQUEST_TIMEOUT = 60.0
MAX_ERRORS_SHOWN = 20

# (operation, weight): what share of the calls each kind of work gets.
MIX: tuple[tuple[str, int], ...] = (
    ("declare", 25),
    ("dept-orders", 30),
    ("enterprise", 10),
    ("statistics", 15),
    ("token", 20),
)

DECLARE_BATCH = """
mutation Load($inputs: [DeclareInput!]!) {
  declareBatch(inputs: $inputs, atomic: false) {
    accepted rejected committed
    results { duplicate errors { code path message } }
  }
}"""
# Customs reads logistics too; tax and forex do not (hub/access/policy.py), so their
# query leaves the waybill out rather than collect FORBIDDEN errors.
_ORDER_FIELDS = """
      ebpCode orderNo tradeMode goodsValue acturalPaid appTime
      matching { status missing }
      payment { amountPaid currency }
      inventory { copNo }
      provenance { declarationId standard contentHash }"""
_DEPT_ORDERS = """
query DeptOrders($filter: OrderFilter, $first: Int) {
  orders(filter: $filter, first: $first) {
    edges { node { %s } }
    pageInfo { hasNextPage endCursor }
  }
}"""
DEPT_ORDERS = _DEPT_ORDERS % _ORDER_FIELDS
CUSTOMS_ORDERS = _DEPT_ORDERS % (_ORDER_FIELDS + " waybill { logisticsNo lastMilestone }")
ENTERPRISE = """
query Enterprise($code: String!) {
  enterprise(code: $code) {
    code name roles creditClass region { city }
    orders(first: 10) { edges { node { orderNo goodsValue matching { status } } } }
  }
}"""
STATISTICS = """
query Stats($groupBy: [StatisticsDimension!]!) {
  statistics(groupBy: $groupBy) {
    groups { tradeMode month orderCount totalValueCny matchedCount }
  }
}"""


# -- set-up: database, demo data, server ------------------------------------------------------


async def _admin(admin_url: str, statement: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _hub(*args: str, env: dict[str, str], cwd: Path, timeout: float) -> str:
    """Runs one `hub` command and returns its standard output; fails loudly."""
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise SystemExit(f"hub {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def _wait_until_serving(base: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"hub serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"hub serve did not answer /healthz within {timeout:.0f} s")


def _children(pid: int) -> list[int]:
    """Direct child processes of `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after its end.
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def server_memory(master: int) -> dict[int, tuple[str, int | None]]:
    """pid → (role, VmRSS in KiB) of the master and every process under it."""
    result: dict[int, tuple[str, int | None]] = {master: ("master", _rss_kib(master))}
    for child in _children(master):
        command = _cmdline(child)
        if "resource_tracker" in command:
            role = "tracker"  # multiprocessing's resource tracker, not a server process
        elif "spawn_main" in command:
            role = "worker"
        else:
            role = "child"
        result[child] = (role, _rss_kib(child))
    return result


# -- the workload -------------------------------------------------------------------------------


@dataclass
class Clients:
    """Tokens and credentials taken from the demo credentials file."""

    readers: list[dict[str, Any]]  # department clients that read orders and statistics
    customs: dict[str, Any]
    declarers: dict[str, dict[str, Any]]  # enterprise code → client
    all: list[dict[str, Any]]
    tokens: dict[str, str] = field(default_factory=dict)  # client_id → access token


@dataclass
class Stats:
    """Latencies and errors per operation."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    declared: int = 0

    def error(self, operation: str, detail: str) -> None:
        """Counts an error; keeps the first few distinct ones to print."""
        self.errors[operation] += 1
        sample = f"{operation}: {detail[:300]}"
        if len(self.samples) < MAX_ERRORS_SHOWN and sample not in self.samples:
            self.samples.append(sample)


class OrderFactory:
    """New, unique, valid orders of the demo platforms, made from generated ones."""

    def __init__(self, declarers: dict[str, dict[str, Any]], run: str) -> None:
        data = generator.generate(orders=200, seed=11)
        self.templates = [
            payload
            for standard, payload in data.records
            if standard == generator.ORDER and payload["ebpCode"] in declarers
        ]
        if not self.templates:
            raise SystemExit("the demo data set has no orders of a platform with a client")
        self.run = run
        self.counter = 0

    def batch(self, rng: random.Random) -> tuple[str, list[dict[str, Any]]]:
        """A batch of new orders, all of one platform: (platform code, payloads)."""
        first = rng.choice(self.templates)
        same = [t for t in self.templates if t["ebpCode"] == first["ebpCode"]]
        payloads = []
        for template in rng.sample(same, min(BATCH, len(same))):
            self.counter += 1
            payload = copy.deepcopy(template)
            payload["orderNo"] = f"LOAD{self.run}{self.counter:08d}"
            payloads.append(payload)
        return first["ebpCode"], payloads


def _graphql_errors(response: httpx.Response) -> str | None:
    """Why a GraphQL answer is an error, or None when it is a clean 2xx with data."""
    if not 200 <= response.status_code < 300:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]}"
    if body.get("errors"):
        return json.dumps(body["errors"], ensure_ascii=False)
    if body.get("data") is None:
        return "no data"
    return None


async def _token(http: httpx.AsyncClient, client: dict[str, Any]) -> httpx.Response:
    return await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]),
    )


async def run_client(
    index: int,
    http: httpx.AsyncClient,
    clients: Clients,
    orders: OrderFactory,
    stats: Stats,
    deadline: float,
) -> None:
    """One simulated client: picks operations from the mix until the deadline."""
    rng = random.Random(index)
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    codes = sorted(clients.declarers)
    for _ in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= deadline:
            return
        operation = rng.choices(names, weights)[0]
        started = time.perf_counter()
        problem: str | None
        try:
            if operation == "token":
                response = await _token(http, rng.choice(clients.all))
                ok = response.status_code == 200 and "access_token" in response.json()
                problem = None if ok else f"HTTP {response.status_code}: {response.text[:200]}"
            elif operation == "declare":
                code, payloads = orders.batch(rng)
                client = clients.declarers[code]
                inputs = [{"standard": generator.ORDER, "payload": p} for p in payloads]
                response = await http.post(
                    "/graphql",
                    json={"query": DECLARE_BATCH, "variables": {"inputs": inputs}},
                    headers={"Authorization": f"Bearer {clients.tokens[client['client_id']]}"},
                )
                problem = _graphql_errors(response)
                if problem is None:
                    result = response.json()["data"]["declareBatch"]
                    refused = [r["errors"] for r in result["results"] if r["errors"]]
                    if refused or result["accepted"] != len(payloads):
                        problem = f"records refused: {json.dumps(refused, ensure_ascii=False)}"
                    else:
                        stats.declared += result["accepted"]
            else:
                reader = (
                    clients.customs if operation == "enterprise" else rng.choice(clients.readers)
                )
                if operation == "dept-orders":
                    status = rng.choice([None, "MATCHED", "MISMATCH", "INCOMPLETE"])
                    variables: dict[str, Any] = {
                        "first": rng.choice([10, 20, 50]),
                        "filter": {"matchStatus": status} if status else None,
                    }
                    customs = "customs:read" in reader["scopes"].split()
                    query = CUSTOMS_ORDERS if customs else DEPT_ORDERS
                elif operation == "enterprise":
                    variables, query = {"code": rng.choice(codes)}, ENTERPRISE
                else:
                    group = rng.choice([["TRADE_MODE"], ["MONTH"], ["TRADE_MODE", "MONTH"]])
                    variables, query = {"groupBy": group}, STATISTICS
                response = await http.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={"Authorization": f"Bearer {clients.tokens[reader['client_id']]}"},
                )
                problem = _graphql_errors(response)
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        stats.latencies[operation].append(time.perf_counter() - started)
        if problem is not None:
            stats.error(operation, problem)


async def drive(base: str, clients: Clients, concurrency: int, seconds: float) -> Stats:
    """Fetches every client's token, then runs the clients until the deadline."""
    stats = Stats()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(REQUEST_TIMEOUT)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as http:
        for client in clients.all:
            response = await _token(http, client)
            response.raise_for_status()
            clients.tokens[client["client_id"]] = response.json()["access_token"]
        orders = OrderFactory(clients.declarers, uuid.uuid4().hex[:8].upper())
        deadline = time.monotonic() + seconds
        async with asyncio.timeout(seconds + REQUEST_TIMEOUT + 30):
            await asyncio.gather(
                *(run_client(i, http, clients, orders, stats, deadline) for i in range(concurrency))
            )
    return stats


# -- report -------------------------------------------------------------------------------------


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _row(name: str, ordered: list[float], elapsed: float, errors: int) -> str:
    ms = [_percentile(ordered, share) * 1000 for share in (0.50, 0.95, 0.99)]
    longest = (ordered[-1] if ordered else 0.0) * 1000
    return (
        f"{name:<12} {len(ordered):>9,} {len(ordered) / elapsed:>8.1f} "
        f"{ms[0]:>8.1f} {ms[1]:>8.1f} {ms[2]:>8.1f} {longest:>8.1f} {errors:>7}"
    )


def print_report(
    stats: Stats, elapsed: float, memory: dict[str, dict[int, tuple[str, int | None]]]
) -> None:
    """The table of throughput and latency, the errors and the memory of the server."""
    header = (
        f"{'operation':<12} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8} {'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    total = 0
    for name, _ in MIX:
        ordered = sorted(stats.latencies.get(name, []))
        total += len(ordered)
        print(_row(name, ordered, elapsed, stats.errors[name]))
    everything = sorted(x for values in stats.latencies.values() for x in values)
    print(_row("all", everything, elapsed, sum(stats.errors.values())))
    rate = stats.declared / elapsed
    print(f"\n{stats.declared:,} records declared ({rate:,.1f}/s) in {elapsed:.1f} s")
    print(f"errors: {sum(stats.errors.values())}")
    for sample in stats.samples:
        print(f"  {sample}")
    print("\nresident memory (VmRSS):")
    print(f"  {'pid':>8} {'role':<7} {'start MiB':>10} {'end MiB':>10}")
    start, end = memory["start"], memory["end"]
    for pid in sorted(set(start) | set(end)):
        role = (start.get(pid) or end.get(pid) or ("?", None))[0]
        before = start.get(pid, ("", None))[1]
        after = end.get(pid, ("", None))[1]
        shown = [f"{v / 1024:>10.1f}" if v is not None else f"{'-':>10}" for v in (before, after)]
        print(f"  {pid:>8} {role:<7} {shown[0]} {shown[1]}")


# -- main -----------------------------------------------------------------------------------------


def _load_clients(path: Path) -> Clients:
    document = json.loads(path.read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = document["clients"]
    readers = [
        c for c in entries if set(c["scopes"].split()) & {"customs:read", "tax:read", "forex:read"}
    ]
    customs = next(c for c in entries if "customs:read" in c["scopes"].split())
    declarers = {c["enterprise_code"]: c for c in entries if c.get("enterprise_code")}
    return Clients(readers=readers, customs=customs, declarers=declarers, all=entries)


class Server:
    """`hub serve --workers N` as a subprocess; stopped with SIGTERM (SIGKILL after 30 s)."""

    def __init__(self, env: dict[str, str], cwd: Path, port: int, workers: int) -> None:
        self.log = (cwd / "serve.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "hub.cli", "serve",
                "--port", str(port), "--workers", str(workers), "--log-level", "warning",
            ],
            env=env,
            cwd=cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new database on the server, dropped (with its connections) on the way out."""
    name = f"hub_load_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> int:
    """Parses the arguments, sets up, drives the load and prints the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of the load")
    parser.add_argument("--workers", type=int, default=2, help="hub serve --workers")
    parser.add_argument("--orders", type=int, default=500, help="hub demo --orders")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="admin URL of a server")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0 or args.workers < 1:
        parser.error("--clients, --seconds and --workers must be positive")

    with (
        fresh_database(args.postgres) as url,
        tempfile.TemporaryDirectory(prefix="hub-load-") as folder,
    ):
        cwd = Path(folder)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_ISSUER": base}
        print(f"database {make_url(url).database}: migrating, loading demo data", file=sys.stderr)
        _hub("db", "upgrade", env=env, cwd=cwd, timeout=300)
        credentials = cwd / "clients.json"
        _hub(
            "demo", "--orders", str(args.orders), "--credentials", str(credentials),
            env=env, cwd=cwd, timeout=900,
        )  # fmt: skip
        clients = _load_clients(credentials)
        server = Server(env, cwd, port, args.workers)
        try:
            _wait_until_serving(base, server.process)
            time.sleep(1.0)  # let every worker finish its start-up
            memory = {"start": server_memory(server.process.pid)}
            print(
                f"serving on {base} with {args.workers} worker(s); {args.clients} clients "
                f"for {args.seconds:.0f} s",
                file=sys.stderr,
            )
            started = time.perf_counter()
            stats = asyncio.run(drive(base, clients, args.clients, args.seconds))
            elapsed = time.perf_counter() - started
            memory["end"] = server_memory(server.process.pid)
        finally:
            server.stop()
        print()
        print(
            f"hub serve --workers {args.workers}, {args.clients} clients, {args.seconds:.0f} s, "
            f"PostgreSQL, demo data of {args.orders} orders"
        )
        print_report(stats, elapsed, memory)
        if sum(stats.errors.values()):
            tail = (cwd / "serve.log").read_text(errors="replace").splitlines()[-40:]
            print("\nlast lines of the server's log:\n  " + "\n  ".join(tail))
    return 1 if sum(stats.errors.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
