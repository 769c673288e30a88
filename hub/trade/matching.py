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
  (ebcCode) is compared.
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

from hub.trade.rules_config import RuleConfig
from hub.trade.tax import read_amount

__all__ = [
    "Discrepancy",
    "DiscrepancyCode",
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
class Discrepancy:
    """One disagreement between documents, with a human-readable detail."""

    code: DiscrepancyCode
    detail: str


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
                Discrepancy(
                    DiscrepancyCode.DIRECTION_MISMATCH,
                    f"order has orderType {order['orderType']!r}, matched as {direction!r}",
                )
            )
    for name, document in (("waybill", waybill), ("inventory", inventory)):
        if document is not None and "ieFlag" in document and document["ieFlag"] != direction:
            found.append(
                Discrepancy(
                    DiscrepancyCode.DIRECTION_MISMATCH,
                    f"{name} has ieFlag {document['ieFlag']!r}, matched as {direction!r}",
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
                Discrepancy(
                    DiscrepancyCode.ORDER_TOTAL_MISMATCH,
                    f"acturalPaid {paid} ≠ goodsValue + freight + taxTotal − discount {expected}",
                )
            )
    lines = [line for line in order.get("items") or () if isinstance(line, Mapping)]
    if lines and goods is not None:
        line_total = sum(
            ((_amount(line, "totalPrice") or Decimal(0)) for line in lines), Decimal(0)
        )
        if line_total != goods:
            found.append(
                Discrepancy(
                    DiscrepancyCode.LINE_TOTAL_MISMATCH,
                    f"lines total {line_total} ≠ goodsValue {goods}",
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
            Discrepancy(
                DiscrepancyCode.PAYMENT_ORDER_REF_MISMATCH,
                f"{name} differs from the order in {', '.join(mismatched)}",
            )
        )

    if order.get("currency") != payment.get("currency"):
        found.append(
            Discrepancy(
                DiscrepancyCode.CURRENCY_MISMATCH,
                f"order currency {order.get('currency')!r} ≠ {name} currency "
                f"{payment.get('currency')!r}",
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
                Discrepancy(
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
    if ordered is None or paid is None:
        detail = f"acturalPaid {ordered} vs {paid_field} {paid}: one is missing"
        return [Discrepancy(DiscrepancyCode.AMOUNT_PAID_MISMATCH, detail)]
    allowed = abs(ordered) * config.amount_tolerance
    if abs(paid - ordered) > allowed:
        detail = f"acturalPaid {ordered} ≠ {paid_field} {paid}"
        if allowed:
            detail += f" (tolerance {allowed})"
        return [Discrepancy(DiscrepancyCode.AMOUNT_PAID_MISMATCH, detail)]
    return []


def _check_waybill(order: Document, waybill: Document, direction: Direction) -> list[Discrepancy]:
    found = []
    refs = [("orderNo", "orderNo"), ("ebpCode", "ebpCode")]
    # An export waybill (CEB505) names no order: its inventory links it to one. What it
    # does name (the seller) must agree with the order.
    export = direction == "E"
    if export:
        refs.append(("ebcCode", "ebcCode"))
    mismatched = _differing(order, waybill, refs, both_present=export)
    if mismatched:
        found.append(
            Discrepancy(
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
            Discrepancy(
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
        Discrepancy(
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
        Discrepancy(
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
                Discrepancy(
                    DiscrepancyCode.LINE_DUPLICATE,
                    f"gnum {gnum} appears {count} times on the {name}",
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
                Discrepancy(
                    DiscrepancyCode.LINE_MISSING,
                    f"order line gnum {gnum} is not on the inventory",
                )
            )
            continue
        if order_line.get("itemName") != inventory_line.get("gname"):
            found.append(
                Discrepancy(
                    DiscrepancyCode.LINE_NAME_MISMATCH,
                    f"gnum {gnum}: order itemName {order_line.get('itemName')!r} ≠ "
                    f"inventory gname {inventory_line.get('gname')!r}",
                )
            )
        differing = [
            field
            for field in ("qty", "totalPrice")
            if _amount(order_line, field) != _amount(inventory_line, field)
        ]
        if differing:
            found.append(
                Discrepancy(
                    DiscrepancyCode.LINE_VALUE_MISMATCH,
                    f"gnum {gnum}: inventory differs from the order in {', '.join(differing)}",
                )
            )
    # Inventory order, not a set difference, keeps the details deterministic.
    for gnum in [gnum for gnum in inventory_lines if gnum not in order_lines]:
        found.append(
            Discrepancy(
                DiscrepancyCode.LINE_EXTRA,
                f"inventory line gnum {gnum} has no order line",
            )
        )
    return found
