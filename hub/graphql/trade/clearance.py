"""GraphQL types of what follows an inventory's clearance and a waybill's passage (CEB
2022-05): cancellations (623) and returns (625) on inventories, the tax bill customs
assessed (816), and the arrival (507) and departure (509) lists naming a waybill.

The projection (hub.trade.customs_links) keeps on each inventory only the requests and the
bill that name the inventory's own parties, and on each waybill only the lists its own
carrier filed; these types show them. Every field takes its category from the standard of
the record it shows (`guarded(source=...)`), under the grant of the inventory or waybill
it hangs on; reading one notes its record in the access log under the enterprises the
node names.
"""

from __future__ import annotations

from decimal import Decimal as PyDecimal
from enum import StrEnum
from typing import Any

import strawberry

from hub.access import authority
from hub.access.policy import Category as C
from hub.access.policy import Grant
from hub.graphql.context import Info
from hub.graphql.scalars import Decimal
from hub.graphql.trade.fields import guarded

_CANCEL = "cbec.inventory-cancel"
_RETURN = "cbec.inventory-return"
_BILL = "cbec.tax-bill"
_STANDARD_OF_REQUEST = {"CANCEL": _CANCEL, "RETURN": _RETURN}
_STANDARD_OF_PASSAGE = {"ARRIVAL": "cbec.arrival", "DEPARTURE": "cbec.departure"}


def _dec(value: Any) -> PyDecimal | None:
    return None if value is None or value == "" else PyDecimal(str(value))


def note_read(info: Info, *, enterprises: list[str], standard_id: str, key: str) -> None:
    """A record shown on a node: noted in the access log under the node's enterprises."""
    info.context.audit.touch(enterprises=enterprises, records=(f"{standard_id}:{key}",))


def request_key(kind: str, view: dict[str, Any], *, ebp_code: str, order_no: str) -> str:
    """The record key of a cancellation or return the graph shows (its standard's key)."""
    rtype = authority.RECORD_TYPES[_STANDARD_OF_REQUEST[kind]]
    return rtype.key({**view, "ebpCode": ebp_code, "orderNo": order_no})


def bill_key(view: dict[str, Any], *, invt_no: str | None) -> str:
    """The record key of the tax bill the graph shows."""
    return authority.RECORD_TYPES[_BILL].key({**view, "invtNo": invt_no})


@strawberry.type(description="A goods line of a return (625): which inventory line, how much.")
class ReturnedLine:
    grant: strawberry.Private[Grant]
    line: strawberry.Private[dict[str, Any]]

    @guarded(source=f"{_RETURN}:/items/*/gnum", description="The inventory line's number.")
    def gnum(self) -> int | None:
        value = self.line.get("gnum")
        return None if value is None else int(value)

    @guarded(source=f"{_RETURN}:/items/*/qty", description="Quantity returned.")
    def qty(self) -> Decimal | None:
        return _dec(self.line.get("qty"))

    @guarded(source=f"{_RETURN}:/items/*/unit")
    def unit(self) -> str | None:
        return self.line.get("unit")


@strawberry.type(
    description="A standing cancellation (623) of the inventory by the broker that "
    "declared it: while it stands, the inventory counts for no buyer's annual quota."
)
class InventoryCancellation:
    grant: strawberry.Private[Grant]
    view: strawberry.Private[dict[str, Any]]

    @guarded(source=f"{_CANCEL}:/appTime", description="When the broker applied.")
    def app_time(self) -> str | None:
        return self.view.get("appTime")

    @guarded(source=f"{_CANCEL}:/appStatus", description="1 staged, 2 declared.")
    def app_status(self) -> str | None:
        return self.view.get("appStatus")

    @guarded(source=f"{_CANCEL}:/reason")
    def reason(self) -> str | None:
        return self.view.get("reason")

    @guarded(source=f"{_CANCEL}:/copNo")
    def cop_no(self) -> str | None:
        return self.view.get("copNo")

    @guarded(source=f"{_CANCEL}:/invtNo", description="The inventory it cancels.")
    def invt_no(self) -> str | None:
        return self.view.get("invtNo")

    @guarded(
        source=f"{_CANCEL}:/appType",
        description="The declaration it came from (its provenance: `declaration(id)`).",
    )
    def declaration_id(self) -> str | None:
        return self.view.get("declarationId")


