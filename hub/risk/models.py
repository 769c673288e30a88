"""Tables of risk: alerts raised by rules or by a department's rating, and their steps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime


class RiskAlert(Base):
    """A hit: which rule (id@version) raised it about which enterprise, on what evidence."""

    __tablename__ = "risk_alerts"
    __table_args__ = (
        Index("ix_risk_alerts_enterprise", "enterprise_code", "id"),
        Index("ix_risk_alerts_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(60))
    rule_version: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(8))  # LOW, MEDIUM, HIGH
    enterprise_code: Mapped[str] = mapped_column(String(18))
    # The department that handles it, and the data category its evidence belongs to.
    department: Mapped[str] = mapped_column(String(12))
    category: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(String(500))
    evidence: Mapped[list[str]] = mapped_column(JSON)  # record refs, e.g. cbec.order:EBP|NO
    # Same rule version, enterprise and evidence: raised once, however often it is evaluated.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(14))  # OPEN, ACKNOWLEDGED, DISPOSED
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertStep(Base):
    """One transition of an alert: who moved it, from which status to which, and why."""

    __tablename__ = "risk_alert_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("risk_alerts.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(14), nullable=True)
    to_status: Mapped[str] = mapped_column(String(14))
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))  # client id, or "hub" for the rule
    department: Mapped[str | None] = mapped_column(String(12), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
