"""Who is a party to an order: the enterprises named on it and on its documents."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.trade.models import Inventory, Order, Waybill


async def of_order(*, session: AsyncSession, order: Order) -> frozenset[str]:
    """Platform, seller, payment institution, carrier and customs agent of an order."""
    codes = {order.ebp_code, order.ebc_code}
    if order.pay_code:
        codes.add(order.pay_code)
    key = (Waybill.ebp_code == order.ebp_code) & (Waybill.order_no == order.order_no)
    codes.update(await session.scalars(select(Waybill.logistics_code).where(key)))
    inventory = await session.execute(
        select(Inventory.agent_code, Inventory.logistics_code).where(
            Inventory.ebp_code == order.ebp_code, Inventory.order_no == order.order_no
        )
    )
    for agent, carrier in inventory:
        codes.update((agent, carrier))
    return frozenset(codes)
