"""Statistics and forex totals: one GROUP BY statement per call, straight over the graph tables.

The read side bypasses the domain model (CQRS): no order is loaded into Python; the
database counts, converts currencies (a CASE over the configured rate table) and sums.

Decisions:
- Cancelled orders (status CANCELLED) are left out of every statistic.
- REGION is the city of the platform (ebpCode): characters 3-6 of its USCC, the city part
  of the division `hub.trade.regions` reads. A 10-character customs code has no division,
  so its orders fall in the region null. The city name comes from `regions.CITIES`.
- Amounts in a currency the rate table does not know are not guessed: they add nothing to
  the CNY total and are counted in `unconverted_count`, so a gap is visible.
- SQLite sums NUMERIC columns as floats; every total is rounded to cents (half up) here,
  so both databases return the same Decimals.
- Forex totals belong to the seller (`ebcCode` of the order a receipt or payment pays),
  in the calendar year of the money movement (receipt accountingDate, payment payTime).
  A receipt or payment whose order is not in the graph yet has no known seller and is left
  out until the order arrives. The band follows the larger of receipts and payments,
  because SAFE's threshold applies to "receipts or payments".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access import authority
from hub.stats.rates import RateTable
from hub.stats.suppression import suppressed_cells
from hub.trade.models import Enterprise, Order, Payment, Receipt
from hub.trade.regions import CITIES

__all__ = [
    "B2B_ORDER_TYPES",
    "OVER_ABOVE_USD",
    "WATCH_ABOVE_USD",
    "BusinessType",
    "Dimension",
    "Direction",
    "ForexBand",
    "ForexTotal",
    "InvalidFilter",
    "StatisticsFilter",
    "StatisticsGroup",
    "band_of",
    "forex_totals",
    "statistics",
    "suppress_small",
]

CANCELLED = "CANCELLED"
MATCHED = "MATCHED"
CENT = Decimal("0.01")
# Order types of business-to-business trade: B (9710 direct export), W (9810 overseas
# warehouse). Every other order type is retail (B2C).
B2B_ORDER_TYPES = ("B", "W")
_RATE_TYPE = Numeric(18, 6)
_SUM_TYPE = Numeric(30, 6)
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

# SAFE's trade forex enterprise list: an enterprise whose yearly goods-trade receipts or
# payments pass USD 200,000 must register within a month; above 180,000 it is watched as
# an early warning. "Over" is strictly above 200,000 and "watch" strictly above 180,000;
# exactly 200,000 is not over and stays watched (docs/rules.md, "SAFE bands").
WATCH_ABOVE_USD = Decimal("180000")
OVER_ABOVE_USD = Decimal("200000")


class Dimension(StrEnum):
    """What statistics can be grouped by."""

    TRADE_MODE = "TRADE_MODE"
    DIRECTION = "DIRECTION"
    BUSINESS_TYPE = "BUSINESS_TYPE"
    MONTH = "MONTH"
    REGION = "REGION"
    ENTERPRISE = "ENTERPRISE"


class BusinessType(StrEnum):
    """B2B (order types B and W) or B2C (all other order types)."""

    B2B = "B2B"
    B2C = "B2C"


class Direction(StrEnum):
    """I import, E export."""

    I = "I"  # noqa: E741 - the customs code itself
    E = "E"


class ForexBand(StrEnum):
    """Where an enterprise's yearly USD total stands against SAFE's registration threshold."""

    BELOW = "BELOW"
    WATCH = "WATCH"
    OVER = "OVER"


def band_of(usd: Decimal) -> ForexBand:
    """The band of a yearly USD total: BELOW ≤ 180,000 < WATCH ≤ 200,000 < OVER."""
    if usd > OVER_ABOVE_USD:
        return ForexBand.OVER
    if usd > WATCH_ABOVE_USD:
        return ForexBand.WATCH
    return ForexBand.BELOW


class InvalidFilter(ValueError):
    """A statistics filter value the caller can correct."""


@dataclass(frozen=True)
class StatisticsFilter:
    """Which orders to count; every field narrows, None means any."""

    month_from: str | None = None  # YYYY-MM, inclusive
    month_to: str | None = None  # YYYY-MM, inclusive
    direction: Direction | None = None
    trade_mode: str | None = None
    enterprise: str | None = None  # the platform (ebpCode) or the seller (ebcCode)
    match_status: str | None = None

    def __post_init__(self) -> None:
        for name in ("month_from", "month_to"):
            value = getattr(self, name)
            if value is not None and not _MONTH.match(value):
                raise InvalidFilter(f"{name}={value!r}: expected a month as YYYY-MM")
        if self.month_from and self.month_to and self.month_from > self.month_to:
            raise InvalidFilter(f"month_from {self.month_from} is after month_to {self.month_to}")


@dataclass(frozen=True)
class StatisticsGroup:
    """One group: its key (None for dimensions not grouped by) and its measures."""

    trade_mode: str | None
    direction: Direction | None
    business_type: BusinessType | None
    month: str | None
    region_code: str | None
    region: str | None
    enterprise_code: str | None
    enterprise_name: str | None
    # Measures are None in a suppressed cell (hub/stats/suppression.py), and the money
    # measures when the caller may not read them (nothing is summed then).
    order_count: int | None
    total_value_cny: Decimal | None
    matched_count: int | None
    unconverted_count: int | None
    suppressed: bool = False


@dataclass(frozen=True)
class ForexTotal:
    """One seller's yearly receipts and payments in USD and its SAFE band."""

    enterprise_code: str
    enterprise_name: str | None
    year: int
    receipts_usd: Decimal
    payments_usd: Decimal
    band: ForexBand
    unconverted_count: int


