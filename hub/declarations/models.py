"""The declaration store: every accepted record, canonical and hashed, with its provenance.

Tamper-evidence is the verifiable log (hub/log): each declaration has a log entry, and the
hash-chain link of a declaration is now a view over that entry (the sequencer extends the
chain when it integrates the entry), so nothing on the write path is shared by all writers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from hub.db import Base, UTCDateTime
from hub.log.models import LogEntry

# Arrival order of declarations (PostgreSQL; SQLite takes max + 1 under its single writer).
CHAIN_INDEX_SEQUENCE = "declarations_chain_index_seq"


class Declaration(Base):
    """One accepted record with its provenance; its chain link is read from its log entry."""

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
    # The arrival order (a database sequence, migration 0015): lists and a record's history
    # are ordered by it. Before the log it was the position in the hash chain, and for those
    # declarations it still is; it is also the index a chain link covers.
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
    # The links of the chain era as they were written (history; NULL for later rows).
    history_prev_hash: Mapped[str | None] = mapped_column("prev_hash", String(64), nullable=True)
    history_chain_hash: Mapped[str | None] = mapped_column("chain_hash", String(64), nullable=True)
    supersedes: Mapped[str | None] = mapped_column(ForeignKey("declarations.id"), nullable=True)
    batch_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The chain link as the log holds it: NULL until the sequencer integrates the entry.
    prev_hash: Mapped[str | None] = column_property(
        select(LogEntry.prev_hash)
        .where(LogEntry.declaration_id == id)
        .correlate_except(LogEntry)
        .scalar_subquery()
    )
    chain_hash: Mapped[str | None] = column_property(
        select(LogEntry.chain_hash)
        .where(LogEntry.declaration_id == id)
        .correlate_except(LogEntry)
        .scalar_subquery()
    )

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
    supersedes: str | None
    batch_id: str | None
    # Pending in the log when just declared: the link exists once it is integrated.
    prev_hash: str | None = None
    chain_hash: str | None = None

    @property
    def standard_ref(self) -> str:
        """`id@version` of the standard the record was validated against."""
        return f"{self.standard_id}@{self.standard_version}"


StoredDeclaration = Declaration | NewDeclaration
