"""A scoring model as data: factors with weights, and class boundaries. Versioned through
hub/credit/documents.py (kind `scoring-model`); the shipped one is used until one is
published."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

SHIPPED_VERSION = "shipped-1.0.0"
# Every factor the evaluation computes (hub/credit/factors.py), by code.
FACTOR_CODES = (
    "MATCH_RATE",
    "MISMATCHES",
    "LIMIT_BREACHES",
    "CUSTOMS_REFUSALS",
    "CANCELLATIONS_RETURNS",
    "TIMELINESS",
    "TAX_MISMATCHES",
    "FOREX_BAND",
    "DEPARTMENT_RATINGS",
    "CONFIRMED_ALERTS",
)
SHIPPED_MODEL: dict[str, Any] = {
    "factors": [
        {"code": "MATCH_RATE", "weight": 15},
        {"code": "MISMATCHES", "weight": 10},
        {"code": "LIMIT_BREACHES", "weight": 10},
        {"code": "CUSTOMS_REFUSALS", "weight": 10},
        {"code": "CANCELLATIONS_RETURNS", "weight": 5},
        {"code": "TIMELINESS", "weight": 10},
        {"code": "TAX_MISMATCHES", "weight": 10},
        {"code": "FOREX_BAND", "weight": 5},
        {"code": "DEPARTMENT_RATINGS", "weight": 15},
        {"code": "CONFIRMED_ALERTS", "weight": 10},
    ],
    # Best first: the first class whose minimum the score reaches.
    "classes": [
        {"class": "A", "min": 90},
        {"class": "B", "min": 75},
        {"class": "C", "min": 60},
        {"class": "D", "min": 0},
    ],
}


@dataclass(frozen=True)
class ScoringModel:
    """A usable model: its version, weights by factor, and class boundaries best first."""

    version: str
    weights: dict[str, Decimal]
    classes: tuple[tuple[str, Decimal], ...]

    def class_of(self, score: Decimal) -> str:
        """The first class whose minimum the score reaches (the last one otherwise)."""
        for name, minimum in self.classes:
            if score >= minimum:
                return name
        return self.classes[-1][0]


def problems(body: dict[str, Any]) -> list[str]:
    """Why a scoring model cannot be used (empty when it can)."""
    found = []
    factors = body.get("factors") if isinstance(body, dict) else None
    if not isinstance(factors, list) or not factors:
        return ["a scoring model has a non-empty list `factors`"]
    seen = set()
    for index, factor in enumerate(factors):
        code = factor.get("code") if isinstance(factor, dict) else None
        if code not in FACTOR_CODES:
            found.append(f"factors[{index}].code {code!r} is not one of {', '.join(FACTOR_CODES)}")
        elif code in seen:
            found.append(f"factors[{index}].code {code!r} appears twice")
        seen.add(code)
        weight = factor.get("weight") if isinstance(factor, dict) else None
        if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
            found.append(f"factors[{index}].weight must be a number ≥ 0")
    classes = body.get("classes")
    if not isinstance(classes, list) or not classes:
        found.append("a scoring model has a non-empty list `classes`")
    else:
        minima = [c.get("min") for c in classes if isinstance(c, dict)]
        if len(minima) != len(classes) or not all(
            isinstance(m, int | float) and not isinstance(m, bool) for m in minima
        ):
            found.append("each class has a `class` name and a numeric `min`")
        elif minima != sorted(minima, reverse=True) or minima[-1] != 0:
            found.append("class minima descend, best class first, and the last is 0")
    return found


def parse(version: str, body: dict[str, Any]) -> ScoringModel:
    """The usable form of a (valid) model body."""
    return ScoringModel(
        version=version,
        weights={f["code"]: Decimal(str(f["weight"])) for f in body["factors"]},
        classes=tuple((str(c["class"]), Decimal(str(c["min"]))) for c in body["classes"]),
    )


SHIPPED = parse(SHIPPED_VERSION, SHIPPED_MODEL)