def cents(value: Any) -> Decimal:
    """A database sum (Decimal, float, str or NULL) as a Decimal rounded half up to cents."""
    if value is None:
        return Decimal("0.00")
    # str() first: Decimal(float) would carry the float's binary noise into the rounding.
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _in_cny(amount: Any, currency: Any, rates: RateTable) -> ColumnElement[Any]:
    # Typed parameters: PostgreSQL then multiplies NUMERIC by NUMERIC, exactly.
    whens = {
        code: amount * cast(literal(rate, _RATE_TYPE), _RATE_TYPE)
        for code, rate in sorted(rates.cny_per_unit.items())
    }
    return case(whens, value=currency, else_=null())


def _unconverted(currency: Any, rates: RateTable) -> ColumnElement[Any]:
    return case((currency.in_(sorted(rates.cny_per_unit)), 0), else_=1)


def _dimension_columns() -> dict[Dimension, list[ColumnElement[Any]]]:
    # Labels are distinct from the table's column names: GROUP BY and ORDER BY name the
    # output columns, because PostgreSQL does not see a CASE with bound parameters in the
    # SELECT list and the same CASE in GROUP BY as one expression.
    platform_city = case(
        (func.length(Order.ebp_code) == 18, func.substr(Order.ebp_code, 3, 4)), else_=null()
    )
    return {
        Dimension.TRADE_MODE: [Order.trade_mode.label("k_trade_mode")],
        Dimension.DIRECTION: [Order.direction.label("k_direction")],
        Dimension.BUSINESS_TYPE: [
            case(
                (Order.order_type.in_(B2B_ORDER_TYPES), BusinessType.B2B.value),
                else_=BusinessType.B2C.value,
            ).label("k_business_type")
        ],
        Dimension.MONTH: [Order.order_month.label("k_month")],
        Dimension.REGION: [platform_city.label("k_region_code")],
        Dimension.ENTERPRISE: [
            Order.ebp_code.label("k_enterprise_code"),
            Enterprise.name.label("k_enterprise_name"),
        ],
    }