@strawberry.type(
    description="A standing return (625) of goods of the inventory: the returned lines' "
    "share of the dutiable value gives the buyer's annual quota back."
)
class InventoryReturn:
    grant: strawberry.Private[Grant]
    view: strawberry.Private[dict[str, Any]]

    @guarded(source=f"{_RETURN}:/appTime", description="When the broker applied.")
    def app_time(self) -> str | None:
        return self.view.get("appTime")

    @guarded(source=f"{_RETURN}:/appStatus", description="1 staged, 2 declared.")
    def app_status(self) -> str | None:
        return self.view.get("appStatus")

    @guarded(source=f"{_RETURN}:/reason")
    def reason(self) -> str | None:
        return self.view.get("reason")

    @guarded(source=f"{_RETURN}:/copNo", description="The return application's own number.")
    def cop_no(self) -> str | None:
        return self.view.get("copNo")

    @guarded(source=f"{_RETURN}:/invtNo", description="The inventory the goods came in on.")
    def invt_no(self) -> str | None:
        return self.view.get("invtNo")

    @guarded(source=f"{_RETURN}:/items", description="The lines returned and their quantities.")
    def items(self) -> list[ReturnedLine] | None:
        return [ReturnedLine(grant=self.grant, line=line) for line in self.view.get("items") or ()]

    @guarded(
        source=f"{_RETURN}:/appType",
        description="The declaration it came from (its provenance: `declaration(id)`).",
    )
    def declaration_id(self) -> str | None:
        return self.view.get("declarationId")


@strawberry.type(description="A line of a tax bill: the taxes customs assessed on it.")
class TaxBillLine:
    grant: strawberry.Private[Grant]
    line: strawberry.Private[dict[str, Any]]

    @guarded(source=f"{_BILL}:/items/*/gnum")
    def gnum(self) -> int | None:
        value = self.line.get("gnum")
        return None if value is None else int(value)

    @guarded(source=f"{_BILL}:/items/*/gcode", description="HS code (10 digits).")
    def gcode(self) -> str | None:
        return self.line.get("gcode")

    @guarded(source=f"{_BILL}:/items/*/taxPrice", description="Dutiable price of the line.")
    def tax_price(self) -> Decimal | None:
        return _dec(self.line.get("taxPrice"))

    @guarded(source=f"{_BILL}:/items/*/customsTax")
    def customs_tax(self) -> Decimal | None:
        return _dec(self.line.get("customsTax"))

    @guarded(source=f"{_BILL}:/items/*/valueAddedTax")
    def value_added_tax(self) -> Decimal | None:
        return _dec(self.line.get("valueAddedTax"))

    @guarded(source=f"{_BILL}:/items/*/consumptionTax")
    def consumption_tax(self) -> Decimal | None:
        return _dec(self.line.get("consumptionTax"))


@strawberry.type(
    description="The electronic tax bill (816) customs issued for the inventory: the tax it "
    "assessed, in total and per line. The hub's own estimate is `Order.taxComputed`; "
    "`Order.taxDifference` and the risk flag TAX_ASSESSED_DIFFERS compare them."
)
class TaxBill:
    grant: strawberry.Private[Grant]
    view: strawberry.Private[dict[str, Any]]

    @guarded(source=f"{_BILL}:/taxNo")
    def tax_no(self) -> str | None:
        return self.view.get("taxNo")

    @guarded(source=f"{_BILL}:/status", description="1 issued, 2 summed up (3 void: not shown).")
    def status(self) -> str | None:
        return self.view.get("status")

    @guarded(source=f"{_BILL}:/returnTime")
    def return_time(self) -> str | None:
        return self.view.get("returnTime")

    @guarded(source=f"{_BILL}:/customsTax")
    def customs_tax(self) -> Decimal | None:
        return _dec(self.view.get("customsTax"))

    @guarded(source=f"{_BILL}:/valueAddedTax")
    def value_added_tax(self) -> Decimal | None:
        return _dec(self.view.get("valueAddedTax"))

    @guarded(source=f"{_BILL}:/consumptionTax")
    def consumption_tax(self) -> Decimal | None:
        return _dec(self.view.get("consumptionTax"))

    @guarded(C.TAX, description="Customs duty + VAT + consumption tax of the bill.")
    def total(self) -> Decimal | None:
        return _dec(self.view.get("total"))

    @guarded(source=f"{_BILL}:/items", description="The taxes per line.")
    def items(self) -> list[TaxBillLine] | None:
        return [TaxBillLine(grant=self.grant, line=line) for line in self.view.get("items") or ()]

    @guarded(
        source=f"{_BILL}:/taxNo",
        description="The declaration it came from (its provenance: `declaration(id)`).",
    )
    def declaration_id(self) -> str | None:
        return self.view.get("declarationId")


