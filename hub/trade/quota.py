"""Running totals of the annual retail limit, kept in the database and updated in place.

`hub.trade.limits` says what counts; this module keeps the sums. Per buyer and year,
`buyer_year_totals` holds what confirmed orders used on every platform and
`platform_buyer_year_totals` what each platform's own counted orders used;
`limit_entries` holds what each order added, so it can be taken back exactly when the
order is cancelled, rejected, returned or changed. An arrival reads and writes only its own
orders' entries and the few total rows of their buyers: its cost does not grow with the
buyer's or the enterprise's history.

Concurrency: every change to a buyer-year's rows happens while its `buyer_year_totals`
row is locked (`SELECT … FOR UPDATE`, in key order, so two writers cannot deadlock on
them); several hub processes on one PostgreSQL therefore count each order once and never
let two concurrent orders share the last of a buyer's quota. SQLite has one writer.

When quota is freed (an order leaves or shrinks), orders flagged over the annual limit for
lack of room are re-checked in arrival order, fetching only those that now fit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import pair_in
from hub.declarations.models import Declaration
from hub.trade.limits import (
    LIMIT_FLAGS,
    RiskFlag,
    Standing,
    applies_retail_limits,
    decide,
    receipt_speaks_for_customs,
    standing,
)
from hub.trade.models import (
    BuyerYearTotal,
    CustomsStatusEvent,
    Inventory,
    LimitEntry,
    Order,
    PlatformBuyerYearTotal,
)
from hub.trade.rules_config import RuleConfig

__all__ = [
    "Receipt",
    "Subject",
    "account",
    "clear",
    "receipts_by_order",
    "reevaluate",
    "set_returned",
    "standing_of",
    "stored_subjects",
    "with_limit_flags",
    "write_flags",
]

OrderKey = tuple[str, str]
BuyerYear = tuple[str, int]
PlatformYear = tuple[str, str, int]
ACTIVE = "ACTIVE"
_CHUNK = 400
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Subject:
    """An order as the limits see it, with current values."""

    order_id: int
    ebp_code: str
    buyer_id_number: str | None
    year: int
    value: Decimal | None  # limit value; None when the limits do not apply
    indivisible: bool
    standing: Standing


@dataclass(frozen=True, slots=True)
class Receipt:
    """A customs receipt of an order's inventory and who forwarded it."""

    status: int
    declarant: str | None


@dataclass(slots=True)
class _Entry:
    order_id: int
    ebp_code: str
    buyer_id_number: str
    year: int
    standing: str
    amount: Decimal
    returned: Decimal
    indivisible: bool
    counted: bool
    over_annual: bool

    def row(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "ebp_code": self.ebp_code,
            "buyer_id_number": self.buyer_id_number,
            "year": self.year,
            "standing": self.standing,
            "amount": self.amount,
            "returned": self.returned,
            "indivisible": self.indivisible,
            "counted": self.counted,
            "over_annual": self.over_annual,
        }


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _insert(session: AsyncSession, model: Any) -> Any:
    table = model.__table__
    return pg_insert(table) if _dialect(session) == "postgresql" else sqlite_insert(table)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def standing_of(
    *,
    status: str,
    platform: str,
    seller: str | None,
    inventory_active: bool,
    receipts: Sequence[Receipt],
    rules: RuleConfig,
) -> Standing:
    """Where an order counts, from its status, inventory and receipts (oldest first)."""
    trusted = [
        r.status
        for r in receipts
        if receipt_speaks_for_customs(
            declarant=r.declarant, platform=platform, seller=seller, config=rules
        )
    ]
    return standing(
        active=status == ACTIVE,
        inventory_active=inventory_active,
        trusted=trusted,
        latest=receipts[-1].status if receipts else None,
    )


async def receipts_by_order(
    *, session: AsyncSession, keys: Sequence[OrderKey]
) -> dict[OrderKey, list[Receipt]]:
    """Active customs receipts of the orders, oldest first, with their declarants."""
    found: dict[OrderKey, list[Receipt]] = defaultdict(list)
    wanted = set(keys)
    event = CustomsStatusEvent
    for chunk in _chunks(sorted(wanted)):
        rows = await session.execute(
            select(event.ebp_code, event.order_no, event.return_status, Declaration.declarant)
            .join(Declaration, Declaration.id == event.declaration_id, isouter=True)
            .where(pair_in(event.ebp_code, event.order_no, chunk), event.status == ACTIVE)
            .order_by(event.return_time, event.id)
        )
        for ebp, order_no, status, declarant in rows:
            if (ebp, order_no) in wanted:
                found[(ebp, order_no)].append(Receipt(status, declarant))
    return found


