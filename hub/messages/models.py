"""The original customs XML messages, kept byte for byte as the provenance of the
declarations made from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime


class CustomsMessage(Base):
    """One posted CEB message (its bytes exactly as received, XML-DSig signature included)."""

    __tablename__ = "customs_messages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_type: Mapped[str] = mapped_column(String(20))  # e.g. CEB311Message
    guid: Mapped[str] = mapped_column(String(36))
    declarant: Mapped[str] = mapped_column(String(18))
    client_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    content_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of `body`
    body: Mapped[bytes] = mapped_column(LargeBinary)


class CustomsMessageRecord(Base):
    """A declaration made from record `record_index` (0-based) of a message."""

    __tablename__ = "customs_message_records"

    declaration_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("declarations.id"), primary_key=True
    )
    message_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("customs_messages.id"), index=True
    )
    record_index: Mapped[int] = mapped_column(Integer)
