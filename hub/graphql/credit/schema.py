"""Credit and risk in GraphQL: `alerts`, `recordRating`, `acknowledgeAlert`, `disposeAlert`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access.policy import CREDIT_RIGHTS, CreditRights, Department, credit_rights
from hub.auth.scopes import Scope
from hub.credit import ratings as rating_service
from hub.credit import statistics
from hub.credit.errors import CreditErrorCode, CreditRefused, refuse
from hub.credit.scales import SCALES
from hub.graphql.context import Forbidden, Info
from hub.graphql.credit.types import (
    Alert,
    CreditClassCount,
    CreditError,
    CreditStatistics,
    Rating,
    RuleAlertCount,
    errors_of,
)
from hub.graphql.pagination import Connection, decode_cursor, page_size, visible_page
from hub.risk import alerts as alert_service
from hub.risk.access import alert_rows, evidence_visible, sees_actors
from hub.risk.alerts import AlertStatus, Outcome
from hub.risk.models import RiskAlert

_DEPARTMENTS = ", ".join(s.value for s in CREDIT_RIGHTS)
_WRITE = (
    f"Requires `{Scope.CREDIT_WRITE.value}` with a department scope ({_DEPARTMENTS}); the "
    "credit matrix (hub/access/policy.py) says what each department may do."
)


@strawberry.input(description="A department's rating of an enterprise, on its own scale.")
class RecordRatingInput:
    enterprise: str = strawberry.field(description="The enterprise's code.")
    value: str = strawberry.field(
        description="; ".join(f"{d.value}: {', '.join(s.values)}" for d, s in SCALES.items())
    )
    rated_on: date
    valid_until: date | None = None
    basis: str = strawberry.field(description="Why (the decision or list it rests on).")


@strawberry.input(description="Which alerts to list (within those you may see).")
class AlertFilter:
    enterprise: str | None = None
    status: AlertStatus | None = None
    rule_id: str | None = None
    department: Department | None = None


@strawberry.type
class RatingPayload:
    rating: Rating | None
    errors: list[CreditError]


@strawberry.type
class AlertPayload:
    alert: Alert | None
    errors: list[CreditError]


def _writer(info: Info) -> CreditRights:
    """The caller's credit rights, or a refusal when it may not write credit data."""
    info.context.require(Scope.CREDIT_WRITE)
    rights = credit_rights(info.context.principal)
    if rights is None:
        raise refuse(
            CreditErrorCode.NOT_A_DEPARTMENT,
            f"only departments ({_DEPARTMENTS}) record ratings and handle alerts",
        )
    return rights


async def alert_node(info: Info, row: RiskAlert, session: AsyncSession | None = None) -> Alert:
    """The view of one alert for this caller, noted in the access log."""
    viewer = await info.context.viewer()
    steps = await alert_service.steps_of(
        session=session or info.context.read_session, alert_ids=[row.id]
    )
    info.context.audit.touch(enterprises=(row.enterprise_code,), records=(f"risk.alert:{row.id}",))
    return Alert.from_row(
        row,
        steps=steps[row.id],
        with_evidence=evidence_visible(viewer, row),
        with_actor=sees_actors(viewer),
    )


def _alert_id(value: strawberry.ID) -> int:
    text = str(value)
    if not text.isdigit() or len(text) > 18:
        raise refuse(CreditErrorCode.NOT_FOUND, f"no alert {text!r}", "id")
    return int(text)


