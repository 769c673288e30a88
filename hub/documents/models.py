"""The table of trusted documents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime


class TrustedDocument(Base):
    """A registered GraphQL document; its id is the SHA-256 of its exact text."""

    __tablename__ = "trusted_documents"

    id: Mapped[str] = mapped_column(String(71), primary_key=True)  # "sha256:" + 64 hex
    body: Mapped[str] = mapped_column(Text)
    operation_names: Mapped[str] = mapped_column(String(2000))  # space-separated
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_by: Mapped[str] = mapped_column(String(64))  # client id, or "cli"
