"""Customs XML messages kept as provenance; graph columns for the 2.0.0 (CEB 2022-05) records.

Creates `customs_messages` (each posted message's bytes) and `customs_message_records`
(which declaration came from which record). 2.0.0 inventory receipts (622) name their
inventory by copNo and carry 17-digit times: `inventories.cop_no`,
`customs_status_events.cop_no` / `agent_code`, and the time columns widen to 17.

Revision ID: 0009_customs_messages
Revises: 0013_documents
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_customs_messages"
down_revision: str | None = "0011_merkle_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customs_messages",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("message_type", sa.String(20), nullable=False),
        sa.Column("guid", sa.String(36), nullable=False),
        sa.Column("declarant", sa.String(18), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "customs_message_records",
        sa.Column(
            "declaration_id",
            sa.String(32),
            sa.ForeignKey("declarations.id"),
            primary_key=True,
        ),
        sa.Column(
            "message_id", sa.String(32), sa.ForeignKey("customs_messages.id"), nullable=False
        ),
        sa.Column("record_index", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_customs_message_records_message_id", "customs_message_records", ["message_id"]
    )
    with op.batch_alter_table("inventories") as batch:
        batch.add_column(sa.Column("cop_no", sa.String(30), nullable=True))
        batch.alter_column("customs_status_time", type_=sa.String(17), existing_type=sa.String(14))
        batch.create_index("ix_inventories_cop", ["agent_code", "cop_no"])
    with op.batch_alter_table("customs_status_events") as batch:
        batch.add_column(sa.Column("agent_code", sa.String(18), nullable=True))
        batch.add_column(sa.Column("cop_no", sa.String(30), nullable=True))
        batch.alter_column("return_time", type_=sa.String(17), existing_type=sa.String(14))
        batch.create_index("ix_customs_status_events_cop", ["agent_code", "cop_no"])


def downgrade() -> None:
    with op.batch_alter_table("customs_status_events") as batch:
        batch.drop_index("ix_customs_status_events_cop")
        batch.alter_column("return_time", type_=sa.String(14), existing_type=sa.String(17))
        batch.drop_column("cop_no")
        batch.drop_column("agent_code")
    with op.batch_alter_table("inventories") as batch:
        batch.drop_index("ix_inventories_cop")
        batch.alter_column("customs_status_time", type_=sa.String(14), existing_type=sa.String(17))
        batch.drop_column("cop_no")
    op.drop_index("ix_customs_message_records_message_id", "customs_message_records")
    op.drop_table("customs_message_records")
    op.drop_table("customs_messages")
