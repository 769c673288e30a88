"""`Enterprise.credit`: the hub's evaluation beside every department's rating (CREDIT)."""

from __future__ import annotations

import strawberry

from hub.access.policy import Category, Department, Grant, credit_rights
from hub.credit import evaluation as credit_evaluation
from hub.credit import ratings as rating_service
from hub.credit.scales import SCALES
from hub.graphql.context import Forbidden, Info
from hub.graphql.credit.types import CreditEvaluation, CreditFactor, Rating, Supervision
from hub.graphql.trade.fields import guarded
from hub.risk.alerts import Severity
from hub.trade import models


@strawberry.type(
    description="An enterprise's credit: the hub's evaluation, the departments' ratings side "
    "by side, and what the enterprise declares about itself (only a declaration)."
)
class EnterpriseCredit:
    grant: strawberry.Private[Grant]
    row: strawberry.Private[models.Enterprise]

    @guarded(
        source="cbec.enterprise:/creditClass",
        description="The class the enterprise declares about itself: never the hub's class.",
    )
    def declared_class(self) -> str | None:
        return self.row.credit_class

    @guarded(
        Category.CREDIT,
        description="The hub's evaluation: class, score, the model version, and each factor "
        "with its value, weight, contribution and evidence.",
    )
    async def evaluation(self, info: Info) -> CreditEvaluation:
        viewer = await info.context.viewer()
        session = info.context.read_session
        found = await credit_evaluation.evaluate(session=session, codes=[self.row.code])
        result = found[self.row.code]
        readable = viewer.listable(self.row.code)
        info.context.audit.touch(
            enterprises=(self.row.code,),
            records=(f"credit.evaluation:{self.row.code}@{result.model_version}",),
            consent_id=self.grant.consent_id,
        )
        return CreditEvaluation(
            credit_class=result.credit_class,
            score=result.score,
            model=result.model_version,
            factors=[
                CreditFactor(
                    code=p.factor.code,
                    value=p.factor.value,
                    weight=p.weight,
                    contribution=p.contribution,
                    detail=p.factor.detail,
                    evidence=list(p.factor.evidence) if p.factor.category in readable else None,
                    evidence_category=p.factor.category.value,
                )
                for p in result.contributions
            ],
        )

    @guarded(
        Category.CREDIT,
        description="Differentiated supervision by the hub's class (the scoring model's "
        "treatment): the suggested inspection sampling rate and the alert threshold. Shown "
        "to customs only (credit matrix, hub/access/policy.py).",
    )
    async def supervision(self, info: Info) -> Supervision | None:
        rights = credit_rights(info.context.principal)
        if rights is None or not rights.sees_supervision:
            raise Forbidden("supervision is shown to the departments the credit matrix names")
        session = info.context.read_session
        model = await credit_evaluation.model_in_force(session=session)
        found = await credit_evaluation.evaluate(
            session=session, codes=[self.row.code], model=model
        )
        credit_class = found[self.row.code].credit_class
        treatment = model.treatment(credit_class)
        info.context.audit.touch(
            enterprises=(self.row.code,),
            records=(f"credit.evaluation:{self.row.code}@{model.version}",),
        )
        return Supervision(
            credit_class=credit_class,
            inspection_rate=treatment.inspection_rate,
            alerts_from=Severity(treatment.alerts_from),
            model=model.version,
        )

    @guarded(
        Category.CREDIT,
        description="Every department's ratings, newest first, each naming its department.",
    )
    async def ratings(self, info: Info) -> list[Rating]:
        rows = await rating_service.of_enterprise(
            session=info.context.read_session, enterprise_code=self.row.code
        )
        info.context.audit.touch(
            enterprises=(self.row.code,),
            records=[f"credit.rating:{r.id}" for r in rows],
            consent_id=self.grant.consent_id,
        )
        return [
            Rating.from_row(r, dishonest=r.value in SCALES[Department(r.department)].dishonest)
            for r in rows
        ]
