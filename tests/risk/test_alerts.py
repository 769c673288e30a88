"""Alert handling: OPEN → ACKNOWLEDGED → DISPOSED by the handling department, each step with
actor and reason and audited; who sees which alert, and who may act on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hub.db import unit_of_work
from hub.risk import alerts
from tests.builders.credit import ACKNOWLEDGE, GRANT_CONSENT, CreditDesk
from tests.builders.parties import OTHER_PLATFORM, PLATFORM, SELLER


def _codes(result: dict[str, Any]) -> list[str]:
    return [e["code"] for e in result["errors"]]


async def _joint_alert(desk: CreditDesk, department: str = "CUSTOMS") -> dict[str, Any]:
    """Tax rates the seller D; the joint-action alert raised for `department`."""
    await desk.record("tax", SELLER, "D")
    found = await desk.alerts(scopes="customs:read", department=department)
    assert len(found) == 1
    return found[0]


async def _order_alert(desk: CreditDesk) -> str:
    """A customs alert whose evidence is ORDER data (as a rule raises one)."""
    async with unit_of_work(desk.actors.app.state.runtime.session_factory) as session:
        [row] = await alerts.raise_hits(
            session=session,
            hits=[
                alerts.Hit(
                    rule_id="split-orders",
                    rule_version="1.0.0",
                    severity="MEDIUM",
                    enterprise_code=SELLER,
                    department="customs",
                    category="order",
                    summary="three orders under the single limit",
                    evidence=(f"cbec.order:{PLATFORM}|XZ-1", f"cbec.order:{PLATFORM}|XZ-2"),
                )
            ],
            now=datetime.now(UTC),
        )
        return str(row.id)


async def test_the_lifecycle_records_each_step_with_actor_and_reason(desk: CreditDesk) -> None:
    alert = await _joint_alert(desk)

    acked = await desk.step("customs", alert["id"], reason="case 2025-17 opened")
    assert acked["errors"] == []
    assert acked["alert"]["status"] == "ACKNOWLEDGED"
    disposed = await desk.step(
        "customs", alert["id"], outcome="CONFIRMED", reason="tax decision verified"
    )

    assert disposed["errors"] == []
    final = disposed["alert"]
    assert (final["status"], final["outcome"]) == ("DISPOSED", "CONFIRMED")
    steps = [
        (s["fromStatus"], s["toStatus"], s["outcome"], s["department"]) for s in final["steps"]
    ]
    assert steps == [
        (None, "OPEN", None, None),
        ("OPEN", "ACKNOWLEDGED", None, "CUSTOMS"),
        ("ACKNOWLEDGED", "DISPOSED", "CONFIRMED", "CUSTOMS"),
    ]
    customs_client = desk.actors.client_ids["customs:read credit:write"]
    assert [s["actor"] for s in final["steps"]] == ["hub", customs_client, customs_client]
    assert [s["reason"] for s in final["steps"]][1:] == [
        "case 2025-17 opened",
        "tax decision verified",
    ]


async def test_every_transition_is_audited(desk: CreditDesk) -> None:
    alert = await _joint_alert(desk)
    await desk.step("customs", alert["id"], reason="look")
    await desk.step("customs", alert["id"], outcome="FALSE_POSITIVE", reason="wrong enterprise")

    events = await desk.access_events(f"risk.alert:{alert['id']}")

    mutations = [e for e in events if e.operation_type == "mutation"]
    assert [(e.department, e.client_id) for e in mutations] == [
        ("customs", desk.actors.client_ids["customs:read credit:write"])
    ] * 2
    assert all(SELLER in e.enterprises for e in events)


async def test_a_transition_must_start_from_the_alerts_status(desk: CreditDesk) -> None:
    alert = await _joint_alert(desk)

    early = await desk.step("customs", alert["id"], outcome="CONFIRMED", reason="too soon")
    assert _codes(early) == ["WRONG_STATUS"]
    await desk.step("customs", alert["id"], reason="look")
    again = await desk.step("customs", alert["id"], reason="look again")
    assert _codes(again) == ["WRONG_STATUS"]


async def test_each_step_needs_a_reason(desk: CreditDesk) -> None:
    alert = await _joint_alert(desk)

    result = await desk.step("customs", alert["id"], reason="  ")

    assert _codes(result) == ["REASON_REQUIRED"]
    [still] = await desk.alerts(scopes="customs:read", department="CUSTOMS")
    assert still["status"] == "OPEN"


async def test_market_supervision_may_not_dispose_customs_alerts(desk: CreditDesk) -> None:
    alert = await _joint_alert(desk, "CUSTOMS")

    ack = await desk.step("market", alert["id"], reason="mine now")

    assert _codes(ack) == ["NOT_ALLOWED"]
    [still] = await desk.alerts(scopes="customs:read", department="CUSTOMS")
    assert still["status"] == "OPEN"


async def test_market_supervision_handles_its_own_joint_action_alert(desk: CreditDesk) -> None:
    alert = await _joint_alert(desk, "MARKET")

    ack = await desk.step("market", alert["id"], reason="listed for review")

    assert ack["errors"] == []
    assert ack["alert"]["status"] == "ACKNOWLEDGED"


async def test_an_alert_outside_a_departments_categories_is_not_found(desk: CreditDesk) -> None:
    alert_id = await _order_alert(desk)

    assert [a["id"] for a in await desk.alerts(scopes="market:read")] == []
    ack = await desk.step("market", alert_id, reason="curious")

    assert _codes(ack) == ["NOT_FOUND"]
    assert [a["id"] for a in await desk.alerts(scopes="customs:read")] == [alert_id]


async def test_the_enterprise_never_sees_an_open_alert_about_itself(desk: CreditDesk) -> None:
    alert = await _joint_alert(desk)
    assert await desk.alerts(as_=SELLER) == []

    await desk.step("customs", alert["id"], reason="look")
    assert await desk.alerts(as_=SELLER) == []

    await desk.step("customs", alert["id"], outcome="CONFIRMED", reason="confirmed")
    seen = await desk.alerts(as_=SELLER)
    assert [(a["id"], a["outcome"]) for a in seen] == [(alert["id"], "CONFIRMED")]
    # Which officer acted stays with the departments.
    assert {s["actor"] for s in seen[0]["steps"]} == {None}


async def test_the_enterprise_does_not_see_a_false_positive(desk: CreditDesk) -> None:
    alert = await _joint_alert(desk)
    await desk.step("customs", alert["id"], reason="look")
    await desk.step("customs", alert["id"], outcome="FALSE_POSITIVE", reason="cleared")

    assert await desk.alerts(as_=SELLER) == []


async def test_a_platform_never_sees_alerts_about_others(desk: CreditDesk) -> None:
    alert = await _joint_alert(desk)
    await desk.step("customs", alert["id"], reason="look")
    await desk.step("customs", alert["id"], outcome="CONFIRMED", reason="confirmed")

    assert await desk.alerts(as_=PLATFORM) == []
    assert await desk.alerts(as_=OTHER_PLATFORM, enterprise=SELLER) == []


async def test_a_platform_cannot_act_on_an_alert(desk: CreditDesk) -> None:
    alert = await _joint_alert(desk)
    token = await desk.actors._token(
        "ebp-writer", scopes="declare credit:write", enterprise=PLATFORM
    )
    response = await desk.actors.post(
        ACKNOWLEDGE, token=token, variables={"id": alert["id"], "reason": "x"}
    )

    assert _codes(response.json()["data"]["acknowledgeAlert"]) == ["NOT_A_DEPARTMENT"]


async def test_a_bank_sees_confirmed_alerts_only_under_a_credit_consent(desk: CreditDesk) -> None:
    joint = await _joint_alert(desk)
    order_alert = await _order_alert(desk)
    for alert_id in (joint["id"], order_alert):
        await desk.step("customs", alert_id, reason="look")
        await desk.step("customs", alert_id, outcome="CONFIRMED", reason="confirmed")
    bank = "finance:read"
    await desk.actors.reader(bank)
    assert await desk.alerts(scopes=bank) == []

    granted = await desk.actors.query(
        GRANT_CONSENT, as_=SELLER, variables={"input": _consent(desk.actors.client_ids[bank])}
    )
    assert granted["data"]["grantConsent"]["errors"] == []
    seen = {a["id"]: a for a in await desk.alerts(scopes=bank)}

    assert set(seen) == {joint["id"], order_alert}
    # The consent names CREDIT, not ORDER: the order alert's evidence stays hidden.
    assert seen[order_alert]["evidence"] is None
    assert seen[joint["id"]]["evidence"] == joint["evidence"]


async def test_alerts_are_paginated_newest_first(desk: CreditDesk) -> None:
    await desk.record("tax", SELLER, "D")
    body = await desk.actors.query(
        "query($after: String) { alerts(first: 2, after: $after) { edges { node { id } } "
        "pageInfo { hasNextPage endCursor } } }",
        scopes="customs:read",
    )
    first = body["data"]["alerts"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await desk.actors.query(
        "query($after: String) { alerts(first: 2, after: $after) { edges { node { id } } "
        "pageInfo { hasNextPage } } }",
        scopes="customs:read",
        variables={"after": first["pageInfo"]["endCursor"]},
    )
    ids = [e["node"]["id"] for e in first["edges"]] + [
        e["node"]["id"] for e in rest["data"]["alerts"]["edges"]
    ]
    assert ids == sorted(ids, key=int, reverse=True) and len(ids) == 3
    assert rest["data"]["alerts"]["pageInfo"]["hasNextPage"] is False


def _consent(bank: str) -> dict[str, Any]:
    return {
        "bank": bank,
        "categories": ["REGISTRATION", "CREDIT"],
        "purpose": "credit line review",
        "dataFrom": "2025-01-01",
        "dataTo": "2025-12-31",
        "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    }
