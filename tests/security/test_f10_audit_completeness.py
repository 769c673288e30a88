"""Finding 10: audit gaps, and every purpose shown to the data subject.

The original code (ded634c) wrote no event for `verifyChain`, for `statistics` without an
enterprise filter or for a duplicate answer of `declare`; an event for an order read named
only its platform and seller, so the carrier, payment institution, broker and guarantor
never saw that their records were read; and a customs investigation's purpose was shown
to the enterprise under investigation. Now every data-returning operation leaves an event
naming every enterprise its records name in any role (each sees its own part, with the
records), and a department can mark a read confidential with a legal basis and a
disclosure date (headers `Hub-Confidential`, `Hub-Disclose-After`): until then the subject
sees only "a confidential read by <department>"; supervisors see everything.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from hub.access import audit_log
from hub.access.models import AccessEvent
from tests.builders.parties import (
    AGENT,
    CARRIER,
    GUARANTOR,
    OWNER,
    PAYER_INSTITUTION,
    PLATFORM,
    SELLER,
    STRANGER,
    Actors,
    export_set,
    hub_actors,
    import_set,
)

__all__ = ["hub_actors"]

ORDER_NO = "XZ-F10-0001"
READ = """query Inspect($ebp: String!, $no: String!) {
  order(ebpCode: $ebp, orderNo: $no) { orderNo goodsValue }
}"""
LOG = """query($filter: AccessLogFilter) {
  accessLog(filter: $filter) { edges { node {
    id department clientId clientName operationName purpose enterprises records recordCount
    partial %s
  } } }
}"""
CONFIDENTIALITY = "confidential confidentialBasis discloseAfter withheld"
SUPERVISOR = "audit:read"
CUSTOMS = "customs:read"
IN_A_YEAR = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()


async def _events(
    actors: Actors,
    *,
    as_: str | None = None,
    filter: dict[str, Any] | None = None,
    confidentiality: bool = False,
) -> list[dict[str, Any]]:
    scopes = None if as_ else SUPERVISOR
    query = LOG % (CONFIDENTIALITY if confidentiality else "")
    body = await actors.query(query, as_=as_, scopes=scopes, variables={"filter": filter})
    assert "errors" not in body, body["errors"]
    return [e["node"] for e in body["data"]["accessLog"]["edges"]]


async def _filed(actors: Actors) -> dict[str, dict[str, Any]]:
    docs = import_set(ORDER_NO)
    await actors.file_all(docs)
    return docs


async def _customs_reads(actors: Actors, headers: dict[str, str] | None = None) -> Any:
    token = await actors.reader(CUSTOMS)
    return await actors.post(
        READ, token=token, variables={"ebp": PLATFORM, "no": ORDER_NO}, headers=headers
    )


async def test_every_party_of_an_order_sees_that_it_was_read(hub_actors: Actors) -> None:
    await _filed(hub_actors)

    response = await _customs_reads(hub_actors)
    assert response.json()["data"]["order"]["orderNo"] == ORDER_NO

    record = f"cbec.order:{PLATFORM}|{ORDER_NO}"
    for party in (PLATFORM, SELLER, PAYER_INSTITUTION, CARRIER, AGENT, GUARANTOR):
        [event] = await _events(hub_actors, as_=party)
        assert (event["department"], event["operationName"]) == ("customs", "Inspect"), party
        assert event["enterprises"] == [party]
        assert event["records"] == [record], party
    assert await _events(hub_actors, as_=STRANGER) == []
    [whole] = await _events(hub_actors)
    assert set(whole["enterprises"]) == {
        PLATFORM,
        SELLER,
        PAYER_INSTITUTION,
        CARRIER,
        AGENT,
        GUARANTOR,
    }


async def test_verify_chain_and_statistics_over_everyone_leave_events(hub_actors: Actors) -> None:
    await _filed(hub_actors)

    verified = await hub_actors.query(
        "query Verify { verifyChain { ok checked } }", scopes="customs:read"
    )
    assert verified["data"]["verifyChain"]["ok"] is True
    stats = await hub_actors.query(
        "query Totals { statistics(groupBy: [DIRECTION]) { groups { orderCount } } }",
        scopes="customs:read",
    )
    assert "errors" not in stats, stats["errors"]

    names = [e["operationName"] for e in await _events(hub_actors)]
    assert names == ["Totals", "Verify"]


async def test_a_duplicate_answer_is_logged_as_a_read_of_the_stored_declaration(
    hub_actors: Actors,
) -> None:
    order = import_set("XZ-F10-0002")["order"]
    first = await hub_actors.declare("cbec.order", order, as_=PLATFORM)
    assert await _events(hub_actors) == []  # declaring is not a read

    again = await hub_actors.declare("cbec.order", order, as_=PLATFORM)

    assert again["duplicate"] is True
    [event] = await _events(hub_actors)
    assert event["clientId"] == hub_actors.client_ids[PLATFORM]
    assert event["records"] == [f"cbec.order:{PLATFORM}|XZ-F10-0002"]
    assert PLATFORM in event["enterprises"]
    assert first["declaration"]["id"]


async def test_a_confidential_read_shows_its_subject_only_the_department_until_disclosure(
    hub_actors: Actors,
) -> None:
    await _filed(hub_actors)
    headers = {
        "Hub-Purpose": "smuggling investigation 2026-117",
        "Hub-Confidential": "Customs Law art. 6 (investigation)",
        "Hub-Disclose-After": IN_A_YEAR,
    }

    response = await _customs_reads(hub_actors, headers)
    assert response.json()["data"]["order"]["orderNo"] == ORDER_NO

    for party in (PLATFORM, CARRIER):
        [seen] = await _events(hub_actors, as_=party, confidentiality=True)
        assert (seen["confidential"], seen["withheld"], seen["department"]) == (
            True,
            True,
            "customs",
        )
        hidden = ("clientId", "clientName", "operationName", "purpose", "confidentialBasis")
        assert [seen[k] for k in hidden] == [None] * len(hidden)
        assert (seen["records"], seen["recordCount"]) == ([], 0)
    # The subject cannot find out who read by filtering on the hidden fields either.
    customs_client = hub_actors.client_ids[CUSTOMS]
    for probe in ({"clientId": customs_client}, {"operationName": "Inspect"}):
        assert await _events(hub_actors, as_=PLATFORM, filter=probe) == []
    # The supervisor sees it all.
    [whole] = await _events(hub_actors, confidentiality=True)
    assert whole["clientId"] == customs_client
    assert whole["purpose"] == "smuggling investigation 2026-117"
    assert whole["confidentialBasis"] == "Customs Law art. 6 (investigation)"
    assert (whole["discloseAfter"], whole["withheld"]) == (IN_A_YEAR, False)


async def test_after_the_disclosure_date_the_subject_sees_the_read_in_full(
    hub_actors: Actors,
) -> None:
    await _filed(hub_actors)
    headers = {"Hub-Confidential": "Customs Law art. 6", "Hub-Disclose-After": IN_A_YEAR}
    await _customs_reads(hub_actors, headers | {"Hub-Purpose": "investigation"})

    async with hub_actors.app.state.runtime.session_factory() as session:
        events = list(await session.scalars(select(AccessEvent)))
        later = date.fromisoformat(IN_A_YEAR)
        [before] = await audit_log.view_for(
            session=session, events=events, enterprise=CARRIER, today=later - timedelta(days=1)
        )
        [after] = await audit_log.view_for(
            session=session, events=events, enterprise=CARRIER, today=later
        )
    assert before.withheld and before.purpose is None and before.client_id is None
    assert not after.withheld
    assert (after.purpose, after.confidential_basis) == ("investigation", "Customs Law art. 6")
    assert after.records == [f"cbec.order:{PLATFORM}|{ORDER_NO}"]


async def test_confidentiality_is_refused_before_anything_is_read_when_it_cannot_hold(
    hub_actors: Actors,
) -> None:
    await _filed(hub_actors)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    cases = [
        ({"Hub-Confidential": "basis"}, "DISCLOSE_AFTER_MISSING"),
        ({"Hub-Disclose-After": IN_A_YEAR}, "CONFIDENTIAL_BASIS_MISSING"),
        (
            {"Hub-Confidential": "basis", "Hub-Disclose-After": "next year"},
            "DISCLOSE_AFTER_INVALID",
        ),
        ({"Hub-Confidential": "basis", "Hub-Disclose-After": yesterday}, "DISCLOSE_AFTER_INVALID"),
        (
            {"Hub-Confidential": "basis", "Hub-Disclose-After": "2999-01-01"},
            "DISCLOSE_AFTER_INVALID",
        ),
    ]
    for headers, code in cases:
        response = await _customs_reads(hub_actors, headers)
        assert response.status_code == 400, (headers, response.text)
        assert response.json()["errors"][0]["extensions"]["code"] == code
    # An enterprise cannot hide its own reads from the other parties.
    token = await hub_actors.enterprise(SELLER)
    response = await hub_actors.post(
        READ,
        token=token,
        variables={"ebp": PLATFORM, "no": ORDER_NO},
        headers={"Hub-Confidential": "basis", "Hub-Disclose-After": IN_A_YEAR},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "CONFIDENTIAL_NOT_ALLOWED"
    assert "data" not in response.json()
    assert await _events(hub_actors) == []  # nothing ran, nothing was read


async def test_the_owner_of_exported_goods_sees_the_read_of_its_export(hub_actors: Actors) -> None:
    docs = export_set("EX-F10-0001")
    await hub_actors.file_all(docs)
    token = await hub_actors.reader(CUSTOMS)
    response = await hub_actors.post(
        READ, token=token, variables={"ebp": docs["order"]["ebpCode"], "no": "EX-F10-0001"}
    )
    assert response.json()["data"]["order"]["orderNo"] == "EX-F10-0001"

    [event] = await _events(hub_actors, as_=OWNER)
    assert event["records"] == [f"cbec.order:{docs['order']['ebpCode']}|EX-F10-0001"]
