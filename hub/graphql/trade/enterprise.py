"""The Enterprise node (federation entity keyed by `code`) and its nested order lists."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import strawberry
from sqlalchemy import ColumnElement

from hub.access import authority
from hub.access.policy import Category as C
from hub.access.policy import Grant
from hub.graphql.context import Info
from hub.graphql.credit.enterprise import EnterpriseCredit
from hub.graphql.loaders import Page
from hub.graphql.node import Node, global_id
from hub.graphql.pagination import Connection, Window, visible_page, window
from hub.graphql.trade.access import order_connection
from hub.graphql.trade.fields import guarded
from hub.graphql.trade.filters import OrderFilter, RowCheck, order_conditions, order_filter_check
from hub.graphql.trade.types import Inventory, Order, Payment, Receipt, Region, Waybill
from hub.trade import models


def _filter_key(f: OrderFilter | None) -> tuple[Any, ...]:
    if f is None:
        return ()
    return tuple(sorted((k, str(v)) for k, v in vars(f).items()))


@strawberry.federation.type(keys=["code"], description="An enterprise of the zone.")
class Enterprise(Node):
    grant: strawberry.Private[Grant]
    row: strawberry.Private[models.Enterprise]
    # Categories of this enterprise's records the caller may list at all (its department,
    # its own enterprise, a consent of this enterprise); each listed node then has its own
    # grant, so a bank's ORDER consent lists orders though the node itself is registration.
    lists: strawberry.Private[frozenset[C]] = frozenset()

    @guarded(source="cbec.enterprise:/code", description="The global id (Node), from its code.")
    def id(self) -> strawberry.ID:
        return global_id("Enterprise", self.row.code)

    @guarded(
        source="cbec.enterprise:/code", description="USCC (18 characters) or customs code (10)."
    )
    def code(self) -> str | None:
        return self.row.code

    @guarded(source="cbec.enterprise:/name")
    def name(self) -> str | None:
        return self.row.name

    @guarded(source="cbec.enterprise:/customsCode")
    def customs_code(self) -> str | None:
        return self.row.customs_code

    @guarded(
        source="cbec.enterprise:/roles",
        description="Roles it plays: ebp, ebc, logistics, payment, …",
    )
    def roles(self) -> list[str] | None:
        return list(self.row.roles or [])

    @guarded(
        source="cbec.enterprise:/code", description="From the USCC administrative division code."
    )
    def region(self) -> Region | None:
        return Region(division=self.row.division, city=self.row.city, district=self.row.district)

    @guarded(C.REGISTRATION, description="True when it filed cbec.enterprise itself.")
    def filed(self) -> bool | None:
        return self.row.filed

    @guarded(
        source="cbec.enterprise:/creditClass",
        description="The class the enterprise declares about itself (ADVANCED, GENERAL, "
        "DISCREDITED): only its declaration, never the hub's class (see `credit`).",
    )
    def credit_class(self) -> str | None:
        return self.row.credit_class

    @guarded(
        C.CREDIT,
        description="The hub's credit evaluation, every department's rating side by side, "
        "and the class the enterprise declares about itself.",
    )
    def credit(self) -> EnterpriseCredit | None:
        return EnterpriseCredit(grant=self.grant, row=self.row)

    @guarded(
        listing=True,
        category=C.ORDER,
        description="Orders it is platform, seller or payment institution of, that you may "
        "see: each order under your own grant on it (a bank: the orders of an enterprise "
        "that consented, in the consented period; a department: all).",
    )
    async def orders(
        self,
        info: Info,
        filter: OrderFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Order] | None:
        span = window("order", first=first, after=after, last=last, before=before)
        viewer = await info.context.viewer()
        keep = order_filter_check(filter, viewer)
        page = _page(span, _filter_key(filter), order_conditions(filter) & viewer.order_rows())
        rows = await info.context.loaders.orders_by_enterprise.load((self.row.code, page))
        return await order_connection(info, rows, span, keep)

    @guarded(
        listing=True,
        category=C.PAYMENT,
        description="Import payments it made or received (payment institution or platform) "
        "that you may see, each under your grant on it.",
    )
    async def payments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Payment] | None:
        span = window("payment", first=first, after=after, last=last, before=before)
        return await _documents(info, self.row.code, "payment", Payment, lambda r: r.pay_time, span)

    @guarded(
        listing=True,
        category=C.PAYMENT,
        description="Export receipts of payment naming it that you may see, each under your "
        "grant on it.",
    )
    async def receipts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Receipt] | None:
        span = window("receipt", first=first, after=after, last=last, before=before)
        return await _documents(
            info, self.row.code, "receipt", Receipt, lambda r: r.accounting_date, span
        )

    @guarded(
        listing=True,
        category=C.LOGISTICS,
        description="Waybills it carried or whose platform it is that you may see, each "
        "under your grant on it.",
    )
    async def waybills(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Waybill] | None:
        span = window("waybill", first=first, after=after, last=last, before=before)
        return await _documents(
            info,
            self.row.code,
            "waybill",
            Waybill,
            lambda r: str(r.payload.get("appTime", "")),
            span,
        )

    @guarded(
        listing=True,
        category=C.CLEARANCE,
        description="Customs inventories naming it in a role that reads them (broker, "
        "platform, seller, guarantor, owner) that you may see, each under your grant on it.",
    )
    async def inventories(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Inventory] | None:
        span = window("inventory", first=first, after=after, last=last, before=before)
        return await _documents(
            info,
            self.row.code,
            "inventory",
            Inventory,
            lambda r: str(r.payload.get("declTime", "")),
            span,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Enterprise | None:
        """Federation `_entities`: the same loader and policy as `enterprise(code)`."""
        return await load_enterprise(info, str(representation["code"]))


_DOCUMENTS: dict[str, tuple[str, Any]] = {
    "payment": ("payments_by_enterprise", models.Payment),
    "receipt": ("receipts_by_enterprise", models.Receipt),
    "waybill": ("waybills_by_enterprise", models.Waybill),
    "inventory": ("inventories_by_enterprise", models.Inventory),
}


async def _documents(
    info: Info,
    owner: str,
    kind: str,
    node: Any,
    date_of: Callable[[Any], str],
    span: Window,
) -> Any:
    """A page of an enterprise's documents of one kind, each under the caller's grant."""
    viewer = await info.context.viewer()
    loader_name, model = _DOCUMENTS[kind]
    standard_id = f"cbec.{kind}"
    page = _page(span, (), model.status == "ACTIVE")
    rows = await getattr(info.context.loaders, loader_name).load((owner, page))

    async def node_of(row: Any) -> Any:
        # A document listed under an enterprise is read as that enterprise's document: its
        # consent (by the document's date), or what the caller's own enterprise reads of
        # it in the roles the document names it (the authority table), decide.
        grant = viewer.grant_for_order(
            ebp_code=row.ebp_code,
            ebc_code=owner,
            app_time=date_of(row),
            reads=authority.document_reads(standard_id, viewer.enterprise, row),
        )
        if grant is None:
            return None
        info.context.audit.touch(
            enterprises=authority.document_codes(standard_id, row),
            records=(f"{standard_id}:{row.record_key}",),
            consent_id=grant.consent_id,
        )
        return node(grant=grant, row=row)

    return await visible_page(rows, span, kind, node_of=node_of, position_of=lambda r: r.id)


def _page(span: Window, filter_key: tuple[Any, ...], conditions: Any) -> Page:
    """The loader's page for a window (equal pages of different enterprises batch)."""
    return Page(
        filter_key=filter_key,
        size=span.size,
        after=span.after,
        before=span.before,
        backward=span.backward,
        conditions=conditions,
    )


async def enterprise_node(
    info: Info, row: models.Enterprise, *, keep: RowCheck | None = None
) -> Enterprise | None:
    """The node for an enterprise row this caller may see, noted in the access log (`keep`:
    a filter's per-record check, see `filters.enterprise_filter_check`)."""
    viewer = await info.context.viewer()
    grant = viewer.grant_for_enterprise(row.code)
    if grant is None or (keep is not None and not keep(grant, row)):
        return None
    info.context.audit.touch(
        enterprises=(row.code,),
        records=(f"cbec.enterprise:{row.code}",),
        consent_id=grant.consent_id,
    )
    return Enterprise(grant=grant, row=row, lists=viewer.listable(row.code))


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
