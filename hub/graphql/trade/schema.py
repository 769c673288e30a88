"""Queries over the trade graph."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from hub.auth.scopes import Scope
from hub.graphql.context import Info
from hub.graphql.trade.types import Order
from hub.trade import parties
from hub.trade.models import Order as OrderRow

# Department scopes that read any order (the full category policy refines field access).
_DEPARTMENTS = (Scope.CUSTOMS_READ, Scope.TAX_READ, Scope.FOREX_READ)


@strawberry.type
class TradeQuery:
    @strawberry.field(
        description="One order by platform code and order number, for its parties and for "
        "departments that read orders."
    )
    async def order(self, info: Info, ebp_code: str, order_no: str) -> Order | None:
        session = info.context.read_session
        row = await session.scalar(
            select(OrderRow).where(OrderRow.ebp_code == ebp_code, OrderRow.order_no == order_no)
        )
        if row is None:
            return None
        principal = info.context.principal
        if not any(principal.has(s) for s in _DEPARTMENTS):
            codes = await parties.of_order(session=session, order=row)
            if principal.enterprise_code not in codes:
                return None
        return Order.from_row(row)
