"""The department query through the hub (compiled path on and off) beside hand-written SQL.

Run: .venv/bin/python benchmarks/bench_read_path.py [--postgres URL] [--orders 300]
     [--requests 40] [--clients 16,64] [--large 200000]

Per backend (SQLite, and PostgreSQL with `--postgres`: a fresh database is created there
and dropped), one in-process hub (ASGI over httpx, one event loop as under uvicorn) with
`--orders` demo orders serves the issue's department query `orders(first: 100)` (header
fields, items, payment, waybill, inventory, matching) to customs with pii:read. The same
process also serves a hand-written Starlette endpoint: hand-written SQL (one statement per
table), the JSON built by hand and written with orjson; the three answers are checked to
be identical before anything is timed. Printed: one client's p50 and p95, CPU per request
(this process: server and httpx client together, the same client for all three), the
throughput of 16 and 64 concurrent clients with their errors, and full garbage
collections per 30 requests with the default collector and with `hub.garbage`'s freeze.

Then the page latency of the compiled hub at 2,000 and `--large` orders (the demo's orders
doubled by bulk INSERT ... SELECT): plain (`orders(first: 100)` header fields), filtered
(one seller, one month) and nested (the department query). Ratios are against the
hand-written endpoint of the same run; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402
import orjson  # noqa: E402
from load import fresh_database  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from hub import garbage, migrate  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.config import Settings  # noqa: E402
from hub.demo.loader import load_demo  # noqa: E402
from hub.trade import models  # noqa: E402

ISSUER = "http://bench.test"
HEADER = (
    "ebpCode orderNo ebcCode payCode orderType direction tradeMode currency goodsValue "
    "freight discount acturalPaid appTime status version taxTotal customsStatus "
    "buyerName buyerIdNumber consignee"
)
NESTED = (
    HEADER
    + " items { gnum itemName qty price totalPrice currency country }"
    + " payment { payCode payTransactionId amountPaid currency payTime }"
    + " waybill { logisticsCode logisticsNo lastMilestone }"
    + " inventory { invtNo copNo customsStatus items { gnum gcode qty } }"
    + " matching { status missing discrepancies { code } }"
)


def _query(fields: str) -> str:
    return (
        "query($first: Int, $filter: OrderFilter) { orders(first: $first, filter: $filter) "
        f"{{ edges {{ cursor node {{ {fields} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )


# --- the hand-written endpoint ----------------------------------------------------------


def _money(value: Any) -> str | None:
    if value is None or value == "":
        return None
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return format(number.quantize(Decimal(1)), "f")
    return format(number.normalize(), "f")


def _cursor(position: int) -> str:
    import base64

    return base64.urlsafe_b64encode(f"order:{position}".encode()).decode().rstrip("=")


def _by_order(rows: Any) -> dict[tuple[str, str], Any]:
    first: dict[tuple[str, str], Any] = {}
    for row in rows:
        first.setdefault((row.ebp_code, row.order_no), row)
    return first


def handwritten_app(session_factory: Any) -> Starlette:
    """One route, `/orders?first=N[&seller=C&month=YYYYMM][&nested=1]`: the department
    query's JSON from hand-written SQL."""
    o, p, w, i = (models.Order, models.Payment, models.Waybill, models.Inventory)

    async def orders(request: Request) -> Response:
        first = int(request.query_params.get("first", "100"))
        nested = request.query_params.get("nested") == "1"
        where = [o.status == "ACTIVE"]
        if seller := request.query_params.get("seller"):
            where.append((o.ebp_code == seller) | (o.ebc_code == seller) | (o.pay_code == seller))
        if month := request.query_params.get("month"):
            where += [o.app_time >= f"{month}01000000", o.app_time <= f"{month}31235959"]
        async with session_factory() as session:
            rows = list(
                (
                    await session.execute(select(o).where(*where).order_by(o.id).limit(first + 1))
                ).scalars()
            )
            page, more = rows[:first], len(rows) > first
            keys = [(r.ebp_code, r.order_no) for r in page]
            links: dict[Any, dict[tuple[str, str], Any]] = {}
            if nested and keys:
                platforms = sorted({k[0] for k in keys})
                numbers = [k[1] for k in keys]
                for model in (p, w, i):
                    # Both key columns, so that the (ebp_code, order_no) index serves it.
                    found = await session.execute(
                        select(model)
                        .where(
                            model.ebp_code.in_(platforms),
                            model.order_no.in_(numbers),
                            model.status == "ACTIVE",
                        )
                        .order_by(model.id)
                    )
                    links[model] = _by_order(found.scalars())
        edges = []
        for r in page:
            payload = r.payload
            node: dict[str, Any] = {
                "ebpCode": r.ebp_code,
                "orderNo": r.order_no,
                "ebcCode": r.ebc_code,
                "payCode": r.pay_code,
                "orderType": r.order_type,
                "direction": r.direction,
                "tradeMode": r.trade_mode,
                "currency": r.currency,
                "goodsValue": _money(r.goods_value),
                "freight": _money(payload.get("freight")),
                "discount": _money(payload.get("discount")),
                "acturalPaid": _money(r.actural_paid),
                "appTime": r.app_time,
                "status": r.status,
                "version": r.version,
                "taxTotal": _money(r.tax_total),
                "customsStatus": r.customs_status,
                "buyerName": payload.get("buyerName"),
                "buyerIdNumber": payload.get("buyerIdNumber"),
                "consignee": payload.get("consignee"),
            }
            if nested:
                key = (r.ebp_code, r.order_no)
                node["items"] = [
                    {
                        "gnum": int(line["gnum"]),
                        "itemName": line.get("itemName"),
                        "qty": _money(line.get("qty")),
                        "price": _money(line.get("price")),
                        "totalPrice": _money(line.get("totalPrice")),
                        "currency": line.get("currency"),
                        "country": line.get("country"),
                    }
                    for line in payload.get("items", [])
                ]
                pay = links[p].get(key)
                node["payment"] = pay and {
                    "payCode": pay.pay_code,
                    "payTransactionId": pay.pay_transaction_id,
                    "amountPaid": _money(pay.amount_paid),
                    "currency": pay.currency,
                    "payTime": pay.pay_time,
                }
                way = links[w].get(key)
                node["waybill"] = way and {
                    "logisticsCode": way.logistics_code,
                    "logisticsNo": way.logistics_no,
                    "lastMilestone": way.last_milestone,
                }
                inv = links[i].get(key)
                node["inventory"] = inv and {
                    "invtNo": inv.payload.get("invtNo"),
                    "copNo": inv.payload.get("copNo"),
                    "customsStatus": inv.customs_status,
                    "items": [
                        {
                            "gnum": int(x["gnum"]),
                            "gcode": x.get("gcode"),
                            "qty": _money(x.get("qty")),
                        }
                        for x in inv.payload.get("items", [])
                    ],
                }
                node["matching"] = {
                    "status": r.match_status,
                    "missing": list(r.match_missing or []),
                    "discrepancies": [{"code": d["code"]} for d in r.match_discrepancies or []],
                }
            edges.append({"cursor": _cursor(r.id), "node": node})
        body = {
            "data": {
                "orders": {
                    "edges": edges,
                    "pageInfo": {
                        "hasNextPage": more,
                        "endCursor": edges[-1]["cursor"] if edges else None,
                    },
                }
            }
        }
        return Response(orjson.dumps(body), media_type="application/json")

    return Starlette(routes=[Route("/orders", orders)])


