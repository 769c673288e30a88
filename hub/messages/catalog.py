"""The CEB messages the hub takes as XML, and what each becomes.

One row per message root: the XSD that defines it, its record element, the standard
version its records are declared against, the hub fields the message lacks (set from the
message type: `ieFlag` on waybills and inventory receipts, see docs/standards.md), and the
customs receipt the hub answers with when asked for XML (None where the receipt needs
numbers only the e-port assigns, such as a 621's preNo).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Receipt:
    """The customs receipt message of a message type and its per-record entity."""

    message: str
    entity: str


@dataclass(frozen=True)
class MessageType:
    """A message root the hub accepts."""

    name: str
    xsd: str
    record: str
    standard: str
    added: Mapping[str, str] = field(default_factory=dict)
    receipt: Receipt | None = None

    @property
    def code(self) -> str:
        """The message's number, e.g. 311."""
        return self.name[3:6]


_TYPES = (
    MessageType(
        "CEB311Message",
        "import.xsd",
        "Order",
        "cbec.order@2.0.0",
        receipt=Receipt("CEB312Message", "OrderReturn"),
    ),
    MessageType(
        "CEB411Message",
        "import.xsd",
        "Payment",
        "cbec.payment@2.0.0",
        receipt=Receipt("CEB412Message", "PaymentReturn"),
    ),
    MessageType(
        "CEB511Message",
        "import.xsd",
        "Logistics",
        "cbec.waybill@2.0.0",
        {"ieFlag": "I"},
        receipt=Receipt("CEB512Message", "LogisticsReturn"),
    ),
    MessageType(
        "CEB513Message",
        "import.xsd",
        "LogisticsStatus",
        "cbec.logistics-status@2.0.0",
        receipt=Receipt("CEB514Message", "LogisticsStatusReturn"),
    ),
    MessageType("CEB621Message", "import.xsd", "Inventory", "cbec.inventory@2.0.0"),
    MessageType(
        "CEB622Message",
        "import.xsd",
        "InventoryReturn",
        "cbec.inventory-status@2.0.0",
        {"ieFlag": "I"},
    ),
    MessageType(
        "CEB303Message",
        "export.xsd",
        "Order",
        "cbec.order@2.0.0",
        receipt=Receipt("CEB304Message", "OrderReturn"),
    ),
    MessageType(
        "CEB403Message",
        "export.xsd",
        "Receipts",
        "cbec.receipt@2.0.0",
        receipt=Receipt("CEB404Message", "ReceiptsReturn"),
    ),
    MessageType(
        "CEB505Message",
        "export.xsd",
        "Logistics",
        "cbec.waybill@2.0.0",
        {"ieFlag": "E"},
        receipt=Receipt("CEB506Message", "LogisticsReturn"),
    ),
    MessageType("CEB603Message", "export.xsd", "Inventory", "cbec.inventory@2.0.0"),
    MessageType(
        "CEB604Message",
        "export.xsd",
        "InventoryReturn",
        "cbec.inventory-status@2.0.0",
        {"ieFlag": "E"},
    ),
    # Applications whose receipts (624/626, 508/510, 702) carry numbers only the e-port
    # assigns, and customs' own messages (792, 816) that the enterprise relays: no receipt.
    MessageType("CEB623Message", "import.xsd", "InvtCancel", "cbec.inventory-cancel@2.0.0"),
    MessageType("CEB625Message", "import.xsd", "InvtRefund", "cbec.inventory-return@2.0.0"),
    MessageType("CEB816Message", "import.xsd", "Tax", "cbec.tax-bill@2.0.0"),
    MessageType("CEB507Message", "export.xsd", "Arrival", "cbec.arrival@2.0.0"),
    MessageType("CEB509Message", "export.xsd", "Departure", "cbec.departure@2.0.0"),
    MessageType("CEB701Message", "export.xsd", "SummaryApply", "cbec.summary-apply@2.0.0"),
    MessageType("CEB792Message", "export.xsd", "SummaryResult", "cbec.summary-result@2.0.0"),
)
MESSAGE_TYPES: dict[str, MessageType] = {t.name: t for t in _TYPES}
