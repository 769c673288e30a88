"""Loading graph nodes under the access policy: row rules, grants, and the access log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.access import authority
from hub.access.policy import Grant
from hub.graphql.context import Info
from hub.graphql.pagination import Connection, Window, visible_page
from hub.graphql.trade.types import Order
from hub.trade import models


async def group_documents(info: Info, row: models.Order) -> dict[str, Any | None]:
    """The documents linked to an order (its group), by record type, as the authority
    table links them: it decides from them who plays which role. Batched per request (and
    the nested resolvers find them in the loaders' caches)."""
    key = (row.ebp_code, row.order_no)
    loaders = info.context.loaders
    loaders.order_by_key.prime(key, row)  # the group is chosen against this very row
    return dict(await loaders.group_by_order.load(key))


async def order_grant(info: Info, row: models.Order) -> tuple[Grant | None, dict[str, Any]]:
    """The caller's grant on an order (None: invisible) and its group's documents, from
    the authority table; nothing is noted in the access log yet."""
    viewer = await info.context.viewer()
    documents = await group_documents(info, row)
    reads, _ = authority.group_reads(viewer.enterprise, row, documents)
    grant = viewer.grant_for_order(
        ebp_code=row.ebp_code, ebc_code=row.ebc_code, app_time=row.app_time, reads=reads
    )
    return grant, documents


async def order_node(
    info: Info,
    row: models.Order,
    *,
    keep: Callable[[Grant, Any], bool] | None = None,
) -> Order | None:
    """The Order node for a row this caller may see (None otherwise), noted in the access
    log under every enterprise its group names.

    `keep` is a filter's per-record check (`filters.order_filter_check`): a row it refuses
    is left out, as if invisible."""
    grant, documents = await order_grant(info, row)
    if grant is None or (keep is not None and not keep(grant, row)):
        return None
    info.context.audit.touch(
        enterprises=authority.group_codes(row, documents),
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
    size: int | Window,
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