# --- measuring ----------------------------------------------------------------------------

Send = Callable[[], Awaitable[httpx.Response]]


async def _one_client(send: Send, requests: int) -> tuple[float, float, float]:
    """(p50 ms, p95 ms, CPU ms per request) of sequential requests."""
    await send()  # warm: plans, caches, connections
    times = []
    cpu = time.process_time()
    for _ in range(requests):
        started = time.perf_counter()
        response = await send()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:300]
    cpu_ms = (time.process_time() - cpu) * 1000 / requests
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], cpu_ms


async def _concurrent(send: Send, clients: int, each: int) -> tuple[float, int]:
    """(requests per second, errors) of `clients` clients sending `each` requests."""
    errors = 0

    async def client() -> None:
        nonlocal errors
        for _ in range(each):
            response = await send()
            if response.status_code != 200 or b'"errors"' in response.content:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return clients * each / (time.perf_counter() - started), errors


async def _full_collections(send: Send, requests: int) -> int:
    """Full (generation 2) collections while `requests` requests are served."""
    count = 0

    def callback(phase: str, info: dict[str, Any]) -> None:
        nonlocal count
        if phase == "start" and info["generation"] == 2:
            count += 1

    gc.callbacks.append(callback)
    try:
        for _ in range(requests):
            await send()
    finally:
        gc.callbacks.remove(callback)
    return count


