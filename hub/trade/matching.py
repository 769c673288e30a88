"""Three-document matching (三单对碰): order, payment, waybill and inventory must agree.

A pure function over the record payloads exactly as the standards define them
(docs/standards.md); the caller fetches the documents that belong together
(by ebpCode + orderNo, and logisticsCode + logisticsNo) and stores the result.

Documents per direction:
- import ("I"): order, payment, waybill, inventory — all four are required.
- export ("E"): order, receipt (passed in the `payment` slot, reported as "receipt"),
  waybill, inventory. The receipt is optional unless `config.export_receipt_required`,
  because an exporter is usually paid after customs has released the goods; when present
  it is checked like an import payment (charge against acturalPaid).

Decisions where DOMAIN.md is silent:
- The links themselves are re-checked (payment and waybill name the order's orderNo and
  ebpCode), so a caller's lookup mistake shows up as a discrepancy, not a false match. An
  export waybill (CEB505, 2.0.0) names no order: the export inventory links it by
  logisticsCode + logisticsNo, as the specification does, and only the seller it names
  (ebcCode) is compared. An import waybill of 2.0.0 (CEB511) names its orderNo but no
  platform: it is linked the same way, and its orderNo must be the order's.
- The inventory must also repeat the order's buyer identity (import) and tradeMode.
- Inventory lines are compared with order lines on qty and totalPrice too (LINE_VALUE_MISMATCH).
- The sum of the order's line totalPrice must equal goodsValue (LINE_TOTAL_MISMATCH): the
  customs order specification defines goodsValue as the total of the goods lines.
- Text fields (names, phones, addresses) are compared exactly, as customs does.
- Amounts are compared as Decimals ("10" equals "10.00"); only payment against order honours
  `config.amount_tolerance`, the order's own arithmetic must be exact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from hub.access.policy import Category
from hub.standards.categories import shipped_category
from hub.trade.rules_config import RuleConfig
from hub.trade.tax import read_amount

__all__ = [
    "Discrepancy",
    "DiscrepancyCode",
    "Fact",
    "MatchResult",
    "MatchStatus",
    "match_order",
    "required_documents",
]

Direction = Literal["I", "E"]
Document = Mapping[str, Any]


class MatchStatus(StrEnum):
    """Outcome of matching one order's documents."""

    MATCHED = "MATCHED"
    INCOMPLETE = "INCOMPLETE"  # documents missing, no disagreement among those present
    MISMATCH = "MISMATCH"  # at least one discrepancy


class DiscrepancyCode(StrEnum):
    """Why documents of one order disagree."""

    DIRECTION_MISMATCH = "DIRECTION_MISMATCH"
    AMOUNT_PAID_MISMATCH = "AMOUNT_PAID_MISMATCH"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    ORDER_TOTAL_MISMATCH = "ORDER_TOTAL_MISMATCH"
    LINE_TOTAL_MISMATCH = "LINE_TOTAL_MISMATCH"
    PAYMENT_ORDER_REF_MISMATCH = "PAYMENT_ORDER_REF_MISMATCH"
    PAYER_NOT_BUYER = "PAYER_NOT_BUYER"
    WAYBILL_ORDER_MISMATCH = "WAYBILL_ORDER_MISMATCH"
    CONSIGNEE_MISMATCH = "CONSIGNEE_MISMATCH"
    INVENTORY_ORDER_MISMATCH = "INVENTORY_ORDER_MISMATCH"
    INVENTORY_WAYBILL_MISMATCH = "INVENTORY_WAYBILL_MISMATCH"
    LINE_MISSING = "LINE_MISSING"
    LINE_EXTRA = "LINE_EXTRA"
    LINE_DUPLICATE = "LINE_DUPLICATE"
    LINE_NAME_MISMATCH = "LINE_NAME_MISMATCH"
    LINE_VALUE_MISMATCH = "LINE_VALUE_MISMATCH"


