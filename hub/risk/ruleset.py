"""A rule set as data: which rules run, at which severity, for which department, with which
thresholds. Versioned through hub/credit/documents.py (kind `rule-set`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.access.policy import Category, Department
from hub.risk.alerts import Severity
from hub.risk.rules import RULES

DEFAULT_VERSION = "1.0.0"
# The shipped rule set: each of the rules, handled by the department that reads its
# evidence (the alert's category decides who sees it, hub/risk/access.py).
DEFAULT_RULE_SET: dict[str, Any] = {
    "rules": [
        {
            "id": "split-orders",
            "severity": "MEDIUM",
            "department": "customs",
            "category": "order",
            "params": {"single_limit_cny": 5000, "window_hours": 24, "min_orders": 3},
        },
        {
            "id": "identity-misuse",
            "severity": "HIGH",
            "department": "customs",
            "category": "order",
            "params": {"max_distinct": 3},
        },
        {
            "id": "payment-without-logistics",
            "severity": "HIGH",
            "department": "forex",
            "category": "payment",
            "params": {"days": 7},
        },
        {
            "id": "export-without-departure",
            "severity": "MEDIUM",
            "department": "customs",
            "category": "clearance",
            "params": {"days": 15},
        },
        {
            "id": "volume-spike",
            "severity": "LOW",
            "department": "customs",
            "category": "order",
            "params": {"window_days": 30, "history_windows": 3, "factor": 3, "min_orders": 10},
        },
        {
            "id": "round-amounts",
            "severity": "LOW",
            "department": "tax",
            "category": "order",
            "params": {"unit": 100, "min_orders": 5, "min_share": 0.5},
        },
        {
            "id": "forex-band",
            "severity": "MEDIUM",
            "department": "forex",
            "category": "payment",
            "params": {"bands": ["OVER"]},
        },
        {
            "id": "changed-after-release",
            "severity": "HIGH",
            "department": "customs",
            "category": "clearance",
            "params": {},
        },
    ]
}


@dataclass(frozen=True)
class RuleEntry:
    """One rule of a set, as the evaluation runs it."""

    id: str
    severity: Severity
    department: Department
    category: Category
    params: dict[str, Any]
    enabled: bool = True


def problems(body: dict[str, Any]) -> list[str]:
    """Why a rule set cannot be used (empty when it can)."""
    rules = body.get("rules") if isinstance(body, dict) else None
    if not isinstance(rules, list) or not rules:
        return ["a rule set has a non-empty list `rules`"]
    found = []
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        where = f"rules[{index}]"
        if not isinstance(rule, dict):
            found.append(f"{where} is not an object")
            continue
        rule_id = rule.get("id")
        if rule_id not in RULES:
            found.append(f"{where}.id {rule_id!r} is not one of {', '.join(RULES)}")
        elif rule_id in seen:
            found.append(f"{where}.id {rule_id!r} appears twice")
        seen.add(str(rule_id))
        if rule.get("severity") not in {s.value for s in Severity}:
            found.append(f"{where}.severity must be LOW, MEDIUM or HIGH")
        if rule.get("department") not in {d.value for d in Department}:
            found.append(
                f"{where}.department must be one of {', '.join(d.value for d in Department)}"
            )
        if rule.get("category") not in {c.value for c in Category}:
            found.append(f"{where}.category is not a data category")
        if not isinstance(rule.get("params", {}), dict):
            found.append(f"{where}.params is not an object")
    return found


def entries(body: dict[str, Any]) -> list[RuleEntry]:
    """The rules of a (valid) set, in order."""
    return [
        RuleEntry(
            id=r["id"],
            severity=Severity(r["severity"]),
            department=Department(r["department"]),
            category=Category(r["category"]),
            params=dict(r.get("params") or {}),
            enabled=bool(r.get("enabled", True)),
        )
        for r in body["rules"]
    ]
