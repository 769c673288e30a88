"""The annual limit's running totals: history-independent cost, exact take-backs, locking."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from hub.config import Settings
from hub.db import create_engine, create_session_factory
from hub.trade import quota
from hub.trade.limits import Standing
from hub.trade.models import BuyerYearTotal, LimitEntry, Order, PlatformBuyerYearTotal
from hub.trade.rules_config import DEFAULT_RULES
from tests.builders.retail import (
    AGENT,
    BUYER,
    PLATFORM,
    SECOND_BUYER,
    THIRD_BUYER,
    RetailHub,
    retail_hub,
    retail_order,
)

__all__ = ["retail_hub"]

ANNUAL = "ANNUAL_LIMIT_EXCEEDED"
FOURTH_BUYER = {"name": "赵六", "id": "320300196604040040", "phone": "000-0000-0004"}


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    """Collects the SQL statements the engine executes inside the block."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _history(hub: RetailHub, buyer: dict[str, str], count: int, value: int) -> None:
    records = [
        ("cbec.order", retail_order(f"H-{buyer['id'][-4:]}-{n:04d}", value, buyer=buyer)["order"])
        for n in range(count)
    ]
    await hub.declare_batch(records, as_=PLATFORM)


async def _statements_for_one_more(
    hub: RetailHub, app: Starlette, buyer: dict[str, str], value: int
) -> list[str]:
    docs = retail_order(f"NEW-{buyer['id'][-4:]}", value, buyer=buyer)
    await hub.token(PLATFORM)  # the token endpoint's statements are not the declaration's
    with counting(app.state.runtime.engine) as statements:
        await hub.declare("cbec.order", docs["order"], as_=PLATFORM)
    return statements


async def test_one_new_order_costs_the_same_statements_after_10_or_500_orders_of_its_buyer(
    retail_hub: RetailHub, app: Starlette
) -> None:
    # Within the limit: 10 × 40 and 500 × 40 CNY all count; so does the new order.
    await _history(retail_hub, SECOND_BUYER, 10, 40)
    await _history(retail_hub, BUYER, 500, 40)
    few = await _statements_for_one_more(retail_hub, app, SECOND_BUYER, 40)
    many = await _statements_for_one_more(retail_hub, app, BUYER, 40)
    assert len(few) == len(many)

    # Past the limit: 2 of 10 and 492 of 500 orders of 3,000 are flagged; so is the new one.
    await _history(retail_hub, THIRD_BUYER, 10, 3000)
    await _history(retail_hub, FOURTH_BUYER, 500, 3000)
    few = await _statements_for_one_more(retail_hub, app, THIRD_BUYER, 3000)
    many = await _statements_for_one_more(retail_hub, app, FOURTH_BUYER, 3000)
    assert len(few) == len(many)
    assert ANNUAL in await retail_hub.flags(retail_order("NEW-0040", 3000, buyer=FOURTH_BUYER))


async def test_an_order_over_the_annual_limit_leaves_its_quota_to_later_orders_caiguanshui_2018_49(
    retail_hub: RetailHub,
) -> None:
    orders = [retail_order(f"Q-{n}", 5000, app_time=f"2024030{n + 1}100000") for n in range(5)]
    over = retail_order("Q-OVER", 4000, app_time="20240310100000")  # 29,000 > 26,000
    fits = retail_order("Q-FITS", 1000, app_time="20240311100000")  # exactly 26,000
    for docs in [*orders, over, fits]:
        await retail_hub.declare("cbec.order", docs["order"], as_=PLATFORM)

    assert ANNUAL in await retail_hub.flags(over)
    # The flagged order is general trade, not a retail purchase: it takes none of the quota.
    assert ANNUAL not in await retail_hub.flags(fits)


async def test_one_indivisible_item_over_5000_counts_toward_the_year_caiguanshui_2018_49(
    retail_hub: RetailHub,
) -> None:
    item = retail_order("FULL-1", 6000, single_item=True, app_time="20240301100000")
    await retail_hub.declare("cbec.order", item["order"], as_=PLATFORM)
    assert "FULL_TAX_SINGLE_ITEM" in await retail_hub.flags(item)
    rest = [retail_order(f"FULL-R{n}", 5000, app_time="20240302100000") for n in range(4)]
    for docs in rest:
        await retail_hub.declare("cbec.order", docs["order"], as_=PLATFORM)
    # 6,000 + 4 × 5,000 = 26,000: the last still fits; one more yuan would not.
    assert ANNUAL not in await retail_hub.flags(rest[-1])
    one_more = retail_order("FULL-X", 1, app_time="20240303100000")
    await retail_hub.declare("cbec.order", one_more["order"], as_=PLATFORM)
    assert ANNUAL in await retail_hub.flags(one_more)


