"""Data-standard registry: standards and versions.

Revision ID: 0002_standards
Revises: 0001_auth
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_standards"
down_revision: str | None = "0001_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "standards",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("compatibility", sa.String(30), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standards")),
    )
    op.create_table(
        "standard_versions",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("standard_id", sa.String(100), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("major", sa.Integer(), nullable=False),
        sa.Column("minor", sa.Integer(), nullable=False),
        sa.Column("patch", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("schema", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("change_report", sa.JSON(), nullable=True),
        sa.Column("successor", sa.String(40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deprecated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["standard_id"],
            ["standards.id"],
            name=op.f("fk_standard_versions_standard_id_standards"),
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_standard_versions")),
        sa.UniqueConstraint(
            "standard_id", "version", name=op.f("uq_standard_versions_standard_id_version")
        ),
    )
    op.create_index(op.f("ix_standard_versions_standard_id"), "standard_versions", ["standard_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_standard_versions_standard_id"), table_name="standard_versions")
    op.drop_table("standard_versions")
    op.drop_table("standards")
