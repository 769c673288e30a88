"""Bank consents and the access log

Revision ID: 0004_access
Revises: 0003_declarations
Create Date: 2026-11-29 12:46:07.718928
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_access"
down_revision: str | None = "0003_declarations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "access_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("client_name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("caller_enterprise", sa.String(length=18), nullable=True),
        sa.Column("operation_type", sa.String(length=12), nullable=False),
        sa.Column("operation_name", sa.String(length=200), nullable=True),
        sa.Column("document_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=True),
        sa.Column("consent_ids", sa.JSON(), nullable=False),
        sa.Column("enterprises", sa.JSON(), nullable=False),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_events")),
    )
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.create_index("ix_access_events_client", ["client_id", "id"], unique=False)

    op.create_table(
        "consents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_code", sa.String(length=18), nullable=False),
        sa.Column("bank_client_id", sa.String(length=64), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("data_from", sa.Date(), nullable=False),
        sa.Column("data_to", sa.Date(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consents_bank", ["bank_client_id", "enterprise_code"], unique=False
        )
        batch_op.create_index("ix_consents_enterprise", ["enterprise_code"], unique=False)

    op.create_table(
        "access_event_subjects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_code", sa.String(length=18), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["access_events.id"],
            name=op.f("fk_access_event_subjects_event_id_access_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_event_subjects")),
    )
    with op.batch_alter_table("access_event_subjects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_access_event_subjects_enterprise", ["enterprise_code", "event_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("access_event_subjects", schema=None) as batch_op:
        batch_op.drop_index("ix_access_event_subjects_enterprise")

    op.drop_table("access_event_subjects")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index("ix_consents_enterprise")
        batch_op.drop_index("ix_consents_bank")

    op.drop_table("consents")
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.drop_index("ix_access_events_client")

    op.drop_table("access_events")
