"""The verifiable log: entries, tree nodes, checkpoints, keys, witnesses; the hash chain
becomes its first leaves.

Every declaration, in chain order, becomes leaf `i` (0-based) with its v1 entry bytes and
keeps its chain link's hash beside it as history; the complete subtrees are stored. No
declaration row changes. The first checkpoint is signed at start-up, once the log key
exists (keys are made by the running hub, not by migrations).

Revision ID: 0011_merkle_log
Revises: 0013_documents
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hub.log import merkle
from hub.log.entry import of_declaration

revision: str = "0011_merkle_log"
down_revision: str | None = "0010_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAGE = 5000


def upgrade() -> None:
    op.create_table(
        "log_entries",
        sa.Column("declaration_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=True),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sequenced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("declaration_id", name=op.f("pk_log_entries")),
        sa.UniqueConstraint("seq", name=op.f("uq_log_entries_seq")),
        sa.UniqueConstraint("leaf_index", name=op.f("uq_log_entries_leaf_index")),
    )
    op.create_index(
        "ix_log_entries_pending",
        "log_entries",
        ["seq"],
        postgresql_where=sa.text("leaf_index IS NULL"),
        sqlite_where=sa.text("leaf_index IS NULL"),
    )
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_log_nodes")),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_log_checkpoints")),
    )
    op.create_table(
        "log_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("seed", sa.LargeBinary(), nullable=False),
        sa.Column("public", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_keys")),
    )
    op.create_table(
        "log_cosignatures",
        sa.Column("witness", sa.String(200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("cosigned_at", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("witness", "size", name=op.f("pk_log_cosignatures")),
    )
    op.create_table(
        "log_witnesses",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("vkey", sa.Text(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_log_witnesses")),
        sa.UniqueConstraint("client_id", name=op.f("uq_log_witnesses_client_id")),
    )
    _chain_to_leaves()


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back naive UTC values, PostgreSQL aware ones.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _chain_to_leaves() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    declarations = sa.table(
        "declarations",
        sa.column("id"),
        sa.column("chain_index"),
        sa.column("standard_id"),
        sa.column("standard_version"),
        sa.column("declarant"),
        sa.column("client_id"),
        sa.column("received_at", sa.DateTime(timezone=True)),
        sa.column("content_hash"),
        sa.column("chain_hash"),
    )
    entries = sa.table(
        "log_entries",
        sa.column("declaration_id"),
        sa.column("seq"),
        sa.column("leaf_index"),
        sa.column("entry", sa.LargeBinary()),
        sa.column("leaf_hash", sa.LargeBinary()),
        sa.column("chain_hash"),
        sa.column("queued_at", sa.DateTime(timezone=True)),
        sa.column("sequenced_at", sa.DateTime(timezone=True)),
    )
    nodes = sa.table(
        "log_nodes", sa.column("level"), sa.column("idx"), sa.column("hash", sa.LargeBinary())
    )
    now = datetime.now(UTC)
    stored_now = now.replace(tzinfo=None) if sqlite else now
    size = 0
    edge: dict[merkle.Node, bytes] = {}
    cursor = -1
    while True:
        rows = bind.execute(
            sa.select(declarations)
            .where(declarations.c.chain_index > cursor)
            .order_by(declarations.c.chain_index)
            .limit(_PAGE)
        ).all()
        if not rows:
            break
        new_entries, leaves = [], []
        for row in rows:
            received = _as_utc(row.received_at)
            data = of_declaration(
                declaration_id=row.id,
                content_hash=row.content_hash,
                standard_ref=f"{row.standard_id}@{row.standard_version}",
                declarant=row.declarant,
                client_id=row.client_id,
                received_at=received,
            ).encode()
            leaf = merkle.leaf_hash(data)
            leaves.append(leaf)
            new_entries.append(
                {
                    "declaration_id": row.id,
                    "seq": row.chain_index,
                    "leaf_index": size + len(leaves) - 1,
                    "entry": data,
                    "leaf_hash": leaf,
                    "chain_hash": row.chain_hash,
                    "queued_at": received.replace(tzinfo=None) if sqlite else received,
                    "sequenced_at": stored_now,
                }
            )
        created, _ = merkle.append(size, edge, leaves)
        size += len(leaves)
        edge = {node: (created.get(node) or edge[node]) for node in merkle.frontier(size)}
        op.bulk_insert(entries, new_entries)
        op.bulk_insert(
            nodes, [{"level": n.level, "idx": n.index, "hash": h} for n, h in created.items()]
        )
        cursor = rows[-1].chain_index


def downgrade() -> None:
    op.drop_table("log_witnesses")
    op.drop_table("log_cosignatures")
    op.drop_table("log_keys")
    op.drop_table("log_checkpoints")
    op.drop_table("log_nodes")
    op.drop_index("ix_log_entries_pending", table_name="log_entries")
    op.drop_table("log_entries")
