"""Versioned rule sets and scoring models: DRAFT → PUBLISHED → RETIRED, like data standards.

A version, once published, never changes; publishing a new one retires the one in force, so
every alert and score names a version that can still be read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.credit.errors import CreditErrorCode, refuse
from hub.credit.models import RiskDocument


class DocumentKind(StrEnum):
    """What a versioned credit document holds."""

    RULE_SET = "rule-set"
    SCORING_MODEL = "scoring-model"


class DocumentState(StrEnum):
    """Where a version stands in its lifecycle."""

    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    RETIRED = "RETIRED"


# Checks a body: the problems found (an empty list when it can be used).
Check = Callable[[dict[str, Any]], list[str]]


async def save_draft(
    *,
    session: AsyncSession,
    kind: DocumentKind,
    version: str,
    body: dict[str, Any],
    check: Check,
    now: datetime,
) -> RiskDocument:
    """Creates or replaces a DRAFT version; a published or retired version never changes."""
    problems = check(body)
    if problems:
        raise refuse(CreditErrorCode.INVALID_DOCUMENT, "; ".join(problems), "body")
    row = await session.get(RiskDocument, (kind.value, version))
    if row is not None and row.state != DocumentState.DRAFT.value:
        raise refuse(
            CreditErrorCode.VERSION_EXISTS, f"{kind.value} {version} is {row.state}", "version"
        )
    if row is None:
        row = RiskDocument(kind=kind.value, version=version, created_at=now)
        session.add(row)
    row.state = DocumentState.DRAFT.value
    row.body = body
    await session.flush()
    return row


async def publish(
    *, session: AsyncSession, kind: DocumentKind, version: str, now: datetime
) -> RiskDocument:
    """DRAFT → PUBLISHED; the version in force before is RETIRED."""
    row = await session.get(RiskDocument, (kind.value, version), with_for_update=True)
    if row is None:
        raise refuse(CreditErrorCode.NOT_FOUND, f"no {kind.value} {version}", "version")
    if row.state != DocumentState.DRAFT.value:
        raise refuse(
            CreditErrorCode.WRONG_STATUS, f"{kind.value} {version} is {row.state}, not DRAFT"
        )
    current = await in_force(session=session, kind=kind)
    if current is not None:
        current.state = DocumentState.RETIRED.value
    row.state = DocumentState.PUBLISHED.value
    row.published_at = now
    await session.flush()
    return row


async def in_force(*, session: AsyncSession, kind: DocumentKind) -> RiskDocument | None:
    """The PUBLISHED version of a kind, if any."""
    result: RiskDocument | None = await session.scalar(
        select(RiskDocument).where(
            RiskDocument.kind == kind.value, RiskDocument.state == DocumentState.PUBLISHED.value
        )
    )
    return result


async def get(*, session: AsyncSession, kind: DocumentKind, version: str) -> RiskDocument | None:
    """One version of a kind."""
    return await session.get(RiskDocument, (kind.value, version))


async def versions(*, session: AsyncSession, kind: DocumentKind) -> Sequence[RiskDocument]:
    """Every version of a kind, oldest first."""
    rows = await session.scalars(
        select(RiskDocument)
        .where(RiskDocument.kind == kind.value)
        .order_by(RiskDocument.created_at, RiskDocument.version)
    )
    return list(rows)