def with_limit_flags(flags: Iterable[str], limit_flags: Iterable[RiskFlag]) -> list[str]:
    """An order's flags with its limit flags replaced (other flags kept, in order)."""
    return [*(f for f in flags if f not in LIMIT_FLAGS), *(f.value for f in limit_flags)]


async def _entries(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, _Entry]:
    found: dict[int, _Entry] = {}
    for chunk in _chunks(sorted(set(order_ids))):
        rows = await session.execute(select(LimitEntry).where(LimitEntry.order_id.in_(chunk)))
        for (entry,) in rows:
            found[entry.order_id] = _Entry(
                entry.order_id,
                entry.ebp_code,
                entry.buyer_id_number,
                entry.year,
                entry.standing,
                entry.amount,
                entry.returned,
                entry.indivisible,
                entry.counted,
                entry.over_annual,
            )
    return found


class _Totals:
    """The locked totals of the buyer-years one call touches, and what it changed."""

    def __init__(self) -> None:
        self.confirmed: dict[BuyerYear, Decimal] = {}
        self.platform: dict[PlatformYear, Decimal] = {}
        self.confirmed_delta: dict[BuyerYear, Decimal] = defaultdict(Decimal)
        self.platform_delta: dict[PlatformYear, Decimal] = defaultdict(Decimal)
        self.freed_confirmed: set[BuyerYear] = set()
        self.freed_platform: set[PlatformYear] = set()

    def used(self, entry: _Entry) -> Decimal:
        if entry.standing == Standing.CONFIRMED:
            return self.confirmed[(entry.buyer_id_number, entry.year)]
        return self.platform[(entry.ebp_code, entry.buyer_id_number, entry.year)]

    def move(self, entry: _Entry, sign: int) -> None:
        """Add (+1) or take back (-1) a counted entry's amount."""
        amount = entry.amount * sign
        buyer_year = (entry.buyer_id_number, entry.year)
        platform_year = (entry.ebp_code, entry.buyer_id_number, entry.year)
        if entry.standing == Standing.CONFIRMED:
            self.confirmed[buyer_year] = self.confirmed.get(buyer_year, ZERO) + amount
            self.confirmed_delta[buyer_year] += amount
            if sign < 0:
                self.freed_confirmed.add(buyer_year)
        if platform_year in self.platform:
            self.platform[platform_year] += amount
        self.platform_delta[platform_year] += amount
        if sign < 0:
            self.freed_platform.add(platform_year)


async def _lock_totals(
    session: AsyncSession, buyer_years: set[BuyerYear], platform_years: set[PlatformYear]
) -> _Totals:
    """Creates missing total rows, then locks and reads them (buyer-year rows first)."""
    totals = _Totals()
    if not buyer_years:
        return totals
    statement = _insert(session, BuyerYearTotal).on_conflict_do_nothing()
    await session.execute(
        statement,
        [
            {"buyer_id_number": b, "year": y, "confirmed_total": ZERO}
            for b, y in sorted(buyer_years)
        ],
    )
    statement = _insert(session, PlatformBuyerYearTotal).on_conflict_do_nothing()
    await session.execute(
        statement,
        [
            {"ebp_code": e, "buyer_id_number": b, "year": y, "counted_total": ZERO}
            for e, b, y in sorted(platform_years)
        ],
    )
    keys = sorted(buyer_years)
    for chunk in _chunks(keys):
        # Key order: two transactions locking overlapping buyers take them in one order.
        rows = await session.execute(
            select(
                BuyerYearTotal.buyer_id_number, BuyerYearTotal.year, BuyerYearTotal.confirmed_total
            )
            .where(pair_in(BuyerYearTotal.buyer_id_number, BuyerYearTotal.year, chunk))
            .order_by(BuyerYearTotal.buyer_id_number, BuyerYearTotal.year)
            .with_for_update()
        )
        for buyer, year, total in rows:
            if (buyer, year) in buyer_years:
                totals.confirmed[(buyer, year)] = total
    platform = PlatformBuyerYearTotal
    buyers = sorted({b for _, b, _ in platform_years})
    for chunk in _chunks(buyers):
        platform_rows = await session.execute(
            select(
                platform.ebp_code, platform.buyer_id_number, platform.year, platform.counted_total
            )
            .where(
                platform.buyer_id_number.in_(chunk),
                platform.ebp_code.in_({e for e, _, _ in platform_years}),
                platform.year.in_({y for _, _, y in platform_years}),
            )
            .order_by(platform.ebp_code, platform.buyer_id_number, platform.year)
            .with_for_update()
        )
        for ebp, buyer, year, total in platform_rows:
            if (ebp, buyer, year) in platform_years:
                totals.platform[(ebp, buyer, year)] = total
    return totals


