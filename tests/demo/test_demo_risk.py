"""The demo holds enterprises that trigger every shipped risk rule, departments' ratings and
the credit classes they lead to, so a fresh `make run` shows alerts and classes."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from hub.demo import generator
from hub.demo.loader import load_demo, raise_risk_alerts, record_demo_ratings
from hub.risk.models import RiskAlert
from hub.risk.ruleset import DEFAULT_RULE_SET
from tests.builders.credit import CreditDesk
from tests.builders.parties import Actors, hub_actors

__all__ = ["hub_actors"]

ORDERS = generator.RISK_SCENARIOS_FROM  # the smallest data set with the planted scenarios
SEED = 5
GIFTS = generator.cast_codes()["ebc_gifts"]

CREDIT_CLASS = """
query($code: String!) {
  enterprise(code: $code) {
    credit { declaredClass evaluation { class score } ratings { department value dishonest } }
  }
}"""


async def _alerts(actors: Actors) -> dict[str, set[str]]:
    async with actors.app.state.runtime.session_factory() as session:
        rows = (await session.execute(select(RiskAlert.rule_id, RiskAlert.enterprise_code))).all()
    found: dict[str, set[str]] = defaultdict(set)
    for rule, enterprise in rows:
        found[rule].add(enterprise)
    return found


async def test_the_demo_raises_every_shipped_rule_on_its_planted_enterprises(
    hub_actors: Actors,
) -> None:
    runtime = hub_actors.app.state.runtime
    summary = await load_demo(runtime=runtime, orders=ORDERS, seed=SEED)
    assert summary.rejected == 0
    data = generator.generate(orders=ORDERS, seed=SEED)
    found = await _alerts(hub_actors)
    shipped = {rule["id"] for rule in DEFAULT_RULE_SET["rules"]}
    assert shipped <= set(found), shipped - set(found)
    assert set(summary.alerts) == shipped
    for rule, enterprises in data.risk.items():
        assert set(enterprises) <= found[rule], (rule, enterprises, found[rule])
    # Tax's grade D for the gifts seller is joint action: the other departments are alerted.
    async with runtime.session_factory() as session:
        joint = set(
            await session.scalars(
                select(RiskAlert.department).where(
                    RiskAlert.rule_id == "joint-action", RiskAlert.enterprise_code == GIFTS
                )
            )
        )
    assert joint == {"customs", "forex", "market"}

    # Loading again (the same data, `hub demo` re-run) adds no rating and no alert.
    before = sum(len(v) for v in found.values())
    async with runtime.session_factory() as session:
        alerts_before = len((await session.scalars(select(RiskAlert.id))).all())
    assert await record_demo_ratings(runtime=runtime, data=data) == 0
    await raise_risk_alerts(runtime=runtime, data=data)
    async with runtime.session_factory() as session:
        assert len((await session.scalars(select(RiskAlert.id))).all()) == alerts_before
    assert before > 0

    # Customs reads the classes the ratings lead to beside the self-declared one; each
    # department sees the alerts whose category it reads (hub/risk/access.py).
    desk = CreditDesk(hub_actors)
    body: dict[str, Any] = await hub_actors.query(
        CREDIT_CLASS, scopes="customs:read", variables={"code": GIFTS}
    )
    assert "errors" not in body, body
    credit = body["data"]["enterprise"]["credit"]
    assert credit["declaredClass"] == "GENERAL"
    assert credit["evaluation"]["class"] not in (None, "A"), credit
    assert {(r["department"], r["value"]) for r in credit["ratings"]} >= {
        ("TAX", "D"),
        ("MARKET", "ABNORMAL_OPERATION"),
    }
    seen = {a["ruleId"] for a in await desk.alerts(scopes="customs:read")}
    assert {"split-orders", "volume-spike", "changed-after-release"} <= seen
    # Market supervision reads no orders, payments or clearance: only its joint action.
    assert {a["ruleId"] for a in await desk.alerts(scopes="market:read")} == {"joint-action"}
    assert "round-amounts" in {a["ruleId"] for a in await desk.alerts(scopes="tax:read")}


def test_a_small_demo_plants_no_risk_scenario() -> None:
    small = generator.generate(orders=ORDERS - 1, seed=SEED)
    assert small.risk == {}
    assert all(p["ebcCode"] != GIFTS for s, p in small.records if s == generator.ORDER)
