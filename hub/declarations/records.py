"""What each standard's records are: their key, their parties, the order they belong to.

One table for these rules; intake, projection and provenance all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordType:
    """How the hub treats records of one standard."""

    standard_id: str
    key_fields: tuple[str, ...]
    party_fields: tuple[str, ...]
    # Fields naming the order (ebpCode, orderNo) whose matching this record affects; None
    # when the record is linked through its waybill (logistics statuses).
    order_fields: tuple[str, str] | None
    node: str

    def key(self, payload: Mapping[str, Any]) -> str:
        """The record's identity, e.g. `91320302MA1XYZ0001|ORD-1` for an order."""
        return "|".join(str(payload.get(f, "")) for f in self.key_fields)

    def parties(self, payload: Mapping[str, Any]) -> frozenset[str]:
        """The enterprise codes the record names as parties."""
        return frozenset(str(payload[f]) for f in self.party_fields if payload.get(f))

    def order_key(self, payload: Mapping[str, Any]) -> tuple[str, str] | None:
        """(ebpCode, orderNo) of the order this record belongs to."""
        if self.order_fields is None:
            return None
        ebp, order_no = (payload.get(f) for f in self.order_fields)
        return (str(ebp), str(order_no)) if ebp and order_no else None


_ORDER = ("ebpCode", "orderNo")

RECORD_TYPES: dict[str, RecordType] = {
    t.standard_id: t
    for t in (
        RecordType("cbec.enterprise", ("code",), ("code",), None, "enterprise"),
        RecordType(
            "cbec.order", ("ebpCode", "orderNo"), ("ebpCode", "ebcCode", "payCode"), _ORDER, "order"
        ),
        RecordType(
            "cbec.payment",
            ("payCode", "payTransactionId"),
            ("payCode", "ebpCode"),
            _ORDER,
            "payment",
        ),
        RecordType("cbec.receipt", ("payCode", "payNo"), ("payCode", "ebpCode"), _ORDER, "receipt"),
        RecordType(
            "cbec.waybill",
            ("logisticsCode", "logisticsNo"),
            ("logisticsCode", "ebpCode"),
            _ORDER,
            "waybill",
        ),
        RecordType(
            "cbec.logistics-status",
            ("logisticsCode", "logisticsNo", "statusTime", "logisticsStatus"),
            ("logisticsCode",),
            None,
            "waybill_event",
        ),
        RecordType(
            "cbec.inventory",
            ("ebpCode", "orderNo"),
            ("ebpCode", "ebcCode", "agentCode", "logisticsCode", "assureCode", "ownerCode"),
            _ORDER,
            "inventory",
        ),
        RecordType(
            "cbec.inventory-status",
            ("ebpCode", "orderNo", "returnTime", "returnStatus"),
            ("ebpCode", "agentCode"),
            _ORDER,
            "customs_status",
        ),
    )
}


def record_type(standard_id: str) -> RecordType | None:
    """The record type of a standard, or None for standards the graph does not model."""
    return RECORD_TYPES.get(standard_id)