def _evaluate(entry: _Entry, totals: _Totals, rules: RuleConfig) -> tuple[RiskFlag, ...]:
    """Decides an entry against the totals (it must not be counted) and counts it if due."""
    if entry.standing == Standing.OUT:
        entry.counted = entry.over_annual = False
        return ()
    decision = decide(
        value=entry.amount, used=totals.used(entry), indivisible=entry.indivisible, config=rules
    )
    entry.counted = decision.counts
    entry.over_annual = decision.over_annual
    if entry.counted:
        totals.move(entry, +1)
    return decision.flags


async def _candidates(
    session: AsyncSession, totals: _Totals, skip: set[int], rules: RuleConfig
) -> list[_Entry]:
    """Flagged orders of the freed buyer-years that would now fit, in arrival order."""
    conditions = []
    limit = rules.annual_limit_cny
    for buyer, year in totals.freed_confirmed:
        room = limit - totals.confirmed[(buyer, year)]
        conditions.append(
            and_(
                LimitEntry.buyer_id_number == buyer,
                LimitEntry.year == year,
                LimitEntry.standing == Standing.CONFIRMED.value,
                LimitEntry.amount <= room,
            )
        )
    for ebp, buyer, year in totals.freed_platform:
        if (ebp, buyer, year) not in totals.platform:
            continue
        room = limit - totals.platform[(ebp, buyer, year)]
        conditions.append(
            and_(
                LimitEntry.buyer_id_number == buyer,
                LimitEntry.year == year,
                LimitEntry.ebp_code == ebp,
                LimitEntry.standing == Standing.PENDING.value,
                LimitEntry.amount <= room,
            )
        )
    if not conditions:
        return []
    found: list[_Entry] = []
    for start in range(0, len(conditions), 100):
        rows = await session.execute(
            select(LimitEntry)
            .where(LimitEntry.over_annual == true(), or_(*conditions[start : start + 100]))
            .order_by(LimitEntry.order_id)
        )
        for (entry,) in rows:
            if entry.order_id not in skip:
                found.append(
                    _Entry(
                        entry.order_id,
                        entry.ebp_code,
                        entry.buyer_id_number,
                        entry.year,
                        entry.standing,
                        entry.amount,
                        entry.returned,
                        entry.indivisible,
                        entry.counted,
                        entry.over_annual,
                    )
                )
    found.sort(key=lambda e: e.order_id)
    return found


async def _write(session: AsyncSession, totals: _Totals, entries: Sequence[_Entry]) -> None:
    changed = [{"b": b, "y": y, "d": d} for (b, y), d in totals.confirmed_delta.items() if d]
    if changed:
        table = BuyerYearTotal.__table__
        await session.execute(
            update(table)
            .where(table.c.buyer_id_number == bindparam("b"), table.c.year == bindparam("y"))
            .values(confirmed_total=table.c.confirmed_total + bindparam("d")),
            changed,
        )
    changed = [
        {"e": e, "b": b, "y": y, "d": d} for (e, b, y), d in totals.platform_delta.items() if d
    ]
    if changed:
        table = PlatformBuyerYearTotal.__table__
        await session.execute(
            update(table)
            .where(
                table.c.ebp_code == bindparam("e"),
                table.c.buyer_id_number == bindparam("b"),
                table.c.year == bindparam("y"),
            )
            .values(counted_total=table.c.counted_total + bindparam("d")),
            changed,
        )
    if entries:
        rows = [entry.row() for entry in entries]
        statement = _insert(session, LimitEntry)
        columns = [c for c in rows[0] if c != "order_id"]
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["order_id"], set_={c: statement.excluded[c] for c in columns}
            ),
            rows,
        )