@dataclass(frozen=True, slots=True)
class Fact:
    """A value a discrepancy's detail quotes, with the categories it is made of (read from
    the standards: `acturalPaid` is order data, a sum of goodsValue and taxTotal is order
    and tax), so each reader sees only the values it may read (`matching_details`)."""

    text: str
    categories: frozenset[Category]


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One disagreement between documents, with a human-readable detail.

    `template` is the detail with `{0}`, `{1}` … where the `facts` go; a discrepancy built
    without them (`template` None) is shown in full only to readers of every category."""

    code: DiscrepancyCode
    detail: str
    template: str | None = None
    facts: tuple[Fact, ...] = ()

    def stored(self) -> dict[str, Any]:
        """The JSON kept with the order (`orders.match_discrepancies`)."""
        stored: dict[str, Any] = {"code": self.code.value, "detail": self.detail}
        if self.template is not None:
            stored["template"] = self.template
            stored["facts"] = [
                {"text": f.text, "categories": sorted(c.value for c in f.categories)}
                for f in self.facts
            ]
        return stored


_ORDER_TYPE = "cbec.order:/orderType"
_ORDER_GNUM = "cbec.order:/items/*/gnum"
_STANDARD_OF = {"order": "cbec.order", "inventory": "cbec.inventory", "waybill": "cbec.waybill"}


def _found(code: DiscrepancyCode, template: str, *facts: Fact) -> Discrepancy:
    """A discrepancy whose detail is the template filled with its facts."""
    return Discrepancy(code, template.format(*(f.text for f in facts)), template, facts)


def _fact(value: Any, *sources: str, quoted: bool = False) -> Fact:
    """A quoted value and the categories of the standard properties it comes from
    (`cbec.order:/acturalPaid`)."""
    categories = frozenset(shipped_category(*source.split(":", 1)) for source in sources)
    return Fact(repr(value) if quoted else str(value), categories)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The matching outcome: status, missing document slots and discrepancies found."""

    status: MatchStatus
    missing: tuple[str, ...]
    discrepancies: tuple[Discrepancy, ...]

    @property
    def codes(self) -> frozenset[DiscrepancyCode]:
        """The distinct discrepancy codes, for quick membership tests."""
        return frozenset(d.code for d in self.discrepancies)


def required_documents(*, direction: Direction, config: RuleConfig) -> tuple[str, ...]:
    """Name the documents an order of this direction needs before it can match."""
    if direction == "I":
        return ("order", "payment", "waybill", "inventory")
    if direction == "E":
        if config.export_receipt_required:
            return ("order", "receipt", "waybill", "inventory")
        return ("order", "waybill", "inventory")
    raise ValueError(f"direction must be 'I' or 'E', got {direction!r}")


def match_order(
    *,
    order: Document | None,
    payment: Document | None,
    waybill: Document | None,
    inventory: Document | None,
    direction: Direction,
    config: RuleConfig,
) -> MatchResult:
    """Match one order's documents; for exports `payment` holds the receipt (403)."""
    required = required_documents(direction=direction, config=config)
    payment_slot = "payment" if direction == "I" else "receipt"
    present = {
        "order": order,
        payment_slot: payment,
        "waybill": waybill,
        "inventory": inventory,
    }
    missing = tuple(name for name in required if present[name] is None)

    found: list[Discrepancy] = []
    found += _check_direction(direction, order, waybill, inventory)
    if order is not None:
        found += _check_order_arithmetic(order, direction)
        if payment is not None:
            found += _check_payment(order, payment, direction, config)
        if waybill is not None:
            found += _check_waybill(order, waybill, direction)
        if inventory is not None:
            found += _check_inventory_head(order, inventory, direction)
            found += _check_lines(order, inventory)
    if inventory is not None and waybill is not None:
        found += _check_inventory_waybill(inventory, waybill)

    if found:
        status = MatchStatus.MISMATCH
    elif missing:
        status = MatchStatus.INCOMPLETE
    else:
        status = MatchStatus.MATCHED
    return MatchResult(status=status, missing=missing, discrepancies=tuple(found))


