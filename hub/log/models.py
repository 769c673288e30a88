"""Tables of the verifiable log: entries, stored tree nodes, checkpoints, keys, cosignatures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime


class LogEntry(Base):
    """One declaration's entry: pending (no leaf index) until the sequencer integrates it."""

    __tablename__ = "log_entries"
    __table_args__ = (
        # The sequencer's queue: only pending entries are in this index, so finding the next
        # batch costs the same whatever the size of the log.
        Index(
            "ix_log_entries_pending",
            "seq",
            postgresql_where=text("leaf_index IS NULL"),
            sqlite_where=text("leaf_index IS NULL"),
        ),
    )

    # No foreign key: an entry is evidence that must outlive a declaration someone deletes.
    declaration_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Order of integration among pending entries: the declaration's arrival number.
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)
    entry: Mapped[bytes] = mapped_column(LargeBinary)  # exactly the bytes the leaf hashes
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)
    # The declaration's hash-chain link: the chain the log replaced, continued in log order by
    # the sequencer (hub/declarations/chain.py), so the chain is a view over the log.
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    chain_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sequenced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LogNode(Base):
    """The hash of one complete subtree: leaves [index * 2**level, (index + 1) * 2**level).

    Every proof hash is a fold of at most log2(n) of these, so a proof is one indexed read.
    """

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class LogCheckpoint(Base):
    """A signed tree head (C2SP tlog-checkpoint) the hub published."""

    __tablename__ = "log_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)  # the signed note, exactly as served
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LogKey(Base):
    """The Ed25519 key that signs checkpoints and inclusion promises (published in the JWKS)."""

    __tablename__ = "log_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    seed: Mapped[bytes] = mapped_column(LargeBinary)
    public: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LogCosignature(Base):
    """A witness's cosignature line on a checkpoint (C2SP tlog-cosignature/v1)."""

    __tablename__ = "log_cosignatures"

    witness: Mapped[str] = mapped_column(String(200), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    line: Mapped[str] = mapped_column(Text)
    cosigned_at: Mapped[int] = mapped_column(BigInteger)  # the POSIX time it carries
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LogWitness(Base):
    """A department that cosigns checkpoints: its cosignature key and its client."""

    __tablename__ = "log_witnesses"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    vkey: Mapped[str] = mapped_column(Text)  # signed-note verifier key, type 0x04
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
