"""Departments' ratings: recorded by the department on its own scale, read side by side.

A dishonest value (or its equivalent on another scale) raises a joint-action alert for
every other department, in the same transaction as the rating.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access.policy import Category, Department
from hub.credit.errors import CreditErrorCode, CreditRefusal, CreditRefused
from hub.credit.models import CreditRating
from hub.credit.scales import SCALES
from hub.risk import alerts
from hub.trade.models import Enterprise

MAX_BASIS = 2000
JOINT_ACTION_RULE = "joint-action"
JOINT_ACTION_VERSION = "1"


@dataclass(frozen=True)
class RatingCreate:
    """A rating as a department submits it."""

    enterprise_code: str
    value: str
    rated_on: date
    valid_until: date | None
    basis: str


def _problems(rating: RatingCreate, department: Department) -> list[CreditRefusal]:
    scale = SCALES[department]
    problems = []
    if rating.value not in scale.values:
        problems.append(
            CreditRefusal(
                CreditErrorCode.UNKNOWN_VALUE,
                f"{rating.value!r} is not on the {scale.name} scale ({', '.join(scale.values)})",
                "value",
            )
        )
    if rating.valid_until is not None and rating.valid_until < rating.rated_on:
        problems.append(
            CreditRefusal(
                CreditErrorCode.INVALID_DATES, "validUntil is before ratedOn", "validUntil"
            )
        )
    if not rating.basis.strip():
        problems.append(
            CreditRefusal(CreditErrorCode.REASON_REQUIRED, "a rating names its basis", "basis")
        )
    elif len(rating.basis) > MAX_BASIS:
        problems.append(
            CreditRefusal(
                CreditErrorCode.TOO_LONG, f"basis is over {MAX_BASIS} characters", "basis"
            )
        )
    return problems


async def record(
    *,
    session: AsyncSession,
    department: Department,
    rating: RatingCreate,
    recorded_by: str,
    now: datetime,
) -> CreditRating:
    """Records a department's rating; a dishonest one raises alerts for the others."""
    problems = _problems(rating, department)
    if await session.get(Enterprise, rating.enterprise_code) is None:
        problems.append(
            CreditRefusal(
                CreditErrorCode.UNKNOWN_ENTERPRISE,
                f"no enterprise {rating.enterprise_code!r} in the graph",
                "enterprise",
            )
        )
    if problems:
        raise CreditRefused(problems)
    scale = SCALES[department]
    row = CreditRating(
        id=uuid.uuid4().hex,
        enterprise_code=rating.enterprise_code,
        department=department.value,
        scale=scale.name,
        value=rating.value,
        rated_on=rating.rated_on,
        valid_until=rating.valid_until,
        basis=rating.basis,
        recorded_by=recorded_by,
        recorded_at=now,
    )
    session.add(row)
    await session.flush()
    if rating.value in scale.dishonest:
        await alerts.raise_hits(
            session=session,
            hits=[
                alerts.Hit(
                    rule_id=JOINT_ACTION_RULE,
                    rule_version=JOINT_ACTION_VERSION,
                    severity="HIGH",
                    enterprise_code=rating.enterprise_code,
                    department=other.value,
                    category=Category.CREDIT.value,
                    summary=f"{department.value} rated it {scale.name} {rating.value} "
                    f"(joint action on dishonest enterprises)",
                    evidence=(f"credit.rating:{row.id}",),
                )
                for other in Department
                if other is not department
            ],
            now=now,
        )
    return row


async def of_enterprise(
    *, session: AsyncSession, enterprise_code: str, on: date | None = None
) -> Sequence[CreditRating]:
    """Every department's ratings of an enterprise, newest first (`on`: valid that day)."""
    query = (
        select(CreditRating)
        .where(CreditRating.enterprise_code == enterprise_code)
        .order_by(CreditRating.rated_on.desc(), CreditRating.recorded_at.desc())
    )
    rows = list(await session.scalars(query))
    if on is not None:
        rows = [
            r for r in rows if r.rated_on <= on and (r.valid_until is None or on <= r.valid_until)
        ]
    return rows


def current(rows: Sequence[CreditRating]) -> dict[str, CreditRating]:
    """The newest rating of each department, from `of_enterprise`'s newest-first rows."""
    latest: dict[str, CreditRating] = {}
    for row in rows:
        latest.setdefault(row.department, row)
    return latest