@strawberry.enum(description="Which list named the waybill.")
class PassageKind(StrEnum):
    ARRIVAL = "ARRIVAL"  # 507: arrived at the customs supervision site
    DEPARTURE = "DEPARTURE"  # 509: left the country (export departure evidence)


# The heads of both lists are logistics data; a field one list lacks is null for it.
_DEP = "cbec.departure"
_ARR = "cbec.arrival"


@strawberry.type(
    description="The waybill on an arrival (507) or departure (509) list its carrier filed, "
    "with the list's head: for exports, the departure evidence (when, on which voyage and "
    "bill of lading the parcel left)."
)
class WaybillPassage:
    grant: strawberry.Private[Grant]
    kind_value: strawberry.Private[str]
    passed: strawberry.Private[str]
    head: strawberry.Private[dict[str, Any]]

    @guarded(C.LOGISTICS, description="ARRIVAL (507) or DEPARTURE (509): which list it is.")
    def kind(self) -> PassageKind | None:
        return PassageKind(self.kind_value)

    @guarded(
        source=f"{_DEP}:/leaveTime",
        description="When it passed: the departure's leaveTime, the arrival's appTime.",
    )
    def passed_at(self) -> str | None:
        return self.passed

    @guarded(source=f"{_DEP}:/appTime", description="When the carrier filed the list.")
    def app_time(self) -> str | None:
        return self.head.get("appTime")

    @guarded(source=f"{_DEP}:/leaveTime", description="Departure only.")
    def leave_time(self) -> str | None:
        return self.head.get("leaveTime")

    @guarded(source=f"{_DEP}:/customsCode", description="The customs office.")
    def customs_code(self) -> str | None:
        return self.head.get("customsCode")

    @guarded(source=f"{_DEP}:/copNo", description="The list's own number.")
    def cop_no(self) -> str | None:
        return self.head.get("copNo")

    @guarded(source=f"{_DEP}:/preNo")
    def pre_no(self) -> str | None:
        return self.head.get("preNo")

    @guarded(source=f"{_DEP}:/trafMode", description="Transport mode (customs code).")
    def traf_mode(self) -> str | None:
        return self.head.get("trafMode")

    @guarded(source=f"{_DEP}:/trafName", description="Means of transport. Departure only.")
    def traf_name(self) -> str | None:
        return self.head.get("trafName")

    @guarded(source=f"{_DEP}:/voyageNo", description="Flight or voyage. Departure only.")
    def voyage_no(self) -> str | None:
        return self.head.get("voyageNo")

    @guarded(source=f"{_DEP}:/billNo", description="Bill of lading / master air waybill.")
    def bill_no(self) -> str | None:
        return self.head.get("billNo")

    @guarded(
        source=f"{_ARR}:/domesticTrafNo",
        description="Vehicle that brought it to the site. Arrival only.",
    )
    def domestic_traf_no(self) -> str | None:
        return self.head.get("domesticTrafNo")

    @guarded(source=f"{_ARR}:/operatorCode", description="Supervision site operator. Arrival only.")
    def operator_code(self) -> str | None:
        return self.head.get("operatorCode")

    @guarded(source=f"{_ARR}:/loctNo", description="Supervision site. Arrival only.")
    def loct_no(self) -> str | None:
        return self.head.get("loctNo")

    @guarded(source=f"{_DEP}:/items/*/totalPackageNo", description="The pallet or mail bag.")
    def total_package_no(self) -> str | None:
        return self.head.get("totalPackageNo")

    @guarded(
        source=f"{_DEP}:/appType",
        description="The declaration of the list (its provenance: `declaration(id)`).",
    )
    def declaration_id(self) -> str | None:
        return self.head.get("declarationId")


def passage_codes(kind: str, logistics_code: str, head: dict[str, Any]) -> list[str]:
    """The enterprises a list names (its carrier, an arrival's site operator)."""
    rtype = authority.RECORD_TYPES[_STANDARD_OF_PASSAGE[kind]]
    return sorted(rtype.party_codes({**head, "logisticsCode": logistics_code}))
