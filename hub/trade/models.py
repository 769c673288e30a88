"""The trade graph: enterprises and the documents of each order, projected from declarations.

Each node keeps its current payload (the latest accepted declaration of its record) and
the columns departments filter and aggregate on; `record_key` links a node to every
declaration it came from (provenance).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime

Money = Numeric(24, 5)


class NodeMixin:
    """Columns every projected document has."""

    record_key: Mapped[str] = mapped_column(String(300), unique=True)
    status: Mapped[str] = mapped_column(String(12))  # ACTIVE or CANCELLED
    version: Mapped[int] = mapped_column(Integer)  # 1 + number of accepted changes
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    declaration_id: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Enterprise(Base):
    """An enterprise, filed (cbec.enterprise) or first seen as a party to a record."""

    __tablename__ = "enterprises"

    code: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    customs_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    division: Mapped[str | None] = mapped_column(String(6), nullable=True)
    city: Mapped[str | None] = mapped_column(String(40), nullable=True)
    district: Mapped[str | None] = mapped_column(String(40), nullable=True)
    credit_class: Mapped[str | None] = mapped_column(String(20), nullable=True)
    filed: Mapped[bool] = mapped_column(default=False)
    record_key: Mapped[str] = mapped_column(String(300))
    declaration_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Order(NodeMixin, Base):
    """An order (import 311 / export 303) with its match result and risk flags."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("ebp_code", "order_no"),
        Index("ix_orders_ebc", "ebc_code", "id"),
        Index("ix_orders_buyer_year", "buyer_id_number", "order_year"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ebp_code: Mapped[str] = mapped_column(String(18))
    order_no: Mapped[str] = mapped_column(String(60))
    ebc_code: Mapped[str] = mapped_column(String(18))
    pay_code: Mapped[str | None] = mapped_column(String(18), nullable=True)
    direction: Mapped[str] = mapped_column(String(1))
    order_type: Mapped[str] = mapped_column(String(1))
    trade_mode: Mapped[str | None] = mapped_column(String(4), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    goods_value: Mapped[Decimal] = mapped_column(Money)
    actural_paid: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    tax_total: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    tax_computed: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    limit_value: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    buyer_id_number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    app_time: Mapped[str] = mapped_column(String(14))
    order_year: Mapped[int] = mapped_column(Integer)
    order_month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, for statistics
    match_status: Mapped[str] = mapped_column(String(12))
    match_missing: Mapped[list[str]] = mapped_column(JSON)
    match_discrepancies: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    risk_flags: Mapped[list[str]] = mapped_column(JSON)
    customs_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The tax customs assessed (816 tax bill total), beside the hub's estimate tax_computed.
    tax_assessed: Mapped[Decimal | None] = mapped_column(Money, nullable=True)


class Payment(NodeMixin, Base):
    """An import payment (411)."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_order", "ebp_code", "order_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pay_code: Mapped[str] = mapped_column(String(18))
    pay_transaction_id: Mapped[str] = mapped_column(String(60))
    ebp_code: Mapped[str] = mapped_column(String(18))
    order_no: Mapped[str] = mapped_column(String(60))
    amount_paid: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    pay_time: Mapped[str] = mapped_column(String(14))


class Receipt(NodeMixin, Base):
    """An export receipt of payment (403)."""

    __tablename__ = "receipts"
    __table_args__ = (Index("ix_receipts_order", "ebp_code", "order_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pay_code: Mapped[str] = mapped_column(String(18))
    pay_no: Mapped[str] = mapped_column(String(60))
    ebp_code: Mapped[str] = mapped_column(String(18))
    order_no: Mapped[str] = mapped_column(String(60))
    charge: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    accounting_date: Mapped[str] = mapped_column(String(14))


class Waybill(NodeMixin, Base):
    """A waybill (import 511 / export 505) and its latest milestone.

    An export waybill (505) names no order: `ebp_code` and `order_no` stay empty until the
    export inventory naming its logisticsCode + logisticsNo links it (hub.trade.projection).
    """

    __tablename__ = "waybills"
    __table_args__ = (Index("ix_waybills_order", "ebp_code", "order_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    logistics_code: Mapped[str] = mapped_column(String(18))
    logistics_no: Mapped[str] = mapped_column(String(60))
    ebp_code: Mapped[str] = mapped_column(String(18))
    order_no: Mapped[str] = mapped_column(String(60))
    ie_flag: Mapped[str] = mapped_column(String(1))
    last_milestone: Mapped[str | None] = mapped_column(String(1), nullable=True)
    last_milestone_time: Mapped[str | None] = mapped_column(String(14), nullable=True)
    # The latest arrival (507) and departure (509) lists naming the waybill: their heads,
    # the departure evidence (hub.trade.passages).
    arrival: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    departure: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class WaybillEvent(Base):
    """A milestone of a waybill (513 / 507 / 509)."""

    __tablename__ = "waybill_events"
    __table_args__ = (Index("ix_waybill_events_waybill", "logistics_code", "logistics_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_key: Mapped[str] = mapped_column(String(300), unique=True)
    logistics_code: Mapped[str] = mapped_column(String(18))
    logistics_no: Mapped[str] = mapped_column(String(60))
    milestone: Mapped[str] = mapped_column(String(1))
    status_time: Mapped[str] = mapped_column(String(14))
    status: Mapped[str] = mapped_column(String(12))
    declaration_id: Mapped[str] = mapped_column(String(32))


class Inventory(NodeMixin, Base):
    """A customs inventory (import 621 / export 603) and its latest customs status."""

    __tablename__ = "inventories"
    __table_args__ = (
        UniqueConstraint("ebp_code", "order_no"),
        Index("ix_inventories_waybill", "logistics_code", "logistics_no"),
        Index("ix_inventories_cop", "agent_code", "cop_no"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ebp_code: Mapped[str] = mapped_column(String(18))
    order_no: Mapped[str] = mapped_column(String(60))
    ebc_code: Mapped[str] = mapped_column(String(18))
    agent_code: Mapped[str] = mapped_column(String(18))
    logistics_code: Mapped[str] = mapped_column(String(18))
    logistics_no: Mapped[str] = mapped_column(String(60))
    ie_flag: Mapped[str] = mapped_column(String(1))
    trade_mode: Mapped[str] = mapped_column(String(4))
    customs_code: Mapped[str] = mapped_column(String(4))
    # The enterprise's inventory number: 2.0.0 receipts (622) name the inventory by it.
    cop_no: Mapped[str | None] = mapped_column(String(30), nullable=True)
    customs_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # 14 digits (1.0.0 receipts) or 17 with milliseconds (2.0.0, CEB622).
    customs_status_time: Mapped[str | None] = mapped_column(String(17), nullable=True)
    # Customs' inventory number: from the inventory itself or, once assigned, its receipts
    # (622/604). Tax bills (816) and summary results (792) name the inventory by it.
    invt_no: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    # The customs declaration the inventory was summed into (792), export tax refunds.
    entry_id: Mapped[str | None] = mapped_column(String(18), nullable=True)
    sum_no: Mapped[str | None] = mapped_column(String(18), nullable=True)
    # The standing cancellation (623) and returns (625) that name this inventory's parties,
    # and the tax bill (816) customs assessed on it, as the graph shows them.
    requests: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    tax_bill: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class CustomsStatusEvent(Base):
    """A customs receipt on an inventory.

    A 2.0.0 receipt (622) names the inventory by `cop_no` (and the broker, `agent_code`),
    not by its order: `ebp_code` / `order_no` stay empty until that inventory is known.
    """

    __tablename__ = "customs_status_events"
    __table_args__ = (
        Index("ix_customs_status_events_order", "ebp_code", "order_no"),
        Index("ix_customs_status_events_cop", "agent_code", "cop_no"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_key: Mapped[str] = mapped_column(String(300), unique=True)
    ebp_code: Mapped[str] = mapped_column(String(18))
    order_no: Mapped[str] = mapped_column(String(60))
    agent_code: Mapped[str | None] = mapped_column(String(18), nullable=True)
    cop_no: Mapped[str | None] = mapped_column(String(30), nullable=True)
    return_status: Mapped[int] = mapped_column(Integer)
    return_time: Mapped[str] = mapped_column(String(17))
    status: Mapped[str] = mapped_column(String(12))
    declaration_id: Mapped[str] = mapped_column(String(32))
    invt_no: Mapped[str | None] = mapped_column(String(20), nullable=True)


class InventoryRequest(NodeMixin, Base):
    """A broker's cancellation (623) or return (625) of an inventory, by its order."""

    __tablename__ = "inventory_requests"
    __table_args__ = (Index("ix_inventory_requests_order", "ebp_code", "order_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # CANCEL or RETURN
    ebp_code: Mapped[str] = mapped_column(String(18))
    order_no: Mapped[str] = mapped_column(String(60))
    agent_code: Mapped[str] = mapped_column(String(18))
    invt_no: Mapped[str | None] = mapped_column(String(20), nullable=True)


class TaxBill(NodeMixin, Base):
    """Customs' electronic tax bill (816) of an inventory, by invtNo."""

    __tablename__ = "tax_bills"
    __table_args__ = (Index("ix_tax_bills_invt", "invt_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invt_no: Mapped[str] = mapped_column(String(20))
    tax_no: Mapped[str] = mapped_column(String(50))
    bill_status: Mapped[str] = mapped_column(String(1))  # 1 issued, 2 summed up, 3 void
    return_time: Mapped[str] = mapped_column(String(17))


class Summary(NodeMixin, Base):
    """A summary application (701) or result (792) of export inventories."""

    __tablename__ = "summaries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # APPLY or RESULT
    agent_code: Mapped[str] = mapped_column(String(18))
    ebc_code: Mapped[str] = mapped_column(String(18))
    sum_no: Mapped[str | None] = mapped_column(String(18), nullable=True)
    entry_id: Mapped[str | None] = mapped_column(String(18), nullable=True)


class SummaryLine(Base):
    """An inventory (by invtNo) a summary lists."""

    __tablename__ = "summary_lines"
    __table_args__ = (Index("ix_summary_lines_invt", "invt_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    summary_key: Mapped[str] = mapped_column(String(300), index=True)
    invt_no: Mapped[str] = mapped_column(String(20))


class WaybillPassage(Base):
    """A waybill listed on an arrival (507) or departure (509) list, with the list's head."""

    __tablename__ = "waybill_passages"
    __table_args__ = (Index("ix_waybill_passages_waybill", "logistics_code", "logistics_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    list_key: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # ARRIVAL or DEPARTURE
    logistics_code: Mapped[str] = mapped_column(String(18))
    logistics_no: Mapped[str] = mapped_column(String(60))
    passed_at: Mapped[str] = mapped_column(String(14))  # leaveTime, or the arrival's appTime
    head: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))
    declaration_id: Mapped[str] = mapped_column(String(32))


class BuyerYearTotal(Base):
    """Quota a buyer used in a year on orders customs accepted, on every platform."""

    __tablename__ = "buyer_year_totals"

    buyer_id_number: Mapped[str] = mapped_column(String(60), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    confirmed_total: Mapped[Decimal] = mapped_column(Money)


class PlatformBuyerYearTotal(Base):
    """Quota a buyer used in a year as one platform knows it: its own orders that count."""

    __tablename__ = "platform_buyer_year_totals"

    ebp_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    buyer_id_number: Mapped[str] = mapped_column(String(60), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    counted_total: Mapped[Decimal] = mapped_column(Money)


class LimitEntry(Base):
    """What one order adds to its buyer's year: the exact amount, to take back exactly."""

    __tablename__ = "limit_entries"
    __table_args__ = (
        # Orders flagged over the annual limit, re-checked when quota is freed.
        Index("ix_limit_entries_over", "buyer_id_number", "year", "over_annual"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    ebp_code: Mapped[str] = mapped_column(String(18))
    buyer_id_number: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column(Integer)
    standing: Mapped[str] = mapped_column(String(10))  # CONFIRMED, PENDING or OUT
    amount: Mapped[Decimal] = mapped_column(Money)  # limit value less what was returned
    returned: Mapped[Decimal] = mapped_column(Money)  # value given back by returns (625)
    indivisible: Mapped[bool] = mapped_column(Boolean)
    counted: Mapped[bool] = mapped_column(Boolean)  # amount is in the totals
    over_annual: Mapped[bool] = mapped_column(Boolean)  # flagged: the year had no room
