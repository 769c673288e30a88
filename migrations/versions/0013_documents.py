"""Trusted documents, and the document id in the access log.

Revision ID: 0013_documents
Revises: 0005_content_hash_index
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_documents"
down_revision: str | None = "0008_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trusted_documents",
        sa.Column("id", sa.String(71), primary_key=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("operation_names", sa.String(2000), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
    )
    with op.batch_alter_table("access_events") as batch:
        batch.add_column(sa.Column("document_id", sa.String(71), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_events") as batch:
        batch.drop_column("document_id")
    op.drop_table("trusted_documents")
