"""Identity: revoked access tokens, client-wide revocation, issuers beside client ids.

A principal is (issuer, client id). Consents and access events store the issuer next to
the client id (NULL: a client of this hub), so an external identity provider's client that
shares an id with a hub client never matches the hub client's rows. `revoked_tokens` keeps
the `jti` of tokens revoked through RFC 7009 until they expire; `tokens_revoked_at` refuses
every token a client held when it was disabled.

Revision ID: 0007_identity
Revises: 0013_documents
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_identity"
down_revision: str | None = "0013_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_revoked_tokens_expires", "revoked_tokens", ["expires_at"])
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(sa.Column("tokens_revoked_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("consents") as batch:
        batch.add_column(sa.Column("bank_issuer", sa.String(300), nullable=True))
        batch.add_column(sa.Column("granted_by_issuer", sa.String(300), nullable=True))
    with op.batch_alter_table("access_events") as batch:
        batch.add_column(sa.Column("client_issuer", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_events") as batch:
        batch.drop_column("client_issuer")
    with op.batch_alter_table("consents") as batch:
        batch.drop_column("granted_by_issuer")
        batch.drop_column("bank_issuer")
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("tokens_revoked_at")
    op.drop_index("ix_revoked_tokens_expires", table_name="revoked_tokens")
    op.drop_table("revoked_tokens")