async def account(
    *, session: AsyncSession, subjects: Sequence[Subject], rules: RuleConfig
) -> dict[int, tuple[RiskFlag, ...]]:
    """Brings the buyers' running totals up to date for these orders; returns their flags.

    Each subject's previous contribution is taken back and the order decided afresh against
    what counts without it. Orders of the same buyer-years that were flagged for lack of
    room and now fit are admitted, and their stored flags rewritten here.
    """
    if not subjects:
        return {}
    old = await _entries(session, [s.order_id for s in subjects])
    news: list[_Entry] = []
    for subject in subjects:
        previous = old.get(subject.order_id)
        if subject.value is None or not subject.buyer_id_number:
            if previous is not None:
                # The limits no longer apply (the order changed): keep only what was returned.
                news.append(replace(previous, standing=Standing.OUT.value))
            continue
        returned = previous.returned if previous else ZERO
        news.append(
            _Entry(
                subject.order_id,
                subject.ebp_code,
                subject.buyer_id_number,
                subject.year,
                subject.standing.value,
                max(ZERO, subject.value - returned),
                returned,
                subject.indivisible,
                False,
                False,
            )
        )
    touched = [*old.values(), *news]
    buyer_years = {(e.buyer_id_number, e.year) for e in touched}
    platform_years = {(e.ebp_code, e.buyer_id_number, e.year) for e in touched}
    totals = await _lock_totals(session, buyer_years, platform_years)
    for entry in old.values():
        if entry.counted:
            totals.move(entry, -1)
    flags: dict[int, tuple[RiskFlag, ...]] = {}
    # Arrival order within each buyer-year: the first to come takes the room.
    for entry in sorted(news, key=lambda e: (e.buyer_id_number, e.year, e.order_id)):
        flags[entry.order_id] = _evaluate(entry, totals, rules)
    admitted = await _admit(session, totals, {s.order_id for s in subjects}, rules)
    await _write(session, totals, [*news, *admitted])
    return flags


async def _admit(
    session: AsyncSession, totals: _Totals, skip: set[int], rules: RuleConfig
) -> list[_Entry]:
    """Re-checks flagged orders after quota was freed; rewrites the flags that changed."""
    candidates = await _candidates(session, totals, skip, rules)
    changed: dict[int, tuple[RiskFlag, ...]] = {}
    for entry in candidates:
        flags = _evaluate(entry, totals, rules)
        if not entry.over_annual:
            changed[entry.order_id] = flags
    if not changed:
        return []
    table = Order.__table__
    rows = await session.execute(
        select(table.c.id, table.c.risk_flags).where(table.c.id.in_(sorted(changed)))
    )
    current = {order_id: list(flags or []) for order_id, flags in rows}
    await write_flags(session=session, current=current, limit_flags=changed)
    return [entry for entry in candidates if entry.order_id in changed]


@dataclass(frozen=True)
class _Stored:
    """The stored columns of an order the limits read when only its receipts changed."""

    id: int
    ebp_code: str
    order_no: str
    ebc_code: str
    status: str
    direction: str
    trade_mode: str | None
    buyer_id_number: str | None
    order_year: int
    limit_value: Decimal | None
    risk_flags: list[str]
    indivisible: bool | None


