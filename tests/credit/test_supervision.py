"""Differentiated supervision: a class sets the suggested inspection rate customs sees and
which rule hits become alerts; statistics by class and by rule, small cells suppressed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette

from hub.db import unit_of_work
from hub.risk import alerts
from tests.builders.credit import CreditDesk
from tests.builders.parties import PLATFORM, SELLER

SUPERVISION = """
query($code: String!) {
  enterprise(code: $code) { credit { supervision { class inspectionRate alertsFrom model } } }
}"""
STATISTICS = """
{ creditStatistics { model
    byClass { class enterprises suppressed }
    byRule { rule raised open acknowledged confirmed falsePositive referred precision suppressed }
} }"""


async def test_customs_sees_the_suggested_inspection_rate_of_the_class(desk: CreditDesk) -> None:
    body = await desk.actors.query(SUPERVISION, scopes="customs:read", variables={"code": SELLER})

    assert "errors" not in body, body
    supervision = body["data"]["enterprise"]["credit"]["supervision"]
    assert supervision["class"] == "A"
    assert Decimal(supervision["inspectionRate"]) == Decimal("0.01")
    assert supervision["alertsFrom"] == "MEDIUM"


async def test_a_lower_class_is_sampled_more(desk: CreditDesk) -> None:
    await desk.record("customs", SELLER, "DISHONEST")
    await desk.record("tax", SELLER, "D")
    await desk.record("forex", SELLER, "C")  # 100 − 15: class B

    body = await desk.actors.query(SUPERVISION, scopes="customs:read", variables={"code": SELLER})

    supervision = body["data"]["enterprise"]["credit"]["supervision"]
    assert (supervision["class"], Decimal(supervision["inspectionRate"])) == ("B", Decimal("0.05"))


async def test_other_departments_and_the_enterprise_do_not_see_supervision(
    desk: CreditDesk,
) -> None:
    for caller in ({"scopes": "tax:read"}, {"scopes": "market:read"}, {"as_": SELLER}):
        body = await desk.actors.query(SUPERVISION, variables={"code": SELLER}, **caller)
        assert body["data"]["enterprise"]["credit"]["supervision"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def _raise(
    app: Starlette, rule: str, n: int, outcome_of: list[str | None], version: str = "1.0.0"
) -> None:
    async with unit_of_work(app.state.runtime.session_factory) as session:
        created = await alerts.raise_hits(
            session=session,
            hits=[
                alerts.Hit(
                    rule, version, "MEDIUM", SELLER, "customs", "order", "s", (f"r{version}{i}",)
                )
                for i in range(n)
            ],
            now=datetime.now(UTC),
        )
        for row, outcome in zip(created, outcome_of, strict=False):
            if outcome is not None:
                row.status = alerts.AlertStatus.DISPOSED.value
                row.outcome = outcome


async def test_statistics_by_rule_give_each_versions_precision(
    app: Starlette, desk: CreditDesk
) -> None:
    await _raise(app, "split-orders", 6, ["CONFIRMED"] * 3 + ["FALSE_POSITIVE"])

    body = await desk.actors.query(STATISTICS, scopes="customs:read")

    assert "errors" not in body, body
    [row] = body["data"]["creditStatistics"]["byRule"]
    assert row["rule"] == "split-orders@1.0.0"
    assert (row["raised"], row["open"], row["confirmed"], row["falsePositive"]) == (6, 2, 3, 1)
    assert Decimal(row["precision"]) == Decimal("0.75")


async def test_small_cells_are_suppressed_for_departments_but_customs(
    app: Starlette, desk: CreditDesk
) -> None:
    await _raise(app, "round-amounts", 2, [])

    tax = (await desk.actors.query(STATISTICS, scopes="tax:read"))["data"]["creditStatistics"]
    customs = (await desk.actors.query(STATISTICS, scopes="customs:read"))["data"][
        "creditStatistics"
    ]

    [hidden] = tax["byRule"]
    assert (hidden["suppressed"], hidden["raised"], hidden["precision"]) == (True, None, None)
    assert customs["byRule"][0]["raised"] == 2
    # Six enterprises in the graph, all clean: class A holds them, shown to both.
    assert _classes(customs) == {"A": 6, "B": 0, "C": 0, "D": 0}
    assert _classes(tax) == {"A": 6, "B": 0, "C": 0, "D": 0}


async def test_a_small_rule_version_is_hidden_with_a_complement(
    app: Starlette, desk: CreditDesk
) -> None:
    """Alerts per rule version go through the statistics' own suppression: a small version
    hides a sibling version too, or the rule's total less the sibling would give it away."""
    await _raise(app, "split-orders", 2, [], version="1.0.0")
    await _raise(app, "split-orders", 9, [], version="1.1.0")
    await _raise(app, "round-amounts", 7, [], version="1.1.0")

    tax = (await desk.actors.query(STATISTICS, scopes="tax:read"))["data"]["creditStatistics"]
    customs = (await desk.actors.query(STATISTICS, scopes="customs:read"))["data"][
        "creditStatistics"
    ]

    shown = {r["rule"]: r["raised"] for r in tax["byRule"]}
    assert shown["split-orders@1.0.0"] is None
    # The small cell's complement: a sibling on the rule's line or the version's line.
    assert shown["split-orders@1.1.0"] is None or shown["round-amounts@1.1.0"] is None
    assert {r["rule"]: r["raised"] for r in customs["byRule"]} == {
        "round-amounts@1.1.0": 7,
        "split-orders@1.0.0": 2,
        "split-orders@1.1.0": 9,
    }


async def test_a_single_enterprise_in_a_class_is_not_shown_to_tax(desk: CreditDesk) -> None:
    await desk.record("customs", PLATFORM, "DISHONEST")  # PLATFORM alone in class B

    tax = (await desk.actors.query(STATISTICS, scopes="tax:read"))["data"]["creditStatistics"]
    customs = (await desk.actors.query(STATISTICS, scopes="customs:read"))["data"][
        "creditStatistics"
    ]

    assert _classes(customs)["B"] == 1
    # B (1) is small; A is suppressed with it, or A − total would give B away.
    assert _classes(tax)["B"] is None and _classes(tax)["A"] is None


async def test_enterprises_and_banks_get_no_credit_statistics(desk: CreditDesk) -> None:
    for caller in ({"scopes": "finance:read"}, {"as_": SELLER}):
        body = await desk.actors.query(STATISTICS, **caller)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def _classes(stats: dict[str, Any]) -> dict[str, int | None]:
    return {c["class"]: c["enterprises"] for c in stats["byClass"]}
