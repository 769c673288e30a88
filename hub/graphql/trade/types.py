"""GraphQL types of the trade graph (orders and the documents matched with them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from hub.declarations.models import Declaration as DeclarationRow
from hub.graphql.context import Info
from hub.graphql.scalars import Decimal
from hub.trade.matching import MatchStatus as MatchStatusEnum
from hub.trade.models import Order as OrderRow

strawberry.enum(MatchStatusEnum, name="MatchStatus", description="Three-document match result.")


@strawberry.type(description="Why documents of one order disagree.")
class Discrepancy:
    code: str
    detail: str


@strawberry.type(description="The three-document match (三单对碰) of an order.")
class Matching:
    status: MatchStatusEnum
    missing: list[str] = strawberry.field(description="Documents not yet declared.")
    discrepancies: list[Discrepancy]


@strawberry.type(description="Where a node came from: one declaration, as a bank can check it.")
class Provenance:
    declaration_id: str
    chain_index: int
    standard: str
    app_type: str
    declarant: str
    client_id: str
    received_at: datetime
    content_hash: str
    prev_hash: str
    chain_hash: str

    @classmethod
    def of(cls, row: DeclarationRow) -> Provenance:
        """From a declaration row."""
        return cls(
            declaration_id=row.id,
            chain_index=row.chain_index,
            standard=row.standard_ref,
            app_type=row.app_type,
            declarant=row.declarant,
            client_id=row.client_id,
            received_at=row.received_at,
            content_hash=row.content_hash,
            prev_hash=row.prev_hash,
            chain_hash=row.chain_hash,
        )


@strawberry.type(description="An order line.")
class OrderItem:
    gnum: int
    item_name: str
    gmodel: str
    unit: str
    qty: Decimal
    price: Decimal
    total_price: Decimal
    currency: str
    country: str = strawberry.field(description="Country of origin (customs code).")


def _items(payload: dict[str, Any]) -> list[OrderItem]:
    return [
        OrderItem(
            gnum=int(i["gnum"]),
            item_name=i["itemName"],
            gmodel=i["gmodel"],
            unit=i["unit"],
            qty=i["qty"],
            price=i["price"],
            total_price=i["totalPrice"],
            currency=i["currency"],
            country=i["country"],
        )
        for i in payload.get("items", [])
    ]


@strawberry.type(description="An e-commerce order with its match result and risk flags.")
class Order:
    ebp_code: str
    order_no: str
    ebc_code: str
    pay_code: str | None
    order_type: str
    direction: str = strawberry.field(description="I import, E export.")
    trade_mode: str | None
    currency: str
    goods_value: Decimal
    actural_paid: Decimal | None = strawberry.field(description="Official spelling (acturalPaid).")
    tax_total: Decimal | None = strawberry.field(description="Tax declared on the order.")
    tax_computed: Decimal | None = strawberry.field(
        description="Retail import tax the hub computes from the inventory's HS codes."
    )
    app_time: str
    status: str = strawberry.field(description="ACTIVE or CANCELLED.")
    version: int
    risk_flags: list[str]
    customs_status: int | None
    matching: Matching
    items: list[OrderItem]
    payload: JSON = strawberry.field(description="The current declared record.")
    updated_at: datetime
    record_key: strawberry.Private[str]

    @strawberry.field(
        description="The declarations this order came from, oldest first (its history: "
        "the original, every change, a cancellation)."
    )
    async def provenance(self, info: Info) -> list[Provenance]:
        rows = await info.context.loaders.provenance_by_record.load(("cbec.order", self.record_key))
        return [Provenance.of(r) for r in rows]

    @classmethod
    def from_row(cls, row: OrderRow) -> Order:
        """From the projected order row."""
        return cls(
            ebp_code=row.ebp_code,
            order_no=row.order_no,
            ebc_code=row.ebc_code,
            pay_code=row.pay_code,
            order_type=row.order_type,
            direction=row.direction,
            trade_mode=row.trade_mode,
            currency=row.currency,
            goods_value=row.goods_value,
            actural_paid=row.actural_paid,
            tax_total=row.tax_total,
            tax_computed=row.tax_computed,
            app_time=row.app_time,
            status=row.status,
            version=row.version,
            risk_flags=list(row.risk_flags or []),
            customs_status=row.customs_status,
            matching=Matching(
                status=MatchStatusEnum(row.match_status),
                missing=list(row.match_missing or []),
                discrepancies=[Discrepancy(**d) for d in row.match_discrepancies or []],
            ),
            items=_items(row.payload),
            payload=row.payload,
            updated_at=row.updated_at,
            record_key=row.record_key,
        )
