"""Statistics and forex totals: SQL aggregates checked against independent computations.

The numbers are recomputed here in Python from a plain SELECT of the same orders (region
through `hub.trade.regions.region_of`, month from appTime, rates from this file's own
table), so a wrong GROUP BY, CASE or join in the service shows up as a difference.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from strawberry.types import ExecutionResult

from hub import migrate
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.config import Settings
from hub.demo.generator import generate
from hub.demo.loader import load_demo
from hub.graphql.context import Context
from hub.graphql.schema import build_schema
from hub.runtime import Runtime
from hub.stats import service
from hub.stats.rates import ENV_VAR, RatesError, RateTable, configured_rates, parse_rates
from hub.stats.service import Dimension, Direction, ForexBand, StatisticsFilter
from hub.trade.models import Enterprise, Order, Payment, Receipt
from hub.trade.regions import region_of
from tests.conftest import blocking
from tests.support import TEST_ISSUER

ORDERS = 150
SEED = 11
# The test's own rates, deliberately not the defaults: the service must use what it is given.
RATES = {"142": Decimal(1), "502": Decimal("7.25"), "300": Decimal("7.90")}
TABLE = RateTable(RATES)
CUSTOMS_CODE_PLATFORM = "3206960099"  # a 10-character customs code: no division
SCHEMA = build_schema()


# -- fixtures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoDb:
    """A database holding the demo data set plus a few planted orders."""

    runtime: Runtime
    names: dict[str, str]  # enterprise code → name, from the generator
    cancelled: tuple[str, str]  # (ebpCode, orderNo) of the order cancelled after loading


def _node(key: str) -> dict[str, Any]:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    return {
        "record_key": key,
        "status": "ACTIVE",
        "version": 1,
        "payload": {},
        "declaration_id": "test",
        "updated_at": now,
    }


def make_order(
    *,
    ebp: str,
    no: str,
    ebc: str,
    value: str,
    currency: str = "142",
    direction: str = "E",
    order_type: str = "E",
    trade_mode: str | None = "9610",
    month: str = "2024-05",
    match_status: str = "MATCHED",
) -> Order:
    """An order graph row, as the projection would write it."""
    return Order(
        **_node(f"order:{ebp}:{no}"),
        ebp_code=ebp,
        order_no=no,
        ebc_code=ebc,
        direction=direction,
        order_type=order_type,
        trade_mode=trade_mode,
        currency=currency,
        goods_value=Decimal(value),
        app_time=month.replace("-", "") + "15120000",
        order_year=int(month[:4]),
        order_month=month,
        match_status=match_status,
        match_missing=[],
        match_discrepancies=[],
        risk_flags=[],
    )


async def _load(url: str) -> DemoDb:
    runtime = Runtime.create(Settings(database_url=url, issuer=TEST_ISSUER, env="test"))
    await load_demo(runtime=runtime, orders=ORDERS, seed=SEED)
    data = generate(orders=0, seed=SEED)
    names = {payload["code"]: payload["name"] for _, payload in data.enterprises}
    async with runtime.session_factory() as session, session.begin():
        first = (await session.execute(select(Order.ebp_code, Order.order_no).limit(1))).one()
        await session.execute(
            update(Order)
            .where(Order.ebp_code == first.ebp_code, Order.order_no == first.order_no)
            .values(status="CANCELLED")
        )
        seller = next(code for code, name in names.items() if "Jinsha" in name)
        session.add_all(
            [
                # A platform known by its customs code only: region null.
                make_order(ebp=CUSTOMS_CODE_PLATFORM, no="X1", ebc=seller, value="1000.00"),
                # A euro order and one in a currency the rate table does not know.
                make_order(
                    ebp=CUSTOMS_CODE_PLATFORM, no="X2", ebc=seller, value="250.50", currency="300"
                ),
                make_order(
                    ebp=CUSTOMS_CODE_PLATFORM, no="X3", ebc=seller, value="99.00", currency="999"
                ),
            ]
        )
    return DemoDb(runtime, names, (first.ebp_code, first.order_no))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DemoDb]:
    """The demo data set (150 orders) loaded once per backend for the read-only tests."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("stats") / "hub.db"
        shutil.copyfile(template, path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        make: Callable[[], str] = request.getfixturevalue("fresh_postgres_database")
        url = blocking(make)
        blocking(migrate.upgrade, database_url=url)
    loaded = await _load(url)
    yield loaded
    await loaded.runtime.stop()


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """A runtime on an empty test database (SQLite and PostgreSQL)."""
    created = Runtime.create(settings)
    yield created
    await created.stop()


@pytest.fixture
def default_rates(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No HUB_FX_RATES in the environment: the documented defaults apply."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    yield


# -- the independent computation ------------------------------------------------------------


async def plain_orders(session: AsyncSession) -> list[Any]:
    """Every order row, fetched with one plain SELECT (no aggregation)."""
    return list((await session.execute(select(Order))).scalars())


def key_of(order: Order, dimension: Dimension) -> str | None:
    """The group key of one order, derived independently of the service's SQL."""
    if dimension is Dimension.TRADE_MODE:
        return order.trade_mode
    if dimension is Dimension.DIRECTION:
        return order.direction
    if dimension is Dimension.BUSINESS_TYPE:
        return "B2B" if order.order_type in ("B", "W") else "B2C"
    if dimension is Dimension.MONTH:
        return f"{order.app_time[:4]}-{order.app_time[4:6]}"
    if dimension is Dimension.REGION:
        region = region_of(code=order.ebp_code)
        return region.division[:4] if region else None
    return order.ebp_code


def group_key(group: service.StatisticsGroup, dimension: Dimension) -> str | None:
    """The key the service returned for one dimension."""
    value = {
        Dimension.TRADE_MODE: group.trade_mode,
        Dimension.DIRECTION: group.direction,
        Dimension.BUSINESS_TYPE: group.business_type,
        Dimension.MONTH: group.month,
        Dimension.REGION: group.region_code,
        Dimension.ENTERPRISE: group.enterprise_code,
    }[dimension]
    return None if value is None else str(value)


Measures = tuple[int, Decimal, int, int]


def expected_groups(
    orders: list[Order],
    dimensions: list[Dimension],
    keep: Callable[[Order], bool] = lambda _: True,
) -> dict[tuple[str | None, ...], Measures]:
    """Counts, CNY totals, matched and unconverted counts recomputed in Python."""
    result: dict[tuple[str | None, ...], Measures] = {}
    for order in orders:
        if order.status == "CANCELLED" or not keep(order):
            continue
        key = tuple(key_of(order, d) for d in dimensions)
        count, value, matched, unconverted = result.get(key, (0, Decimal(0), 0, 0))
        rate = RATES.get(order.currency)
        result[key] = (
            count + 1,
            value + (Decimal(order.goods_value) * rate if rate is not None else 0),
            matched + (order.match_status == "MATCHED"),
            unconverted + (rate is None),
        )
    return result


def actual_groups(
    groups: list[service.StatisticsGroup], dimensions: list[Dimension]
) -> dict[tuple[str | None, ...], Measures]:
    """The service's groups in the same shape as `expected_groups`."""
    actual = {
        tuple(group_key(g, d) for d in dimensions): (
            g.order_count,
            g.total_value_cny,
            g.matched_count,
            g.unconverted_count,
        )
        for g in groups
    }
    assert len(actual) == len(groups), "a group key was returned twice"
    return actual


def assert_same(
    actual: dict[tuple[str | None, ...], Measures],
    expected: dict[tuple[str | None, ...], Measures],
) -> None:
    """Same groups and counts; CNY totals within one cent (SQLite sums floats)."""
    assert actual.keys() == expected.keys()
    for key, (count, value, matched, unconverted) in expected.items():
        got = actual[key]
        assert (got[0], got[2], got[3]) == (count, matched, unconverted), key
        assert abs(got[1] - value) <= Decimal("0.01"), (key, got[1], value)
        assert got[1] == got[1].quantize(Decimal("0.01")), "totals are rounded to cents"


async def run_statistics(
    demo: DemoDb, dimensions: list[Dimension], where: StatisticsFilter | None = None
) -> tuple[list[service.StatisticsGroup], list[Order]]:
    """The service's answer and the plain orders, read in one session."""
    async with demo.runtime.session_factory() as session:
        groups = await service.statistics(
            session=session, group_by=dimensions, where=where or StatisticsFilter(), rates=TABLE
        )
        return groups, await plain_orders(session)


# -- statistics over the demo data set -------------------------------------------------------


@pytest.mark.parametrize("dimension", list(Dimension), ids=lambda d: d.value)
async def test_each_dimension_matches_an_independent_computation(
    demo: DemoDb, dimension: Dimension
) -> None:
    groups, orders = await run_statistics(demo, [dimension])
    expected = expected_groups(orders, [dimension])
    assert len(expected) > 1, "the data set must spread over several groups"
    assert_same(actual_groups(groups, [dimension]), expected)


@pytest.mark.parametrize(
    "dimensions",
    [
        [Dimension.TRADE_MODE, Dimension.MONTH],
        [Dimension.DIRECTION, Dimension.BUSINESS_TYPE, Dimension.REGION],
        [Dimension.ENTERPRISE, Dimension.DIRECTION, Dimension.TRADE_MODE, Dimension.MONTH],
    ],
    ids=lambda ds: "+".join(d.value for d in ds),
)
async def test_combined_dimensions_match_an_independent_computation(
    demo: DemoDb, dimensions: list[Dimension]
) -> None:
    groups, orders = await run_statistics(demo, dimensions)
    assert_same(actual_groups(groups, dimensions), expected_groups(orders, dimensions))


async def test_no_dimension_gives_one_group_of_every_order_but_the_cancelled(
    demo: DemoDb,
) -> None:
    groups, orders = await run_statistics(demo, [])
    assert len(groups) == 1
    # 150 demo orders + 3 planted − 1 cancelled.
    assert groups[0].order_count == ORDERS + 3 - 1 == len(orders) - 1
    assert_same(actual_groups(groups, []), expected_groups(orders, []))


async def test_cancelled_orders_are_not_counted(demo: DemoDb) -> None:
    ebp, no = demo.cancelled
    groups, orders = await run_statistics(demo, [], StatisticsFilter(enterprise=ebp))
    cancelled = next(o for o in orders if (o.ebp_code, o.order_no) == (ebp, no))
    assert cancelled.status == "CANCELLED"
    active = [o for o in orders if ebp in (o.ebp_code, o.ebc_code) and o.status != "CANCELLED"]
    assert groups[0].order_count == len(active)


async def test_usd_orders_are_converted_at_the_given_usd_rate(demo: DemoDb) -> None:
    async with demo.runtime.session_factory() as session:
        orders = await plain_orders(session)
        usd = [o for o in orders if o.currency == "502" and o.status != "CANCELLED"]
        assert usd and all(o.order_type in ("B", "W") for o in usd)
        where = StatisticsFilter(direction=Direction.E)
        dims = [Dimension.BUSINESS_TYPE]
        at_725 = await service.statistics(session=session, group_by=dims, where=where, rates=TABLE)
        doubled = RateTable({**RATES, "502": Decimal("14.50")})
        at_1450 = await service.statistics(
            session=session, group_by=dims, where=where, rates=doubled
        )
    b2b = next(g for g in at_725 if g.business_type == "B2B")
    usd_total = sum((Decimal(o.goods_value) for o in usd), Decimal(0))
    assert abs(b2b.total_value_cny - usd_total * Decimal("7.25")) <= Decimal("0.01")
    # Doubling the USD rate doubles the B2B (USD) total and leaves B2C (CNY) unchanged.
    b2b_doubled = next(g for g in at_1450 if g.business_type == "B2B")
    assert abs(b2b_doubled.total_value_cny - 2 * b2b.total_value_cny) <= Decimal("0.02")
    b2c = [g.total_value_cny for g in at_725 if g.business_type == "B2C"]
    assert b2c == [g.total_value_cny for g in at_1450 if g.business_type == "B2C"]


async def test_euro_orders_convert_and_unknown_currencies_are_counted_not_valued(
    demo: DemoDb,
) -> None:
    groups, _ = await run_statistics(demo, [], StatisticsFilter(enterprise=CUSTOMS_CODE_PLATFORM))
    (group,) = groups
    assert group.order_count == 3
    assert group.unconverted_count == 1
    assert group.total_value_cny == Decimal("1000.00") + Decimal("250.50") * Decimal("7.90")


async def test_a_platform_known_by_customs_code_falls_in_region_null(demo: DemoDb) -> None:
    groups, _ = await run_statistics(demo, [Dimension.REGION])
    by_code = {g.region_code: g for g in groups}
    assert by_code[None].order_count == 3 and by_code[None].region is None
    assert by_code["3203"].region == "Xuzhou"
    assert by_code["3206"].region == "Nantong"
    assert list(by_code)[-1] is None, "the null region sorts last on both databases"


async def test_enterprise_groups_carry_the_platform_name(demo: DemoDb) -> None:
    groups, _ = await run_statistics(demo, [Dimension.ENTERPRISE])
    named = {g.enterprise_code: g.enterprise_name for g in groups}
    platforms = {code: name for code, name in demo.names.items() if "Platform" in name}
    assert {c: named[c] for c in platforms} == platforms
    assert named[CUSTOMS_CODE_PLATFORM] is None  # never filed: no name to show


FILTERS: list[tuple[str, StatisticsFilter, Callable[[Order], bool]]] = [
    (
        "months",
        StatisticsFilter(month_from="2024-03", month_to="2024-06"),
        lambda o: "202403" <= o.app_time[:6] <= "202406",
    ),
    ("from-month", StatisticsFilter(month_from="2024-10"), lambda o: o.app_time[:6] >= "202410"),
    ("import", StatisticsFilter(direction=Direction.I), lambda o: o.direction == "I"),
    ("trade-mode", StatisticsFilter(trade_mode="9710"), lambda o: o.trade_mode == "9710"),
    (
        "mismatch",
        StatisticsFilter(match_status="MISMATCH"),
        lambda o: o.match_status == "MISMATCH",
    ),
    (
        "export-9610-matched",
        StatisticsFilter(direction=Direction.E, trade_mode="9610", match_status="MATCHED"),
        lambda o: (o.direction, o.trade_mode, o.match_status) == ("E", "9610", "MATCHED"),
    ),
]


@pytest.mark.parametrize(("where", "keep"), [f[1:] for f in FILTERS], ids=[f[0] for f in FILTERS])
async def test_filters_select_the_same_orders_as_an_independent_filter(
    demo: DemoDb, where: StatisticsFilter, keep: Callable[[Order], bool]
) -> None:
    dims = [Dimension.MONTH, Dimension.DIRECTION]
    groups, orders = await run_statistics(demo, dims, where)
    expected = expected_groups(orders, dims, keep)
    assert expected, "the filter must leave some orders"
    assert_same(actual_groups(groups, dims), expected)


async def test_enterprise_filter_matches_the_platform_or_the_seller(demo: DemoDb) -> None:
    dims = [Dimension.ENTERPRISE]
    for code in demo.names:
        groups, orders = await run_statistics(demo, dims, StatisticsFilter(enterprise=code))
        expected = expected_groups(orders, dims, lambda o, c=code: c in (o.ebp_code, o.ebc_code))
        assert_same(actual_groups(groups, dims), expected)


async def test_statistics_is_one_sql_statement_whatever_the_grouping(demo: DemoDb) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    engine = demo.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with demo.runtime.session_factory() as session:
            for dims in ([], list(Dimension), [Dimension.ENTERPRISE, Dimension.MONTH]):
                statements.clear()
                await service.statistics(
                    session=session, group_by=dims, where=StatisticsFilter(), rates=TABLE
                )
                assert len(statements) == 1, statements
                assert "GROUP BY" in statements[0] or not dims
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize(
    "where",
    [
        {"month_from": "2024-13"},
        {"month_to": "24-01"},
        {"month_from": "2024-06", "month_to": "2024-05"},
    ],
)
def test_malformed_or_reversed_months_are_refused(where: dict[str, str]) -> None:
    with pytest.raises(service.InvalidFilter):
        StatisticsFilter(**where)  # type: ignore[arg-type]


# -- forex totals -------------------------------------------------------------------------

SELLER_BELOW = "91320612MA1R7T2D90"
SELLER_WATCH = "91320382MA1P5H6C30"
SELLER_OVER = "91320311MA1U6Y3A80"
PLATFORM = "91320303MA1W4K2L70"


def make_receipt(no: str, charge: str, currency: str, date: str = "20240510") -> Receipt:
    """A receipt graph row for the order `no` of PLATFORM."""
    return Receipt(
        **_node(f"receipt:{no}:{date}:{charge}"),
        pay_code="PAY",
        pay_no=f"R{no}{date}{charge}",
        ebp_code=PLATFORM,
        order_no=no,
        charge=Decimal(charge),
        currency=currency,
        accounting_date=f"{date}120000",
    )


def make_payment(no: str, amount: str, currency: str, time: str = "20240601") -> Payment:
    """A payment graph row for the order `no` of PLATFORM."""
    return Payment(
        **_node(f"payment:{no}:{amount}"),
        pay_code="PAY",
        pay_transaction_id=f"T{no}{amount}",
        ebp_code=PLATFORM,
        order_no=no,
        amount_paid=Decimal(amount),
        currency=currency,
        pay_time=f"{time}080000",
    )


async def plant_forex(runtime: Runtime) -> None:
    """Three sellers, one per band, plus money that must not count."""
    async with runtime.session_factory() as session, session.begin():
        session.add(
            Enterprise(
                code=SELLER_WATCH,
                name="Watched Seller Co., Ltd.",
                roles=["ebc"],
                record_key="enterprise:w",
                updated_at=datetime(2024, 1, 1, tzinfo=UTC),
            )
        )
        session.add_all(
            [
                make_order(ebp=PLATFORM, no="B1", ebc=SELLER_BELOW, value="1", currency="502"),
                make_order(ebp=PLATFORM, no="W1", ebc=SELLER_WATCH, value="1", currency="502"),
                make_order(ebp=PLATFORM, no="W2", ebc=SELLER_WATCH, value="1"),
                make_order(ebp=PLATFORM, no="W3", ebc=SELLER_WATCH, value="1", currency="300"),
                make_order(ebp=PLATFORM, no="O1", ebc=SELLER_OVER, value="1", direction="I"),
            ]
        )
        cancelled = make_receipt("B1", "500000.00", "502", "20240601")
        cancelled.status = "CANCELLED"
        session.add_all(
            [
                # BELOW: 179,999.99 USD — a cent under the watch band.
                make_receipt("B1", "100000.00", "502"),
                make_receipt("B1", "79999.99", "502", "20240702"),
                cancelled,
                make_receipt("B1", "900000.00", "502", "20231231"),  # the year before
                make_receipt("NO-ORDER", "900000.00", "502"),  # no order: no known seller
                # WATCH: 150,000 USD + 145,000 CNY (20,000 USD) + 13,725 EUR (about 15,000 USD).
                make_receipt("W1", "150000.00", "502"),
                make_receipt("W2", "145000.00", "142"),
                make_receipt("W3", "13725.00", "300"),
                # OVER: payments of 200,000.01 USD in CNY, plus one in an unknown currency.
                make_payment("O1", "1000000.00", "142"),
                make_payment("O1", "450000.08", "142", "20241231"),
                make_payment("O1", "123.00", "999"),
                make_payment("O1", "7250000.00", "142", "20250101"),  # the year after
            ]
        )


async def test_forex_totals_put_one_seller_in_each_band_with_exact_usd(runtime: Runtime) -> None:
    await plant_forex(runtime)
    rates = RateTable({"142": Decimal(1), "502": Decimal("7.25"), "300": Decimal("7.92")})
    async with runtime.session_factory() as session:
        totals = await service.forex_totals(session=session, year=2024, rates=rates)
    by_code = {t.enterprise_code: t for t in totals}
    assert list(by_code) == sorted([SELLER_BELOW, SELLER_WATCH, SELLER_OVER])

    below = by_code[SELLER_BELOW]
    assert (below.receipts_usd, below.payments_usd) == (Decimal("179999.99"), Decimal("0.00"))
    assert below.band is ForexBand.BELOW

    watch = by_code[SELLER_WATCH]
    eur_in_usd = Decimal("13725.00") * Decimal("7.92") / Decimal("7.25")
    expected = (Decimal("150000") + Decimal("145000") / Decimal("7.25") + eur_in_usd).quantize(
        Decimal("0.01")
    )
    assert watch.receipts_usd == expected
    assert Decimal(180_000) <= watch.receipts_usd < Decimal(200_000)
    assert watch.band is ForexBand.WATCH
    assert watch.enterprise_name == "Watched Seller Co., Ltd."

    over = by_code[SELLER_OVER]
    assert (over.receipts_usd, over.payments_usd) == (Decimal("0.00"), Decimal("200000.01"))
    assert over.band is ForexBand.OVER
    assert over.unconverted_count == 1


async def test_forex_totals_for_one_enterprise_and_an_empty_year(runtime: Runtime) -> None:
    await plant_forex(runtime)
    async with runtime.session_factory() as session:
        one = await service.forex_totals(
            session=session, year=2024, rates=TABLE, enterprise=SELLER_OVER
        )
        assert [t.enterprise_code for t in one] == [SELLER_OVER]
        assert await service.forex_totals(session=session, year=2022, rates=TABLE) == []
        later = await service.forex_totals(session=session, year=2025, rates=TABLE)
    assert [(t.enterprise_code, t.payments_usd) for t in later] == [
        (SELLER_OVER, Decimal("1000000.00"))
    ]


@pytest.mark.parametrize(
    ("usd", "band"),
    [
        ("0", ForexBand.BELOW),
        ("179999.99", ForexBand.BELOW),
        ("180000.01", ForexBand.WATCH),
        ("199999.99", ForexBand.WATCH),
        ("200000.01", ForexBand.OVER),
        ("3000000", ForexBand.OVER),
    ],
)
def test_band_thresholds_watch_above_180k_and_over_above_200k(usd: str, band: ForexBand) -> None:
    assert service.band_of(Decimal(usd)) is band


def test_exactly_usd_200000_is_not_over_the_band_safe_2019() -> None:
    # SAFE: "over" is above 200,000; the early-warning band runs up to it.
    assert service.band_of(Decimal("200000.00")) is ForexBand.WATCH


def test_exactly_usd_180000_is_not_watched_safe_2019() -> None:
    # The watch band is above 180,000 and below 200,000.
    assert service.band_of(Decimal("180000.00")) is ForexBand.BELOW


async def test_forex_totals_over_the_demo_match_receipts_summed_by_seller(demo: DemoDb) -> None:
    async with demo.runtime.session_factory() as session:
        totals = await service.forex_totals(session=session, year=2024, rates=TABLE)
        orders = {(o.ebp_code, o.order_no): o for o in await plain_orders(session)}
        receipts = list((await session.execute(select(Receipt))).scalars())
        payments = list((await session.execute(select(Payment))).scalars())
    expected: dict[str, list[Decimal]] = {}
    for amount, currency, key, when in [
        *((r.charge, r.currency, (r.ebp_code, r.order_no), r.accounting_date) for r in receipts),
        *((p.amount_paid, p.currency, (p.ebp_code, p.order_no), p.pay_time) for p in payments),
    ]:
        order = orders.get(key)
        if order is None or not when.startswith("2024"):
            continue
        sums = expected.setdefault(order.ebc_code, [Decimal(0), Decimal(0)])
        sums[0 if order.direction == "E" else 1] += Decimal(amount) * RATES[currency] / RATES["502"]
    assert len(expected) >= 3
    actual = {t.enterprise_code: (t.receipts_usd, t.payments_usd) for t in totals}
    assert actual.keys() == expected.keys()
    for code, (receipts_usd, payments_usd) in expected.items():
        assert abs(actual[code][0] - receipts_usd) <= Decimal("0.01"), code
        assert abs(actual[code][1] - payments_usd) <= Decimal("0.01"), code


# -- rates --------------------------------------------------------------------------------


def test_fx_rates_env_var_overrides_and_extends_the_defaults() -> None:
    table = configured_rates({ENV_VAR: "502=7.30, 300=7.95,344=0.08"})
    assert table.rate("502") == Decimal("7.30")
    assert table.rate("300") == Decimal("7.95")
    assert table.rate("344") == Decimal("0.08")
    assert table.rate("142") == Decimal(1)
    assert table.rate("110") == configured_rates({}).rate("110") is not None


@pytest.mark.parametrize("text", ["502", "502=", "502=abc", "USD=7.1", "502=-1", "142=2", "502=0"])
def test_malformed_fx_rates_fail_loudly_naming_the_variable(text: str) -> None:
    with pytest.raises(RatesError, match=ENV_VAR):
        parse_rates(text)


# -- through GraphQL: access rules ----------------------------------------------------------

STATISTICS = """
query ($groupBy: [StatisticsDimension!]!, $filter: StatisticsFilter) {
  statistics(groupBy: $groupBy, filter: $filter) {
    groupBy
    groups { enterpriseCode enterpriseName month direction businessType tradeMode
             regionCode region orderCount totalValueCny matchedCount unconvertedCount }
    rates { currency name cnyPerUnit }
  }
}
"""
FOREX = """
query ($year: Int!, $enterprise: String) {
  forexTotals(year: $year, enterprise: $enterprise) {
    enterpriseCode enterpriseName year receiptsUsd paymentsUsd band unconvertedCount
  }
}
"""


def principal(*scopes: Scope, enterprise: str | None = None) -> Principal:
    """A caller with these scopes (and bound enterprise)."""
    return Principal("client", "test", frozenset(scopes), enterprise, TEST_ISSUER)


async def execute(
    runtime: Runtime, who: Principal, query: str, **variables: Any
) -> tuple[ExecutionResult, Context]:
    """Runs an operation with a real Context; returns the result and the context."""
    request = Request({"type": "http", "method": "POST", "path": "/graphql", "headers": []})
    context = Context(request=request, principal=who, runtime=runtime)
    try:
        result = await SCHEMA.execute(query, variable_values=variables, context_value=context)
    finally:
        await context.close()
    return result, context


def codes(result: ExecutionResult) -> list[str]:
    """The extensions.code of each error."""
    return [(e.extensions or {}).get("code", "") for e in result.errors or []]


COUNTS = """
query ($groupBy: [StatisticsDimension!]!) {
  statistics(groupBy: $groupBy) { groups { enterpriseCode suppressed orderCount } }
}
"""


async def test_customs_reads_statistics_of_every_enterprise_unsuppressed(
    demo: DemoDb, default_rates: None
) -> None:
    result, context = await execute(
        demo.runtime, principal(Scope.CUSTOMS_READ), STATISTICS, groupBy=["ENTERPRISE"]
    )
    assert result.errors is None
    groups = result.data["statistics"]["groups"]  # type: ignore[index]
    assert sum(g["orderCount"] for g in groups) == ORDERS + 3 - 1
    assert any(g["orderCount"] < 5 for g in groups)  # small cells stay visible to customs
    # The aggregate read is noted against every enterprise it names, with no record ids.
    assert context.audit.enterprises == {g["enterpriseCode"] for g in groups}
    assert context.audit.record_count == 0


@pytest.mark.parametrize("scope", [Scope.TAX_READ, Scope.FOREX_READ, Scope.MARKET_READ])
async def test_other_departments_read_statistics_without_small_cells(
    demo: DemoDb, scope: Scope, default_rates: None
) -> None:
    result, context = await execute(demo.runtime, principal(scope), COUNTS, groupBy=["ENTERPRISE"])
    assert result.errors is None
    groups = result.data["statistics"]["groups"]  # type: ignore[index]
    shown = [g["orderCount"] for g in groups if not g["suppressed"]]
    hidden = [g for g in groups if g["suppressed"]]
    assert hidden and all(g["orderCount"] is None for g in hidden)
    assert shown and min(shown) >= 5
    # What the hidden cells hold together (total − shown) is itself no small number.
    assert ORDERS + 3 - 1 - sum(shown) >= 5
    assert context.audit.enterprises == {g["enterpriseCode"] for g in groups}


async def test_a_supervisor_reads_only_the_ungrouped_count(demo: DemoDb) -> None:
    supervisor = principal(Scope.AUDIT_READ)
    result, _ = await execute(demo.runtime, supervisor, COUNTS, groupBy=["ENTERPRISE"])
    assert codes(result) == ["FORBIDDEN"]
    assert result.errors[0].extensions["category"] == "registration"  # type: ignore[index]
    result, _ = await execute(demo.runtime, supervisor, COUNTS, groupBy=[])
    assert result.errors is None
    assert result.data["statistics"]["groups"] == [  # type: ignore[index]
        {"enterpriseCode": None, "suppressed": False, "orderCount": ORDERS + 3 - 1}
    ]


async def test_a_bank_is_refused_statistics_and_forex_totals(demo: DemoDb) -> None:
    bank = principal(Scope.FINANCE_READ)
    for query, variables in ((STATISTICS, {"groupBy": ["MONTH"]}), (FOREX, {"year": 2024})):
        result, context = await execute(demo.runtime, bank, query, **variables)
        assert result.data is None
        assert codes(result) == ["FORBIDDEN"]
        assert not context.audit.touched


async def test_an_enterprise_sees_only_its_own_statistics(demo: DemoDb) -> None:
    seller = next(code for code, name in demo.names.items() if "Dasuan" in name)
    own = principal(Scope.DECLARE, enterprise=seller)
    result, context = await execute(demo.runtime, own, STATISTICS, groupBy=["DIRECTION"])
    assert result.errors is None
    async with demo.runtime.session_factory() as session:
        orders = await plain_orders(session)
    mine = [o for o in orders if seller in (o.ebp_code, o.ebc_code) and o.status != "CANCELLED"]
    groups = result.data["statistics"]["groups"]  # type: ignore[index]
    assert [(g["direction"], g["orderCount"]) for g in groups] == [("E", len(mine))]
    assert context.audit.enterprises == {seller}

    other = next(code for code, name in demo.names.items() if "Jinsha" in name)
    refused, _ = await execute(
        demo.runtime, own, STATISTICS, groupBy=["MONTH"], filter={"enterprise": other}
    )
    assert codes(refused) == ["FORBIDDEN"]


async def test_an_enterprise_reads_its_own_forex_totals_only(runtime: Runtime) -> None:
    await plant_forex(runtime)
    own = principal(Scope.DECLARE, enterprise=SELLER_WATCH)
    result, context = await execute(runtime, own, FOREX, year=2024)
    assert result.errors is None
    rows = result.data["forexTotals"]  # type: ignore[index]
    assert [(r["enterpriseCode"], r["band"]) for r in rows] == [(SELLER_WATCH, "WATCH")]
    assert context.audit.enterprises == {SELLER_WATCH}
    refused, _ = await execute(runtime, own, FOREX, year=2024, enterprise=SELLER_OVER)
    assert codes(refused) == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("scope", "allowed"),
    [
        (Scope.FOREX_READ, True),
        (Scope.CUSTOMS_READ, True),
        (Scope.TAX_READ, False),
        (Scope.MARKET_READ, False),
    ],
)
async def test_forex_totals_need_forex_or_customs_read(
    runtime: Runtime, scope: Scope, allowed: bool, default_rates: None
) -> None:
    await plant_forex(runtime)
    result, context = await execute(runtime, principal(scope), FOREX, year=2024)
    if allowed:
        assert result.errors is None
        rows = result.data["forexTotals"]  # type: ignore[index]
        assert {r["band"] for r in rows} == {"BELOW", "WATCH", "OVER"}
        assert context.audit.enterprises == {SELLER_BELOW, SELLER_WATCH, SELLER_OVER}
    else:
        assert codes(result) == ["FORBIDDEN"]


async def test_statistics_use_the_rates_of_hub_fx_rates(
    demo: DemoDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, "502=7.25,300=7.90")
    result, _ = await execute(
        demo.runtime,
        principal(Scope.CUSTOMS_READ),
        STATISTICS,
        groupBy=["BUSINESS_TYPE"],
        filter={"direction": "E"},
    )
    assert result.errors is None
    data = result.data["statistics"]  # type: ignore[index]
    assert {"currency": "502", "name": "USD", "cnyPerUnit": "7.25"} in data["rates"]
    async with demo.runtime.session_factory() as session:
        orders = await plain_orders(session)
    expected = expected_groups(orders, [Dimension.BUSINESS_TYPE], lambda o: o.direction == "E")
    for group in data["groups"]:
        value = expected[(group["businessType"],)][1]
        assert abs(Decimal(group["totalValueCny"]) - value) <= Decimal("0.01")


async def test_bad_filter_values_are_bad_user_input(demo: DemoDb) -> None:
    customs = principal(Scope.CUSTOMS_READ)
    result, _ = await execute(
        demo.runtime, customs, STATISTICS, groupBy=[], filter={"monthFrom": "2024-7"}
    )
    assert codes(result) == ["BAD_USER_INPUT"]
    assert "YYYY-MM" in str(result.errors)
    result, _ = await execute(demo.runtime, customs, FOREX, year=0)
    assert codes(result) == ["BAD_USER_INPUT"]


async def test_a_bank_token_over_http_gets_forbidden(
    gql: Callable[..., Any], get_token: Callable[..., Any]
) -> None:
    bank = await get_token(scopes="finance:read")
    body = await gql(STATISTICS, token=bank, variables={"groupBy": ["MONTH"]})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    customs = await get_token(scopes="customs:read")
    body = await gql(STATISTICS, token=customs, variables={"groupBy": ["MONTH"]})
    assert "errors" not in body
    assert body["data"]["statistics"]["groups"] == []  # an empty database: no groups


async def test_a_malformed_hub_fx_rates_fails_the_query_without_leaking_it(
    demo: DemoDb, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(ENV_VAR, "502=seven")
    result, _ = await execute(
        demo.runtime, principal(Scope.CUSTOMS_READ), STATISTICS, groupBy=["MONTH"]
    )
    assert codes(result) == ["INTERNAL"]
    assert "502=seven" in caplog.text and ENV_VAR in caplog.text
