"""What the risk rules read of the graph, loaded once per evaluation as plain dataclasses.

Set-based: a handful of statements per evaluation, optionally narrowed to the enterprises
an intake touched (as platform or seller). Times are the declared ones (appTime, payTime),
so a replay over history sees what the rules would have seen.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from hub.declarations.models import Declaration
from hub.stats.service import ForexTotal
from hub.trade.models import CustomsStatusEvent, Inventory, Order, Payment, Waybill

ACTIVE = "ACTIVE"
RELEASED = 800  # customs receipt: released (放行)
OrderKey = tuple[str, str]


def declared_time(text: str | None) -> datetime | None:
    """A declared YYYYMMDDhhmmss time (milliseconds ignored), or None."""
    try:
        return datetime.strptime((text or "")[:14], "%Y%m%d%H%M%S")
    except ValueError:
        return None


@dataclass(frozen=True)
class OrderFact:
    """An active order as the rules see it."""

    ref: str  # cbec.order:EBP|NO
    ebp_code: str
    order_no: str
    ebc_code: str
    direction: str
    buyer_id: str | None
    goods_value: Decimal
    at: datetime | None
    consignee: str | None
    phone: str | None
    address: str | None


@dataclass(frozen=True)
class PaymentFact:
    """An active import payment, with the seller of its order when the order is known."""

    ref: str
    ebp_code: str
    order_no: str
    at: datetime | None


@dataclass(frozen=True)
class ChangeFact:
    """A change declaration (appType 2) of an order or inventory released before it."""

    ref: str  # declaration:<id>
    order: OrderKey
    released_by: str  # declaration:<id> of the release receipt


@dataclass
class Facts:
    """Everything one evaluation reads."""

    orders: list[OrderFact] = field(default_factory=list)
    payments: list[PaymentFact] = field(default_factory=list)
    with_waybill: set[OrderKey] = field(default_factory=set)
    departed: set[OrderKey] = field(default_factory=set)
    with_inventory: set[OrderKey] = field(default_factory=set)
    changes: list[ChangeFact] = field(default_factory=list)
    # Sellers' yearly forex totals (hub.stats.service), loaded when a rule reads them.
    forex: list[ForexTotal] = field(default_factory=list)

    def seller_of(self) -> dict[OrderKey, str]:
        """Each known order's seller (ebcCode)."""
        return {(o.ebp_code, o.order_no): o.ebc_code for o in self.orders}


def _scope(enterprises: Collection[str] | None) -> ColumnElement[bool]:
    if enterprises is None:
        return true()
    codes = sorted(enterprises)
    return or_(Order.ebp_code.in_(codes), Order.ebc_code.in_(codes))


async def load(*, session: AsyncSession, enterprises: Collection[str] | None = None) -> Facts:
    """The facts of every order (or of orders naming these enterprises) and their documents."""
    facts = Facts()
    rows = await session.execute(
        select(
            Order.record_key,
            Order.ebp_code,
            Order.order_no,
            Order.ebc_code,
            Order.direction,
            Order.buyer_id_number,
            Order.goods_value,
            Order.app_time,
            Order.payload,
        ).where(Order.status == ACTIVE, _scope(enterprises))
    )
    for r in rows:
        p = r.payload or {}
        facts.orders.append(
            OrderFact(
                ref=f"cbec.order:{r.record_key}",
                ebp_code=r.ebp_code,
                order_no=r.order_no,
                ebc_code=r.ebc_code,
                direction=r.direction,
                buyer_id=r.buyer_id_number,
                goods_value=Decimal(str(r.goods_value)),
                at=declared_time(r.app_time),
                consignee=p.get("consignee"),
                phone=p.get("consigneeTelephone"),
                address=p.get("consigneeAddress"),
            )
        )
    # Documents of the same platforms: an order's payment, waybill and inventory name it.
    platforms = None
    if enterprises is not None:
        platforms = sorted({o.ebp_code for o in facts.orders} | set(enterprises))

    def narrowed(query: Any, model: Any) -> Any:
        return query if platforms is None else query.where(model.ebp_code.in_(platforms))

    for r in await session.execute(
        narrowed(
            select(Payment.record_key, Payment.ebp_code, Payment.order_no, Payment.pay_time),
            Payment,
        ).where(Payment.status == ACTIVE)
    ):
        facts.payments.append(
            PaymentFact(
                ref=f"cbec.payment:{r.record_key}",
                ebp_code=r.ebp_code,
                order_no=r.order_no,
                at=declared_time(r.pay_time),
            )
        )
    for r in await session.execute(
        narrowed(select(Waybill.ebp_code, Waybill.order_no, Waybill.departure), Waybill).where(
            Waybill.status == ACTIVE
        )
    ):
        facts.with_waybill.add((r.ebp_code, r.order_no))
        if r.departure:
            facts.departed.add((r.ebp_code, r.order_no))
    for r in await session.execute(
        narrowed(select(Inventory.ebp_code, Inventory.order_no), Inventory).where(
            Inventory.status == ACTIVE
        )
    ):
        facts.with_inventory.add((r.ebp_code, r.order_no))
    facts.changes = await _changes_after_release(session, facts)
    return facts


async def _changes_after_release(session: AsyncSession, facts: Facts) -> list[ChangeFact]:
    """Changes (appType 2) of an order or its inventory declared after its release."""
    known = {(o.ebp_code, o.order_no) for o in facts.orders}
    releases: dict[OrderKey, tuple[int, str]] = {}
    for r in await session.execute(
        select(
            CustomsStatusEvent.ebp_code,
            CustomsStatusEvent.order_no,
            Declaration.chain_index,
            Declaration.id,
        )
        .join(Declaration, Declaration.id == CustomsStatusEvent.declaration_id)
        .where(
            CustomsStatusEvent.return_status == RELEASED,
            CustomsStatusEvent.status == ACTIVE,
            CustomsStatusEvent.ebp_code.in_(sorted({ebp for ebp, _ in known})),
        )
    ):
        key = (r.ebp_code, r.order_no)
        if key in known and (key not in releases or r.chain_index < releases[key][0]):
            releases[key] = (r.chain_index, r.id)
    if not releases:
        return []
    record_keys = {f"{ebp}|{no}": (ebp, no) for ebp, no in releases}
    changes = []
    for change in await session.execute(
        select(Declaration.id, Declaration.record_key, Declaration.chain_index).where(
            Declaration.standard_id.in_(("cbec.order", "cbec.inventory")),
            Declaration.app_type == "2",
            Declaration.record_key.in_(sorted(record_keys)),
        )
    ):
        key = record_keys[change.record_key]
        index, release_id = releases[key]
        if change.chain_index > index:
            evidence = f"declaration:{release_id}"
            changes.append(ChangeFact(f"declaration:{change.id}", key, evidence))
    return changes
