"""The credit factors of enterprises, computed from the graph in a few set-based statements.

Each factor is a value between 0 (worst) and 1 (best), a plain-words detail, and the
records behind it. Decided here:
- An order counts for its platform and its seller alike.
- A ratio over no orders is 1.0: nothing adverse is known (the detail says "no orders").
- Department ratings: the mean of (1 − standing) of each department's newest rating valid
  today; no rating is 1.0 (no department has spoken against it).
- Confirmed alerts cost 0.25 each (0 from four on); false positives and open alerts none.
- Timeliness: an order is late when its order, payment or waybill was declared after its
  inventory (the inventory must come last), by the declared times.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access.policy import Category, Department
from hub.credit.models import CreditRating
from hub.credit.scales import SCALES
from hub.risk.alerts import AlertStatus, Outcome
from hub.risk.models import RiskAlert
from hub.stats.rates import configured_rates
from hub.stats.service import ForexBand, forex_totals
from hub.trade.limits import LIMIT_FLAGS
from hub.trade.models import Inventory, InventoryRequest, Order, Payment, Waybill

ACTIVE = "ACTIVE"
MAX_EVIDENCE = 20
TAX_FLAGS = frozenset({"TAX_MISMATCH", "TAX_ASSESSED_DIFFERS"})
_REFUSED = frozenset({100, 700})
_ONE = Decimal(1)


@dataclass(frozen=True)
class Factor:
    """One factor of one enterprise: value in [0, 1], why, and the records behind it."""

    code: str
    value: Decimal
    detail: str
    evidence: tuple[str, ...]
    category: Category  # what the evidence is: readers without it see no evidence


@dataclass
class _Ledger:
    """What is known of one enterprise while its factors are computed."""

    orders: int = 0
    unmatched: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    mismatch_codes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    limit: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    inspected: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    with_inventory: int = 0
    late: list[str] = field(default_factory=list)
    tax: list[str] = field(default_factory=list)
    band: ForexBand | None = None
    band_ref: str | None = None
    ratings: dict[str, CreditRating] = field(default_factory=dict)
    confirmed: list[str] = field(default_factory=list)


def _ratio(bad: list[str], total: int) -> Decimal:
    if total == 0:
        return _ONE
    return (_ONE - Decimal(len(set(bad))) / Decimal(total)).quantize(Decimal("0.0001"))


def _cap(refs: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(refs))[:MAX_EVIDENCE]


def _in(codes: Collection[str] | None, *columns: Any) -> ColumnElement[bool]:
    if codes is None:
        return true()
    return or_(*(c.in_(sorted(codes)) for c in columns))


async def _ledgers(
    session: AsyncSession, codes: Collection[str] | None, today: date
) -> dict[str, _Ledger]:
    ledgers: dict[str, _Ledger] = defaultdict(_Ledger)

    def owners(ebp: str, ebc: str) -> list[str]:
        both = dict.fromkeys((ebp, ebc))
        return [c for c in both if codes is None or c in codes]

    orders: dict[tuple[str, str], tuple[str, list[str], str]] = {}
    rows = await session.execute(
        select(
            Order.record_key,
            Order.ebp_code,
            Order.ebc_code,
            Order.order_no,
            Order.match_status,
            Order.match_discrepancies,
            Order.risk_flags,
            Order.customs_status,
            Order.app_time,
        ).where(Order.status == ACTIVE, _in(codes, Order.ebp_code, Order.ebc_code))
    )
    for r in rows:
        ref = f"cbec.order:{r.record_key}"
        who = owners(r.ebp_code, r.ebc_code)
        orders[(r.ebp_code, r.order_no)] = (ref, who, r.app_time)
        flags = set(r.risk_flags or [])
        for code in who:
            ledger = ledgers[code]
            ledger.orders += 1
            if r.match_status != "MATCHED":
                ledger.unmatched.append(ref)
            if r.match_status == "MISMATCH":
                ledger.mismatched.append(ref)
                for d in r.match_discrepancies or []:
                    ledger.mismatch_codes[str(d.get("code"))] += 1
            if flags & LIMIT_FLAGS:
                ledger.limit.append(ref)
            if flags & TAX_FLAGS:
                ledger.tax.append(ref)
            status = r.customs_status
            if status is not None and (status in _REFUSED or status < 0):
                ledger.refused.append(ref)
            elif status is not None and 500 <= status <= 599:
                ledger.inspected.append(ref)
    if orders:
        await _documents(session, orders, ledgers)
    await _ratings_and_alerts(session, codes, today, ledgers)
    for total in await forex_totals(session=session, year=today.year, rates=configured_rates()):
        if codes is None or total.enterprise_code in codes:
            ledger = ledgers[total.enterprise_code]
            ledger.band = total.band
            ledger.band_ref = f"forex.total:{total.enterprise_code}:{total.year}"
    return ledgers


async def _documents(
    session: AsyncSession,
    orders: dict[tuple[str, str], tuple[str, list[str], str]],
    ledgers: dict[str, _Ledger],
) -> None:
    platforms = sorted({ebp for ebp, _ in orders})
    for r in await session.execute(
        select(
            InventoryRequest.ebp_code, InventoryRequest.order_no, InventoryRequest.record_key
        ).where(InventoryRequest.status == ACTIVE, InventoryRequest.ebp_code.in_(platforms))
    ):
        known = orders.get((r.ebp_code, r.order_no))
        if known:
            for code in known[1]:
                ledgers[code].requests.append(f"cbec.inventory-request:{r.record_key}")
    # The latest declared time of the order's other documents, against its inventory's.
    others: dict[tuple[str, str], str] = {}
    for model, column in (
        (Payment, Payment.pay_time),
        (Waybill, Waybill.payload["appTime"].as_string()),
    ):
        for r in await session.execute(
            select(model.ebp_code, model.order_no, column.label("at")).where(
                model.status == ACTIVE, model.ebp_code.in_(platforms)
            )
        ):
            key = (r.ebp_code, r.order_no)
            if r.at and r.at > others.get(key, ""):
                others[key] = r.at
    for r in await session.execute(
        select(
            Inventory.ebp_code,
            Inventory.order_no,
            Inventory.payload["appTime"].as_string().label("at"),
        ).where(Inventory.status == ACTIVE, Inventory.ebp_code.in_(platforms))
    ):
        known = orders.get((r.ebp_code, r.order_no))
        if not known or not r.at:
            continue
        ref, who, order_time = known
        latest = max(order_time or "", others.get((r.ebp_code, r.order_no), ""))
        for code in who:
            ledgers[code].with_inventory += 1
            if latest > r.at:
                ledgers[code].late.append(ref)


async def _ratings_and_alerts(
    session: AsyncSession, codes: Collection[str] | None, today: date, ledgers: dict[str, _Ledger]
) -> None:
    for rating in await session.scalars(
        select(CreditRating)
        .where(_in(codes, CreditRating.enterprise_code))
        .order_by(CreditRating.rated_on.desc(), CreditRating.recorded_at.desc())
    ):
        valid = rating.rated_on <= today and (
            rating.valid_until is None or today <= rating.valid_until
        )
        if valid:
            ledgers[rating.enterprise_code].ratings.setdefault(rating.department, rating)
    for alert in await session.execute(
        select(RiskAlert.id, RiskAlert.enterprise_code).where(
            _in(codes, RiskAlert.enterprise_code),
            RiskAlert.status == AlertStatus.DISPOSED.value,
            RiskAlert.outcome == Outcome.CONFIRMED.value,
        )
    ):
        ledgers[alert.enterprise_code].confirmed.append(f"risk.alert:{alert.id}")


def _factors(ledger: _Ledger) -> dict[str, Factor]:
    n = ledger.orders
    none = " (no orders)" if n == 0 else ""
    codes = ", ".join(f"{k} {v}" for k, v in sorted(ledger.mismatch_codes.items()))
    standings = [
        _ONE - Decimal(str(SCALES[Department(r.department)].standing(r.value)))
        for r in ledger.ratings.values()
    ]
    rating_value = (
        (sum(standings, Decimal(0)) / len(standings)).quantize(Decimal("0.0001"))
        if standings
        else _ONE
    )
    band_value = {None: _ONE, ForexBand.BELOW: _ONE, ForexBand.WATCH: Decimal("0.5")}.get(
        ledger.band, Decimal(0)
    )
    confirmed = len(ledger.confirmed)
    return {
        f.code: f
        for f in (
            Factor(
                "MATCH_RATE",
                _ratio(ledger.unmatched, n),
                f"{n - len(ledger.unmatched)} of {n} orders matched{none}",
                _cap(ledger.unmatched),
                Category.ORDER,
            ),
            Factor(
                "MISMATCHES",
                _ratio(ledger.mismatched, n),
                f"{len(ledger.mismatched)} of {n} orders mismatched{none}"
                + (f": {codes}" if codes else ""),
                _cap(ledger.mismatched),
                Category.ORDER,
            ),
            Factor(
                "LIMIT_BREACHES",
                _ratio(ledger.limit, n),
                f"{len(ledger.limit)} of {n} orders over the single or annual limit{none}",
                _cap(ledger.limit),
                Category.ORDER,
            ),
            Factor(
                "CUSTOMS_REFUSALS",
                _ratio(ledger.refused + ledger.inspected, n),
                f"{len(ledger.refused)} refused or returned, {len(ledger.inspected)} held for "
                f"inspection, of {n} orders{none}",
                _cap(ledger.refused + ledger.inspected),
                Category.CLEARANCE,
            ),
            Factor(
                "CANCELLATIONS_RETURNS",
                _ratio(ledger.requests, n),
                f"{len(ledger.requests)} cancellations or returns of {n} orders{none}",
                _cap(ledger.requests),
                Category.CLEARANCE,
            ),
            Factor(
                "TIMELINESS",
                _ratio(ledger.late, ledger.with_inventory),
                f"{len(ledger.late)} of {ledger.with_inventory} inventories declared before "
                "their order, payment or waybill",
                _cap(ledger.late),
                Category.CLEARANCE,
            ),
            Factor(
                "TAX_MISMATCHES",
                _ratio(ledger.tax, n),
                f"{len(ledger.tax)} of {n} orders whose tax differs from the computed or "
                f"customs-assessed tax{none}",
                _cap(ledger.tax),
                Category.TAX,
            ),
            Factor(
                "FOREX_BAND",
                band_value,
                "this year's forex band: "
                + (ledger.band.value if ledger.band else "no receipts or payments"),
                (ledger.band_ref,) if ledger.band_ref else (),
                Category.PAYMENT,
            ),
            Factor(
                "DEPARTMENT_RATINGS",
                rating_value,
                "; ".join(f"{r.department} {r.value}" for r in ledger.ratings.values())
                or "no department rating in force",
                tuple(f"credit.rating:{r.id}" for r in ledger.ratings.values()),
                Category.CREDIT,
            ),
            Factor(
                "CONFIRMED_ALERTS",
                max(Decimal(0), _ONE - Decimal("0.25") * confirmed),
                f"{confirmed} alert(s) disposed as confirmed",
                _cap(ledger.confirmed),
                Category.CREDIT,
            ),
        )
    }


async def of_enterprises(
    *, session: AsyncSession, codes: Collection[str] | None, today: date | None = None
) -> dict[str, dict[str, Factor]]:
    """The factors of these enterprises (None: every enterprise known to the graph)."""
    day = today or datetime.now().date()
    ledgers = await _ledgers(session, codes, day)
    wanted = list(codes) if codes is not None else list(ledgers)
    return {code: _factors(ledgers[code]) for code in wanted}
