"""GraphQL types of the trade graph. Every field names its data category (see fields.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as PyDecimal
from typing import Any

import strawberry

from hub.access import authority
from hub.access.policy import Category as C
from hub.access.policy import Grant
from hub.declarations.models import Declaration as DeclarationRow
from hub.graphql.context import Info
from hub.graphql.node import Node, global_id
from hub.graphql.scalars import Decimal
from hub.graphql.trade import clearance
from hub.graphql.trade.clearance import (
    InventoryCancellation,
    InventoryReturn,
    TaxBill,
    WaybillPassage,
)
from hub.graphql.trade.fields import guarded
from hub.trade import models
from hub.trade.matching import MatchStatus as MatchStatusEnum
from hub.trade.matching_details import readable_detail

strawberry.enum(MatchStatusEnum, name="MatchStatus", description="Three-document match result.")


def _dec(value: Any) -> PyDecimal | None:
    return None if value is None or value == "" else PyDecimal(str(value))


@strawberry.type(
    description="Why documents of one order disagree. `detail` quotes values only of the "
    "categories the caller reads; others show as `[category withheld]`."
)
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
    prev_hash: str | None  # the chain links, null until the log integrates the declaration
    chain_hash: str | None

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


async def _provenance(info: Info, standard_id: str, record_key: str) -> list[Provenance]:
    rows = await info.context.loaders.provenance_by_record.load((standard_id, record_key))
    return [Provenance.of(r) for r in rows]


def _noted(info: Info, standard_id: str, row: Any) -> Any:
    """A linked document returned with its order, noted in the access log under every
    enterprise it names."""
    info.context.audit.touch(
        enterprises=authority.document_codes(standard_id, row),
        records=(f"{standard_id}:{row.record_key}",),
    )
    return row


def _line_decimal(line: dict[str, Any], name: str) -> PyDecimal | None:
    return _dec(line.get(name))


@strawberry.type(description="An order line.")
class OrderItem:
    grant: strawberry.Private[Grant]
    line: strawberry.Private[dict[str, Any]]

    @guarded(source="cbec.order:/items/*/gnum")
    def gnum(self) -> int | None:
        return int(self.line["gnum"])

    @guarded(source="cbec.order:/items/*/itemName")
    def item_name(self) -> str | None:
        return self.line.get("itemName")

    @guarded(source="cbec.order:/items/*/gmodel")
    def gmodel(self) -> str | None:
        return self.line.get("gmodel")

    @guarded(source="cbec.order:/items/*/unit")
    def unit(self) -> str | None:
        return self.line.get("unit")

    @guarded(source="cbec.order:/items/*/qty")
    def qty(self) -> Decimal | None:
        return _line_decimal(self.line, "qty")

    @guarded(source="cbec.order:/items/*/price", description="Money: not goods data.")
    def price(self) -> Decimal | None:
        return _line_decimal(self.line, "price")

    @guarded(source="cbec.order:/items/*/totalPrice", description="Money: not goods data.")
    def total_price(self) -> Decimal | None:
        return _line_decimal(self.line, "totalPrice")

    @guarded(source="cbec.order:/items/*/currency")
    def currency(self) -> str | None:
        return self.line.get("currency")

    @guarded(source="cbec.order:/items/*/country", description="Country of origin.")
    def country(self) -> str | None:
        return self.line.get("country")


@strawberry.type(description="An inventory line with its HS code.")
class InventoryItem:
    grant: strawberry.Private[Grant]
    line: strawberry.Private[dict[str, Any]]

    @guarded(source="cbec.inventory:/items/*/gnum")
    def gnum(self) -> int | None:
        return int(self.line["gnum"])

    @guarded(source="cbec.inventory:/items/*/gcode", description="HS code (10 digits).")
    def gcode(self) -> str | None:
        return self.line.get("gcode")

    @guarded(source="cbec.inventory:/items/*/gname")
    def gname(self) -> str | None:
        return self.line.get("gname")

    @guarded(source="cbec.inventory:/items/*/gmodel")
    def gmodel(self) -> str | None:
        return self.line.get("gmodel")

    @guarded(source="cbec.inventory:/items/*/country")
    def country(self) -> str | None:
        return self.line.get("country")

    @guarded(source="cbec.inventory:/items/*/qty")
    def qty(self) -> Decimal | None:
        return _line_decimal(self.line, "qty")

    @guarded(source="cbec.inventory:/items/*/unit")
    def unit(self) -> str | None:
        return self.line.get("unit")

    @guarded(source="cbec.inventory:/items/*/price", description="Money: not goods data.")
    def price(self) -> Decimal | None:
        return _line_decimal(self.line, "price")

    @guarded(source="cbec.inventory:/items/*/totalPrice", description="Money: not goods data.")
    def total_price(self) -> Decimal | None:
        return _line_decimal(self.line, "totalPrice")


@strawberry.type(description="A waybill milestone (513 / 507 / 509).")
class Milestone:
    status: str
    status_time: str


@strawberry.type(description="A customs receipt on an inventory.")
class CustomsStatusChange:
    status: int
    time: str


@strawberry.federation.type(
    description=f"An import payment (411). {authority.describe_type('cbec.payment')}"
)
class Payment(Node):
    grant: strawberry.Private[Grant]
    row: strawberry.Private[models.Payment]

    @guarded(
        source="cbec.payment:/payTransactionId", description="The global id (Node), from its key."
    )
    def id(self) -> strawberry.ID:
        return global_id("Payment", self.row.pay_code, self.row.pay_transaction_id)

    @guarded(source="cbec.payment:/payCode")
    def pay_code(self) -> str | None:
        return self.row.pay_code

    @guarded(source="cbec.payment:/payTransactionId")
    def pay_transaction_id(self) -> str | None:
        return self.row.pay_transaction_id

    @guarded(source="cbec.payment:/amountPaid")
    def amount_paid(self) -> Decimal | None:
        return self.row.amount_paid

    @guarded(source="cbec.payment:/currency")
    def currency(self) -> str | None:
        return self.row.currency

    @guarded(source="cbec.payment:/payTime")
    def pay_time(self) -> str | None:
        return self.row.pay_time

    @guarded(source="cbec.payment:/payerName")
    def payer_name(self) -> str | None:
        return self.row.payload.get("payerName")

    @guarded(source="cbec.payment:/payerIdNumber")
    def payer_id_number(self) -> str | None:
        return self.row.payload.get("payerIdNumber")

    @guarded(
        source="cbec.payment:/appType",
        description="The declarations this payment came from (their appType shows its history).",
    )
    async def provenance(self, info: Info) -> list[Provenance] | None:
        return await _provenance(info, "cbec.payment", self.row.record_key)


@strawberry.federation.type(
    description="An export receipt of payment (403). " + authority.describe_type("cbec.receipt")
)
class Receipt(Node):
    grant: strawberry.Private[Grant]
    row: strawberry.Private[models.Receipt]

    @guarded(source="cbec.receipt:/payNo", description="The global id (Node), from its key.")
    def id(self) -> strawberry.ID:
        return global_id("Receipt", self.row.pay_code, self.row.pay_no)

    @guarded(source="cbec.receipt:/payCode")
    def pay_code(self) -> str | None:
        return self.row.pay_code

    @guarded(source="cbec.receipt:/payNo")
    def pay_no(self) -> str | None:
        return self.row.pay_no

    @guarded(source="cbec.receipt:/charge")
    def charge(self) -> Decimal | None:
        return self.row.charge

    @guarded(source="cbec.receipt:/currency")
    def currency(self) -> str | None:
        return self.row.currency

    @guarded(source="cbec.receipt:/accountingDate")
    def accounting_date(self) -> str | None:
        return self.row.accounting_date

    @guarded(
        source="cbec.receipt:/appType",
        description="The declarations this receipt came from (their appType shows its history).",
    )
    async def provenance(self, info: Info) -> list[Provenance] | None:
        return await _provenance(info, "cbec.receipt", self.row.record_key)


@strawberry.federation.type(
    description="A waybill (511 / 505) and its milestones. "
    + authority.describe_type("cbec.waybill")
)
class Waybill(Node):
    grant: strawberry.Private[Grant]
    row: strawberry.Private[models.Waybill]

    @guarded(source="cbec.waybill:/logisticsNo", description="The global id (Node), from its key.")
    def id(self) -> strawberry.ID:
        return global_id("Waybill", self.row.logistics_code, self.row.logistics_no)

    @guarded(source="cbec.waybill:/logisticsCode")
    def logistics_code(self) -> str | None:
        return self.row.logistics_code

    @guarded(source="cbec.waybill:/logisticsNo")
    def logistics_no(self) -> str | None:
        return self.row.logistics_no

    @guarded(source="cbec.waybill:/weight")
    def weight(self) -> Decimal | None:
        return _dec(self.row.payload.get("weight"))

    @guarded(source="cbec.logistics-status:/logisticsStatus")
    def last_milestone(self) -> str | None:
        return self.row.last_milestone

    @guarded(
        source="cbec.logistics-status:/logisticsStatus",
        description="Every milestone, oldest first.",
    )
    async def milestones(self, info: Info) -> list[Milestone] | None:
        key = (self.row.logistics_code, self.row.logistics_no)
        events = await info.context.loaders.milestones_by_waybill.load(key)
        return [Milestone(status=e.milestone, status_time=e.status_time) for e in events]

    @guarded(
        source="cbec.departure:/items",
        description="The arrival (507) and departure (509) lists its carrier filed naming "
        "it, in the order it passed; a list another carrier filed is never shown.",
    )
    async def passages(self, info: Info) -> list[WaybillPassage] | None:
        return await self._passages(info)

    @guarded(
        source="cbec.departure:/leaveTime",
        description="Departure evidence: the latest departure list (509) naming it, null "
        "until the parcel left.",
    )
    async def departure(self, info: Info) -> WaybillPassage | None:
        left = [p for p in await self._passages(info) if p.kind_value == "DEPARTURE"]
        return left[-1] if left else None

    async def _passages(self, info: Info) -> list[WaybillPassage]:
        key = (self.row.logistics_code, self.row.logistics_no)
        rows = await info.context.loaders.passages_by_waybill.load(key)
        shown = []
        for row in rows:
            standard_id = f"cbec.{row.kind.lower()}"
            # The list names its carrier (and site operator): each finds the read.
            codes = clearance.passage_codes(row.kind, row.logistics_code, row.head)
            codes += authority.document_codes("cbec.waybill", self.row)
            clearance.note_read(info, enterprises=codes, standard_id=standard_id, key=row.list_key)
            shown.append(
                WaybillPassage(
                    grant=self.grant, kind_value=row.kind, passed=row.passed_at, head=row.head
                )
            )
        return shown

    @guarded(source="cbec.waybill:/consignee")
    def consignee(self) -> str | None:
        return self.row.payload.get("consignee")

    @guarded(source="cbec.waybill:/consigneeTelephone")
    def consignee_telephone(self) -> str | None:
        return self.row.payload.get("consigneeTelephone")

    @guarded(source="cbec.waybill:/consigneeAddress")
    def consignee_address(self) -> str | None:
        return self.row.payload.get("consigneeAddress")

    @guarded(
        source="cbec.waybill:/appType",
        description="The declarations this waybill came from (their appType shows its history).",
    )
    async def provenance(self, info: Info) -> list[Provenance] | None:
        return await _provenance(info, "cbec.waybill", self.row.record_key)


@strawberry.federation.type(
    description="A customs inventory (621 / 603) and its status. "
    + authority.describe_type("cbec.inventory")
)
class Inventory(Node):
    grant: strawberry.Private[Grant]
    row: strawberry.Private[models.Inventory]

    @guarded(source="cbec.inventory:/orderNo", description="The global id (Node), from its key.")
    def id(self) -> strawberry.ID:
        return global_id("Inventory", self.row.ebp_code, self.row.order_no)

    @guarded(source="cbec.inventory:/copNo")
    def cop_no(self) -> str | None:
        return self.row.payload.get("copNo")

    @guarded(
        source="cbec.inventory:/invtNo",
        description="Customs' inventory number: the inventory's own, else the one its "
        "receipts (622 / 604) assigned.",
    )
    def invt_no(self) -> str | None:
        return self.row.invt_no or self.row.payload.get("invtNo")

    @guarded(
        source="cbec.summary-result:/entryId",
        description="The customs declaration a summary result (792) summed this export "
        "inventory into (export tax refunds); null until one names it with the "
        "inventory's broker and seller.",
    )
    def entry_id(self) -> str | None:
        return self.row.entry_id

    @guarded(source="cbec.summary-result:/sumNo", description="The summary (792) listing it.")
    def sum_no(self) -> str | None:
        return self.row.sum_no

    @guarded(
        source="cbec.inventory-cancel:/invtNo",
        description="Standing cancellations (623) naming the inventory's own parties.",
    )
    def cancellations(self, info: Info) -> list[InventoryCancellation] | None:
        return [
            InventoryCancellation(grant=self.grant, view=self._noted_request(info, r))
            for r in self.row.requests or ()
            if r.get("kind") == "CANCEL"
        ]

    @guarded(
        source="cbec.inventory-return:/invtNo",
        description="Standing returns (625) naming the inventory's own parties, with the "
        "lines and quantities returned.",
    )
    def returns(self, info: Info) -> list[InventoryReturn] | None:
        return [
            InventoryReturn(grant=self.grant, view=self._noted_request(info, r))
            for r in self.row.requests or ()
            if r.get("kind") == "RETURN"
        ]

    @guarded(
        source="cbec.tax-bill:/taxNo",
        description="The tax customs assessed (816): the latest bill naming the inventory's "
        "parties, null when there is none or it was voided.",
    )
    def tax_bill(self, info: Info) -> TaxBill | None:
        bill = self.row.tax_bill
        if not bill:
            return None
        key = clearance.bill_key(bill, invt_no=self.row.invt_no)
        clearance.note_read(info, enterprises=self._codes, standard_id="cbec.tax-bill", key=key)
        return TaxBill(grant=self.grant, view=bill)

    @property
    def _codes(self) -> list[str]:
        return authority.document_codes("cbec.inventory", self.row)

    def _noted_request(self, info: Info, view: dict[str, Any]) -> dict[str, Any]:
        kind = str(view.get("kind"))
        key = clearance.request_key(
            kind, view, ebp_code=self.row.ebp_code, order_no=self.row.order_no
        )
        standard_id = "cbec.inventory-cancel" if kind == "CANCEL" else "cbec.inventory-return"
        clearance.note_read(info, enterprises=self._codes, standard_id=standard_id, key=key)
        return view

    @guarded(source="cbec.inventory:/tradeMode")
    def trade_mode(self) -> str | None:
        return self.row.trade_mode

    @guarded(source="cbec.inventory:/customsCode")
    def customs_code(self) -> str | None:
        return self.row.customs_code

    @guarded(source="cbec.inventory:/agentCode")
    def agent_code(self) -> str | None:
        return self.row.agent_code

    @guarded(
        source="cbec.inventory-status:/returnStatus",
        description="Latest customs status (800 released, 100 rejected …).",
    )
    def customs_status(self) -> int | None:
        return self.row.customs_status

    @guarded(
        source="cbec.inventory-status:/returnStatus",
        description="Every customs receipt, oldest first.",
    )
    async def status_history(self, info: Info) -> list[CustomsStatusChange] | None:
        key = (self.row.ebp_code, self.row.order_no)
        events = await info.context.loaders.customs_statuses_by_order.load(key)
        return [CustomsStatusChange(status=e.return_status, time=e.return_time) for e in events]

    @guarded(source="cbec.inventory:/items", description="Lines with HS codes and origin.")
    def items(self) -> list[InventoryItem] | None:
        return [InventoryItem(grant=self.grant, line=i) for i in self.row.payload.get("items", [])]

    @guarded(source="cbec.inventory:/buyerName")
    def buyer_name(self) -> str | None:
        return self.row.payload.get("buyerName")

    @guarded(source="cbec.inventory:/buyerIdNumber")
    def buyer_id_number(self) -> str | None:
        return self.row.payload.get("buyerIdNumber")

    @guarded(
        source="cbec.inventory:/appType",
        description="The declarations this inventory came from (their appType shows its history).",
    )
    async def provenance(self, info: Info) -> list[Provenance] | None:
        return await _provenance(info, "cbec.inventory", self.row.record_key)


@strawberry.federation.type(
    keys=["ebpCode orderNo"],
    description="An e-commerce order with its documents, match result and risk flags. "
    + authority.describe_type("cbec.order"),
)
class Order(Node):
    grant: strawberry.Private[Grant]
    row: strawberry.Private[models.Order]

    @guarded(source="cbec.order:/orderNo", description="The global id (Node), from its key.")
    def id(self) -> strawberry.ID:
        return global_id("Order", self.row.ebp_code, self.row.order_no)

    @guarded(source="cbec.order:/ebpCode", description="The platform's enterprise code.")
    def ebp_code(self) -> str | None:
        return self.row.ebp_code

    @guarded(source="cbec.order:/orderNo")
    def order_no(self) -> str | None:
        return self.row.order_no

    @guarded(source="cbec.order:/ebcCode", description="The seller's enterprise code.")
    def ebc_code(self) -> str | None:
        return self.row.ebc_code

    @guarded(
        source="cbec.order:/payCode", description="The payment institution named on the order."
    )
    def pay_code(self) -> str | None:
        return self.row.pay_code

    @guarded(
        source="cbec.order:/orderType",
        description="I import; E, B, W export (B2C, B2B, overseas warehouse).",
    )
    def order_type(self) -> str | None:
        return self.row.order_type

    @guarded(source="cbec.order:/orderType", description="I import, E export.")
    def direction(self) -> str | None:
        return self.row.direction

    @guarded(source="cbec.order:/tradeMode")
    def trade_mode(self) -> str | None:
        return self.row.trade_mode

    @guarded(source="cbec.order:/currency")
    def currency(self) -> str | None:
        return self.row.currency

    @guarded(source="cbec.order:/goodsValue")
    def goods_value(self) -> Decimal | None:
        return self.row.goods_value

    @guarded(source="cbec.order:/freight")
    def freight(self) -> Decimal | None:
        return _dec(self.row.payload.get("freight"))

    @guarded(source="cbec.order:/discount")
    def discount(self) -> Decimal | None:
        return _dec(self.row.payload.get("discount"))

    @guarded(
        source="cbec.order:/acturalPaid", description="Amount paid (official spelling acturalPaid)."
    )
    def actural_paid(self) -> Decimal | None:
        return self.row.actural_paid

    @guarded(source="cbec.order:/appTime")
    def app_time(self) -> str | None:
        return self.row.app_time

    @guarded(source="cbec.order:/appType", description="ACTIVE or CANCELLED.")
    def status(self) -> str | None:
        return self.row.status

    @guarded(source="cbec.order:/appType", description="1 + the number of accepted changes.")
    def version(self) -> int | None:
        return self.row.version

    @guarded(source="cbec.order:/taxTotal", description="Tax declared on the order.")
    def tax_total(self) -> Decimal | None:
        return self.row.tax_total

    @guarded(C.TAX, description="Retail import tax the hub computes from the HS codes.")
    def tax_computed(self) -> Decimal | None:
        return self.row.tax_computed

    @guarded(
        C.TAX,
        description="The tax customs assessed on the order's inventory (the total of its "
        "816 tax bill), beside the hub's estimate `taxComputed`; null without a bill.",
    )
    def tax_assessed(self) -> Decimal | None:
        return self.row.tax_assessed

    @guarded(
        C.TAX,
        description="taxAssessed − taxComputed, null unless both are known. Beyond the "
        "tolerance (RuleConfig.tax_tolerance_cny) the order carries the risk flag "
        "TAX_ASSESSED_DIFFERS.",
    )
    def tax_difference(self) -> Decimal | None:
        assessed, computed = self.row.tax_assessed, self.row.tax_computed
        return None if assessed is None or computed is None else assessed - computed

    @guarded(
        C.CREDIT,
        description="Limit and tax risk flags (TAX_MISMATCH: the declared taxTotal is not "
        "the estimate; TAX_ASSESSED_DIFFERS: customs' tax bill is not the estimate; …).",
    )
    def risk_flags(self) -> list[str] | None:
        return list(self.row.risk_flags or [])

    @guarded(
        source="cbec.inventory-status:/returnStatus",
        description="Latest customs status of the order's inventory.",
    )
    def customs_status(self) -> int | None:
        return self.row.customs_status

    @guarded(C.CLEARANCE, description="The three-document match.")
    def matching(self) -> Matching | None:
        return Matching(
            status=MatchStatusEnum(self.row.match_status),
            missing=list(self.row.match_missing or []),
            # Each quoted value only where the caller reads its category.
            discrepancies=[
                Discrepancy(code=d["code"], detail=readable_detail(d, self.grant))
                for d in self.row.match_discrepancies or []
            ],
        )

    @guarded(source="cbec.order:/items", description="Order lines.")
    def items(self) -> list[OrderItem] | None:
        return [OrderItem(grant=self.grant, line=i) for i in self.row.payload.get("items", [])]

    @guarded(source="cbec.order:/buyerName")
    def buyer_name(self) -> str | None:
        return self.row.payload.get("buyerName")

    @guarded(source="cbec.order:/buyerIdNumber")
    def buyer_id_number(self) -> str | None:
        return self.row.payload.get("buyerIdNumber")

    @guarded(source="cbec.order:/buyerTelephone")
    def buyer_telephone(self) -> str | None:
        return self.row.payload.get("buyerTelephone")

    @guarded(source="cbec.order:/consignee")
    def consignee(self) -> str | None:
        return self.row.payload.get("consignee")

    @guarded(source="cbec.order:/consigneeAddress")
    def consignee_address(self) -> str | None:
        return self.row.payload.get("consigneeAddress")

    @guarded(C.PAYMENT, description="The import payment matched with the order.")
    async def payment(self, info: Info) -> Payment | None:
        row = await info.context.loaders.payment_by_order.load(self._key)
        return Payment(grant=self.grant, row=_noted(info, "cbec.payment", row)) if row else None

    @guarded(C.PAYMENT, description="The export receipt matched with the order.")
    async def receipt(self, info: Info) -> Receipt | None:
        row = await info.context.loaders.receipt_by_order.load(self._key)
        return Receipt(grant=self.grant, row=_noted(info, "cbec.receipt", row)) if row else None

    @guarded(C.LOGISTICS, description="The waybill matched with the order.")
    async def waybill(self, info: Info) -> Waybill | None:
        row = await info.context.loaders.waybill_by_order.load(self._key)
        return Waybill(grant=self.grant, row=_noted(info, "cbec.waybill", row)) if row else None

    @guarded(C.CLEARANCE, description="The customs inventory matched with the order.")
    async def inventory(self, info: Info) -> Inventory | None:
        row = await info.context.loaders.inventory_by_order.load(self._key)
        return Inventory(grant=self.grant, row=_noted(info, "cbec.inventory", row)) if row else None

    @guarded(
        source="cbec.order:/appType",
        description="The declarations this order came from, oldest first: its history "
        "(changes and cancellation).",
    )
    async def provenance(self, info: Info) -> list[Provenance] | None:
        return await _provenance(info, "cbec.order", self.row.record_key)

    @property
    def _key(self) -> tuple[str, str]:
        return (self.row.ebp_code, self.row.order_no)

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Order | None:
        """Federation `_entities`: the same loaders and the same policy as `order`."""
        from hub.graphql.trade.access import load_order

        return await load_order(
            info, ebp_code=str(representation["ebpCode"]), order_no=str(representation["orderNo"])
        )


@strawberry.type(description="A region from the USCC administrative division code.")
class Region:
    division: str | None
    city: str | None
    district: str | None
