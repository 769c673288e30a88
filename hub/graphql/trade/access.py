"""Loading graph nodes under the access policy: row rules, grants, and the access log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.access.policy import Grant
from hub.graphql.context import Info
from hub.graphql.pagination import Connection, visible_page
from hub.graphql.trade.types import Order
from hub.trade import models


async def _is_party(info: Info, row: models.Order, code: str | None) -> bool:
    if code is None:
        return False
    if code in (row.ebp_code, row.ebc_code, row.pay_code):
        return True
    key = (row.ebp_code, row.order_no)
    loaders = info.context.loaders
    waybill = await loaders.waybill_by_order.load(key)
    if waybill is not None and waybill.logistics_code == code:
        return True
    inventory = await loaders.inventory_by_order.load(key)
    return inventory is not None and code in (inventory.agent_code, inventory.logistics_code)


async def order_node(
    info: Info,
    row: models.Order,
    *,
    party: bool | None = None,
    keep: Callable[[Grant, Any], bool] | None = None,
) -> Order | None:
    """The Order node for a row this caller may see (None otherwise), noted in the access log.

    `party` may be given when the row was selected with the party predicate already; `keep`
    is a filter's per-record check (`filters.order_filter_check`): a row it refuses is left
    out, as if invisible."""
    viewer = await info.context.viewer()
    if party is None:
        party = await _is_party(info, row, viewer.enterprise)
    grant = viewer.grant_for_order(
        ebp_code=row.ebp_code,
        ebc_code=row.ebc_code,
        pay_code=row.pay_code,
        app_time=row.app_time,
        party=party,
    )
    if grant is None or (keep is not None and not keep(grant, row)):
        return None
    info.context.audit.touch(
        enterprises=(row.ebp_code, row.ebc_code),
        records=(f"cbec.order:{row.record_key}",),
        consent_id=grant.consent_id,
    )
    return Order(grant=grant, row=row)


async def load_order(info: Info, *, ebp_code: str, order_no: str) -> Order | None:
    """One order by key under the policy (used by `order` and federation `_entities`)."""
    row = await info.context.loaders.order_by_key.load((ebp_code, order_no))
    if row is None:
        return None
    return await order_node(info, row)


async def order_connection(
    info: Info,
    rows: list[models.Order],
    size: int,
    keep: Callable[[Grant, Any], bool] | None = None,
) -> Connection[Order]:
    """A page of orders from up to size+1 fetched rows, each under the caller's grant."""
    return await visible_page(
        rows,
        size,
        "order",
        node_of=lambda r: order_node(info, r, keep=keep),
        position_of=lambda r: r.id,
    )
