"""Alerts and their lifecycle: OPEN → ACKNOWLEDGED → DISPOSED (confirmed, false positive,
referred), each step with its actor and reason.

Raising is idempotent: the same rule version, enterprise and evidence raise one alert,
however often the rules run (on intake and on schedule).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access.policy import CreditRights
from hub.credit.errors import CreditErrorCode, refuse
from hub.risk.models import AlertStep, RiskAlert

MAX_REASON = 2000
HUB_ACTOR = "hub"


class AlertStatus(StrEnum):
    """Where an alert stands."""

    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    DISPOSED = "DISPOSED"


class Outcome(StrEnum):
    """How a disposed alert ended."""

    CONFIRMED = "CONFIRMED"
    FALSE_POSITIVE = "FALSE_POSITIVE"
    REFERRED = "REFERRED"  # handed to another authority; neither confirmed nor cleared


class Severity(StrEnum):
    """How urgent a hit is."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


@dataclass(frozen=True)
class Hit:
    """What a rule found: the alert to raise, before it is stored."""

    rule_id: str
    rule_version: str
    severity: str
    enterprise_code: str
    department: str
    category: str
    summary: str
    evidence: tuple[str, ...]

    @property
    def dedupe_key(self) -> str:
        """SHA-256 of rule id@version, enterprise, handling department and sorted evidence."""
        text = json.dumps(
            [
                self.rule_id,
                self.rule_version,
                self.enterprise_code,
                self.department,
                sorted(self.evidence),
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()


async def new_hits(session: AsyncSession, hits: Sequence[Hit]) -> dict[str, Hit]:
    """The hits not raised before, by dedupe key."""
    unique = {h.dedupe_key: h for h in hits}
    if not unique:
        return {}
    known = set(
        await session.scalars(
            select(RiskAlert.dedupe_key).where(RiskAlert.dedupe_key.in_(list(unique)))
        )
    )
    return {k: h for k, h in unique.items() if k not in known}


async def raise_hits(
    *, session: AsyncSession, hits: Sequence[Hit], now: datetime
) -> list[RiskAlert]:
    """Stores the hits not raised before as OPEN alerts; returns the new ones."""
    unique = await new_hits(session, hits)
    if not unique:
        return []
    created = []
    for key, hit in unique.items():
        alert = RiskAlert(
            rule_id=hit.rule_id,
            rule_version=hit.rule_version,
            severity=hit.severity,
            enterprise_code=hit.enterprise_code,
            department=hit.department,
            category=hit.category,
            summary=hit.summary[:500],
            evidence=list(hit.evidence),
            dedupe_key=key,
            status=AlertStatus.OPEN.value,
            outcome=None,
            raised_at=now,
        )
        session.add(alert)
        created.append(alert)
    await session.flush()
    for alert in created:
        session.add(
            AlertStep(
                alert_id=alert.id,
                from_status=None,
                to_status=AlertStatus.OPEN.value,
                outcome=None,
                reason=f"raised by {alert.rule_id}@{alert.rule_version}",
                actor=HUB_ACTOR,
                department=None,
                at=now,
            )
        )
    await session.flush()
    return created


async def _handled(
    session: AsyncSession,
    alert_id: int,
    rights: CreditRights,
    reason: str,
    visible: ColumnElement[bool],
) -> RiskAlert:
    """The alert, when this department sees and handles it and gave a reason."""
    if not reason.strip():
        raise refuse(CreditErrorCode.REASON_REQUIRED, "each step names its reason", "reason")
    if len(reason) > MAX_REASON:
        raise refuse(CreditErrorCode.TOO_LONG, f"reason is over {MAX_REASON} characters", "reason")
    # An alert the caller may not see is not found: a refusal must not confirm it exists.
    alert = await session.scalar(
        select(RiskAlert).where(RiskAlert.id == alert_id, visible).with_for_update()
    )
    if alert is None:
        raise refuse(CreditErrorCode.NOT_FOUND, f"no alert {alert_id}", "id")
    if alert.department not in {d.value for d in rights.disposes}:
        raise refuse(
            CreditErrorCode.NOT_ALLOWED,
            f"alert {alert_id} is handled by {alert.department}, not {rights.department.value}",
            "id",
        )
    return alert


async def _step(
    session: AsyncSession,
    alert: RiskAlert,
    *,
    to: AlertStatus,
    outcome: Outcome | None,
    reason: str,
    actor: str,
    rights: CreditRights,
    now: datetime,
) -> RiskAlert:
    session.add(
        AlertStep(
            alert_id=alert.id,
            from_status=alert.status,
            to_status=to.value,
            outcome=outcome.value if outcome else None,
            reason=reason,
            actor=actor,
            department=rights.department.value,
            at=now,
        )
    )
    alert.status = to.value
    alert.outcome = outcome.value if outcome else None
    await session.flush()
    return alert


async def acknowledge(
    *,
    session: AsyncSession,
    alert_id: int,
    rights: CreditRights,
    visible: ColumnElement[bool],
    actor: str,
    reason: str,
    now: datetime,
) -> RiskAlert:
    """OPEN → ACKNOWLEDGED by the handling department."""
    alert = await _handled(session, alert_id, rights, reason, visible)
    if alert.status != AlertStatus.OPEN.value:
        raise refuse(
            CreditErrorCode.WRONG_STATUS, f"alert {alert_id} is {alert.status}, not OPEN", "id"
        )
    return await _step(
        session,
        alert,
        to=AlertStatus.ACKNOWLEDGED,
        outcome=None,
        reason=reason,
        actor=actor,
        rights=rights,
        now=now,
    )


async def dispose(
    *,
    session: AsyncSession,
    alert_id: int,
    rights: CreditRights,
    visible: ColumnElement[bool],
    actor: str,
    outcome: Outcome,
    reason: str,
    now: datetime,
) -> RiskAlert:
    """ACKNOWLEDGED → DISPOSED with an outcome, by the handling department."""
    alert = await _handled(session, alert_id, rights, reason, visible)
    if alert.status != AlertStatus.ACKNOWLEDGED.value:
        raise refuse(
            CreditErrorCode.WRONG_STATUS,
            f"alert {alert_id} is {alert.status}; only an ACKNOWLEDGED alert is disposed",
            "id",
        )
    return await _step(
        session,
        alert,
        to=AlertStatus.DISPOSED,
        outcome=outcome,
        reason=reason,
        actor=actor,
        rights=rights,
        now=now,
    )


@dataclass(frozen=True)
class AlertQuery:
    """What a caller asks of the alert list (visibility is added by `hub.risk.access`)."""

    visible: ColumnElement[bool]
    enterprise_code: str | None = None
    status: AlertStatus | None = None
    rule_id: str | None = None
    department: str | None = None
    after: int | None = None
    size: int = 50


async def page(*, session: AsyncSession, query: AlertQuery) -> list[RiskAlert]:
    """Up to size+1 visible alerts, newest first, after the keyset position."""
    statement = select(RiskAlert).where(query.visible).order_by(RiskAlert.id.desc())
    if query.enterprise_code is not None:
        statement = statement.where(RiskAlert.enterprise_code == query.enterprise_code)
    if query.status is not None:
        statement = statement.where(RiskAlert.status == query.status.value)
    if query.rule_id is not None:
        statement = statement.where(RiskAlert.rule_id == query.rule_id)
    if query.department is not None:
        statement = statement.where(RiskAlert.department == query.department)
    if query.after is not None:
        statement = statement.where(RiskAlert.id < query.after)
    return list(await session.scalars(statement.limit(query.size + 1)))


async def steps_of(
    *, session: AsyncSession, alert_ids: Sequence[int]
) -> dict[int, list[AlertStep]]:
    """The steps of these alerts, oldest first."""
    found: dict[int, list[AlertStep]] = {i: [] for i in alert_ids}
    if not alert_ids:
        return found
    rows = await session.scalars(
        select(AlertStep).where(AlertStep.alert_id.in_(list(alert_ids))).order_by(AlertStep.id)
    )
    for row in rows:
        found[row.alert_id].append(row)
    return found
