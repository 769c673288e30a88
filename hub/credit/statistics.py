"""Statistics of credit and risk: enterprises by the hub's class, alerts by rule version
with each version's precision (confirmed ÷ (confirmed + false positives))."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.credit import evaluation
from hub.risk.alerts import AlertStatus, Outcome
from hub.risk.models import RiskAlert
from hub.stats.suppression import suppressed_cells
from hub.trade.models import Enterprise


@dataclass(frozen=True)
class ClassCount:
    """Enterprises in one class (None when the cell is suppressed)."""

    credit_class: str
    enterprises: int | None
    suppressed: bool = False


@dataclass(frozen=True)
class RuleCount:
    """Alerts of one rule version by where they stand (None in a suppressed cell)."""

    rule_id: str
    rule_version: str
    raised: int | None
    open: int | None
    acknowledged: int | None
    confirmed: int | None
    false_positive: int | None
    referred: int | None
    suppressed: bool = False

    @property
    def precision(self) -> Decimal | None:
        """confirmed ÷ (confirmed + false positives), when any was decided."""
        if self.confirmed is None or self.false_positive is None:
            return None
        decided = self.confirmed + self.false_positive
        return (
            None
            if decided == 0
            else (Decimal(self.confirmed) / decided).quantize(Decimal("0.0001"))
        )


async def by_class(*, session: AsyncSession, min_group: int | None) -> tuple[str, list[ClassCount]]:
    """The model in force and how many enterprises each of its classes holds."""
    model = await evaluation.model_in_force(session=session)
    codes = list(await session.scalars(select(Enterprise.code)))
    found = await evaluation.evaluate(session=session, codes=codes, model=model)
    counts = Counter(e.credit_class for e in found.values())
    cells = [(name, counts.get(name, 0)) for name, _ in model.classes]
    hidden: set[int] = set()
    if min_group is not None:
        hidden = suppressed_cells(
            cells,
            dimensions=["class"],
            key_of=lambda c, _: c[0],
            count_of=lambda c: c[1],
            min_group=min_group,
        )
        # An empty class discloses nothing; only small non-empty cells are hidden.
        hidden = {i for i in hidden if cells[i][1] > 0}
    return model.version, [
        ClassCount(name, None, True) if i in hidden else ClassCount(name, count)
        for i, (name, count) in enumerate(cells)
    ]


async def by_rule(
    *, session: AsyncSession, visible: ColumnElement[bool], min_group: int | None
) -> list[RuleCount]:
    """Visible alerts per rule version and standing; small groups suppressed when asked."""
    rows = await session.execute(
        select(
            RiskAlert.rule_id,
            RiskAlert.rule_version,
            RiskAlert.status,
            RiskAlert.outcome,
            func.count().label("n"),
        )
        .where(visible)
        .group_by(RiskAlert.rule_id, RiskAlert.rule_version, RiskAlert.status, RiskAlert.outcome)
    )
    tally: dict[tuple[str, str], Counter[str]] = {}
    for r in rows:
        counter = tally.setdefault((r.rule_id, r.rule_version), Counter())
        counter["raised"] += r.n
        key = r.outcome if r.status == AlertStatus.DISPOSED.value else r.status
        counter[str(key)] += r.n
    cells = sorted(tally.items())
    hidden: set[int] = set()
    if min_group is not None:
        # The statistics' own suppression: small cells and their complements among the
        # versions of a rule and the rules of a version, so no cell is differenced out.
        hidden = suppressed_cells(
            cells,
            dimensions=["rule", "version"],
            key_of=lambda cell, d: cell[0][0] if d == "rule" else cell[0][1],
            count_of=lambda cell: cell[1]["raised"],
            min_group=min_group,
        )
    result = []
    for index, ((rule_id, version), c) in enumerate(cells):
        if index in hidden:
            result.append(RuleCount(rule_id, version, None, None, None, None, None, None, True))
            continue
        result.append(
            RuleCount(
                rule_id,
                version,
                c["raised"],
                c[AlertStatus.OPEN.value],
                c[AlertStatus.ACKNOWLEDGED.value],
                c[Outcome.CONFIRMED.value],
                c[Outcome.FALSE_POSITIVE.value],
                c[Outcome.REFERRED.value],
            )
        )
    return result
