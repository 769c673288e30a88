"""The hub's credit evaluation: factors from the graph whose contributions add up to the
score, a versioned scoring model previewed before it is published, and the enterprise's
self-declared class shown only as its declaration."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette

from hub.credit import documents
from hub.credit import model as scoring
from hub.credit.documents import DocumentKind
from hub.credit.evaluation import preview
from hub.db import unit_of_work
from tests.builders.credit import CreditDesk
from tests.builders.parties import PLATFORM, SELLER, import_set
from tests.standards.samples import sample

EVALUATION = """
query($code: String!) {
  enterprise(code: $code) {
    credit {
      declaredClass
      evaluation {
        class score model
        factors { code value weight contribution detail evidence evidenceCategory }
      }
    }
  }
}"""


async def _evaluation(desk: CreditDesk, code: str, scopes: str = "customs:read") -> dict[str, Any]:
    body = await desk.actors.query(EVALUATION, scopes=scopes, variables={"code": code})
    assert "errors" not in body, body
    credit: dict[str, Any] = body["data"]["enterprise"]["credit"]
    return credit


def _factor(evaluation: dict[str, Any], code: str) -> dict[str, Any]:
    [found] = [f for f in evaluation["factors"] if f["code"] == code]
    return found


async def test_contributions_add_up_to_the_score(desk: CreditDesk) -> None:
    await desk.actors.file("order", import_set("XZ-ALONE")["order"])  # no other documents

    evaluation = (await _evaluation(desk, SELLER))["evaluation"]

    contributions = [Decimal(f["contribution"]) for f in evaluation["factors"]]
    assert sum(contributions) == Decimal(evaluation["score"])
    for f in evaluation["factors"]:
        weighted = Decimal(f["weight"]) * Decimal(f["value"])
        assert Decimal(f["contribution"]) == weighted.quantize(Decimal("0.01"))
    assert evaluation["model"] == scoring.SHIPPED_VERSION
    match = _factor(evaluation, "MATCH_RATE")
    assert Decimal(match["value"]) == Decimal("0.5")
    assert match["detail"] == "1 of 2 orders matched"
    assert match["evidence"] == [f"cbec.order:{PLATFORM}|XZ-ALONE"]
    assert Decimal(evaluation["score"]) == Decimal(100) - Decimal("7.5")


async def test_a_clean_enterprise_scores_every_weight(desk: CreditDesk) -> None:
    evaluation = (await _evaluation(desk, SELLER))["evaluation"]

    assert Decimal(evaluation["score"]) == Decimal(100)
    assert evaluation["class"] == "A"


async def test_a_dishonest_rating_and_a_confirmed_alert_lower_the_class(
    desk: CreditDesk,
) -> None:
    rating = (await desk.record("tax", SELLER, "D"))["rating"]
    [alert] = await desk.alerts(scopes="customs:read", department="CUSTOMS")
    await desk.step("customs", alert["id"], reason="look")
    await desk.step("customs", alert["id"], outcome="CONFIRMED", reason="confirmed")

    evaluation = (await _evaluation(desk, SELLER))["evaluation"]

    ratings = _factor(evaluation, "DEPARTMENT_RATINGS")
    assert (Decimal(ratings["value"]), ratings["evidence"]) == (
        Decimal(0),
        [f"credit.rating:{rating['id']}"],
    )
    confirmed = _factor(evaluation, "CONFIRMED_ALERTS")
    assert Decimal(confirmed["value"]) == Decimal("0.75")
    assert confirmed["evidence"] == [f"risk.alert:{alert['id']}"]
    assert Decimal(evaluation["score"]) == Decimal("82.5")
    assert evaluation["class"] == "B"


async def test_the_declared_class_is_only_the_enterprises_declaration(desk: CreditDesk) -> None:
    filing = sample("cbec.enterprise", "enterprise") | {"creditClass": "ADVANCED"}
    result = await desk.actors.declare("cbec.enterprise", filing, as_=PLATFORM)
    assert result["errors"] == [], result
    await desk.record("customs", PLATFORM, "DISHONEST")

    credit = await _evaluation(desk, PLATFORM)

    assert credit["declaredClass"] == "ADVANCED"
    assert credit["evaluation"]["class"] == "B"  # 100 − 15 for the dishonest rating


async def test_market_supervision_sees_the_score_but_not_order_evidence(
    desk: CreditDesk,
) -> None:
    await desk.actors.file("order", import_set("XZ-ALONE")["order"])
    await desk.record("tax", SELLER, "B")

    evaluation = (await _evaluation(desk, SELLER, scopes="market:read"))["evaluation"]

    match = _factor(evaluation, "MATCH_RATE")
    assert (match["evidenceCategory"], match["evidence"]) == ("order", None)
    assert Decimal(match["value"]) == Decimal("0.5")
    assert _factor(evaluation, "DEPARTMENT_RATINGS")["evidence"] is not None


async def test_a_new_model_version_is_previewed_before_it_is_published(
    app: Starlette, desk: CreditDesk
) -> None:
    await desk.record("tax", SELLER, "C")  # SELLER: 100 − 15 × 0.75 = 88.75, class B
    stricter = {
        "factors": scoring.SHIPPED_MODEL["factors"],
        "classes": [
            {"class": "A", "min": 95},
            {"class": "B", "min": 85},
            {"class": "C", "min": 0},
        ],
    }
    looser = stricter | {"classes": [{"class": "A", "min": 85}, {"class": "B", "min": 0}]}
    factory = app.state.runtime.session_factory
    async with unit_of_work(factory) as session:
        for version, body in (("2.0.0", stricter), ("2.1.0", looser)):
            await documents.save_draft(
                session=session,
                kind=DocumentKind.SCORING_MODEL,
                version=version,
                body=body,
                check=scoring.problems,
                now=_now(),
            )
    async with factory() as session:
        strict = await preview(session=session, version="2.0.0")
        loose = await preview(session=session, version="2.1.0")
    # Same classes A and B for clean enterprises under the stricter model: nobody moves.
    assert (strict.current_version, strict.changed) == (scoring.SHIPPED_VERSION, 0)
    # The looser one lifts SELLER from B to A, and only SELLER.
    assert (loose.changed, loose.moves) == (1, {("B", "A"): 1})
    assert loose.enterprises >= 5

    async with unit_of_work(factory) as session:
        await documents.publish(
            session=session, kind=DocumentKind.SCORING_MODEL, version="2.1.0", now=_now()
        )
    evaluation = (await _evaluation(desk, SELLER))["evaluation"]
    assert (evaluation["model"], evaluation["class"]) == ("2.1.0", "A")


def test_a_model_that_does_not_add_up_is_refused() -> None:
    assert scoring.problems(scoring.SHIPPED_MODEL) == []
    assert scoring.problems({"factors": [{"code": "NOPE", "weight": -1}], "classes": []})
    unsorted = scoring.SHIPPED_MODEL | {
        "classes": [{"class": "A", "min": 0}, {"class": "B", "min": 50}]
    }
    assert scoring.problems(unsorted) == [
        "class minima descend, best class first, and the last is 0"
    ]


def _now() -> datetime:
    return datetime.now(UTC)