async def _token(http: httpx.AsyncClient, client: Any) -> str:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    return str(response.json()["access_token"])


_ROUNDS = itertools.count()


async def _copy_orders(app: Starlette, target: int) -> int:
    """Doubles the orders and their documents by INSERT ... SELECT until at least `target`
    (each round copies every row under a new order number)."""
    factory = app.state.runtime.session_factory
    tables = [models.Order, models.Payment, models.Waybill, models.Inventory, models.Receipt]

    async def count() -> int:
        async with factory() as session:
            return int(await session.scalar(select(func.count()).select_from(models.Order)) or 0)

    while await count() < target:
        # One character per round (order numbers are at most 60 characters), never the
        # same twice in a run: every copy's key is new.
        suffix = "abcdefghijklmnopqrstuvwxyz"[next(_ROUNDS)]
        async with factory() as session, session.begin():
            for model in tables:
                table = model.__table__
                columns = [c for c in table.columns if c.name != "id"]
                values = [
                    (c + suffix).label(c.name) if c.name in ("order_no", "record_key") else c
                    for c in columns
                ]
                await session.execute(
                    insert(table).from_select([c.name for c in columns], select(*values))
                )
    return await count()


async def run_backend(url: str, backend: str, args: argparse.Namespace) -> None:
    settings = Settings(
        database_url=url,
        issuer=ISSUER,
        env="test",
        log_sequencer=False,
        events_sequencer=False,
        webhook_dispatcher=False,
        rate_limit_per_second=0,
        db_pool_size=20,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        summary = await load_demo(runtime=runtime, orders=args.orders, seed=7)
        customs = next(c for c in summary.clients if c.scopes == "customs:read pii:read")
        endpoint = app.state.graphql
        compiled = endpoint.compiled
        hand = handwritten_app(runtime.session_factory)
        hub_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER)
        hand_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=hand), base_url=ISSUER)
        token = await _token(hub_http, customs)
        headers = {"Authorization": f"Bearer {token}"}

        def hub_send(fields: str, variables: dict[str, Any]) -> Send:
            body = {"query": _query(fields), "variables": variables}
            return lambda: hub_http.post("/graphql", json=body, headers=headers)

        def hand_send(params: dict[str, str]) -> Send:
            return lambda: hand_http.get("/orders", params=params)

        department = hub_send(NESTED, {"first": 100})
        handwritten = hand_send({"first": "100", "nested": "1"})
        answers = {}
        for label, on in (("compiled", compiled), ("strawberry", None)):
            endpoint.compiled = on
            answers[label] = (await department()).json()
        answers["hand-written"] = (await handwritten()).json()
        endpoint.compiled = compiled
        identical = answers["compiled"] == answers["strawberry"] == answers["hand-written"]
        size = len((await department()).content)
        print(
            f"\n## {backend}: {args.orders} orders, orders(first: 100), {size / 1024:.0f} KiB; "
            f"identical JSON: {'yes' if identical else 'NO'}"
        )
        if not identical:
            for label in ("strawberry", "hand-written"):
                if answers[label] != answers["compiled"]:
                    print(f"  compiled differs from {label}")
        rows: dict[str, dict[str, str]] = {}
        for label, send, on in (
            ("hub, compiled", department, compiled),
            ("hub, strawberry", department, None),
            ("hand-written", handwritten, compiled),
        ):
            endpoint.compiled = on
            p50, p95, cpu = await _one_client(send, args.requests)
            rows[label] = {"p50": f"{p50:.1f}", "p95": f"{p95:.1f}", "cpu": f"{cpu:.1f}"}
            for clients in args.clients:
                rate, errors = await _concurrent(send, clients, max(2, args.requests // 8))
                rows[label][f"c{clients}"] = f"{rate:.0f}" + (
                    f" ({errors} errors)" if errors else ""
                )
        endpoint.compiled = compiled
        base = rows["hand-written"]
        print(
            "| | one client p50 (ms) | p95 (ms) | CPU/request (ms) | "
            + " | ".join(f"{c} clients (req/s)" for c in args.clients)
            + " |"
        )
        print("|---|---|---|---|" + "---|" * len(args.clients))
        for label, row in rows.items():
            ratio = float(row["p50"]) / float(base["p50"])
            print(
                f"| {label} | {row['p50']} ({ratio:.1f}×) | {row['p95']} | {row['cpu']} | "
                + " | ".join(row[f"c{c}"] for c in args.clients)
                + " |"
            )
        # The collector: default thresholds without a freeze, then hub.garbage's.
        garbage.thaw((700, 10, 10))
        before = await _full_collections(department, 30)
        garbage.freeze_startup()
        after = await _full_collections(department, 30)
        print(f"\nfull collections per 30 requests: default {before}, frozen + tuned {after}")

        # Page latency against the number of orders.
        month = answers["compiled"]["data"]["orders"]["edges"][0]["node"]["appTime"][:6]
        seller = answers["compiled"]["data"]["orders"]["edges"][0]["node"]["ebcCode"]
        first_of_month = f"{month[:4]}-{month[4:]}-01"
        last_of_month = f"{month[:4]}-{month[4:]}-28"
        print(
            "\n| orders | plain p50 (ms) | filtered p50 (ms) | nested p50 (ms) | "
            "hand-written nested p50 (ms) |"
        )
        print("|---|---|---|---|---|")
        for target in (2_000, args.large):
            count = await _copy_orders(app, target)
            if backend == "PostgreSQL":
                async with runtime.engine.connect() as connection:
                    await connection.execute(text("ANALYZE"))
            flt = {"enterprise": seller, "role": "SELLER", "dateFrom": first_of_month,
                   "dateTo": last_of_month}  # fmt: skip
            figures = []
            for send in (
                hub_send(HEADER, {"first": 100}),
                hub_send(HEADER, {"first": 100, "filter": flt}),
                department,
                handwritten,
            ):
                p50, _, _ = await _one_client(send, max(5, args.requests // 4))
                figures.append(f"{p50:.1f}")
            print(f"| {count:,} | " + " | ".join(figures) + " |")
        await hub_http.aclose()
        await hand_http.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL server URL (a database is created there)")
    parser.add_argument("--orders", type=int, default=300, help="demo orders to declare")
    parser.add_argument("--requests", type=int, default=40, help="requests per measurement")
    parser.add_argument(
        "--clients", default="16,64", help="concurrent clients, comma-separated (default 16,64)"
    )
    parser.add_argument(
        "--large", type=int, default=200_000, help="orders for the second page-latency row"
    )
    args = parser.parse_args()
    args.clients = [int(c) for c in args.clients.split(",") if c]
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        migrate.upgrade(database_url=url)
        asyncio.run(run_backend(url, "SQLite", args))
    if args.postgres:
        with fresh_database(args.postgres) as url:
            migrate.upgrade(database_url=url)
            asyncio.run(run_backend(url, "PostgreSQL", args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