def _order_conditions(where: StatisticsFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Order.status != CANCELLED]
    if where.month_from is not None:
        conditions.append(Order.order_month >= where.month_from)
    if where.month_to is not None:
        conditions.append(Order.order_month <= where.month_to)
    if where.direction is not None:
        conditions.append(Order.direction == where.direction.value)
    if where.trade_mode is not None:
        conditions.append(Order.trade_mode == where.trade_mode)
    if where.enterprise is not None:
        conditions.append(
            or_(Order.ebp_code == where.enterprise, Order.ebc_code == where.enterprise)
        )
    if where.match_status is not None:
        conditions.append(Order.match_status == where.match_status)
    return conditions


async def statistics(
    *,
    session: AsyncSession,
    group_by: Sequence[Dimension],
    where: StatisticsFilter,
    rates: RateTable,
    values: bool = True,
    matches: bool = True,
) -> list[StatisticsGroup]:
    """Counts, CNY totals and matched counts of non-cancelled orders per group, in one query.

    `values=False` leaves the money measures (CNY total, unconverted count) uncomputed and
    None, `matches=False` the matched count: for callers who may not read them."""
    dimensions = list(dict.fromkeys(group_by))  # a dimension asked for twice groups once
    available = _dimension_columns()
    keys = [column for d in dimensions for column in available[d]]
    value_cny: ColumnElement[Any] = func.sum(
        _in_cny(Order.goods_value, Order.currency, rates), type_=_SUM_TYPE
    )
    measures = [
        func.count(Order.id).label("order_count"),
        (value_cny if values else null()).label("value_cny"),
        (func.sum(case((Order.match_status == MATCHED, 1), else_=0)) if matches else null()).label(
            "matched_count"
        ),
        (func.sum(_unconverted(Order.currency, rates)) if values else null()).label(
            "unconverted_count"
        ),
    ]
    query = select(*keys, *measures).where(*_order_conditions(where))
    if Dimension.ENTERPRISE in dimensions:
        query = query.outerjoin(Enterprise, Enterprise.code == Order.ebp_code)
    if keys:
        names: list[ColumnElement[Any]] = [literal_column(str(column.key)) for column in keys]
        query = query.group_by(*names).order_by(*(name.asc().nulls_last() for name in names))
    rows = (await session.execute(query)).mappings().all()
    groups = []
    for row in rows:  # one row per group, never per order
        region_code = row.get("k_region_code")
        direction = row.get("k_direction")
        business_type = row.get("k_business_type")
        groups.append(
            StatisticsGroup(
                trade_mode=row.get("k_trade_mode"),
                direction=Direction(direction) if direction is not None else None,
                business_type=BusinessType(business_type) if business_type is not None else None,
                month=row.get("k_month"),
                region_code=region_code,
                region=CITIES.get(region_code) if region_code is not None else None,
                enterprise_code=row.get("k_enterprise_code"),
                enterprise_name=row.get("k_enterprise_name"),
                order_count=int(row["order_count"] or 0),
                total_value_cny=cents(row["value_cny"]) if values else None,
                matched_count=int(row["matched_count"] or 0) if matches else None,
                unconverted_count=int(row["unconverted_count"] or 0) if values else None,
            )
        )
    return groups


_KEY_OF = {
    Dimension.TRADE_MODE: "trade_mode",
    Dimension.DIRECTION: "direction",
    Dimension.BUSINESS_TYPE: "business_type",
    Dimension.MONTH: "month",
    Dimension.REGION: "region_code",
    Dimension.ENTERPRISE: "enterprise_code",
}


