"""Tables of the access layer: bank consents and the access log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime


class Consent(Base):
    """An enterprise's consent that a bank (an OAuth2 client) reads some of its data."""

    __tablename__ = "consents"
    __table_args__ = (
        Index("ix_consents_bank", "bank_client_id", "enterprise_code"),
        Index("ix_consents_enterprise", "enterprise_code"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise_code: Mapped[str] = mapped_column(String(18))
    bank_client_id: Mapped[str] = mapped_column(String(64))
    # A principal is (issuer, client id); None: a client of this hub (migration 0007).
    bank_issuer: Mapped[str | None] = mapped_column(String(300), nullable=True)
    categories: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    data_from: Mapped[date] = mapped_column(Date)
    data_to: Mapped[date] = mapped_column(Date)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10))  # ACTIVE or REVOKED; EXPIRED is derived
    granted_by: Mapped[str] = mapped_column(String(64))  # the enterprise's client id
    granted_by_issuer: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    jws: Mapped[str] = mapped_column(Text)  # the consent, signed by the hub


class AccessEvent(Base):
    """One operation that returned graph data: who, what, about whom, when, why."""

    __tablename__ = "access_events"
    __table_args__ = (Index("ix_access_events_client", "client_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_id: Mapped[str] = mapped_column(String(64))
    # None: a client of this hub; else the external identity provider that vouched for it.
    client_issuer: Mapped[str | None] = mapped_column(String(300), nullable=True)
    client_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(40))
    caller_enterprise: Mapped[str | None] = mapped_column(String(18), nullable=True)
    operation_type: Mapped[str] = mapped_column(String(12))
    operation_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    document_hash: Mapped[str] = mapped_column(String(64))
    # The trusted document's id (`sha256:...`) when the request named one (migration 0013).
    document_id: Mapped[str | None] = mapped_column(String(71), nullable=True)
    purpose: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # A department's confidential read (migration 0010): the legal basis it stated, and
    # the day from which the subjects may see who read what and why.
    confidential_basis: Mapped[str | None] = mapped_column(String(500), nullable=True)
    disclose_after: Mapped[date | None] = mapped_column(Date, nullable=True)
    consent_ids: Mapped[list[str]] = mapped_column(JSON)
    enterprises: Mapped[list[str]] = mapped_column(JSON)
    records: Mapped[list[str]] = mapped_column(JSON)  # record keys, capped
    record_count: Mapped[int] = mapped_column(Integer)


class AccessEventSubject(Base):
    """Index of events by the enterprise whose data they returned ("who read my data")."""

    __tablename__ = "access_event_subjects"
    __table_args__ = (Index("ix_access_event_subjects_enterprise", "enterprise_code", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("access_events.id"))
    enterprise_code: Mapped[str] = mapped_column(String(18))
    # This enterprise's part of the event: the records naming it in any role (capped), and
    # how many (migration 0010; null on older events, whose view falls back to the keys).
    records: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    record_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
