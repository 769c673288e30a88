"""Departments' ratings: recorded on each department's scale, shown side by side under
CREDIT, audited; a dishonest rating raises a joint-action alert for the other departments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.builders.credit import GRANT_CONSENT, RECORD_RATING, CreditDesk
from tests.builders.parties import OTHER_PLATFORM, PLATFORM, SELLER


def _codes(result: dict[str, Any]) -> list[str]:
    return [e["code"] for e in result["errors"]]


async def test_tax_grade_d_raises_an_alert_customs_sees(desk: CreditDesk) -> None:
    recorded = await desk.record("tax", SELLER, "D")
    assert recorded["errors"] == []
    rating = recorded["rating"]
    assert (rating["department"], rating["scale"], rating["dishonest"]) == (
        "TAX",
        "TAX_GRADE",
        True,
    )

    alerts = await desk.alerts(scopes="customs:read", enterprise=SELLER, department="CUSTOMS")

    assert [a["department"] for a in alerts] == ["CUSTOMS"]
    alert = alerts[0]
    assert alert["rule"] == "joint-action@1"
    assert alert["status"] == "OPEN"
    assert alert["evidence"] == [f"credit.rating:{rating['id']}"]
    assert "tax" in alert["summary"] and "D" in alert["summary"]
    # One alert for each other department, none for tax itself.
    everyone = await desk.alerts(scopes="customs:read tax:read forex:read market:read")
    assert sorted(a["department"] for a in everyone) == ["CUSTOMS", "FOREX", "MARKET"]


async def test_an_honest_rating_raises_no_alert(desk: CreditDesk) -> None:
    assert (await desk.record("tax", SELLER, "C"))["errors"] == []
    assert (await desk.record("customs", SELLER, "REGISTERED"))["errors"] == []

    assert await desk.alerts(scopes="customs:read tax:read forex:read market:read") == []


async def test_ratings_of_every_department_side_by_side(desk: CreditDesk) -> None:
    await desk.record("customs", SELLER, "ADVANCED_CERTIFIED", ratedOn="2025-03-01")
    await desk.record("tax", SELLER, "A", ratedOn="2025-04-01", validUntil="2026-03-31")
    await desk.record("forex", SELLER, "B", ratedOn="2025-05-01")
    await desk.record("market", SELLER, "ABNORMAL_OPERATION", ratedOn="2025-06-01")

    body = await desk.credit(SELLER, scopes="customs:read")

    assert "errors" not in body, body
    ratings = body["data"]["enterprise"]["credit"]["ratings"]
    assert [(r["department"], r["scale"], r["value"]) for r in ratings] == [
        ("MARKET", "MARKET_LIST", "ABNORMAL_OPERATION"),
        ("FOREX", "FOREX_CLASS", "B"),
        ("TAX", "TAX_GRADE", "A"),
        ("CUSTOMS", "CUSTOMS_CREDIT", "ADVANCED_CERTIFIED"),
    ]
    assert ratings[2]["validUntil"] == "2026-03-31"
    assert ratings[2]["basis"] == "tax decision 2025-A"


async def test_a_value_outside_the_departments_scale_is_refused(desk: CreditDesk) -> None:
    result = await desk.record("customs", SELLER, "D")

    assert result["rating"] is None
    assert _codes(result) == ["UNKNOWN_VALUE"]


async def test_validity_before_the_rating_and_an_empty_basis_are_refused(desk: CreditDesk) -> None:
    result = await desk.record("tax", SELLER, "B", validUntil="2025-01-01", basis=" ")

    assert sorted(_codes(result)) == ["INVALID_DATES", "REASON_REQUIRED"]


async def test_an_enterprise_not_in_the_graph_is_refused(desk: CreditDesk) -> None:
    result = await desk.record("tax", "91320311MA1NONE99X", "B")

    assert _codes(result) == ["UNKNOWN_ENTERPRISE"]


async def test_a_read_only_department_cannot_record(desk: CreditDesk) -> None:
    variables = {
        "input": {"enterprise": SELLER, "value": "D", "ratedOn": "2025-06-01", "basis": "b"}
    }
    body = await desk.actors.query(RECORD_RATING, scopes="tax:read", variables=variables)

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await desk.alerts(scopes="customs:read") == []


async def test_an_enterprise_with_credit_write_is_not_a_department(desk: CreditDesk) -> None:
    token = await desk.actors._token("ent-writer", scopes="declare credit:write", enterprise=SELLER)
    variables = {
        "input": {"enterprise": SELLER, "value": "A", "ratedOn": "2025-06-01", "basis": "b"}
    }
    response = await desk.actors.post(RECORD_RATING, token=token, variables=variables)

    assert _codes(response.json()["data"]["recordRating"]) == ["NOT_A_DEPARTMENT"]


async def test_the_enterprise_reads_its_own_ratings_and_declared_class(desk: CreditDesk) -> None:
    await desk.record("tax", SELLER, "B")

    body = await desk.credit(SELLER, as_=SELLER)

    assert "errors" not in body, body
    credit = body["data"]["enterprise"]["credit"]
    assert [r["value"] for r in credit["ratings"]] == ["B"]
    assert "declaredClass" in credit


async def test_another_platform_sees_no_ratings_of_the_seller(desk: CreditDesk) -> None:
    await desk.record("tax", SELLER, "D")

    body = await desk.credit(SELLER, as_=OTHER_PLATFORM)

    assert body["data"]["enterprise"] is None


async def test_a_bank_without_credit_consent_sees_no_ratings(desk: CreditDesk) -> None:
    await desk.record("tax", SELLER, "B")
    bank = "finance:read"
    await desk.actors.reader(bank)
    granted = await desk.actors.query(
        GRANT_CONSENT,
        as_=SELLER,
        variables={"input": _consent(desk.actors.client_ids[bank], ["REGISTRATION", "ORDER"])},
    )
    assert granted["data"]["grantConsent"]["errors"] == [], granted

    body = await desk.credit(SELLER, scopes=bank)

    assert body["data"]["enterprise"]["credit"] is None
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "category": "credit"}


async def test_a_bank_with_credit_consent_sees_the_ratings(desk: CreditDesk) -> None:
    await desk.record("tax", SELLER, "B")
    bank = "finance:read"
    await desk.actors.reader(bank)
    await desk.actors.query(
        GRANT_CONSENT,
        as_=SELLER,
        variables={"input": _consent(desk.actors.client_ids[bank], ["REGISTRATION", "CREDIT"])},
    )

    body = await desk.credit(SELLER, scopes=bank)

    assert "errors" not in body, body
    assert [r["value"] for r in body["data"]["enterprise"]["credit"]["ratings"]] == ["B"]
    # The platform's consent is not the seller's: nothing of the platform.
    other = await desk.credit(PLATFORM, scopes=bank)
    assert other["data"]["enterprise"] is None


async def test_recording_and_reading_a_rating_are_audited(desk: CreditDesk) -> None:
    rating = (await desk.record("tax", SELLER, "B"))["rating"]
    await desk.credit(SELLER, scopes="market:read")

    events = await desk.access_events(f"credit.rating:{rating['id']}")

    assert [(e.operation_type, e.department) for e in events] == [
        ("mutation", "tax"),
        ("query", "market"),
    ]
    assert all(SELLER in e.enterprises for e in events)


def _consent(bank: str, categories: list[str]) -> dict[str, Any]:
    return {
        "bank": bank,
        "categories": categories,
        "purpose": "credit line review",
        "dataFrom": "2025-01-01",
        "dataTo": "2025-12-31",
        "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    }
