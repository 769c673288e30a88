"""What the event log tells: the kinds of change, and which data category each one reveals.

An event carries what changed and references (a record's standard and key, the parties'
codes), never a payload: what a consumer then reads goes through the normal policy. The
category an event reveals is what the delivery check asks the access policy about.
"""

from __future__ import annotations

from enum import StrEnum

from hub.access.policy import Category


class EventKind(StrEnum):
    """Kinds of change the log records (the value is the wire name: NATS subject part,
    webhook `type`)."""

    DECLARATION_ACCEPTED = "declaration.accepted"
    ORDER_MATCHING_CHANGED = "order.matching_changed"
    CUSTOMS_STATUS_CHANGED = "customs.status_changed"
    CONSENT_GRANTED = "consent.granted"
    CONSENT_REVOKED = "consent.revoked"
    CONSENT_EXPIRED = "consent.expired"
    STANDARD_PUBLISHED = "standard.published"
    STANDARD_DEPRECATED = "standard.deprecated"
    STANDARD_RETIRED = "standard.retired"


RECORD_KINDS = frozenset(
    {
        EventKind.DECLARATION_ACCEPTED,
        EventKind.ORDER_MATCHING_CHANGED,
        EventKind.CUSTOMS_STATUS_CHANGED,
    }
)
CONSENT_KINDS = frozenset(
    {EventKind.CONSENT_GRANTED, EventKind.CONSENT_REVOKED, EventKind.CONSENT_EXPIRED}
)
STANDARD_KINDS = frozenset(
    {EventKind.STANDARD_PUBLISHED, EventKind.STANDARD_DEPRECATED, EventKind.STANDARD_RETIRED}
)

# The category a record's acceptance reveals: the record's own (a payment is payment data,
# whoever reads that it arrived). Standards the graph does not model reveal `order`, the
# category of the trade headers: departments without it (market) never hear of them.
_RECORD_CATEGORY = {
    "cbec.enterprise": Category.REGISTRATION,
    "cbec.order": Category.ORDER,
    "cbec.payment": Category.PAYMENT,
    "cbec.receipt": Category.PAYMENT,
    "cbec.waybill": Category.LOGISTICS,
    "cbec.logistics-status": Category.LOGISTICS,
    "cbec.inventory": Category.CLEARANCE,
    "cbec.inventory-status": Category.CLEARANCE,
}
# A change of an order's matching tells whether its payment, waybill and inventory agree:
# order data (the graph's `Order.matching`). A customs status is clearance data.
KIND_CATEGORY = {
    EventKind.ORDER_MATCHING_CHANGED: Category.ORDER,
    EventKind.CUSTOMS_STATUS_CHANGED: Category.CLEARANCE,
}


def record_category(standard_id: str) -> Category:
    """The category an accepted record of this standard reveals."""
    return _RECORD_CATEGORY.get(standard_id, Category.ORDER)
