"""The declaration store: every accepted record, canonical, hashed and chained."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime


class Declaration(Base):
    """One accepted record with its provenance and its link in the hash chain."""

    __tablename__ = "declarations"
    __table_args__ = (
        # Idempotency is enforced by the database, so concurrent duplicates cannot both land.
        UniqueConstraint("declarant", "standard_id", "content_hash"),
        # Idempotency keys are per declarant (migration 0010), like duplicate content.
        UniqueConstraint("declarant", "idempotency_key"),
        Index("ix_declarations_record", "standard_id", "record_key", "chain_index"),
        Index("ix_declarations_declarant_index", "declarant", "chain_index"),
        Index("ix_declarations_content_hash", "content_hash"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    chain_index: Mapped[int] = mapped_column(Integer, unique=True)
    standard_id: Mapped[str] = mapped_column(String(100))
    standard_version: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str] = mapped_column(String(300))
    app_type: Mapped[str] = mapped_column(String(1))
    declarant: Mapped[str] = mapped_column(String(18))
    client_id: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly what was hashed
    content_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))
    supersedes: Mapped[str | None] = mapped_column(ForeignKey("declarations.id"), nullable=True)
    batch_id: Mapped[str | None] = mapped_column(String(32), nullable=True)

    @property
    def standard_ref(self) -> str:
        """`id@version` of the standard the record was validated against."""
        return f"{self.standard_id}@{self.standard_version}"


@dataclass(frozen=True, slots=True)
class NewDeclaration:
    """A declaration just inserted in bulk: the same fields, without ORM bookkeeping."""

    id: str
    chain_index: int
    standard_id: str
    standard_version: str
    record_key: str
    app_type: str
    declarant: str
    client_id: str
    idempotency_key: str | None
    received_at: datetime
    payload: str
    content_hash: str
    prev_hash: str
    chain_hash: str
    supersedes: str | None
    batch_id: str | None

    @property
    def standard_ref(self) -> str:
        """`id@version` of the standard the record was validated against."""
        return f"{self.standard_id}@{self.standard_version}"


StoredDeclaration = Declaration | NewDeclaration


class ChainHead(Base):
    """The single row holding the end of the hash chain; writers lock it to append."""

    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_index: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
