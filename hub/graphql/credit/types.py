"""GraphQL types of credit and risk: ratings, alerts and their steps, refusals."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from hub.access.policy import Department
from hub.credit.errors import CreditErrorCode, CreditRefused
from hub.credit.models import CreditRating
from hub.graphql.scalars import Decimal
from hub.risk.alerts import AlertStatus, Outcome, Severity
from hub.risk.models import AlertStep as AlertStepRow
from hub.risk.models import RiskAlert

strawberry.enum(
    Department, name="Department", description="A department that rates and handles alerts."
)
strawberry.enum(AlertStatus, name="AlertStatus", description="OPEN, ACKNOWLEDGED or DISPOSED.")
strawberry.enum(
    Outcome,
    name="AlertOutcome",
    description="How a disposed alert ended: confirmed, false "
    "positive, or referred to another authority.",
)
strawberry.enum(Severity, name="AlertSeverity", description="How urgent a hit is.")
strawberry.enum(
    CreditErrorCode,
    name="CreditErrorCode",
    description="Why a credit or risk operation was refused.",
)


@strawberry.type(description="A credit or risk refusal the caller can fix: code, field, why.")
class CreditError:
    code: CreditErrorCode
    path: str | None
    message: str


def errors_of(exc: CreditRefused) -> list[CreditError]:
    """The payload errors of a refusal."""
    return [CreditError(code=r.code, path=r.path, message=r.message) for r in exc.refusals]


@strawberry.type(description="One department's rating of an enterprise, with its source.")
class Rating:
    id: strawberry.ID
    department: Department = strawberry.field(description="Who rated: the source.")
    scale: str = strawberry.field(
        description="CUSTOMS_CREDIT, TAX_GRADE, FOREX_CLASS or MARKET_LIST."
    )
    value: str
    rated_on: date
    valid_until: date | None
    basis: str = strawberry.field(description="The department's stated basis of the rating.")
    dishonest: bool = strawberry.field(
        description="True for a dishonest value or its equivalent (joint action)."
    )
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: CreditRating, *, dishonest: bool) -> Rating:
        """The GraphQL view of a stored rating."""
        return cls(
            id=strawberry.ID(row.id),
            department=Department(row.department),
            scale=row.scale,
            value=row.value,
            rated_on=row.rated_on,
            valid_until=row.valid_until,
            basis=row.basis,
            dishonest=dishonest,
            recorded_at=row.recorded_at,
        )


@strawberry.type(description="One step of an alert: from which status to which, who and why.")
class AlertStep:
    from_status: AlertStatus | None
    to_status: AlertStatus
    outcome: Outcome | None
    reason: str
    department: Department | None = strawberry.field(
        description="The department that acted; null for the hub raising the alert."
    )
    actor: str | None = strawberry.field(
        description="The client id that acted (`hub` for the rules); departments only."
    )
    at: datetime

    @classmethod
    def from_row(cls, row: AlertStepRow, *, with_actor: bool) -> AlertStep:
        """The GraphQL view of a stored step."""
        return cls(
            from_status=AlertStatus(row.from_status) if row.from_status else None,
            to_status=AlertStatus(row.to_status),
            outcome=Outcome(row.outcome) if row.outcome else None,
            reason=row.reason,
            department=Department(row.department) if row.department else None,
            actor=row.actor if with_actor else None,
            at=row.at,
        )


@strawberry.type(
    description="A risk alert: the rule (id@version) that raised it, about which "
    "enterprise, on what evidence, and how it was handled."
)
class Alert:
    id: strawberry.ID
    rule: str = strawberry.field(description="rule id@version.")
    rule_id: str
    rule_version: str
    severity: Severity
    enterprise: str = strawberry.field(description="The enterprise's code.")
    department: Department = strawberry.field(description="The department that handles it.")
    category: str = strawberry.field(description="The data category of its evidence.")
    summary: str | None = strawberry.field(
        description="What the rule found, in words (amounts, counts); null with the evidence."
    )
    evidence: list[str] | None = strawberry.field(
        description="The records behind it (`standard:recordKey`); null when you may not "
        "read their category for this enterprise."
    )
    status: AlertStatus
    outcome: Outcome | None
    raised_at: datetime
    steps: list[AlertStep]

    @classmethod
    def from_row(
        cls,
        row: RiskAlert,
        *,
        steps: list[AlertStepRow],
        with_evidence: bool,
        with_actor: bool,
    ) -> Alert:
        """The GraphQL view of a stored alert and its steps."""
        return cls(
            id=strawberry.ID(str(row.id)),
            rule=f"{row.rule_id}@{row.rule_version}",
            rule_id=row.rule_id,
            rule_version=row.rule_version,
            severity=Severity(row.severity),
            enterprise=row.enterprise_code,
            department=Department(row.department),
            category=row.category,
            summary=row.summary if with_evidence else None,
            evidence=list(row.evidence) if with_evidence else None,
            status=AlertStatus(row.status),
            outcome=Outcome(row.outcome) if row.outcome else None,
            raised_at=row.raised_at,
            steps=[AlertStep.from_row(s, with_actor=with_actor) for s in steps],
        )


@strawberry.type(description="One factor of a credit evaluation: how the hub got it.")
class CreditFactor:
    code: str
    value: Decimal = strawberry.field(description="0 (worst) to 1 (best).")
    weight: Decimal = strawberry.field(description="The scoring model's weight.")
    contribution: Decimal = strawberry.field(
        description="value × weight, rounded to 0.01: the contributions add up to the score."
    )
    detail: str = strawberry.field(description="The value in plain words.")
    evidence: list[str] | None = strawberry.field(
        description="The records behind the value (`standard:recordKey`, at most 20); null "
        "when you may not read their category for this enterprise."
    )
    evidence_category: str = strawberry.field(description="The data category of the evidence.")


@strawberry.type(description="The hub's credit evaluation of an enterprise under one model.")
class CreditEvaluation:
    credit_class: str = strawberry.field(name="class", description="The hub's class.")
    score: Decimal = strawberry.field(description="The sum of the factors' contributions.")
    model: str = strawberry.field(description="The scoring model version it came from.")
    factors: list[CreditFactor]


@strawberry.type(description="How customs is advised to supervise an enterprise of this class.")
class Supervision:
    credit_class: str = strawberry.field(name="class", description="The hub's class.")
    inspection_rate: Decimal = strawberry.field(
        description="Suggested share of its inventories to sample for inspection (0 to 1)."
    )
    alerts_from: Severity = strawberry.field(
        description="The least severe rule hit raised as an alert for this class."
    )
    model: str = strawberry.field(description="The scoring model version that sets it.")


@strawberry.type(description="Enterprises in one of the hub's credit classes.")
class CreditClassCount:
    credit_class: str = strawberry.field(name="class")
    enterprises: int | None = strawberry.field(description="Null when suppressed.")
    suppressed: bool


@strawberry.type(description="Alerts of one rule version, by where they stand.")
class RuleAlertCount:
    rule: str = strawberry.field(description="rule id@version.")
    raised: int | None
    open: int | None
    acknowledged: int | None
    confirmed: int | None
    false_positive: int | None
    referred: int | None
    precision: Decimal | None = strawberry.field(
        description="confirmed ÷ (confirmed + false positives); null before any was decided."
    )
    suppressed: bool


@strawberry.type(description="Statistics of credit and risk.")
class CreditStatistics:
    model: str = strawberry.field(description="The scoring model version the classes are from.")
    by_class: list[CreditClassCount]
    by_rule: list[RuleAlertCount] = strawberry.field(
        description="Only alerts you may see are counted."
    )