def suppress_small(
    groups: Sequence[StatisticsGroup], *, group_by: Sequence[Dimension], min_group: int
) -> list[StatisticsGroup]:
    """The groups with small cells (and their complements) suppressed: measures None."""
    dimensions = list(dict.fromkeys(group_by))
    hidden = suppressed_cells(
        groups,
        dimensions=dimensions,
        key_of=lambda g, d: getattr(g, _KEY_OF[Dimension(d)]),
        count_of=lambda g: g.order_count or 0,
        min_group=min_group,
    )
    return [
        replace(
            g,
            order_count=None,
            total_value_cny=None,
            matched_count=None,
            unconverted_count=None,
            suppressed=True,
        )
        if i in hidden
        else g
        for i, g in enumerate(groups)
    ]


_PAYMENT_LINK = authority.RECORD_TYPES["cbec.payment"].links[0]
_RECEIPT_LINK = authority.RECORD_TYPES["cbec.receipt"].links[0]


async def forex_totals(
    *,
    session: AsyncSession,
    year: int,
    rates: RateTable,
    enterprise: str | None = None,
) -> list[ForexTotal]:
    """Each seller's receipts and payments of the year in USD with its band, in one query."""
    start, end = f"{year:04d}0101000000", f"{year + 1:04d}0101000000"
    nothing = cast(null(), _SUM_TYPE)
    receipts = (
        select(
            Order.ebc_code.label("ebc_code"),
            _in_cny(Receipt.charge, Receipt.currency, rates).label("receipt_cny"),
            nothing.label("payment_cny"),
            _unconverted(Receipt.currency, rates).label("unconverted"),
        )
        .join(
            Order,
            and_(
                Order.ebp_code == Receipt.ebp_code,
                Order.order_no == Receipt.order_no,
                # Only a receipt the order names counts (authority table, receipt → order).
                authority.link_clause(_RECEIPT_LINK, Receipt, Order),
            ),
        )
        .where(
            Receipt.status != CANCELLED,
            Receipt.accounting_date >= start,
            Receipt.accounting_date < end,
        )
    )
    payments = (
        select(
            Order.ebc_code.label("ebc_code"),
            nothing.label("receipt_cny"),
            _in_cny(Payment.amount_paid, Payment.currency, rates).label("payment_cny"),
            _unconverted(Payment.currency, rates).label("unconverted"),
        )
        .join(
            Order,
            and_(
                Order.ebp_code == Payment.ebp_code,
                Order.order_no == Payment.order_no,
                # A payment naming another payer than its order names moves no totals.
                authority.link_clause(_PAYMENT_LINK, Payment, Order),
            ),
        )
        .where(
            Payment.status != CANCELLED,
            Payment.pay_time >= start,
            Payment.pay_time < end,
        )
    )
    if enterprise is not None:
        receipts = receipts.where(Order.ebc_code == enterprise)
        payments = payments.where(Order.ebc_code == enterprise)
    money = union_all(receipts, payments).subquery("money")
    query = (
        select(
            money.c.ebc_code,
            Enterprise.name,
            func.sum(money.c.receipt_cny, type_=_SUM_TYPE).label("receipt_cny"),
            func.sum(money.c.payment_cny, type_=_SUM_TYPE).label("payment_cny"),
            func.sum(money.c.unconverted).label("unconverted"),
        )
        .outerjoin(Enterprise, Enterprise.code == money.c.ebc_code)
        .group_by(money.c.ebc_code, Enterprise.name)
        .order_by(money.c.ebc_code)
    )
    totals = []
    for row in (await session.execute(query)).all():  # one row per enterprise
        # Summed in CNY by the database, divided once: USD amounts come back exactly.
        receipts_usd = cents(_cny_decimal(row.receipt_cny) / rates.usd)
        payments_usd = cents(_cny_decimal(row.payment_cny) / rates.usd)
        totals.append(
            ForexTotal(
                enterprise_code=row.ebc_code,
                enterprise_name=row.name,
                year=year,
                receipts_usd=receipts_usd,
                payments_usd=payments_usd,
                band=band_of(max(receipts_usd, payments_usd)),
                unconverted_count=int(row.unconverted or 0),
            )
        )
    return totals


def _cny_decimal(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value))
