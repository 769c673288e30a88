"""Running totals of the annual retail limit, computed for the orders already stored.

Creates `buyer_year_totals` (quota used on customs-confirmed orders, every platform),
`platform_buyer_year_totals` (quota used as one platform knows it) and `limit_entries`
(what each order adds), then replays the stored import retail orders in arrival (id)
order with their current state, as `hub.trade.quota` counts them with the default rules:
limit value = goods + freight + insurance (discount is a non-cash payment, not subtracted);
confirmed = the latest customs decision forwarded by someone other than the order's
platform and seller accepted the inventory; over-limit orders count nothing. Each order's
limit flags (and `limit_value`) are rewritten to match; its other flags stay. A zone with
other rules (HUB_RULES) re-runs the replay with `hub limits rebuild`.

Revision ID: 0008_limits
Revises: 0005_content_hash_index
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008_limits"
down_revision: str | None = "0005_content_hash_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=24, scale=5)
SINGLE_LIMIT = Decimal("5000")
ANNUAL_LIMIT = Decimal("26000")
RETAIL_MODES = {"9610", "1210", "1239"}
LIMIT_FLAGS = {"SINGLE_LIMIT_EXCEEDED", "ANNUAL_LIMIT_EXCEEDED", "FULL_TAX_SINGLE_ITEM"}
CHUNK = 1000


def upgrade() -> None:
    op.create_table(
        "buyer_year_totals",
        sa.Column("buyer_id_number", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("confirmed_total", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("buyer_id_number", "year", name=op.f("pk_buyer_year_totals")),
    )
    op.create_table(
        "platform_buyer_year_totals",
        sa.Column("ebp_code", sa.String(length=18), nullable=False),
        sa.Column("buyer_id_number", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("counted_total", MONEY, nullable=False),
        sa.PrimaryKeyConstraint(
            "ebp_code", "buyer_id_number", "year", name=op.f("pk_platform_buyer_year_totals")
        ),
    )
    op.create_table(
        "limit_entries",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("ebp_code", sa.String(length=18), nullable=False),
        sa.Column("buyer_id_number", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("standing", sa.String(length=10), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("returned", MONEY, nullable=False),
        sa.Column("indivisible", sa.Boolean(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("over_annual", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_limit_entries_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_limit_entries")),
    )
    with op.batch_alter_table("limit_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_limit_entries_over", ["buyer_id_number", "year", "over_annual"], unique=False
        )
    _replay(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("limit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_limit_entries_over")
    op.drop_table("limit_entries")
    op.drop_table("platform_buyer_year_totals")
    op.drop_table("buyer_year_totals")


# Light table definitions: the migration must not depend on today's models.
_orders = sa.table(
    "orders",
    sa.column("id", sa.Integer),
    sa.column("ebp_code", sa.String),
    sa.column("order_no", sa.String),
    sa.column("ebc_code", sa.String),
    sa.column("status", sa.String),
    sa.column("direction", sa.String),
    sa.column("trade_mode", sa.String),
    sa.column("buyer_id_number", sa.String),
    sa.column("order_year", sa.Integer),
    sa.column("payload", sa.JSON),
    sa.column("risk_flags", sa.JSON),
    sa.column("limit_value", MONEY),
)
_inventories = sa.table(
    "inventories",
    sa.column("ebp_code", sa.String),
    sa.column("order_no", sa.String),
    sa.column("status", sa.String),
    sa.column("trade_mode", sa.String),
    sa.column("payload", sa.JSON),
)
_events = sa.table(
    "customs_status_events",
    sa.column("id", sa.Integer),
    sa.column("ebp_code", sa.String),
    sa.column("order_no", sa.String),
    sa.column("return_status", sa.Integer),
    sa.column("return_time", sa.String),
    sa.column("status", sa.String),
    sa.column("declaration_id", sa.String),
)
_entries = sa.table(
    "limit_entries",
    sa.column("order_id", sa.Integer),
    sa.column("ebp_code", sa.String),
    sa.column("buyer_id_number", sa.String),
    sa.column("year", sa.Integer),
    sa.column("standing", sa.String),
    sa.column("amount", MONEY),
    sa.column("returned", MONEY),
    sa.column("indivisible", sa.Boolean),
    sa.column("counted", sa.Boolean),
    sa.column("over_annual", sa.Boolean),
)
_declarations = sa.table(
    "declarations", sa.column("id", sa.String), sa.column("declarant", sa.String)
)


def _money(document: Any, field: str) -> Decimal:
    value = document.get(field) if isinstance(document, dict) else None
    try:
        amount = Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)
    return amount if amount.is_finite() else Decimal(0)


def _decision(status: int) -> str | None:
    if status in (120, 300, 399, 800, 899) or 500 <= status <= 599:
        return "ACCEPTED"
    if status in (100, 700) or status < 0:
        return "REFUSED"
    return None


def _standing(order: Any, inventory_active: bool, receipts: list[tuple[int, str | None]]) -> str:
    if order.status != "ACTIVE":
        return "OUT"
    decision = None
    for status, declarant in receipts:
        if declarant and declarant not in (order.ebp_code, order.ebc_code):
            decision = _decision(status) or decision
    if decision == "REFUSED":
        return "OUT"
    if decision == "ACCEPTED" and inventory_active:
        return "CONFIRMED"
    if receipts and _decision(receipts[-1][0]) == "REFUSED":
        return "OUT"
    return "PENDING"


def _replay(bind: sa.engine.Connection) -> None:
    confirmed: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    platform: dict[tuple[str, str, int], Decimal] = defaultdict(Decimal)
    last_id = 0
    while True:
        orders = bind.execute(
            sa.select(_orders)
            .where(_orders.c.id > last_id, _orders.c.direction == "I")
            .order_by(_orders.c.id)
            .limit(CHUNK)
        ).fetchall()
        if not orders:
            break
        last_id = orders[-1].id
        keys = {(o.ebp_code, o.order_no) for o in orders}
        ebps, numbers = {k[0] for k in keys}, {k[1] for k in keys}
        inventories = {
            (i.ebp_code, i.order_no): i
            for i in bind.execute(
                sa.select(_inventories).where(
                    _inventories.c.ebp_code.in_(ebps),
                    _inventories.c.order_no.in_(numbers),
                    _inventories.c.status == "ACTIVE",
                )
            )
        }
        receipts: dict[tuple[str, str], list[tuple[int, str | None]]] = defaultdict(list)
        for row in bind.execute(
            sa.select(
                _events.c.ebp_code,
                _events.c.order_no,
                _events.c.return_status,
                _declarations.c.declarant,
            )
            .select_from(
                _events.outerjoin(_declarations, _declarations.c.id == _events.c.declaration_id)
            )
            .where(
                _events.c.ebp_code.in_(ebps),
                _events.c.order_no.in_(numbers),
                _events.c.status == "ACTIVE",
            )
            .order_by(_events.c.return_time, _events.c.id)
        ):
            receipts[(row.ebp_code, row.order_no)].append((row.return_status, row.declarant))
        entries, flag_updates = [], []
        for order in orders:
            key = (order.ebp_code, order.order_no)
            inventory = inventories.get(key)
            payload = order.payload if isinstance(order.payload, dict) else {}
            trade_mode = payload.get("tradeMode") or (inventory.trade_mode if inventory else None)
            if trade_mode not in RETAIL_MODES or not order.buyer_id_number:
                continue
            value = (
                _money(payload, "goodsValue")
                + _money(payload, "freight")
                + _money(inventory.payload if inventory else None, "insuredFee")
            )
            items = payload.get("items") or []
            indivisible = len(items) == 1 and _money(items[0], "qty") == 1
            standing = _standing(order, inventory is not None, receipts.get(key, []))
            buyer_year = (order.buyer_id_number, order.order_year)
            platform_year = (order.ebp_code, *buyer_year)
            flags: list[str] = []
            counted = over_annual = False
            if standing != "OUT":
                used = confirmed[buyer_year] if standing == "CONFIRMED" else platform[platform_year]
                over_single = value > SINGLE_LIMIT
                over_annual = used + value > ANNUAL_LIMIT
                if over_single and not indivisible:
                    flags.append("SINGLE_LIMIT_EXCEEDED")
                if over_annual:
                    flags.append("ANNUAL_LIMIT_EXCEEDED")
                elif over_single and indivisible:
                    flags.append("FULL_TAX_SINGLE_ITEM")
                counted = not over_annual and not (over_single and not indivisible)
                if counted:
                    platform[platform_year] += value
                    if standing == "CONFIRMED":
                        confirmed[buyer_year] += value
            entries.append(
                {
                    "order_id": order.id,
                    "ebp_code": order.ebp_code,
                    "buyer_id_number": order.buyer_id_number,
                    "year": order.order_year,
                    "standing": standing,
                    "amount": value,
                    "returned": Decimal(0),
                    "indivisible": indivisible,
                    "counted": counted,
                    "over_annual": over_annual,
                }
            )
            kept = [f for f in order.risk_flags or [] if f not in LIMIT_FLAGS]
            flag_updates.append({"b_id": order.id, "b_flags": kept + flags, "b_value": value})
        if entries:
            bind.execute(_entries.insert(), entries)
            bind.execute(
                _orders.update()
                .where(_orders.c.id == sa.bindparam("b_id"))
                .values(risk_flags=sa.bindparam("b_flags"), limit_value=sa.bindparam("b_value")),
                flag_updates,
            )
    totals = sa.table(
        "buyer_year_totals",
        sa.column("buyer_id_number", sa.String),
        sa.column("year", sa.Integer),
        sa.column("confirmed_total", MONEY),
    )
    rows = [
        {"buyer_id_number": b, "year": y, "confirmed_total": t} for (b, y), t in confirmed.items()
    ]
    if rows:
        bind.execute(totals.insert(), rows)
    platform_totals = sa.table(
        "platform_buyer_year_totals",
        sa.column("ebp_code", sa.String),
        sa.column("buyer_id_number", sa.String),
        sa.column("year", sa.Integer),
        sa.column("counted_total", MONEY),
    )
    rows = [
        {"ebp_code": e, "buyer_id_number": b, "year": y, "counted_total": t}
        for (e, b, y), t in platform.items()
    ]
    if rows:
        bind.execute(platform_totals.insert(), rows)
