"""`hub demo`: standards, clients and the synthetic data set, declared as real clients would."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import sqlite3
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from hub.access import authority
from hub.app import create_app
from hub.config import Settings
from hub.declarations.models import Declaration
from hub.demo import generator
from hub.demo.contents import contents_markdown, planned_status
from hub.demo.generator import AnomalyKind, DemoDataSet, generate, standard_id
from hub.demo.loader import BATCH_SIZE, DECLARANT_FIELD, DEPARTMENT_CLIENTS, plan_batches
from hub.demo.progress import Progress
from hub.trade.models import Order
from tests.conftest import blocking
from tests.foundation.test_cli import hub
from tests.support import TEST_ISSUER, jwt_claims

ORDERS = 60
# Not the CLI's default seed: with 60 orders seed 2 plants every kind of fault (import and
# export mismatches, an incomplete order) and a cancellation and a return.
SEED = 2
CREDENTIALS = "hub-demo-clients.json"


@dataclass(frozen=True)
class DemoRun:
    """A directory where `hub demo` ran against its own SQLite file."""

    cwd: Path
    db: Path
    stdout: str
    stderr: str

    @property
    def url(self) -> str:
        return f"sqlite+aiosqlite:///{self.db}"

    @property
    def credentials(self) -> Path:
        return self.cwd / CREDENTIALS


def run_demo(cwd: Path, *args: str) -> DemoRun:
    """Runs `hub demo --orders 60 --seed 2` in `cwd` on a fresh SQLite file and checks it
    succeeded (a later `--seed` in `args` wins)."""
    cwd.mkdir(parents=True, exist_ok=True)
    db = cwd / "hub.db"
    result = hub(
        "demo", "--orders", str(ORDERS), "--seed", str(SEED), *args,
        database_url=f"sqlite+aiosqlite:///{db}", cwd=cwd,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return DemoRun(cwd, db, result.stdout, result.stderr)


def query(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def content_hashes(db: Path) -> Counter[tuple[object, ...]]:
    return Counter(query(db, "SELECT standard_id, declarant, content_hash FROM declarations"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One demo load shared by the read-only tests of this module."""
    return run_demo(tmp_path_factory.mktemp("demo"))


# -- the data -------------------------------------------------------------------------------


def test_demo_declares_every_generated_record_and_none_is_rejected(demo: DemoRun) -> None:
    data = generate(orders=ORDERS, seed=SEED)
    expected = Counter(standard_id(standard) for standard, _ in data.enterprises + data.records)
    stored = Counter(
        dict(query(demo.db, "SELECT standard_id, count(*) FROM declarations GROUP BY 1"))
    )
    assert stored == expected
    total = sum(expected.values())
    assert f"total {total:>9,} {0:>9,}".split() == next(
        line.split() for line in demo.stdout.splitlines() if line.startswith("total")
    )


def test_demo_orders_are_matched_with_both_clean_and_faulty_ones(demo: DemoRun) -> None:
    statuses = dict(query(demo.db, "SELECT match_status, count(*) FROM orders GROUP BY 1"))
    assert sum(statuses.values()) == ORDERS  # type: ignore[arg-type]
    assert statuses.get("MATCHED", 0) > 0
    assert statuses.get("MISMATCH", 0) > 0
    summary = next(line for line in demo.stdout.splitlines() if "orders by match status" in line)
    assert f"MATCHED {statuses['MATCHED']}" in summary
    assert f"MISMATCH {statuses['MISMATCH']}" in summary


def test_each_record_is_declared_by_its_natural_declarants_client(demo: DemoRun) -> None:
    clients = dict(query(demo.db, "SELECT client_id, enterprise_code FROM oauth_clients"))
    rows = query(demo.db, "SELECT standard_id, declarant, client_id, payload FROM declarations")
    assert rows
    for standard, declarant, client_id, payload in rows:
        field = DECLARANT_FIELD[str(standard)]
        assert json.loads(str(payload))[field] == declarant
        assert clients[client_id] == declarant


