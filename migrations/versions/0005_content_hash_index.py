"""Index declarations by content hash alone.

Duplicate detection looks records up by their hashes; the unique (declarant, standard_id,
content_hash) index serves that only when the planner trusts its statistics, and a
fresh or growing table can send it to scan a declarant's whole history instead.

Revision ID: 0005_content_hash_index
Revises: 0004_access
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_content_hash_index"
down_revision: str | None = "0004_access"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_declarations_content_hash", "declarations", ["content_hash"])


def downgrade() -> None:
    op.drop_index("ix_declarations_content_hash", table_name="declarations")
