"""Declaration store with its hash chain, and the trade graph

Revision ID: 0003_declarations
Revises: 0002_standards
Create Date: 2026-11-29 12:32:35.476334
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_declarations"
down_revision: str | None = "0002_standards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_index", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_head")),
    )
    op.create_table(
        "customs_status_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_key", sa.String(length=300), nullable=False),
        sa.Column("ebp_code", sa.String(length=18), nullable=False),
        sa.Column("order_no", sa.String(length=60), nullable=False),
        sa.Column("return_status", sa.Integer(), nullable=False),
        sa.Column("return_time", sa.String(length=14), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("declaration_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customs_status_events")),
        sa.UniqueConstraint("record_key", name=op.f("uq_customs_status_events_record_key")),
    )
    with op.batch_alter_table("customs_status_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customs_status_events_order", ["ebp_code", "order_no"], unique=False
        )

    op.create_table(
        "declarations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("chain_index", sa.Integer(), nullable=False),
        sa.Column("standard_id", sa.String(length=100), nullable=False),
        sa.Column("standard_version", sa.String(length=40), nullable=False),
        sa.Column("record_key", sa.String(length=300), nullable=False),
        sa.Column("app_type", sa.String(length=1), nullable=False),
        sa.Column("declarant", sa.String(length=18), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.Column("supersedes", sa.String(length=32), nullable=True),
        sa.Column("batch_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["supersedes"],
            ["declarations.id"],
            name=op.f("fk_declarations_supersedes_declarations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declarations")),
        sa.UniqueConstraint("chain_index", name=op.f("uq_declarations_chain_index")),
        sa.UniqueConstraint(
            "client_id", "idempotency_key", name=op.f("uq_declarations_client_id_idempotency_key")
        ),
        sa.UniqueConstraint(
            "declarant",
            "standard_id",
            "content_hash",
            name=op.f("uq_declarations_declarant_standard_id_content_hash"),
        ),
    )
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_declarations_declarant_index", ["declarant", "chain_index"], unique=False
        )
        batch_op.create_index(
            "ix_declarations_record", ["standard_id", "record_key", "chain_index"], unique=False
        )

    op.create_table(
        "enterprises",
        sa.Column("code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("customs_code", sa.String(length=10), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("division", sa.String(length=6), nullable=True),
        sa.Column("city", sa.String(length=40), nullable=True),
        sa.Column("district", sa.String(length=40), nullable=True),
        sa.Column("credit_class", sa.String(length=20), nullable=True),
        sa.Column("filed", sa.Boolean(), nullable=False),
        sa.Column("record_key", sa.String(length=300), nullable=False),
        sa.Column("declaration_id", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_enterprises")),
    )
    op.create_table(
        "inventories",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ebp_code", sa.String(length=18), nullable=False),
        sa.Column("order_no", sa.String(length=60), nullable=False),
        sa.Column("ebc_code", sa.String(length=18), nullable=False),
        sa.Column("agent_code", sa.String(length=18), nullable=False),
        sa.Column("logistics_code", sa.String(length=18), nullable=False),
        sa.Column("logistics_no", sa.String(length=60), nullable=False),
        sa.Column("ie_flag", sa.String(length=1), nullable=False),
        sa.Column("trade_mode", sa.String(length=4), nullable=False),
        sa.Column("customs_code", sa.String(length=4), nullable=False),
        sa.Column("customs_status", sa.Integer(), nullable=True),
        sa.Column("customs_status_time", sa.String(length=14), nullable=True),
        sa.Column("record_key", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("declaration_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventories")),
        sa.UniqueConstraint("ebp_code", "order_no", name=op.f("uq_inventories_ebp_code_order_no")),
        sa.UniqueConstraint("record_key", name=op.f("uq_inventories_record_key")),
    )
    with op.batch_alter_table("inventories", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inventories_waybill", ["logistics_code", "logistics_no"], unique=False
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ebp_code", sa.String(length=18), nullable=False),
        sa.Column("order_no", sa.String(length=60), nullable=False),
        sa.Column("ebc_code", sa.String(length=18), nullable=False),
        sa.Column("pay_code", sa.String(length=18), nullable=True),
        sa.Column("direction", sa.String(length=1), nullable=False),
        sa.Column("order_type", sa.String(length=1), nullable=False),
        sa.Column("trade_mode", sa.String(length=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("goods_value", sa.Numeric(precision=24, scale=5), nullable=False),
        sa.Column("actural_paid", sa.Numeric(precision=24, scale=5), nullable=True),
        sa.Column("tax_total", sa.Numeric(precision=24, scale=5), nullable=True),
        sa.Column("tax_computed", sa.Numeric(precision=24, scale=5), nullable=True),
        sa.Column("limit_value", sa.Numeric(precision=24, scale=5), nullable=True),
        sa.Column("buyer_id_number", sa.String(length=40), nullable=True),
        sa.Column("app_time", sa.String(length=14), nullable=False),
        sa.Column("order_year", sa.Integer(), nullable=False),
        sa.Column("order_month", sa.String(length=7), nullable=False),
        sa.Column("match_status", sa.String(length=12), nullable=False),
        sa.Column("match_missing", sa.JSON(), nullable=False),
        sa.Column("match_discrepancies", sa.JSON(), nullable=False),
        sa.Column("risk_flags", sa.JSON(), nullable=False),
        sa.Column("customs_status", sa.Integer(), nullable=True),
        sa.Column("record_key", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("declaration_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("ebp_code", "order_no", name=op.f("uq_orders_ebp_code_order_no")),
        sa.UniqueConstraint("record_key", name=op.f("uq_orders_record_key")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_buyer_year", ["buyer_id_number", "order_year"], unique=False
        )
        batch_op.create_index("ix_orders_ebc", ["ebc_code", "id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pay_code", sa.String(length=18), nullable=False),
        sa.Column("pay_transaction_id", sa.String(length=60), nullable=False),
        sa.Column("ebp_code", sa.String(length=18), nullable=False),
        sa.Column("order_no", sa.String(length=60), nullable=False),
        sa.Column("amount_paid", sa.Numeric(precision=24, scale=5), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("pay_time", sa.String(length=14), nullable=False),
        sa.Column("record_key", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("declaration_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("record_key", name=op.f("uq_payments_record_key")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_order", ["ebp_code", "order_no"], unique=False)

    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pay_code", sa.String(length=18), nullable=False),
        sa.Column("pay_no", sa.String(length=60), nullable=False),
        sa.Column("ebp_code", sa.String(length=18), nullable=False),
        sa.Column("order_no", sa.String(length=60), nullable=False),
        sa.Column("charge", sa.Numeric(precision=24, scale=5), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("accounting_date", sa.String(length=14), nullable=False),
        sa.Column("record_key", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("declaration_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("record_key", name=op.f("uq_receipts_record_key")),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index("ix_receipts_order", ["ebp_code", "order_no"], unique=False)

    op.create_table(
        "waybill_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_key", sa.String(length=300), nullable=False),
        sa.Column("logistics_code", sa.String(length=18), nullable=False),
        sa.Column("logistics_no", sa.String(length=60), nullable=False),
        sa.Column("milestone", sa.String(length=1), nullable=False),
        sa.Column("status_time", sa.String(length=14), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("declaration_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waybill_events")),
        sa.UniqueConstraint("record_key", name=op.f("uq_waybill_events_record_key")),
    )
    with op.batch_alter_table("waybill_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_waybill_events_waybill", ["logistics_code", "logistics_no"], unique=False
        )

    op.create_table(
        "waybills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("logistics_code", sa.String(length=18), nullable=False),
        sa.Column("logistics_no", sa.String(length=60), nullable=False),
        sa.Column("ebp_code", sa.String(length=18), nullable=False),
        sa.Column("order_no", sa.String(length=60), nullable=False),
        sa.Column("ie_flag", sa.String(length=1), nullable=False),
        sa.Column("last_milestone", sa.String(length=1), nullable=True),
        sa.Column("last_milestone_time", sa.String(length=14), nullable=True),
        sa.Column("record_key", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("declaration_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waybills")),
        sa.UniqueConstraint("record_key", name=op.f("uq_waybills_record_key")),
    )
    with op.batch_alter_table("waybills", schema=None) as batch_op:
        batch_op.create_index("ix_waybills_order", ["ebp_code", "order_no"], unique=False)

    # The genesis of the hash chain: index 0 with an all-zero hash; the first declaration
    # links to it.
    chain_head = sa.table(
        "chain_head",
        sa.column("id", sa.Integer),
        sa.column("last_index", sa.Integer),
        sa.column("last_hash", sa.String),
    )
    op.bulk_insert(chain_head, [{"id": 1, "last_index": 0, "last_hash": "0" * 64}])


def downgrade() -> None:
    with op.batch_alter_table("waybills", schema=None) as batch_op:
        batch_op.drop_index("ix_waybills_order")

    op.drop_table("waybills")
    with op.batch_alter_table("waybill_events", schema=None) as batch_op:
        batch_op.drop_index("ix_waybill_events_waybill")

    op.drop_table("waybill_events")
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_receipts_order")

    op.drop_table("receipts")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_order")

    op.drop_table("payments")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_ebc")
        batch_op.drop_index("ix_orders_buyer_year")

    op.drop_table("orders")
    with op.batch_alter_table("inventories", schema=None) as batch_op:
        batch_op.drop_index("ix_inventories_waybill")

    op.drop_table("inventories")
    op.drop_table("enterprises")
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.drop_index("ix_declarations_record")
        batch_op.drop_index("ix_declarations_declarant_index")

    op.drop_table("declarations")
    with op.batch_alter_table("customs_status_events", schema=None) as batch_op:
        batch_op.drop_index("ix_customs_status_events_order")

    op.drop_table("customs_status_events")
    op.drop_table("chain_head")
