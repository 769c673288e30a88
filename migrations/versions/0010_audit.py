"""Complete audit: each subject's part of an event, confidential reads; per-declarant keys.

- `access_event_subjects.records` / `record_count`: the records of an event that name the
  subject enterprise in any role (so a carrier sees which order it carries was read).
  Older events keep null and are shown as before (records whose key names the subject).
- `access_events.confidential_basis` / `disclose_after`: a department's confidential read,
  hidden from its subjects (but for "a confidential read by <department>") until then.
- `declarations`: idempotency keys are unique per declarant, not per client id (a client
  id is not unique across issuers). Existing rows already satisfy it unless two clients of
  one enterprise reused a key, which the upgrade then refuses loudly.

Revision ID: 0010_audit
Revises: 0013_documents
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_audit"
down_revision: str | None = "0007_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_events") as batch:
        batch.add_column(sa.Column("confidential_basis", sa.String(500), nullable=True))
        batch.add_column(sa.Column("disclose_after", sa.Date(), nullable=True))
    with op.batch_alter_table("access_event_subjects") as batch:
        batch.add_column(sa.Column("records", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("record_count", sa.Integer(), nullable=True))
    with op.batch_alter_table("declarations") as batch:
        batch.drop_constraint("uq_declarations_client_id_idempotency_key", type_="unique")
        batch.create_unique_constraint(
            "uq_declarations_declarant_idempotency_key", ["declarant", "idempotency_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("declarations") as batch:
        batch.drop_constraint("uq_declarations_declarant_idempotency_key", type_="unique")
        batch.create_unique_constraint(
            "uq_declarations_client_id_idempotency_key", ["client_id", "idempotency_key"]
        )
    with op.batch_alter_table("access_event_subjects") as batch:
        batch.drop_column("record_count")
        batch.drop_column("records")
    with op.batch_alter_table("access_events") as batch:
        batch.drop_column("disclose_after")
        batch.drop_column("confidential_basis")