def test_enterprise_filings_come_first_in_the_chain(demo: DemoRun) -> None:
    first = query(demo.db, "SELECT standard_id FROM declarations ORDER BY chain_index LIMIT 50")
    data = generate(orders=ORDERS, seed=SEED)
    assert [s for (s,) in first[: len(data.enterprises)]] == ["cbec.enterprise"] * len(
        data.enterprises
    )
    assert first[len(data.enterprises)] != ("cbec.enterprise",)


def test_demo_publishes_the_shipped_standards(demo: DemoRun) -> None:
    published = {s for (s,) in query(demo.db, "SELECT DISTINCT standard_id FROM declarations")}
    states = dict(
        query(demo.db, "SELECT standard_id, state FROM standard_versions WHERE state='PUBLISHED'")
    )
    assert published <= set(states)


def test_demo_prints_nothing_but_the_summary_when_not_on_a_terminal(demo: DemoRun) -> None:
    assert demo.stderr == ""
    assert demo.stdout.startswith(f"demo data: {ORDERS} orders (seed {SEED})")


# -- the 2.0.0 shapes ------------------------------------------------------------------------

# The rule code each planted fault must show on its order.
FAULT_CODE = {
    AnomalyKind.AMOUNT_MISMATCH: "AMOUNT_PAID_MISMATCH",
    AnomalyKind.CONSIGNEE_MISMATCH: "CONSIGNEE_MISMATCH",
    AnomalyKind.LINE_NAME_MISMATCH: "LINE_NAME_MISMATCH",
    AnomalyKind.CURRENCY_MISMATCH: "CURRENCY_MISMATCH",
    AnomalyKind.WAYBILL_SELLER_MISMATCH: "WAYBILL_ORDER_MISMATCH",
}


@pytest.fixture(scope="module")
def data() -> DemoDataSet:
    return generate(orders=ORDERS, seed=SEED)


def of(data: DemoDataSet, reference: str) -> list[dict[str, Any]]:
    return [payload for standard, payload in data.records if standard == reference]


def planned_by_direction(data: DemoDataSet) -> Counter[tuple[str, str]]:
    """(direction, status) → orders, as the generator planned them."""
    return Counter((data.modes[key][0], status) for key, status in planned_status(data).items())