def _taxed(order_no: str, tax: str) -> dict[str, Any]:
    docs = retail_order(order_no, 6000, single_item=True)
    docs["order"] |= {"taxTotal": tax, "acturalPaid": f"{Decimal(6000) + Decimal(tax):.2f}"}
    return docs


async def test_a_single_item_over_5000_declared_with_full_tax_is_no_tax_mismatch(
    retail_hub: RetailHub,
) -> None:
    # Infant formula (HS 1901, no consumption tax), tariff 0 by default: full tax is
    # 6,000 × 13 % = 780.00; the 70 % retail formula would say 546.00.
    full = _taxed("TAX-FULL", "780.00")
    retail = _taxed("TAX-RETAIL", "546.00")
    for docs in (full, retail):
        await retail_hub.order_with_inventory(docs, as_=PLATFORM)
    assert "TAX_MISMATCH" not in await retail_hub.flags(full)
    assert "TAX_MISMATCH" in await retail_hub.flags(retail)


async def _entry(app: Starlette, order_no: str) -> Any:
    async with app.state.runtime.session_factory() as session:
        return (
            await session.execute(
                select(LimitEntry)
                .join(Order, Order.id == LimitEntry.order_id)
                .where(Order.order_no == order_no)
            )
        ).scalar_one()


async def _totals(app: Starlette, buyer: dict[str, str]) -> tuple[Decimal, dict[str, Decimal]]:
    async with app.state.runtime.session_factory() as session:
        confirmed = (
            await session.execute(
                select(BuyerYearTotal.confirmed_total).where(
                    BuyerYearTotal.buyer_id_number == buyer["id"]
                )
            )
        ).scalar_one_or_none()
        rows = await session.execute(
            select(PlatformBuyerYearTotal.ebp_code, PlatformBuyerYearTotal.counted_total).where(
                PlatformBuyerYearTotal.buyer_id_number == buyer["id"]
            )
        )
        return confirmed or Decimal(0), {ebp: Decimal(total) for ebp, total in rows}


async def test_a_change_takes_back_exactly_what_the_order_added(
    retail_hub: RetailHub, app: Starlette
) -> None:
    docs = retail_order("CHG-1", 5000)
    await retail_hub.order_with_inventory(docs, as_=PLATFORM, inventory_as=AGENT)
    await retail_hub.receipt(docs, 800, "20240316100000", as_=AGENT)
    assert await _totals(app, BUYER) == (Decimal(5000), {PLATFORM: Decimal(5000)})

    smaller = retail_order("CHG-1", 3000)["order"] | {"appType": "2", "appTime": "20240320100000"}
    await retail_hub.declare("cbec.order", smaller, as_=PLATFORM)
    assert await _totals(app, BUYER) == (Decimal(3000), {PLATFORM: Decimal(3000)})

    # The order moves to another buyer: the first buyer's year gets all of it back.
    moved = retail_order("CHG-1", 3000, buyer=SECOND_BUYER)["order"] | {
        "appType": "2",
        "appTime": "20240321100000",
    }
    await retail_hub.declare("cbec.order", moved, as_=PLATFORM)
    assert await _totals(app, BUYER) == (Decimal(0), {PLATFORM: Decimal(0)})
    entry = await _entry(app, "CHG-1")
    assert (entry.buyer_id_number, entry.counted) == (SECOND_BUYER["id"], True)
    # The inventory still names the first buyer: the order is a mismatch, and customs'
    # acceptance still stands, so it is confirmed for its new buyer.
    assert entry.standing == Standing.CONFIRMED.value