def _amount(document: Document, field: str) -> Decimal | None:
    return read_amount(document=document, field=field)


def _differing(
    left: Document, right: Document, pairs: Iterable[tuple[str, str]], *, both_present: bool
) -> list[str]:
    """Field names (left's spelling) whose values differ; optionally only where both exist."""
    names = []
    for left_field, right_field in pairs:
        left_value, right_value = left.get(left_field), right.get(right_field)
        if both_present and (left_value in (None, "") or right_value in (None, "")):
            continue
        if left_value != right_value:
            names.append(left_field)
    return names


def _check_direction(
    direction: Direction,
    order: Document | None,
    waybill: Document | None,
    inventory: Document | None,
) -> list[Discrepancy]:
    found = []
    if order is not None and "orderType" in order:
        is_import = order["orderType"] == "I"
        if is_import != (direction == "I"):
            found.append(
                _found(
                    DiscrepancyCode.DIRECTION_MISMATCH,
                    "order has orderType {0}, matched as {1}",
                    _fact(order["orderType"], _ORDER_TYPE, quoted=True),
                    _fact(direction, _ORDER_TYPE, quoted=True),
                )
            )
    for name, document in (("waybill", waybill), ("inventory", inventory)):
        if document is not None and "ieFlag" in document and document["ieFlag"] != direction:
            found.append(
                _found(
                    DiscrepancyCode.DIRECTION_MISMATCH,
                    f"{name} has ieFlag {{0}}, matched as {{1}}",
                    _fact(document["ieFlag"], f"{_STANDARD_OF[name]}:/ieFlag", quoted=True),
                    _fact(direction, _ORDER_TYPE, quoted=True),
                )
            )
    return found


def _check_order_arithmetic(order: Document, direction: Direction) -> list[Discrepancy]:
    found = []
    goods = _amount(order, "goodsValue")
    paid = _amount(order, "acturalPaid")
    # Export orders may omit acturalPaid (and tax, discount): nothing to verify then.
    if paid is not None or direction == "I":
        expected = (
            (goods or Decimal(0))
            + (_amount(order, "freight") or Decimal(0))
            + (_amount(order, "taxTotal") or Decimal(0))
            - (_amount(order, "discount") or Decimal(0))
        )
        if paid != expected:
            found.append(
                _found(
                    DiscrepancyCode.ORDER_TOTAL_MISMATCH,
                    "acturalPaid {0} ≠ goodsValue + freight + taxTotal − discount {1}",
                    _fact(paid, "cbec.order:/acturalPaid"),
                    _fact(
                        expected,
                        "cbec.order:/goodsValue",
                        "cbec.order:/freight",
                        "cbec.order:/taxTotal",
                        "cbec.order:/discount",
                    ),
                )
            )
    lines = [line for line in order.get("items") or () if isinstance(line, Mapping)]
    if lines and goods is not None:
        line_total = sum(
            ((_amount(line, "totalPrice") or Decimal(0)) for line in lines), Decimal(0)
        )
        if line_total != goods:
            found.append(
                _found(
                    DiscrepancyCode.LINE_TOTAL_MISMATCH,
                    "lines total {0} ≠ goodsValue {1}",
                    _fact(line_total, "cbec.order:/items/*/totalPrice"),
                    _fact(goods, "cbec.order:/goodsValue"),
                )
            )
    return found


