"""Credit and risk: departments' ratings, versioned rule sets and scoring models, alerts.

Revision ID: 0017_credit_risk
Revises: 0015_log_witness
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_credit_risk"
down_revision: str | None = "0015_log_witness"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_ratings",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("enterprise_code", sa.String(18), nullable=False),
        sa.Column("department", sa.String(12), nullable=False),
        sa.Column("scale", sa.String(30), nullable=False),
        sa.Column("value", sa.String(30), nullable=False),
        sa.Column("rated_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_ratings")),
    )
    op.create_index(
        "ix_credit_ratings_enterprise", "credit_ratings", ["enterprise_code", "department"]
    )
    op.create_table(
        "risk_documents",
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("version", sa.String(20), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kind", "version", name=op.f("pk_risk_documents")),
    )
    op.create_table(
        "risk_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(60), nullable=False),
        sa.Column("rule_version", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("enterprise_code", sa.String(18), nullable=False),
        sa.Column("department", sa.String(12), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(14), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_alerts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_risk_alerts_dedupe_key")),
    )
    op.create_index("ix_risk_alerts_enterprise", "risk_alerts", ["enterprise_code", "id"])
    op.create_index("ix_risk_alerts_status", "risk_alerts", ["status", "id"])
    op.create_table(
        "risk_alert_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(14), nullable=True),
        sa.Column("to_status", sa.String(14), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("department", sa.String(12), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["risk_alerts.id"],
            name=op.f("fk_risk_alert_steps_alert_id_risk_alerts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_alert_steps")),
    )
    op.create_index("ix_risk_alert_steps_alert_id", "risk_alert_steps", ["alert_id"])


def downgrade() -> None:
    op.drop_table("risk_alert_steps")
    op.drop_table("risk_alerts")
    op.drop_table("risk_documents")
    op.drop_table("credit_ratings")
