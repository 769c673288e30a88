"""A scoring model as data: factors with weights, and class boundaries. Versioned through
hub/credit/documents.py (kind `scoring-model`); the shipped one is used until one is
published."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    # Differentiated supervision: per class, the suggested inspection sampling rate shown
    # to customs, and the least severe rule hit raised as an alert.
    "supervision": {
        "A": {"inspectionRate": 0.01, "alertsFrom": "MEDIUM"},
        "B": {"inspectionRate": 0.05, "alertsFrom": "LOW"},
        "C": {"inspectionRate": 0.2, "alertsFrom": "LOW"},
        "D": {"inspectionRate": 0.5, "alertsFrom": "LOW"},
    },
}
SEVERITY_ORDER = ("LOW", "MEDIUM", "HIGH")


@dataclass(frozen=True)
class Treatment:
    """How a class is supervised: sampling rate for inspection, and the alert threshold."""

    inspection_rate: Decimal
    alerts_from: str  # LOW, MEDIUM or HIGH

    def raises(self, severity: str) -> bool:
        """True when a hit of this severity becomes an alert for this class."""
        return SEVERITY_ORDER.index(severity) >= SEVERITY_ORDER.index(self.alerts_from)


DEFAULT_TREATMENT = Treatment(Decimal("0.05"), "LOW")


@dataclass(frozen=True)
class ScoringModel:
    """A usable model: its version, weights by factor, and class boundaries best first."""

    version: str
    weights: dict[str, Decimal]
    classes: tuple[tuple[str, Decimal], ...]
    supervision: dict[str, Treatment] = field(default_factory=dict)

    def treatment(self, credit_class: str) -> Treatment:
        """The class's treatment (every alert, a 5 % sampling rate when the model names none)."""
        return self.supervision.get(credit_class, DEFAULT_TREATMENT)

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
        elif minima != sorted(minima, reverse=True) or minima[-1] != 0:  # type: ignore[type-var]  # numbers, checked above
            found.append("class minima descend, best class first, and the last is 0")
    supervision = body.get("supervision", {})
    if not isinstance(supervision, dict):
        found.append("`supervision` maps classes to treatments")
    else:
        for name, treatment in supervision.items():
            rate = treatment.get("inspectionRate") if isinstance(treatment, dict) else None
            if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 <= rate <= 1:
                found.append(f"supervision.{name}.inspectionRate is a number from 0 to 1")
            if not isinstance(treatment, dict) or treatment.get("alertsFrom") not in SEVERITY_ORDER:
                found.append(f"supervision.{name}.alertsFrom is LOW, MEDIUM or HIGH")
    return found


def parse(version: str, body: dict[str, Any]) -> ScoringModel:
    """The usable form of a (valid) model body."""
    return ScoringModel(
        version=version,
        weights={f["code"]: Decimal(str(f["weight"])) for f in body["factors"]},
        classes=tuple((str(c["class"]), Decimal(str(c["min"]))) for c in body["classes"]),
        supervision={
            name: Treatment(Decimal(str(t["inspectionRate"])), str(t["alertsFrom"]))
            for name, t in (body.get("supervision") or {}).items()
        },
    )


SHIPPED = parse(SHIPPED_VERSION, SHIPPED_MODEL)
