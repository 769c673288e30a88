"""No global write lock: arrival numbers from a sequence, the chain a view over the log.

- `declarations.chain_index` is the arrival order, numbered from a database sequence
  (PostgreSQL `declarations_chain_index_seq`, started after the highest number in use;
  SQLite numbers under its single writer). The chain head row is gone.
- The hash-chain link of each declaration moves beside its log entry (`log_entries.prev_hash`
  and `chain_hash`), where the sequencer continues the chain in log order. The links the
  declarations of the chain era carry stay in `declarations` as history (now nullable: later
  declarations have none there). No stored declaration changes.

Revision ID: 0015_log_witness
Revises: 0009_customs_messages
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_log_witness"
down_revision: str | None = "0014_customs_more"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQUENCE = "declarations_chain_index_seq"


def upgrade() -> None:
    with op.batch_alter_table("declarations") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=True)
        batch.alter_column("chain_hash", existing_type=sa.String(64), nullable=True)
    op.add_column("log_entries", sa.Column("prev_hash", sa.String(64), nullable=True))
    # Every entry so far came with its declaration's link (0011 copied them; the write path
    # wrote them until now): its previous link is the declaration's.
    op.execute(
        "UPDATE log_entries SET prev_hash = (SELECT d.prev_hash FROM declarations d"
        " WHERE d.id = log_entries.declaration_id) WHERE chain_hash IS NOT NULL"
    )
    op.drop_table("chain_head")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE SEQUENCE {SEQUENCE} OWNED BY declarations.chain_index")
        op.execute(
            f"SELECT setval('{SEQUENCE}', greatest(m, 1), m > 0) FROM (SELECT greatest("
            " (SELECT coalesce(max(chain_index), 0) FROM declarations),"
            " (SELECT coalesce(max(seq), 0) FROM log_entries)) AS m) AS top"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
    op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_index", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_head")),
    )
    pending = bind.scalar(
        sa.text(
            "SELECT count(*) FROM declarations d WHERE d.chain_hash IS NULL AND NOT EXISTS"
            " (SELECT 1 FROM log_entries e WHERE e.declaration_id = d.id"
            " AND e.chain_hash IS NOT NULL)"
        )
    )
    if pending:
        raise RuntimeError(
            f"{pending} declaration(s) are not yet in the log: run the hub (its sequencer) "
            "until they are integrated, then downgrade"
        )
    # Links written by the sequencer go back to their declarations; the head is the last.
    op.execute(
        "UPDATE declarations SET"
        " prev_hash = (SELECT e.prev_hash FROM log_entries e WHERE e.declaration_id = declarations.id),"  # noqa: E501
        " chain_hash = (SELECT e.chain_hash FROM log_entries e WHERE e.declaration_id = declarations.id)"  # noqa: E501
        " WHERE chain_hash IS NULL"
    )
    last = bind.execute(
        sa.text(
            "SELECT d.chain_index, e.chain_hash FROM log_entries e JOIN declarations d"
            " ON d.id = e.declaration_id WHERE e.leaf_index IS NOT NULL"
            " ORDER BY e.leaf_index DESC LIMIT 1"
        )
    ).first()
    op.bulk_insert(
        sa.table(
            "chain_head",
            sa.column("id", sa.Integer()),
            sa.column("last_index", sa.Integer()),
            sa.column("last_hash", sa.String()),
        ),
        [
            {
                "id": 1,
                "last_index": last[0] if last else 0,
                "last_hash": last[1] if last else "0" * 64,
            }
        ],
    )
    with op.batch_alter_table("log_entries") as batch:
        batch.drop_column("prev_hash")
    with op.batch_alter_table("declarations") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("chain_hash", existing_type=sa.String(64), nullable=False)