def json_rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows whose last column is JSON, decoded (a JSON null reads as None)."""
    return [(*row[:-1], json.loads(row[-1]) if row[-1] else None) for row in query(db, sql)]


def test_import_and_export_orders_match_exactly_as_the_generator_planned(
    demo: DemoRun, data: DemoDataSet
) -> None:
    stored = Counter(
        {
            (str(direction), str(status)): int(count)  # type: ignore[call-overload]
            for direction, status, count in query(
                demo.db, "SELECT direction, match_status, count(*) FROM orders GROUP BY 1, 2"
            )
        }
    )
    assert stored == planned_by_direction(data)
    # Most orders of both directions match; the planted faults (and only they) do not.
    for direction in ("I", "E"):
        assert stored[(direction, "MATCHED")] > 3 * stored[(direction, "MISMATCH")] > 0
    assert stored[("I", "INCOMPLETE")] + stored[("E", "INCOMPLETE")] > 0


def test_each_planted_mismatch_shows_its_own_rule_code_and_no_other(
    demo: DemoRun, data: DemoDataSet
) -> None:
    planted = {(a.ebp_code, a.order_no): {FAULT_CODE[a.kind]} for a in data.anomalies
               if a.kind in FAULT_CODE}  # fmt: skip
    # Seed 2 plants every kind, import and export.
    assert {a.kind for a in data.anomalies} >= set(FAULT_CODE)
    found = {
        (ebp, order_no): {d["code"] for d in discrepancies}
        for ebp, order_no, discrepancies in json_rows(
            demo.db,
            "SELECT ebp_code, order_no, match_discrepancies FROM orders "
            "WHERE match_status = 'MISMATCH'",
        )
    }
    assert found == planted


def test_every_record_is_declared_under_the_version_it_was_generated_in(
    demo: DemoRun, data: DemoDataSet
) -> None:
    stored = dict(
        ((str(s), str(v)), n)
        for s, v, n in query(
            demo.db,
            "SELECT standard_id, standard_version, count(*) FROM declarations GROUP BY 1, 2",
        )
    )
    generated = {tuple(ref.split("@")): n for ref, n in data.summary().items()}
    assert stored == generated
    # Everything but the enterprise filings (whose only version is 1.0.0) is 2.0.0.
    assert {v for (s, v) in stored if s != "cbec.enterprise"} == {"2.0.0"}
    assert {v for (s, v) in stored if s == "cbec.enterprise"} == {"1.0.0"}
    # Every new message kind is there.
    assert {s for s, _ in stored} >= {
        "cbec.inventory-cancel", "cbec.inventory-return", "cbec.tax-bill", "cbec.arrival",
        "cbec.departure", "cbec.summary-apply", "cbec.summary-result",
    }  # fmt: skip


def test_released_export_inventories_carry_the_entry_id_of_their_summary(
    demo: DemoRun, data: DemoDataSet
) -> None:
    entry_of = {
        line["invtNo"]: result["entryId"]
        for result in of(data, generator.SUMMARY_RESULT)
        for line in result["items"]
    }
    rows = query(demo.db, "SELECT invt_no, entry_id, customs_status FROM inventories "
                 "WHERE ie_flag = 'E'")  # fmt: skip
    closed = {invt_no: entry_id for invt_no, entry_id, status in rows if status == 899}
    assert closed and closed == {n: entry_of[n] for n in closed}  # type: ignore[index]
    assert all(len(str(entry)) == 18 for entry in closed.values())
    # An inventory customs rejected is in no summary and has no declaration.
    assert [e for _, e, status in rows if status != 899] == [None] * (len(rows) - len(closed))


def test_export_waybills_carry_their_arrival_and_departure_lists(
    demo: DemoRun, data: DemoDataSet
) -> None:
    def listed(reference: str, field: str) -> dict[tuple[str, str], str]:
        return {
            (payload["logisticsCode"], line["logisticsNo"]): payload[field]
            for payload in of(data, reference)
            for line in payload["items"]
        }

    left = listed(generator.DEPARTURE, "leaveTime")
    arrived = listed(generator.ARRIVAL, "copNo")
    rows = [
        (code, number, json.loads(str(a)) if a else None, json.loads(str(d)) if d else None)
        for code, number, a, d in query(
            demo.db,
            "SELECT logistics_code, logistics_no, arrival, departure FROM waybills "
            "WHERE ie_flag = 'E'",
        )
    ]
    departures = {(c, n): d["leaveTime"] for c, n, _, d in rows if d}
    arrivals = {(c, n): a["copNo"] for c, n, a, _ in rows if a}
    assert left and departures == left
    assert arrivals == arrived and set(left) < set(arrived)  # rejected parcels never leave


def test_cancellations_and_returns_are_on_their_inventories(
    demo: DemoRun, data: DemoDataSet
) -> None:
    expected: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for reference, kind in ((generator.INVENTORY_CANCEL, "CANCEL"),
                            (generator.INVENTORY_RETURN, "RETURN")):  # fmt: skip
        for payload in of(data, reference):
            view: dict[str, Any] = {"kind": kind, "invtNo": payload["invtNo"]}
            if kind == "RETURN":
                view["items"] = [
                    {"gnum": i["gnum"], "qty": i["qty"], "unit": i["unit"]}
                    for i in payload["items"]
                ]
            expected.setdefault((payload["ebpCode"], payload["orderNo"]), []).append(view)
    assert {v[0]["kind"] for v in expected.values()} == {"CANCEL", "RETURN"}
    shown = {
        (ebp, order_no): [
            {k: r[k] for k in ("kind", "invtNo", "items") if k in r} for r in requests
        ]
        for ebp, order_no, requests in json_rows(
            demo.db, "SELECT ebp_code, order_no, requests FROM inventories"
        )
        if requests
    }
    assert shown == expected


def test_released_import_inventories_show_a_tax_bill_equal_to_the_hubs_estimate(
    demo: DemoRun, data: DemoDataSet
) -> None:
    bills = {bill["invtNo"]: bill for bill in of(data, generator.TAX_BILL)}
    rows = query(
        demo.db,
        "SELECT i.invt_no, i.tax_bill, o.tax_assessed, o.tax_computed, o.risk_flags "
        "FROM inventories i JOIN orders o ON o.ebp_code = i.ebp_code "
        "AND o.order_no = i.order_no WHERE i.ie_flag = 'I' AND i.customs_status = 800",
    )
    assert rows and len(rows) == len(bills)
    for invt_no, bill, assessed, computed, flags in rows:
        shown = json.loads(str(bill))
        assert shown["taxNo"] == bills[invt_no]["taxNo"]  # type: ignore[index]
        assert Decimal(shown["total"]) == Decimal(str(assessed)) == Decimal(str(computed))
        assert "TAX_ASSESSED_DIFFERS" not in json.loads(str(flags))


def test_signed_for_import_parcels_show_the_consignees_signature(
    demo: DemoRun, data: DemoDataSet
) -> None:
    signed = {(p["logisticsCode"], p["logisticsNo"]) for p in of(data, generator.LOGISTICS_STATUS)}
    assert {p["logisticsStatus"] for p in of(data, generator.LOGISTICS_STATUS)} == {"S"}
    rows = query(demo.db, "SELECT logistics_code, logistics_no, last_milestone FROM waybills "
                 "WHERE ie_flag = 'I'")  # fmt: skip
    # CEB513's S is "signed for": the graph's milestone R (received by the consignee).
    assert signed and {(c, n) for c, n, m in rows if m == "R"} == signed
    assert {m for _, _, m in rows} <= {"R", None}


def test_every_record_is_sent_by_a_party_the_authority_table_lets_create_it(
    data: DemoDataSet,
) -> None:
    # The loader's declarant (DECLARANT_FIELD) is checked against the one party rule.
    for standard, payload in data.enterprises + data.records:
        standard_id_, _, version = standard.partition("@")
        rtype = authority.record_type(standard_id_, int(version.split(".")[0]))
        assert rtype is not None, standard
        declarant = payload[DECLARANT_FIELD[standard_id_]]
        refusal = authority.check_create(
            rtype, declarant=declarant, payload=payload, app_type=payload.get("appType", "1")
        )
        assert refusal is None, (standard, refusal)


def test_the_same_seed_gives_the_same_messages_guids_included() -> None:
    first, again = generate(orders=ORDERS, seed=SEED), generate(orders=ORDERS, seed=SEED)
    assert first.records == again.records and first.anomalies == again.anomalies
    guids = [payload["guid"] for _, payload in first.records]
    assert len(set(guids)) == len(guids)  # one guid per message
    other = generate(orders=ORDERS, seed=SEED + 1)
    assert not set(guids) & {payload["guid"] for _, payload in other.records}


def test_the_readme_shows_what_the_default_demo_contains() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = "<!-- demo-contents: generated by `python -m hub.demo.contents` -->\n"
    section = readme.split(start, 1)[1].split("<!-- /demo-contents -->", 1)[0]
    default = generate(orders=generator.DEFAULT_ORDERS, seed=generator.DEFAULT_SEED)
    assert section == contents_markdown(default)


# -- the clients ----------------------------------------------------------------------------


def test_demo_creates_department_clients_and_one_declare_client_per_enterprise(
    demo: DemoRun,
) -> None:
    rows = query(demo.db, "SELECT name, scopes, enterprise_code FROM oauth_clients")
    departments = {(name, scopes) for name, scopes, code in rows if code is None}
    assert departments == set(DEPARTMENT_CLIENTS)
    enterprise_codes = {payload["code"] for _, payload in generate(orders=0, seed=SEED).enterprises}
    bound = [(scopes, code) for _, scopes, code in rows if code is not None]
    assert sorted(code for _, code in bound) == sorted(enterprise_codes)  # type: ignore[type-var]
    assert {scopes for scopes, _ in bound} == {"declare"}


def test_credentials_file_is_private_and_lists_every_client(demo: DemoRun) -> None:
    assert stat.S_IMODE(demo.credentials.stat().st_mode) == 0o600
    document = json.loads(demo.credentials.read_text())
    listed = {c["client_id"] for c in document["clients"]}
    assert listed == {c for (c,) in query(demo.db, "SELECT client_id FROM oauth_clients")}
    for client in document["clients"]:
        assert client["client_id"] in demo.stdout
        assert client["client_secret"] in demo.stdout


async def test_credentials_file_clients_obtain_tokens_with_their_scopes(demo: DemoRun) -> None:
    document = json.loads(demo.credentials.read_text())
    app = create_app(Settings(database_url=demo.url, issuer=TEST_ISSUER, env="test"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as http:
            for client in document["clients"]:
                response = await http.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(client["client_id"], client["client_secret"]),
                )
                assert response.status_code == 200, (client["name"], response.text)
                claims = jwt_claims(response.json()["access_token"])
                assert claims["scope"] == client["scopes"]
                assert claims.get("enterprise_code") == client["enterprise_code"]


# -- running it again -----------------------------------------------------------------------


def _copy_of(demo: DemoRun, target: Path) -> Path:
    target.mkdir()
    for name in ("hub.db", "hub.db-wal", CREDENTIALS):
        if (demo.cwd / name).exists():
            shutil.copy2(demo.cwd / name, target / name)
    return target / "hub.db"


def test_if_empty_declares_nothing_on_a_loaded_database(demo: DemoRun, tmp_path: Path) -> None:
    db = _copy_of(demo, tmp_path / "again")
    before = content_hashes(db)
    clients_before = query(db, "SELECT count(*) FROM oauth_clients")
    result = hub(
        "demo", "--if-empty", "--orders", str(ORDERS), "--seed", "8",
        database_url=f"sqlite+aiosqlite:///{db}", cwd=db.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert content_hashes(db) == before
    assert query(db, "SELECT count(*) FROM oauth_clients") == clients_before
    assert "already holds declarations" in result.stdout
    # The credentials of the first run are shown again, from the file.
    for client in json.loads((db.parent / CREDENTIALS).read_text())["clients"]:
        assert client["client_secret"] in result.stdout


def test_if_empty_says_when_the_credentials_file_is_missing(demo: DemoRun, tmp_path: Path) -> None:
    db = _copy_of(demo, tmp_path / "again")
    (db.parent / CREDENTIALS).unlink()
    result = hub("demo", "--if-empty", database_url=f"sqlite+aiosqlite:///{db}", cwd=db.parent)
    assert result.returncode == 0, result.stderr
    assert f"no demo credentials file at {CREDENTIALS}" in result.stdout
    assert not (db.parent / CREDENTIALS).exists()


def test_demo_refuses_a_negative_order_count(tmp_path: Path) -> None:
    result = hub(
        "demo", "--orders", "-1", database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--orders must be 0 or more" in result.stderr


@pytest.mark.slow
def test_the_same_seed_declares_identical_content_in_fresh_databases(
    demo: DemoRun, tmp_path: Path
) -> None:
    # --if-empty on an empty database loads like a plain run: that is what `make run` relies on.
    again = run_demo(tmp_path / "same", "--if-empty")
    assert content_hashes(again.db) == content_hashes(demo.db)
    other = run_demo(tmp_path / "other", "--seed", str(SEED + 1))
    assert content_hashes(other.db) != content_hashes(demo.db)


@pytest.mark.slow
def test_demo_on_postgresql(fresh_postgres_database: Callable[[], str], tmp_path: Path) -> None:
    url: str = blocking(fresh_postgres_database)
    assert hub("db", "upgrade", database_url=url, cwd=tmp_path).returncode == 0
    result = hub(
        "demo", "--orders", str(ORDERS), "--seed", str(SEED), database_url=url, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr

    async def counts() -> tuple[int, dict[str, int]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                declared = await connection.scalar(select(func.count()).select_from(Declaration))
                rows = await connection.execute(
                    select(Order.match_status, func.count()).group_by(Order.match_status)
                )
                return int(declared or 0), {str(s): int(n) for s, n in rows}
        finally:
            await engine.dispose()

    declared, statuses = blocking(asyncio.run, counts())
    data = generate(orders=ORDERS, seed=SEED)
    assert declared == len(data.enterprises) + len(data.records)
    assert statuses == dict(Counter(planned_status(data).values()))
    assert statuses.get("MATCHED", 0) > 0 and statuses.get("MISMATCH", 0) > 0
    assert stat.S_IMODE((tmp_path / CREDENTIALS).stat().st_mode) == 0o600

    again = hub("demo", "--if-empty", database_url=url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert blocking(asyncio.run, counts())[0] == declared
    verified = hub("verify-chain", database_url=url, cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout
    assert f"chain OK: {declared} declarations verified" in verified.stdout


# -- the pieces -----------------------------------------------------------------------------


def test_batches_hold_one_declarant_each_and_keep_every_declarants_order() -> None:
    data = generate(orders=300, seed=SEED)
    batches = plan_batches(data=data)
    assert all(0 < len(b.records) <= BATCH_SIZE for b in batches)
    assert max(len(b.records) for b in batches) == BATCH_SIZE  # big enough to fill some
    enterprises = len(data.enterprises)
    assert [b.records for b in batches[:enterprises]] == [[r] for r in data.enterprises]
    declared: dict[str, list[int]] = {}
    position = {id(payload): i for i, (_, payload) in enumerate(data.records)}
    for batch in batches[enterprises:]:
        for standard, payload in batch.records:
            assert payload[DECLARANT_FIELD[standard_id(standard)]] == batch.declarant
            declared.setdefault(batch.declarant, []).append(position[id(payload)])
    assert sum(len(v) for v in declared.values()) == len(data.records)
    assert all(order == sorted(order) for order in declared.values())


def test_progress_draws_one_updating_line_only_when_enabled() -> None:
    stream = io.StringIO()
    progress = Progress(label="declaring", enabled=True, stream=stream)
    progress(50, 200)
    progress(200, 200)
    progress.close()
    text = stream.getvalue()
    assert text.startswith("\rdeclaring: 50 / 200 (25%)")
    assert "\rdeclaring: 200 / 200 (100%)" in text
    assert text.endswith("\n") and text.count("\n") == 1

    quiet = io.StringIO()
    silent = Progress(label="declaring", enabled=False, stream=quiet)
    silent(1, 2)
    silent.close()
    assert quiet.getvalue() == ""


# -- idempotent clients -----------------------------------------------------------------------


def _clients_file(path: Path) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in json.loads(path.read_text())["clients"]}


def test_running_demo_again_keeps_its_clients_and_their_secrets(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    assert hub("demo", "--orders", "0", database_url=url, cwd=tmp_path).returncode == 0
    first = _clients_file(tmp_path / CREDENTIALS)
    count = query(tmp_path / "hub.db", "SELECT count(*) FROM oauth_clients")
    again = hub("demo", "--orders", "0", database_url=url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert query(tmp_path / "hub.db", "SELECT count(*) FROM oauth_clients") == count
    assert _clients_file(tmp_path / CREDENTIALS) == first


async def test_without_its_credentials_file_demo_gives_its_clients_new_working_secrets(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    assert hub("demo", "--orders", "0", database_url=url, cwd=tmp_path).returncode == 0
    first = _clients_file(tmp_path / CREDENTIALS)
    (tmp_path / CREDENTIALS).unlink()
    assert hub("demo", "--orders", "0", database_url=url, cwd=tmp_path).returncode == 0
    second = _clients_file(tmp_path / CREDENTIALS)
    assert {n: c["client_id"] for n, c in second.items()} == {
        n: c["client_id"] for n, c in first.items()
    }
    assert all(second[n]["client_secret"] != first[n]["client_secret"] for n in first)
    app = create_app(Settings(database_url=url, issuer=TEST_ISSUER, env="test"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as http:
            for client in (*second.values(), *first.values()):
                response = await http.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(str(client["client_id"]), str(client["client_secret"])),
                )
                expected = 200 if client in second.values() else 401
                assert response.status_code == expected, client["name"]


def test_credentials_file_names_each_clients_enterprise_and_roles(demo: DemoRun) -> None:
    enterprises = {
        payload["code"]: payload for _, payload in generate(orders=0, seed=SEED).enterprises
    }
    for client in json.loads(demo.credentials.read_text())["clients"]:
        code = client["enterprise_code"]
        if code is None:
            assert client["enterprise_name"] is None
            continue
        assert client["enterprise_name"] == enterprises[code]["name"]
        assert client["roles"] == list(enterprises[code]["roles"])