def _check_payment(
    order: Document, payment: Document, direction: Direction, config: RuleConfig
) -> list[Discrepancy]:
    found = []
    name = "payment" if direction == "I" else "receipt"
    refs = [("orderNo", "orderNo"), ("ebpCode", "ebpCode")]
    mismatched = _differing(order, payment, refs, both_present=False)
    # The order may name the payment; only then must the payment carry the same identity.
    named = [("payCode", "payCode")]
    named.append(("payTransactionId", "payTransactionId" if direction == "I" else "payNo"))
    mismatched += _differing(order, payment, named, both_present=True)
    if mismatched:
        found.append(
            _found(
                DiscrepancyCode.PAYMENT_ORDER_REF_MISMATCH,
                f"{name} differs from the order in {', '.join(mismatched)}",
            )
        )

    if order.get("currency") != payment.get("currency"):
        found.append(
            _found(
                DiscrepancyCode.CURRENCY_MISMATCH,
                f"order currency {{0}} ≠ {name} currency {{1}}",
                _fact(order.get("currency"), "cbec.order:/currency", quoted=True),
                _fact(payment.get("currency"), f"cbec.{name}:/currency", quoted=True),
            )
        )
    else:
        found += _check_amount_paid(order, payment, direction, config)

    if direction == "I" and config.payer_must_be_buyer:
        person = [
            ("buyerIdType", "payerIdType"),
            ("buyerIdNumber", "payerIdNumber"),
            ("buyerName", "payerName"),
        ]
        differing = _differing(order, payment, person, both_present=False)
        if differing:
            found.append(
                _found(
                    DiscrepancyCode.PAYER_NOT_BUYER,
                    f"payer differs from buyer in {', '.join(differing)}",
                )
            )
    return found


def _check_amount_paid(
    order: Document, payment: Document, direction: Direction, config: RuleConfig
) -> list[Discrepancy]:
    paid_field = "amountPaid" if direction == "I" else "charge"
    ordered = _amount(order, "acturalPaid")
    paid = _amount(payment, paid_field)
    if ordered is None and direction == "E":
        return []  # an export order need not state what the buyer pays
    standard = "cbec.payment" if direction == "I" else "cbec.receipt"
    facts: tuple[Fact, ...] = (
        _fact(ordered, "cbec.order:/acturalPaid"),
        _fact(paid, f"{standard}:/{paid_field}"),
    )
    if ordered is None or paid is None:
        template = f"acturalPaid {{0}} vs {paid_field} {{1}}: one is missing"
        return [_found(DiscrepancyCode.AMOUNT_PAID_MISMATCH, template, *facts)]
    allowed = abs(ordered) * config.amount_tolerance
    if abs(paid - ordered) > allowed:
        template = f"acturalPaid {{0}} ≠ {paid_field} {{1}}"
        if allowed:
            template += " (tolerance {2})"
            facts += (_fact(allowed, "cbec.order:/acturalPaid"),)
        return [_found(DiscrepancyCode.AMOUNT_PAID_MISMATCH, template, *facts)]
    return []


def _check_waybill(order: Document, waybill: Document, direction: Direction) -> list[Discrepancy]:
    found = []
    export = direction == "E"
    # An export waybill (CEB505) names no order: its inventory links it to one. What it
    # does name (the seller) must agree with the order. An import one names its orderNo;
    # in 2.0.0 (CEB511) it names no platform, so ebpCode counts only where it is named.
    refs = [] if export else [("orderNo", "orderNo")]
    mismatched = _differing(order, waybill, refs, both_present=False)
    named = [("orderNo", "orderNo")] if export else []
    named += [("ebpCode", "ebpCode")] + ([("ebcCode", "ebcCode")] if export else [])
    mismatched += _differing(order, waybill, named, both_present=True)
    if mismatched:
        found.append(
            _found(
                DiscrepancyCode.WAYBILL_ORDER_MISMATCH,
                f"waybill differs from the order in {', '.join(mismatched)}",
            )
        )
    consignee = [
        ("consignee", "consignee"),
        ("consigneeTelephone", "consigneeTelephone"),
        ("consigneeAddress", "consigneeAddress"),
    ]
    # Export consignee fields are optional on both documents: compare what both state.
    differing = _differing(order, waybill, consignee, both_present=direction == "E")
    if differing:
        found.append(
            _found(
                DiscrepancyCode.CONSIGNEE_MISMATCH,
                f"waybill consignee differs from the order in {', '.join(differing)}",
            )
        )
    return found


