"""Tables of the event log and its consumers: events, leases, cursors, webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Event(Base):
    """One change, written in the transaction that made it (the outbox).

    `id` orders inserts; `position` is the cursor consumers see, assigned by the events
    sequencer in the order the rows became visible (see hub/events/sequencer.py): dense,
    unique and never reused, so "after position p" misses nothing and repeats nothing."""

    __tablename__ = "events"
    __table_args__ = (
        # The sequencer's queue: only unsequenced rows are in this index.
        Index(
            "ix_events_pending",
            "id",
            postgresql_where=text("position IS NULL"),
            sqlite_where=text("position IS NULL"),
        ),
        # Finding whether a record already has an event of a kind (consent expiry).
        Index("ix_events_kind_record", "kind", "record_key"),
        Index("ix_events_occurred_at", "occurred_at"),  # the retention purge
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    position: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The data category the event reveals (None: consent and registry events).
    category: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The record it is about: (standard, key); a consent's id; a standard version's ref.
    standard_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    record_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    enterprise_codes: Mapped[list[str]] = mapped_column(JSON)
    # What the delivery check needs without the record: the order it belongs to and the
    # record's date (consents cover a period of record dates), and who declared it.
    ebp_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    order_no: Mapped[str | None] = mapped_column(String(60), nullable=True)
    ebc_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    app_time: Mapped[str | None] = mapped_column(String(14), nullable=True)
    declarant: Mapped[str | None] = mapped_column(String(64), nullable=True)
    declaration_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # What changed (a status from → to, a version, a bank's client id): never a payload.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class EventLease(Base):
    """Who runs a singleton job (the sequencer, the NATS relay) and until when."""

    __tablename__ = "event_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EventCursor(Base):
    """How far a consumer of the whole log (the NATS relay) has got: its last position."""

    __tablename__ = "event_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookEndpoint(Base):
    """A client's HTTPS endpoint and the kinds it wants, with the secret that signs them."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_client", "client_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    kinds: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))  # whsec_<base64>, Standard Webhooks
    # The last position this endpoint is done with (delivered, dead-lettered or not its).
    position: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Claimed by one dispatcher at a time (several hub processes share the endpoints).
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebhookDelivery(Base):
    """One event sent (or being sent) to one endpoint: the delivery log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[str] = mapped_column(String(32))
    event_position: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(40))  # webhook-id: the same on retries
    status: Mapped[str] = mapped_column(String(12))  # PENDING, DELIVERED, DEAD
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
