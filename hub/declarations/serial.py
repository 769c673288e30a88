"""Per-subject serialisation of the write path: the database decides, no global lock.

A declaring transaction decides duplicates, idempotency keys and the lifecycle (appType
1/2/3 against the latest declaration of a record), and re-matches orders, from what is
stored. Two transactions deciding about the same *subject* must therefore run one after
the other, and transactions about different subjects need not wait for each other.

Subjects are strings (`record|cbec.order|<key>`, `order|<ebp>|<no>`, `idem|<code>|<key>`,
...). On PostgreSQL each is a transaction-scoped advisory lock in the two-key space
(`pg_advisory_xact_lock(namespace, hash)`; the one-key space of the log sequencer's lock
does not overlap), all taken in one statement in ascending hash order, so two batches that
share subjects cannot deadlock on them. A hash collision only makes two unrelated
subjects wait for each other. SQLite has one writer: the transaction takes the write lock
before it reads anything (`hold_writer`), which serialises every subject at once.

Uniqueness stays the database's too: unique (declarant, standard, content hash), unique
(declarant, idempotency key) and unique `chain_index` refuse whatever slipped past.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.declarations.models import CHAIN_INDEX_SEQUENCE

NAMESPACE = 0x44454331  # "DEC1": the write path's advisory locks


def subject(kind: str, *parts: str) -> str:
    """The name of one thing a declaring transaction decides about."""
    return "|".join((kind, *parts))


def lock_key(name: str) -> int:
    """The signed 32-bit advisory-lock key of a subject."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), signed=True)


async def hold_writer(*, session: AsyncSession) -> None:
    """SQLite: takes the single writer's lock now, before the transaction reads anything
    (a reading transaction that writes later can fail to upgrade when another committed)."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("DELETE FROM log_entries WHERE 1 = 0"))


async def hold(*, session: AsyncSession, subjects: Iterable[str]) -> None:
    """Locks these subjects until the transaction ends (PostgreSQL; SQLite holds its writer)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({lock_key(s) for s in subjects})
    if keys:
        await session.execute(
            text(
                "SELECT pg_advisory_xact_lock(:namespace, k) "
                "FROM unnest(CAST(:keys AS integer[])) WITH ORDINALITY AS t(k, n) ORDER BY n"
            ),
            {"namespace": NAMESPACE, "keys": keys},
        )


async def next_indexes(*, session: AsyncSession, count: int) -> list[int]:
    """`count` new arrival numbers (chain_index), ascending. Called once the subjects are
    held, so a later change of a record always gets a larger number than the earlier one."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = await session.scalars(
            text(f"SELECT nextval('{CHAIN_INDEX_SEQUENCE}') FROM generate_series(1, :n)"),
            {"n": count},
        )
        return sorted(int(v) for v in rows)
    # SQLite: the writer lock is held (hold_writer), so the maximum cannot move under us.
    # The log's entries count too: an entry outlives a deleted declaration, number and all.
    last = await session.scalar(
        text(
            "SELECT max(coalesce((SELECT max(chain_index) FROM declarations), 0),"
            " coalesce((SELECT max(seq) FROM log_entries), 0))"
        )
    )
    first = int(last or 0) + 1
    return list(range(first, first + count))


# PostgreSQL's deadlock_detected and serialization_failure: the transaction lost a race it
# did not cause (two first mentions of one enterprise, say) and is safe to run again.
_RETRYABLE = {"40P01", "40001"}
ATTEMPTS = 3


def retryable(exc: BaseException) -> bool:
    """True when the database aborted the transaction for a race: run it again."""
    if not isinstance(exc, DBAPIError):
        return False
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in _RETRYABLE
