"""Tables of credit: the departments' ratings and the versioned scoring models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime


class CreditRating(Base):
    """One department's rating of an enterprise, as that department recorded it."""

    __tablename__ = "credit_ratings"
    __table_args__ = (Index("ix_credit_ratings_enterprise", "enterprise_code", "department"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise_code: Mapped[str] = mapped_column(String(18))
    department: Mapped[str] = mapped_column(String(12))
    scale: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(30))
    rated_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    basis: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))  # the department's client id
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RiskDocument(Base):
    """A versioned rule set or scoring model: DRAFT → PUBLISHED → RETIRED, like a standard.

    At most one version of each kind is PUBLISHED: publishing one retires the previous."""

    __tablename__ = "risk_documents"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # rule-set, scoring-model
    version: Mapped[str] = mapped_column(String(20), primary_key=True)
    state: Mapped[str] = mapped_column(String(12))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
