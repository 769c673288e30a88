"""Queries over the trade graph: enterprises and orders, under the access policy."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from hub.graphql.context import Info
from hub.graphql.pagination import Connection, visible_page, window
from hub.graphql.trade.access import load_order, order_connection
from hub.graphql.trade.enterprise import (
    Enterprise,
    enterprise_node,
    enterprise_rows,
    load_enterprise,
)
from hub.graphql.trade.filters import (
    EnterpriseFilter,
    OrderFilter,
    enterprise_conditions,
    enterprise_filter_check,
    order_conditions,
    order_filter_check,
)
from hub.graphql.trade.types import Order
from hub.trade import models


@strawberry.type
class TradeQuery:
    @strawberry.field(description="One enterprise by USCC or customs code, if you may see it.")
    async def enterprise(self, info: Info, code: str) -> Enterprise | None:
        row = await info.context.loaders.enterprise_by_code.load(code)
        if row is None:
            row = await info.context.read_session.scalar(
                select(models.Enterprise).where(models.Enterprise.customs_code == code)
            )
        return None if row is None else await enterprise_node(info, row)

    @strawberry.field(
        description="Enterprises you may see, by code (keyset-paginated: first/after "
        "forward, last/before backward)."
    )
    async def enterprises(
        self,
        info: Info,
        filter: EnterpriseFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Enterprise]:
        span = window("enterprise", first=first, after=after, last=last, before=before, text=True)
        viewer = await info.context.viewer()
        keep = enterprise_filter_check(filter, viewer)
        query = select(models.Enterprise).where(enterprise_conditions(filter))
        if not viewer.sees_every_record:
            query = query.where(enterprise_rows(viewer.enterprise, list(viewer.consents)))
        query = span.keyset(query, models.Enterprise.code)
        rows = list(await info.context.read_session.scalars(query))
        return await visible_page(
            rows,
            span,
            "enterprise",
            node_of=lambda r: enterprise_node(info, r, keep=keep),
            position_of=lambda r: r.code,
        )

    @strawberry.field(
        description="One order by platform code and order number, for its parties, the "
        "departments, and banks under an active consent."
    )
    async def order(self, info: Info, ebp_code: str, order_no: str) -> Order | None:
        return await load_order(info, ebp_code=ebp_code, order_no=order_no)

    @strawberry.field(
        description="Orders you may see, oldest first (keyset-paginated, stable under inserts: "
        "first/after forward, last/before backward)."
    )
    async def orders(
        self,
        info: Info,
        filter: OrderFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Order]:
        span = window("order", first=first, after=after, last=last, before=before)
        viewer = await info.context.viewer()
        keep = order_filter_check(filter, viewer)
        query = select(models.Order).where(order_conditions(filter), viewer.order_rows())
        rows = list(await info.context.read_session.scalars(span.keyset(query, models.Order.id)))
        return await order_connection(info, rows, span, keep)


# Federation entity types that no query returns directly must still be in the schema.
ENTITY_TYPES: tuple[type, ...] = (Enterprise, Order)
__all__ = ["ENTITY_TYPES", "TradeQuery", "load_enterprise"]
