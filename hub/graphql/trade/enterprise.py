"""The Enterprise node (federation entity keyed by `code`) and its nested order lists."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import strawberry
from sqlalchemy import ColumnElement

from hub.access.policy import Category as C
from hub.access.policy import Grant
from hub.graphql.context import Info
from hub.graphql.loaders import OrderPage
from hub.graphql.pagination import Connection, connection, decode_cursor, page_size
from hub.graphql.trade.access import order_node
from hub.graphql.trade.fields import guarded
from hub.graphql.trade.filters import OrderFilter, order_conditions
from hub.graphql.trade.types import Order, Region
from hub.trade import models


def _filter_key(f: OrderFilter | None) -> tuple[Any, ...]:
    if f is None:
        return ()
    return tuple(sorted((k, str(v)) for k, v in vars(f).items()))


@strawberry.federation.type(keys=["code"], description="An enterprise of the zone.")
class Enterprise:
    grant: strawberry.Private[Grant]
    row: strawberry.Private[models.Enterprise]

    @guarded(C.REGISTRATION, description="USCC (18 characters) or customs code (10).")
    def code(self) -> str | None:
        return self.row.code

    @guarded(C.REGISTRATION)
    def name(self) -> str | None:
        return self.row.name

    @guarded(C.REGISTRATION)
    def customs_code(self) -> str | None:
        return self.row.customs_code

    @guarded(C.REGISTRATION, description="Roles it plays: ebp, ebc, logistics, payment, …")
    def roles(self) -> list[str] | None:
        return list(self.row.roles or [])

    @guarded(C.REGISTRATION, description="From the USCC administrative division code.")
    def region(self) -> Region | None:
        return Region(division=self.row.division, city=self.row.city, district=self.row.district)

    @guarded(C.REGISTRATION, description="True when it filed cbec.enterprise itself.")
    def filed(self) -> bool | None:
        return self.row.filed

    @guarded(C.CREDIT, description="Customs credit class (ADVANCED, GENERAL, DISCREDITED).")
    def credit_class(self) -> str | None:
        return self.row.credit_class

    @guarded(C.ORDER, description="Orders it is platform, seller or payment institution of.")
    async def orders(
        self,
        info: Info,
        filter: OrderFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Order] | None:
        size = page_size(first)
        viewer = await info.context.viewer()
        page = OrderPage(
            filter_key=_filter_key(filter),
            size=size,
            after=decode_cursor("order", after),
            conditions=order_conditions(filter) & viewer.order_rows(),
        )
        rows = await info.context.loaders.orders_by_enterprise.load((self.row.code, page))
        nodes = await asyncio.gather(*(order_node(info, r) for r in rows))
        visible = [(n, r.id) for n, r in zip(nodes, rows, strict=True) if n is not None]
        return connection([n for n, _ in visible], [i for _, i in visible], "order", size)

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Enterprise | None:
        """Federation `_entities`: the same loader and policy as `enterprise(code)`."""
        return await load_enterprise(info, str(representation["code"]))


async def enterprise_node(info: Info, row: models.Enterprise) -> Enterprise | None:
    """The node for an enterprise row this caller may see, noted in the access log."""
    viewer = await info.context.viewer()
    grant = viewer.grant_for_enterprise(row.code)
    if grant is None:
        return None
    info.context.audit.touch(
        enterprises=(row.code,),
        records=(f"cbec.enterprise:{row.code}",),
        consent_id=grant.consent_id,
    )
    return Enterprise(grant=grant, row=row)


async def load_enterprise(info: Info, code: str) -> Enterprise | None:
    """One enterprise by code under the policy."""
    row = await info.context.loaders.enterprise_by_code.load(code)
    return None if row is None else await enterprise_node(info, row)


def enterprise_rows(
    viewer_enterprise: str | None, consenting: Sequence[str]
) -> ColumnElement[bool]:
    """Enterprises a non-department caller may list: itself and those that consented."""
    codes = [c for c in (viewer_enterprise, *consenting) if c]
    return models.Enterprise.code.in_(codes)