async def stored_subjects(
    *, session: AsyncSession, keys: Iterable[OrderKey], rules: RuleConfig
) -> tuple[list[Subject], dict[int, list[str]]]:
    """Subjects of orders whose receipts or returns changed, from their stored values.

    Only orders the limits already track (with an entry) are read: another order's limits
    change only through a re-match, which computes fresh values. Returns the subjects and
    each order's current risk flags.
    """
    wanted = set(keys)
    stored: dict[OrderKey, _Stored] = {}
    for chunk in _chunks(sorted(wanted)):
        stored_rows = await session.execute(
            select(
                Order.id,
                Order.ebp_code,
                Order.order_no,
                Order.ebc_code,
                Order.status,
                Order.direction,
                Order.trade_mode,
                Order.buyer_id_number,
                Order.order_year,
                Order.limit_value,
                Order.risk_flags,
                LimitEntry.indivisible,
            )
            .join(LimitEntry, LimitEntry.order_id == Order.id)
            .where(pair_in(Order.ebp_code, Order.order_no, chunk))
        )
        for row in stored_rows:
            if (row.ebp_code, row.order_no) in wanted:
                stored[(row.ebp_code, row.order_no)] = _Stored(*tuple(row))
    if not stored:
        return [], {}
    present = sorted(stored)
    receipts = await receipts_by_order(session=session, keys=present)
    active_inventories = await _active_inventories(session, present)
    subjects = [
        Subject(
            order_id=order.id,
            ebp_code=order.ebp_code,
            buyer_id_number=order.buyer_id_number,
            year=order.order_year,
            value=order.limit_value
            if applies_retail_limits(direction=order.direction, trade_mode=order.trade_mode)
            else None,
            indivisible=bool(order.indivisible),
            standing=standing_of(
                status=order.status,
                platform=order.ebp_code,
                seller=order.ebc_code,
                inventory_active=key in active_inventories,
                receipts=receipts.get(key, []),
                rules=rules,
            ),
        )
        for key, order in stored.items()
    ]
    return subjects, {order.id: list(order.risk_flags or []) for order in stored.values()}


async def write_flags(
    *,
    session: AsyncSession,
    current: Mapping[int, list[str]],
    limit_flags: Mapping[int, tuple[RiskFlag, ...]],
) -> None:
    """Stores orders' risk flags with their limit flags replaced (one executemany)."""
    updates = [
        {"b_id": order_id, "risk_flags": with_limit_flags(flags, limit_flags[order_id])}
        for order_id, flags in current.items()
        if order_id in limit_flags
    ]
    if updates:
        table = Order.__table__
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(risk_flags=bindparam("risk_flags")),
            updates,
        )


async def reevaluate(*, session: AsyncSession, keys: Iterable[OrderKey], rules: RuleConfig) -> None:
    """Re-decides the limits of orders whose receipts or returns changed (stored values)."""
    subjects, current = await stored_subjects(session=session, keys=keys, rules=rules)
    flags = await account(session=session, subjects=subjects, rules=rules)
    await write_flags(session=session, current=current, limit_flags=flags)


async def _active_inventories(session: AsyncSession, keys: Sequence[OrderKey]) -> set[OrderKey]:
    found: set[OrderKey] = set()
    for chunk in _chunks(keys):
        rows = await session.execute(
            select(Inventory.ebp_code, Inventory.order_no).where(
                pair_in(Inventory.ebp_code, Inventory.order_no, chunk), Inventory.status == ACTIVE
            )
        )
        found |= {(ebp, order_no) for ebp, order_no in rows}
    return found


async def set_returned(
    *, session: AsyncSession, returned: Mapping[OrderKey, Decimal], rules: RuleConfig
) -> None:
    """Gives quota back for returned goods: `returned` is each order's total returned value.

    For the return standard (625): pass, per order, the dutiable value of everything
    returned so far on accepted returns (a total, so re-sending is harmless); the order
    then counts its limit value less that, and flagged orders that now fit are admitted.
    """
    if not returned:
        return
    keys = sorted(returned)
    ids: dict[OrderKey, int] = {}
    for chunk in _chunks(keys):
        rows = await session.execute(
            select(Order.ebp_code, Order.order_no, Order.id).where(
                pair_in(Order.ebp_code, Order.order_no, chunk)
            )
        )
        ids |= {(ebp, no): order_id for ebp, no, order_id in rows if (ebp, no) in returned}
    for value in returned.values():
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            raise ValueError(f"a returned value must be a non-negative Decimal, got {value!r}")
    if ids:
        table = LimitEntry.__table__
        await session.execute(
            update(table)
            .where(table.c.order_id == bindparam("b_id"))
            .values(returned=bindparam("b_returned")),
            [{"b_id": order_id, "b_returned": returned[key]} for key, order_id in ids.items()],
        )
    await reevaluate(session=session, keys=ids, rules=rules)


async def clear(*, session: AsyncSession) -> None:
    """Forgets every running total and entry (before replaying all orders)."""
    for model in (LimitEntry, PlatformBuyerYearTotal, BuyerYearTotal):
        await session.execute(delete(model))
