"""Evaluating a rule set: on intake (the enterprises new declarations name, by
hub/risk/arrivals.py off the write path), on schedule (all), and as a dry run over history
(nothing stored: what it would have raised)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.credit import documents
from hub.credit import evaluation as credit_evaluation
from hub.credit.documents import DocumentKind
from hub.risk import alerts, facts, ruleset
from hub.risk.alerts import Hit
from hub.risk.rules import RULES
from hub.stats.rates import configured_rates
from hub.stats.service import forex_totals


@dataclass(frozen=True)
class Evaluation:
    """What a rule set found: the hits, and how many of them are (or would be) new alerts."""

    version: str
    hits: list[Hit]
    raised: int

    def by_rule(self) -> dict[str, int]:
        """Hits per rule id."""
        return dict(Counter(h.rule_id for h in self.hits))


async def hits_of(
    *,
    session: AsyncSession,
    body: dict[str, Any],
    version: str,
    as_of: datetime,
    enterprises: Collection[str] | None = None,
) -> list[Hit]:
    """The hits of a rule set over the graph as it stands (naive UTC `as_of`)."""
    rules = [r for r in ruleset.entries(body) if r.enabled]
    if not rules:
        return []
    graph = await facts.load(session=session, enterprises=enterprises)
    if any(r.id == "forex-band" for r in rules):
        totals = await forex_totals(session=session, year=as_of.year, rates=configured_rates())
        graph.forex = [t for t in totals if enterprises is None or t.enterprise_code in enterprises]
    found = []
    for rule in rules:
        for finding in RULES[rule.id](graph, rule.params, as_of):
            if enterprises is not None and finding.enterprise_code not in enterprises:
                continue
            found.append(
                Hit(
                    rule_id=rule.id,
                    rule_version=version,
                    severity=rule.severity.value,
                    enterprise_code=finding.enterprise_code,
                    department=rule.department.value,
                    category=rule.category.value,
                    summary=finding.summary,
                    evidence=finding.evidence,
                )
            )
    return found


async def _differentiated(session: AsyncSession, found: list[Hit]) -> list[Hit]:
    """The hits the enterprises' credit classes raise (the scoring model's supervision)."""
    if not found:
        return found
    model = await credit_evaluation.model_in_force(session=session)
    classes = await credit_evaluation.evaluate(
        session=session, codes={h.enterprise_code for h in found}, model=model
    )
    return [
        h
        for h in found
        if model.treatment(classes[h.enterprise_code].credit_class).raises(h.severity)
    ]


def _naive(moment: datetime) -> datetime:
    # Declared times carry no zone (China Standard Time by the standards); compared as read.
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


async def run(
    *,
    session: AsyncSession,
    now: datetime,
    as_of: datetime | None = None,
    version: str | None = None,
    dry_run: bool = False,
    enterprises: Collection[str] | None = None,
) -> Evaluation | None:
    """Evaluates the published rule set (or `version`), raising its new alerts unless
    `dry_run`; None when there is no such rule set."""
    if version is None:
        document = await documents.in_force(session=session, kind=DocumentKind.RULE_SET)
    else:
        document = await documents.get(session=session, kind=DocumentKind.RULE_SET, version=version)
    if document is None:
        return None
    found = await hits_of(
        session=session,
        body=document.body,
        version=document.version,
        as_of=_naive(as_of or now),
        enterprises=enterprises,
    )
    found = await _differentiated(session, found)
    if dry_run:
        return Evaluation(document.version, found, len(await alerts.new_hits(session, found)))
    created = await alerts.raise_hits(session=session, hits=found, now=now)
    return Evaluation(document.version, found, len(created))