@strawberry.type
class CreditQuery:
    @strawberry.field(
        description="Risk alerts you may see, newest first (keyset-paginated): a department "
        "those whose evidence category it reads; an enterprise, and a bank under a consent "
        "naming CREDIT, only alerts about it disposed as CONFIRMED."
    )
    async def alerts(
        self,
        info: Info,
        filter: AlertFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Alert]:
        size = page_size(first)
        viewer = await info.context.viewer()
        f = filter or AlertFilter()
        rows = await alert_service.page(
            session=info.context.read_session,
            query=alert_service.AlertQuery(
                visible=alert_rows(viewer),
                enterprise_code=f.enterprise,
                status=f.status,
                rule_id=f.rule_id,
                department=f.department.value if f.department else None,
                after=decode_cursor("alert", after),
                size=size,
            ),
        )

        async def node_of(row: RiskAlert) -> Alert:
            return await alert_node(info, row)

        return await visible_page(rows, size, "alert", node_of=node_of, position_of=lambda r: r.id)

    @strawberry.field(
        description="Enterprises by the hub's credit class and alerts by rule version (with "
        "precision). Departments only; small cells (HUB_STATS_MIN_GROUP) are suppressed for "
        "every department but customs."
    )
    async def credit_statistics(self, info: Info) -> CreditStatistics:
        viewer = await info.context.viewer()
        if credit_rights(info.context.principal) is None:
            raise Forbidden(f"credit statistics are for departments ({_DEPARTMENTS})")
        min_group = (
            None
            if info.context.principal.has(Scope.CUSTOMS_READ)
            else info.context.runtime.settings.stats_min_group
        )
        session = info.context.read_session
        version, classes = await statistics.by_class(session=session, min_group=min_group)
        rules = await statistics.by_rule(
            session=session, visible=alert_rows(viewer), min_group=min_group
        )
        info.context.audit.touch()
        return CreditStatistics(
            model=version,
            by_class=[
                CreditClassCount(
                    credit_class=c.credit_class, enterprises=c.enterprises, suppressed=c.suppressed
                )
                for c in classes
            ],
            by_rule=[
                RuleAlertCount(
                    rule=f"{r.rule_id}@{r.rule_version}",
                    raised=r.raised,
                    open=r.open,
                    acknowledged=r.acknowledged,
                    confirmed=r.confirmed,
                    false_positive=r.false_positive,
                    referred=r.referred,
                    precision=r.precision,
                    suppressed=r.suppressed,
                )
                for r in rules
            ],
        )


@strawberry.type
class CreditMutation:
    @strawberry.mutation(
        description="Records the caller department's rating of an enterprise; "
        "a dishonest value raises an alert for every other department. " + _WRITE
    )
    async def record_rating(self, info: Info, input: RecordRatingInput) -> RatingPayload:
        try:
            rights = _writer(info)
            if not rights.records_rating:
                raise refuse(CreditErrorCode.NOT_ALLOWED, "this department records no rating")
            async with info.context.transaction() as session:
                row = await rating_service.record(
                    session=session,
                    department=rights.department,
                    rating=rating_service.RatingCreate(
                        enterprise_code=input.enterprise,
                        value=input.value,
                        rated_on=input.rated_on,
                        valid_until=input.valid_until,
                        basis=input.basis,
                    ),
                    recorded_by=info.context.principal.client_id,
                    now=datetime.now(UTC),
                )
        except CreditRefused as exc:
            return RatingPayload(rating=None, errors=errors_of(exc))
        info.context.audit.touch(
            enterprises=(row.enterprise_code,), records=(f"credit.rating:{row.id}",)
        )
        dishonest = row.value in SCALES[rights.department].dishonest
        return RatingPayload(rating=Rating.from_row(row, dishonest=dishonest), errors=[])

    @strawberry.mutation(
        description="OPEN → ACKNOWLEDGED, by the department handling the "
        "alert, with a reason. " + _WRITE
    )
    async def acknowledge_alert(self, info: Info, id: strawberry.ID, reason: str) -> AlertPayload:
        return await _alert_step(info, id, alert_service.acknowledge, reason=reason)

    @strawberry.mutation(
        description="ACKNOWLEDGED → DISPOSED with an outcome and a reason, by "
        "the department handling the alert. " + _WRITE
    )
    async def dispose_alert(
        self, info: Info, id: strawberry.ID, outcome: Outcome, reason: str
    ) -> AlertPayload:
        return await _alert_step(info, id, alert_service.dispose, reason=reason, outcome=outcome)


async def _alert_step(
    info: Info, id: strawberry.ID, step: Callable[..., Awaitable[Any]], **given: Any
) -> AlertPayload:
    """One lifecycle step (acknowledge, dispose) by the department handling the alert, on
    an alert the caller sees; the answer shows the step just written."""
    try:
        rights = _writer(info)
        alert_id = _alert_id(id)
        async with info.context.transaction() as session:
            row = await step(
                session=session,
                alert_id=alert_id,
                rights=rights,
                visible=alert_rows(await info.context.viewer()),
                actor=info.context.principal.client_id,
                now=datetime.now(UTC),
                **given,
            )
            # Read inside the unit of work: the step just written is in the answer.
            alert = await alert_node(info, row, session)
    except CreditRefused as exc:
        return AlertPayload(alert=None, errors=errors_of(exc))
    return AlertPayload(alert=alert, errors=[])
