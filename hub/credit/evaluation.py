"""The hub's credit evaluation: factors × the scoring model's weights, contributions that
add up to the score, and the class the score falls in.

Each contribution is rounded to cents of a point and the score is their sum, so the
explanation adds up exactly. A model's preview evaluates every enterprise under the model
in force and under the candidate, and counts who would change class.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.credit import documents, factors
from hub.credit import model as scoring
from hub.credit.documents import DocumentKind
from hub.credit.factors import Factor
from hub.credit.model import ScoringModel
from hub.trade.models import Enterprise

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Contribution:
    """One factor as the model weighs it."""

    factor: Factor
    weight: Decimal
    contribution: Decimal


@dataclass(frozen=True)
class Evaluation:
    """An enterprise's score and class under one model version, with its explanation."""

    enterprise_code: str
    model_version: str
    score: Decimal
    credit_class: str
    contributions: list[Contribution]


def score(code: str, found: dict[str, Factor], model: ScoringModel) -> Evaluation:
    """Weighs one enterprise's factors with a model."""
    parts = [
        Contribution(found[c], w, (w * found[c].value).quantize(_CENT))
        for c, w in model.weights.items()
    ]
    total = sum((p.contribution for p in parts), Decimal(0))
    return Evaluation(code, model.version, total, model.class_of(total), parts)


async def model_in_force(*, session: AsyncSession) -> ScoringModel:
    """The published scoring model, or the shipped one while none is published."""
    row = await documents.in_force(session=session, kind=DocumentKind.SCORING_MODEL)
    return scoring.SHIPPED if row is None else scoring.parse(row.version, row.body)


async def evaluate(
    *,
    session: AsyncSession,
    codes: Collection[str],
    model: ScoringModel | None = None,
    today: date | None = None,
) -> dict[str, Evaluation]:
    """The evaluations of these enterprises under `model` (default: the one in force)."""
    used = model or await model_in_force(session=session)
    found = await factors.of_enterprises(session=session, codes=codes, today=today)
    return {code: score(code, f, used) for code, f in found.items()}


@dataclass(frozen=True)
class Preview:
    """How a candidate model would change classes, before it is published."""

    current_version: str
    candidate_version: str
    enterprises: int
    changed: int
    moves: dict[tuple[str, str], int]  # (class under current, under candidate) → count


async def preview(*, session: AsyncSession, version: str, today: date | None = None) -> Preview:
    """Every enterprise under the model in force and under the DRAFT `version`."""
    row = await documents.get(session=session, kind=DocumentKind.SCORING_MODEL, version=version)
    if row is None:
        from hub.credit.errors import CreditErrorCode, refuse

        raise refuse(CreditErrorCode.NOT_FOUND, f"no scoring model {version}", "version")
    candidate = scoring.parse(row.version, row.body)
    current = await model_in_force(session=session)
    codes = list(await session.scalars(select(Enterprise.code)))
    found = await factors.of_enterprises(session=session, codes=codes, today=today)
    moves: Counter[tuple[str, str]] = Counter()
    for code, f in found.items():
        before, after = score(code, f, current).credit_class, score(code, f, candidate).credit_class
        if before != after:
            moves[(before, after)] += 1
    return Preview(current.version, candidate.version, len(found), sum(moves.values()), dict(moves))
