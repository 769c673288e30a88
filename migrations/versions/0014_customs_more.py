"""Graph nodes of the CEB 2022-05 messages 1.0.0 lacked: cancellations and returns of
inventories (623/625), tax bills (816), summaries (701/792), arrival and departure lists
(507/509).

Creates `inventory_requests`, `tax_bills`, `summaries` + `summary_lines` and
`waybill_passages`; inventories gain `invt_no` (customs' number, which 816 and 792 name),
`entry_id` / `sum_no` (792), `requests` and `tax_bill` (what the graph shows); waybills
gain `arrival` / `departure` (the lists' heads: the departure evidence); orders gain
`tax_assessed`; customs receipts keep their `invt_no`.

Revision ID: 0014_customs_more
Revises: 0009_customs_messages
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_customs_more"
down_revision: str | None = "0016_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(24, 5)


def _node_columns() -> list[sa.Column]:
    return [
        sa.Column("record_key", sa.String(300), nullable=False, unique=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("declaration_id", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "inventory_requests",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        *_node_columns(),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("ebp_code", sa.String(18), nullable=False),
        sa.Column("order_no", sa.String(60), nullable=False),
        sa.Column("agent_code", sa.String(18), nullable=False),
        sa.Column("invt_no", sa.String(20), nullable=True),
    )
    op.create_index("ix_inventory_requests_order", "inventory_requests", ["ebp_code", "order_no"])
    op.create_table(
        "tax_bills",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        *_node_columns(),
        sa.Column("invt_no", sa.String(20), nullable=False),
        sa.Column("tax_no", sa.String(50), nullable=False),
        sa.Column("bill_status", sa.String(1), nullable=False),
        sa.Column("return_time", sa.String(17), nullable=False),
    )
    op.create_index("ix_tax_bills_invt", "tax_bills", ["invt_no"])
    op.create_table(
        "summaries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        *_node_columns(),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("agent_code", sa.String(18), nullable=False),
        sa.Column("ebc_code", sa.String(18), nullable=False),
        sa.Column("sum_no", sa.String(18), nullable=True),
        sa.Column("entry_id", sa.String(18), nullable=True),
    )
    op.create_table(
        "summary_lines",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("summary_key", sa.String(300), nullable=False),
        sa.Column("invt_no", sa.String(20), nullable=False),
    )
    op.create_index("ix_summary_lines_summary_key", "summary_lines", ["summary_key"])
    op.create_index("ix_summary_lines_invt", "summary_lines", ["invt_no"])
    op.create_table(
        "waybill_passages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("list_key", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("logistics_code", sa.String(18), nullable=False),
        sa.Column("logistics_no", sa.String(60), nullable=False),
        sa.Column("passed_at", sa.String(14), nullable=False),
        sa.Column("head", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("declaration_id", sa.String(32), nullable=False),
    )
    op.create_index("ix_waybill_passages_list_key", "waybill_passages", ["list_key"])
    op.create_index(
        "ix_waybill_passages_waybill", "waybill_passages", ["logistics_code", "logistics_no"]
    )
    with op.batch_alter_table("inventories") as batch:
        batch.add_column(sa.Column("invt_no", sa.String(20), nullable=True))
        batch.add_column(sa.Column("entry_id", sa.String(18), nullable=True))
        batch.add_column(sa.Column("sum_no", sa.String(18), nullable=True))
        batch.add_column(sa.Column("requests", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("tax_bill", sa.JSON(), nullable=True))
        batch.create_index("ix_inventories_invt_no", ["invt_no"])
    with op.batch_alter_table("waybills") as batch:
        batch.add_column(sa.Column("arrival", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("departure", sa.JSON(), nullable=True))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("tax_assessed", MONEY, nullable=True))
    with op.batch_alter_table("customs_status_events") as batch:
        batch.add_column(sa.Column("invt_no", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customs_status_events") as batch:
        batch.drop_column("invt_no")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("tax_assessed")
    with op.batch_alter_table("waybills") as batch:
        batch.drop_column("departure")
        batch.drop_column("arrival")
    with op.batch_alter_table("inventories") as batch:
        batch.drop_index("ix_inventories_invt_no")
        for column in ("tax_bill", "requests", "sum_no", "entry_id", "invt_no"):
            batch.drop_column(column)
    op.drop_index("ix_waybill_passages_waybill", "waybill_passages")
    op.drop_index("ix_waybill_passages_list_key", "waybill_passages")
    op.drop_table("waybill_passages")
    op.drop_index("ix_summary_lines_invt", "summary_lines")
    op.drop_index("ix_summary_lines_summary_key", "summary_lines")
    op.drop_table("summary_lines")
    op.drop_table("summaries")
    op.drop_index("ix_tax_bills_invt", "tax_bills")
    op.drop_table("tax_bills")
    op.drop_index("ix_inventory_requests_order", "inventory_requests")
    op.drop_table("inventory_requests")
