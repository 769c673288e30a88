"""GET /declarations/{id}/message: every read of an original XML is an access event, in the
same shape as a GraphQL read (who, which record, under which enterprises, purpose,
confidentiality), and refused reads leave none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.builders.parties import Actors, hub_actors
from tests.customs.test_matching_xml import post_record
from tests.customs.xml_sets import CARRIER, PLATFORM, SELLER, import_set

__all__ = ["hub_actors"]

LOG = """
query($filter: AccessLogFilter) {
  accessLog(filter: $filter) { edges { node {
    department clientId callerEnterprise operationType operationName documentHash purpose
    enterprises records recordCount partial confidential confidentialBasis withheld
  } } }
}"""


async def _log(
    actors: Actors, *, as_: str | None = None, scopes: str | None = None, named: bool = True
) -> list:
    # Only the reads of messages (the test's GraphQL queries are reads too), unless a
    # subject asks about a confidential read: it cannot filter on what is withheld.
    filter = {"operationName": "GET /declarations/{id}/message"} if named else {}
    body = await actors.query(LOG, as_=as_, scopes=scopes, variables={"filter": filter})
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["accessLog"]["edges"]]


async def _read(actors: Actors, declaration_id: str, token: str, **headers: str | bytes) -> Any:
    return await actors.http.get(
        f"/declarations/{declaration_id}/message",
        headers={"Authorization": f"Bearer {token}", **headers},
    )


async def _declared_order(actors: Actors) -> str:
    result = await post_record(actors, "CEB311", import_set()["CEB311"])
    assert result["accepted"], result
    return str(result["declarationId"])


async def test_customs_reading_a_message_leaves_one_event_naming_every_party(
    hub_actors: Actors,
) -> None:
    declaration_id = await _declared_order(hub_actors)
    customs = await hub_actors.reader("customs:read pii:read")
    response = await _read(
        hub_actors, declaration_id, customs, **{"Hub-Purpose": "稽查 case 7".encode()}
    )
    assert response.status_code == 200
    (event,) = await _log(hub_actors, scopes="audit:read")
    assert event["department"] == "customs"
    assert event["clientId"] == hub_actors.client_ids["customs:read pii:read"]
    assert event["callerEnterprise"] is None
    assert event["operationType"] == "QUERY"
    assert event["purpose"] == "稽查 case 7"
    order = import_set()["CEB311"]
    assert event["records"] == [f"cbec.order:{PLATFORM}|{order['orderNo']}"]
    assert event["recordCount"] == 1
    # The declarant and every party the record names (platform, seller, payment institution).
    assert set(event["enterprises"]) == {PLATFORM, SELLER, order["payCode"]}


async def test_each_party_sees_the_read_of_its_record_and_a_stranger_nothing(
    hub_actors: Actors,
) -> None:
    declaration_id = await _declared_order(hub_actors)
    customs = await hub_actors.reader("customs:read pii:read")
    assert (await _read(hub_actors, declaration_id, customs)).status_code == 200
    for party in (PLATFORM, SELLER):
        (event,) = await _log(hub_actors, as_=party)
        assert event["enterprises"] == [party] and event["partial"] is True
    assert await _log(hub_actors, as_=CARRIER) == []


async def test_a_refused_or_unknown_read_leaves_no_event(hub_actors: Actors) -> None:
    declaration_id = await _declared_order(hub_actors)
    masked = await hub_actors.reader("customs:read")
    assert (await _read(hub_actors, declaration_id, masked)).status_code == 404
    stranger = await hub_actors.enterprise(CARRIER)
    assert (await _read(hub_actors, declaration_id, stranger)).status_code == 404
    assert (await _read(hub_actors, "no-such-id", masked)).status_code == 404
    assert await _log(hub_actors, scopes="audit:read") == []


async def test_the_declarant_reading_its_own_message_is_logged_too(hub_actors: Actors) -> None:
    declaration_id = await _declared_order(hub_actors)
    own = await hub_actors.enterprise(PLATFORM)
    assert (await _read(hub_actors, declaration_id, own)).status_code == 200
    (event,) = await _log(hub_actors, scopes="audit:read")
    assert event["callerEnterprise"] == PLATFORM and event["department"] == "enterprise"


async def test_a_confidential_read_is_marked_and_withheld_from_the_subjects(
    hub_actors: Actors,
) -> None:
    declaration_id = await _declared_order(hub_actors)
    customs = await hub_actors.reader("customs:read pii:read")
    later = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    headers = {"Hub-Confidential": "anti-smuggling inquiry", "Hub-Disclose-After": later}
    assert (await _read(hub_actors, declaration_id, customs, **headers)).status_code == 200
    (supervised,) = await _log(hub_actors, scopes="audit:read")
    assert supervised["confidential"] and supervised["confidentialBasis"] == (
        "anti-smuggling inquiry"
    )
    assert await _log(hub_actors, as_=PLATFORM) == []  # no oracle on the operation name
    (seen,) = [e for e in await _log(hub_actors, as_=PLATFORM, named=False) if e["confidential"]]
    assert seen["withheld"] and seen["clientId"] is None and seen["operationName"] is None


async def test_an_enterprise_may_not_mark_its_read_confidential(hub_actors: Actors) -> None:
    declaration_id = await _declared_order(hub_actors)
    own = await hub_actors.enterprise(PLATFORM)
    later = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    response = await _read(
        hub_actors,
        declaration_id,
        own,
        **{"Hub-Confidential": "hide it", "Hub-Disclose-After": later},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "CONFIDENTIAL_NOT_ALLOWED"
    assert await _log(hub_actors, scopes="audit:read") == []