def _check_inventory_head(
    order: Document, inventory: Document, direction: Direction
) -> list[Discrepancy]:
    fields = [("orderNo", "orderNo"), ("ebpCode", "ebpCode"), ("ebcCode", "ebcCode")]
    mismatched = _differing(order, inventory, fields, both_present=False)
    if direction == "I":
        buyer = [
            ("buyerIdType", "buyerIdType"),
            ("buyerIdNumber", "buyerIdNumber"),
            ("buyerName", "buyerName"),
        ]
        mismatched += _differing(order, inventory, buyer, both_present=False)
    # tradeMode is optional on the order; when stated it must be the inventory's.
    mismatched += _differing(order, inventory, [("tradeMode", "tradeMode")], both_present=True)
    if not mismatched:
        return []
    return [
        _found(
            DiscrepancyCode.INVENTORY_ORDER_MISMATCH,
            f"inventory differs from the order in {', '.join(mismatched)}",
        )
    ]


def _check_inventory_waybill(inventory: Document, waybill: Document) -> list[Discrepancy]:
    fields = [("logisticsCode", "logisticsCode"), ("logisticsNo", "logisticsNo")]
    mismatched = _differing(inventory, waybill, fields, both_present=False)
    if not mismatched:
        return []
    return [
        _found(
            DiscrepancyCode.INVENTORY_WAYBILL_MISMATCH,
            f"inventory differs from the waybill in {', '.join(mismatched)}",
        )
    ]


def _lines_by_gnum(document: Document, name: str, found: list[Discrepancy]) -> dict[Any, Document]:
    lines = [line for line in document.get("items") or () if isinstance(line, Mapping)]
    counts = Counter(line.get("gnum") for line in lines)
    for gnum, count in counts.items():
        if count > 1:
            found.append(
                _found(
                    DiscrepancyCode.LINE_DUPLICATE,
                    f"gnum {{0}} appears {{1}} times on the {name}",
                    _fact(gnum, f"{_STANDARD_OF[name]}:/items/*/gnum"),
                    _fact(count, f"{_STANDARD_OF[name]}:/items"),
                )
            )
    return {line.get("gnum"): line for line in lines}


def _check_lines(order: Document, inventory: Document) -> list[Discrepancy]:
    found: list[Discrepancy] = []
    order_lines = _lines_by_gnum(order, "order", found)
    inventory_lines = _lines_by_gnum(inventory, "inventory", found)
    for gnum, order_line in order_lines.items():
        inventory_line = inventory_lines.get(gnum)
        if inventory_line is None:
            found.append(
                _found(
                    DiscrepancyCode.LINE_MISSING,
                    "order line gnum {0} is not on the inventory",
                    _fact(gnum, _ORDER_GNUM),
                )
            )
            continue
        if order_line.get("itemName") != inventory_line.get("gname"):
            found.append(
                _found(
                    DiscrepancyCode.LINE_NAME_MISMATCH,
                    "gnum {0}: order itemName {1} ≠ inventory gname {2}",
                    _fact(gnum, _ORDER_GNUM),
                    _fact(order_line.get("itemName"), "cbec.order:/items/*/itemName", quoted=True),
                    _fact(
                        inventory_line.get("gname"), "cbec.inventory:/items/*/gname", quoted=True
                    ),
                )
            )
        differing = [
            field
            for field in ("qty", "totalPrice")
            if _amount(order_line, field) != _amount(inventory_line, field)
        ]
        if differing:
            found.append(
                _found(
                    DiscrepancyCode.LINE_VALUE_MISMATCH,
                    f"gnum {{0}}: inventory differs from the order in {', '.join(differing)}",
                    _fact(gnum, _ORDER_GNUM),
                )
            )
    # Inventory order, not a set difference, keeps the details deterministic.
    for gnum in [gnum for gnum in inventory_lines if gnum not in order_lines]:
        found.append(
            _found(
                DiscrepancyCode.LINE_EXTRA,
                "inventory line gnum {0} has no order line",
                _fact(gnum, "cbec.inventory:/items/*/gnum"),
            )
        )
    return found