async def test_a_return_gives_quota_back_and_admits_the_order_that_now_fits(
    retail_hub: RetailHub, app: Starlette
) -> None:
    orders = [retail_order(f"RET-{n}", 5000, app_time="20240301100000") for n in range(5)]
    for docs in orders:
        await retail_hub.declare("cbec.order", docs["order"], as_=PLATFORM)
    late = retail_order("RET-LATE", 3000, app_time="20240302100000")
    await retail_hub.declare("cbec.order", late["order"], as_=PLATFORM)
    assert ANNUAL in await retail_hub.flags(late)  # 28,000

    key = (PLATFORM, "RET-0")
    async with app.state.runtime.session_factory() as session, session.begin():
        await quota.set_returned(
            session=session, returned={key: Decimal(2000)}, rules=DEFAULT_RULES
        )
    assert ANNUAL not in await retail_hub.flags(late)  # 23,000 + 3,000 = 26,000
    assert (await _entry(app, "RET-0")).amount == Decimal(3000)
    assert await _totals(app, BUYER) == (Decimal(0), {PLATFORM: Decimal(26000)})

    # The total returned, not an increment: sending it again changes nothing.
    async with app.state.runtime.session_factory() as session, session.begin():
        await quota.set_returned(
            session=session, returned={key: Decimal(2000)}, rules=DEFAULT_RULES
        )
    assert await _totals(app, BUYER) == (Decimal(0), {PLATFORM: Decimal(26000)})


async def test_freeing_quota_re_checks_only_the_flagged_orders_that_now_fit(
    retail_hub: RetailHub, app: Starlette
) -> None:
    await _history(retail_hub, BUYER, 30, 1000)  # 26 count, 4 flagged
    first = retail_order("H-0010-0000", 1000)
    await retail_hub.cancel(first, "20240401100000", as_=PLATFORM)
    flagged = []
    async with app.state.runtime.session_factory() as session:
        rows = await session.execute(
            select(Order.order_no, Order.risk_flags).where(Order.buyer_id_number == BUYER["id"])
        )
        flagged = sorted(no for no, flags in rows if ANNUAL in flags)
    # 1,000 freed: the earliest flagged order takes it, the three after it stay flagged.
    assert flagged == ["H-0010-0027", "H-0010-0028", "H-0010-0029"]


async def test_two_hub_processes_cannot_both_take_the_last_of_a_buyers_quota(
    retail_hub: RetailHub, settings: Settings
) -> None:
    # 24,000 counted; two orders of 2,000 arrive at once through two processes' engines.
    await _history(retail_hub, BUYER, 6, 4000)
    first, second = (retail_order(f"RACE-{n}", 2000) for n in range(2))
    for docs in (first, second):
        await retail_hub.declare("cbec.order", docs["order"], as_=PLATFORM)

    engines = [create_engine(settings), create_engine(settings)]
    try:
        factories = [create_session_factory(engine) for engine in engines]
        ids = []
        async with factories[0]() as session:
            for docs in (first, second):
                ids.append(
                    (
                        await session.execute(
                            select(Order.id).where(Order.order_no == docs["order"]["orderNo"])
                        )
                    ).scalar_one()
                )
        # Forget what the two orders added so both are decided afresh, at the same time.
        async with factories[0]() as session, session.begin():
            for order_id in ids:
                await quota.account(
                    session=session,
                    subjects=[_subject(order_id, None)],
                    rules=DEFAULT_RULES,
                )
        assert (await _platform_total(factories[0])) == Decimal(24000)

        holding = asyncio.Event()

        async def decide(n: int) -> Any:
            async with factories[n]() as session, session.begin():
                # Each process writes first, as a declaring transaction does.
                await session.execute(
                    update(Order).where(Order.id == ids[n]).values(version=Order.version)
                )
                if n == 1:
                    await holding.wait()
                flags = await quota.account(
                    session=session, subjects=[_subject(ids[n], Decimal(2000))], rules=DEFAULT_RULES
                )
                if n == 0:
                    holding.set()
                    await asyncio.sleep(0.3)  # the second is now waiting on the buyer's row
                return flags[ids[n]]

        results = await asyncio.gather(decide(0), decide(1))
        assert sorted(bool(flags) for flags in results) == [False, True]
        assert (await _platform_total(factories[0])) == Decimal(26000)
    finally:
        for engine in engines:
            await engine.dispose()


def _subject(order_id: int, value: Decimal | None) -> quota.Subject:
    return quota.Subject(
        order_id=order_id,
        ebp_code=PLATFORM,
        buyer_id_number=BUYER["id"],
        year=2024,
        value=value,
        indivisible=False,
        standing=Standing.PENDING,
    )


async def _platform_total(factory: Any) -> Decimal:
    async with factory() as session:
        total = (
            await session.execute(
                select(PlatformBuyerYearTotal.counted_total).where(
                    PlatformBuyerYearTotal.buyer_id_number == BUYER["id"],
                    PlatformBuyerYearTotal.ebp_code == PLATFORM,
                )
            )
        ).scalar_one()
        return Decimal(total)
