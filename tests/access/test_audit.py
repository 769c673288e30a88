"""The access log: one event per data-returning operation, and who may read which events."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select
from starlette.applications import Starlette

from hub.access import audit_log
from hub.access.models import AccessEvent, AccessEventSubject
from tests.builders.parties import publish_shipped_standards
from tests.declarations.conftest import DECLARE, import_documents
from tests.standards.samples import CARRIER, PAYER_INSTITUTION, PLATFORM, SELLER

Gql = Callable[..., Awaitable[dict[str, Any]]]
Token = Callable[..., Awaitable[str]]

DECLARATIONS = """
query Declarations($filter: DeclarationFilter) {
  declarations(filter: $filter) { edges { node { id declarant recordKey } } }
}"""
DECLARATION = "query One($id: ID!) { declaration(id: $id) { id } }"
ACCESS_LOG = """
query Log($filter: AccessLogFilter, $first: Int, $after: String) {
  accessLog(filter: $filter, first: $first, after: $after) {
    edges { cursor node {
      id occurredAt clientId clientName department callerEnterprise operationType
      operationName documentHash purpose consentIds enterprises records recordCount partial
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture
async def shipped(app: Starlette) -> None:
    """The shipped standards, published."""
    await publish_shipped_standards(app)


@pytest.fixture
def enterprise_token(get_token: Token) -> Callable[[str], Awaitable[str]]:
    """A `declare` token of a client bound to the enterprise (one client per code)."""
    cache: dict[str, str] = {}

    async def token(code: str) -> str:
        if code not in cache:
            cache[code] = await get_token(scopes="declare", enterprise=code, name=f"ERP {code}")
        return cache[code]

    return token


@pytest.fixture
def declare(
    gql: Gql, enterprise_token: Callable[[str], Awaitable[str]], shipped: None
) -> Callable[..., Awaitable[str]]:
    """Declares one record as an enterprise; returns the declaration id."""

    async def run(standard: str, payload: dict[str, Any], *, as_: str) -> str:
        variables = {"input": {"standard": standard, "payload": payload}}
        body = await gql(DECLARE, token=await enterprise_token(as_), variables=variables)
        assert "errors" not in body, body
        result = body["data"]["declare"]
        assert result["errors"] == [], result
        return str(result["declaration"]["id"])

    return run


@pytest.fixture
async def supervisor(get_token: Token) -> str:
    """A token with `audit:read`."""
    return await get_token(scopes="audit:read", name="Zone supervisor")


@pytest.fixture
async def customs(get_token: Token) -> str:
    """A customs token."""
    return await get_token(scopes="customs:read", name="Xuzhou customs")


async def stored_events(app: Starlette) -> list[tuple[AccessEvent, list[str]]]:
    """Every stored event, oldest first, with its subject index rows."""
    async with app.state.runtime.session_factory() as session:
        events = list(await session.scalars(select(AccessEvent).order_by(AccessEvent.id)))
        subjects = list(await session.scalars(select(AccessEventSubject)))
    return [(e, sorted(s.enterprise_code for s in subjects if s.event_id == e.id)) for e in events]


async def log(gql: Gql, token: str, **variables: Any) -> dict[str, Any]:
    """The accessLog connection as the token's holder sees it."""
    body = await gql(ACCESS_LOG, token=token, variables=variables)
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["accessLog"]
    return connection


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


async def test_customs_reading_declarations_leaves_one_event_listing_every_party(
    app: Starlette, gql: Gql, declare: Callable[..., Awaitable[str]], customs: str
) -> None:
    docs = import_documents()
    await declare("cbec.order", docs["order"], as_=PLATFORM)
    await declare("cbec.payment", docs["payment"], as_=PAYER_INSTITUTION)
    assert await stored_events(app) == []  # declaring is not a read

    body = await gql(DECLARATIONS, token=customs)
    assert len(body["data"]["declarations"]["edges"]) == 2

    [(stored, subjects)] = await stored_events(app)
    # The declarants and every enterprise their records name (the order's seller and
    # payment institution): each of them sees that its record was read.
    assert subjects == sorted([PLATFORM, SELLER, PAYER_INSTITUTION])
    assert stored.enterprises == sorted([PLATFORM, SELLER, PAYER_INSTITUTION])
    assert sorted(stored.records) == sorted(
        [
            f"cbec.order:{PLATFORM}|{docs['order']['orderNo']}",
            f"cbec.payment:{PAYER_INSTITUTION}|{docs['payment']['payTransactionId']}",
        ]
    )
    assert stored.record_count == 2
    assert (stored.client_name, stored.department, stored.caller_enterprise) == (
        "Xuzhou customs",
        "customs",
        None,
    )
    assert (stored.operation_type, stored.operation_name) == ("query", "Declarations")


async def test_platform_reading_its_order_leaves_one_event_naming_it_and_the_order(
    app: Starlette,
    gql: Gql,
    declare: Callable[..., Awaitable[str]],
    enterprise_token: Callable[[str], Awaitable[str]],
) -> None:
    docs = import_documents("XZ-AUDIT-1")
    await declare("cbec.order", docs["order"], as_=PLATFORM)

    body = await gql(
        "query($ebp: String!, $no: String!) { order(ebpCode: $ebp, orderNo: $no) { orderNo } }",
        token=await enterprise_token(PLATFORM),
        variables={"ebp": PLATFORM, "no": "XZ-AUDIT-1"},
    )
    assert body["data"]["order"] == {"orderNo": "XZ-AUDIT-1"}, body

    [(stored, subjects)] = await stored_events(app)
    assert PLATFORM in subjects
    assert stored.records == [f"cbec.order:{PLATFORM}|XZ-AUDIT-1"]
    assert (stored.department, stored.caller_enterprise) == ("enterprise", PLATFORM)


async def test_operations_that_return_no_graph_data_write_no_event(
    app: Starlette, gql: Gql, declare: Callable[..., Awaitable[str]], customs: str
) -> None:
    await declare("cbec.order", import_documents()["order"], as_=PLATFORM)

    empty = await gql(DECLARATIONS, token=customs, variables={"filter": {"standardId": "none"}})
    assert empty["data"]["declarations"]["edges"] == []
    missing = await gql(DECLARATION, token=customs, variables={"id": "no-such-declaration"})
    assert missing["data"]["declaration"] is None
    me = await gql("{ me { clientId } }", token=customs)
    assert me["data"]["me"]["clientId"]

    assert await stored_events(app) == []


async def test_declaring_returns_the_callers_own_record_and_writes_no_read_event(
    app: Starlette, declare: Callable[..., Awaitable[str]]
) -> None:
    docs = import_documents()
    await declare("cbec.order", docs["order"], as_=PLATFORM)
    await declare("cbec.waybill", docs["waybill"], as_=CARRIER)

    assert await stored_events(app) == []


async def test_enterprise_reading_its_own_declarations_is_logged_too(
    app: Starlette,
    gql: Gql,
    declare: Callable[..., Awaitable[str]],
    enterprise_token: Callable[[str], Awaitable[str]],
) -> None:
    await declare("cbec.order", import_documents()["order"], as_=PLATFORM)

    await gql(DECLARATIONS, token=await enterprise_token(PLATFORM))

    [(stored, subjects)] = await stored_events(app)
    assert subjects == sorted([PLATFORM, SELLER, PAYER_INSTITUTION])  # the order's parties
    assert (stored.department, stored.caller_enterprise) == ("enterprise", PLATFORM)


async def test_purpose_header_is_stored_trimmed_and_cut_to_500_characters(
    app: Starlette,
    http: httpx.AsyncClient,
    declare: Callable[..., Awaitable[str]],
    customs: str,
) -> None:
    await declare("cbec.order", import_documents()["order"], as_=PLATFORM)
    for purpose in ("  post-clearance audit 2024-117  ", "x" * 600):
        response = await http.post(
            "/graphql",
            json={"query": DECLARATIONS},
            headers={"Authorization": f"Bearer {customs}", "Hub-Purpose": purpose},
        )
        assert response.status_code == 200, response.text
    # A request without the header states no purpose.
    await http.post(
        "/graphql", json={"query": DECLARATIONS}, headers={"Authorization": f"Bearer {customs}"}
    )

    purposes = [stored.purpose for stored, _ in await stored_events(app)]
    assert purposes == ["post-clearance audit 2024-117", "x" * 500, None]


async def test_utf8_purpose_header_keeps_its_characters(
    app: Starlette,
    http: httpx.AsyncClient,
    declare: Callable[..., Awaitable[str]],
    customs: str,
) -> None:
    await declare("cbec.order", import_documents()["order"], as_=PLATFORM)
    headers = {"Authorization": f"Bearer {customs}", "Hub-Purpose": "稽查 2024-117".encode()}
    response = await http.post("/graphql", json={"query": DECLARATIONS}, headers=headers)
    assert response.status_code == 200, response.text

    [(stored, _)] = await stored_events(app)
    assert stored.purpose == "稽查 2024-117"


async def test_operation_name_type_and_document_hash_are_stored(
    app: Starlette,
    http: httpx.AsyncClient,
    declare: Callable[..., Awaitable[str]],
    customs: str,
) -> None:
    declaration_id = await declare("cbec.order", import_documents()["order"], as_=PLATFORM)
    document = DECLARATIONS + "\n" + DECLARATION
    response = await http.post(
        "/graphql",
        json={"query": document, "operationName": "One", "variables": {"id": declaration_id}},
        headers={"Authorization": f"Bearer {customs}"},
    )
    assert response.json()["data"]["declaration"]["id"] == declaration_id

    [(stored, _)] = await stored_events(app)
    assert stored.operation_type == "query"
    assert stored.operation_name == "One"
    assert stored.document_hash == hashlib.sha256(document.encode()).hexdigest()


async def test_anonymous_operation_is_stored_without_a_name(
    app: Starlette, gql: Gql, declare: Callable[..., Awaitable[str]], customs: str
) -> None:
    await declare("cbec.order", import_documents()["order"], as_=PLATFORM)

    await gql("{ declarations { edges { node { id } } } }", token=customs)

    [(stored, _)] = await stored_events(app)
    assert (stored.operation_type, stored.operation_name) == ("query", None)


async def test_event_is_written_when_the_response_also_carries_field_errors(
    app: Starlette, gql: Gql, get_token: Token, declare: Callable[..., Awaitable[str]]
) -> None:
    docs = import_documents("XZ-AUDIT-2")
    await declare("cbec.order", docs["order"], as_=PLATFORM)
    await declare("cbec.waybill", docs["waybill"], as_=CARRIER)
    tax = await get_token(scopes="tax:read", name="Tax bureau")

    # Tax reads orders but not logistics: the order comes back, its waybill is refused.
    body = await gql(
        "query($ebp: String!, $no: String!) {"
        "  order(ebpCode: $ebp, orderNo: $no) { orderNo waybill { logisticsNo } } }",
        token=tax,
        variables={"ebp": PLATFORM, "no": "XZ-AUDIT-2"},
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"]["order"] == {"orderNo": "XZ-AUDIT-2", "waybill": None}

    [(stored, subjects)] = await stored_events(app)
    assert PLATFORM in subjects
    assert stored.department == "tax"


async def test_refused_and_unparsable_requests_write_no_event(
    app: Starlette,
    http: httpx.AsyncClient,
    declare: Callable[..., Awaitable[str]],
    customs: str,
) -> None:
    await declare("cbec.order", import_documents()["order"], as_=PLATFORM)

    unauthenticated = await http.post("/graphql", json={"query": DECLARATIONS})
    assert unauthenticated.status_code == 401
    unparsable = await http.post(
        "/graphql",
        json={"query": DECLARATIONS + " {"},
        headers={"Authorization": f"Bearer {customs}"},
    )
    assert unparsable.json()["data"] is None
    not_json = await http.post(
        "/graphql",
        content=b"{not json",
        headers={"Authorization": f"Bearer {customs}", "content-type": "application/json"},
    )
    assert not_json.status_code == 400

    assert await stored_events(app) == []


async def test_enterprise_sees_events_about_its_own_data_and_not_another_enterprises(
    gql: Gql,
    declare: Callable[..., Awaitable[str]],
    enterprise_token: Callable[[str], Awaitable[str]],
    customs: str,
) -> None:
    docs = import_documents()
    order_id = await declare("cbec.order", docs["order"], as_=PLATFORM)
    waybill_id = await declare("cbec.waybill", docs["waybill"], as_=CARRIER)
    await gql(DECLARATION, token=customs, variables={"id": order_id})
    await gql(DECLARATION, token=customs, variables={"id": waybill_id})
    platform = await enterprise_token(PLATFORM)
    carrier = await enterprise_token(CARRIER)

    # The waybill names its platform too, so the platform sees both reads; the carrier
    # only the read of its waybill.
    waybill_read, order_read = nodes(await log(gql, platform))
    assert order_read["enterprises"] == [PLATFORM]
    assert order_read["records"] == [f"cbec.order:{PLATFORM}|{docs['order']['orderNo']}"]
    assert order_read["clientName"] == "Xuzhou customs"
    waybill_record = f"cbec.waybill:{CARRIER}|{docs['waybill']['logisticsNo']}"
    assert waybill_read["records"] == [waybill_record]
    [carrier_view] = nodes(await log(gql, carrier))
    assert carrier_view["enterprises"] == [CARRIER]
    assert carrier_view["id"] == waybill_read["id"]
    assert carrier_view["records"] == [waybill_record]


async def test_enterprise_cannot_widen_its_view_through_the_filter(
    gql: Gql,
    declare: Callable[..., Awaitable[str]],
    enterprise_token: Callable[[str], Awaitable[str]],
    customs: str,
) -> None:
    waybill_id = await declare("cbec.waybill", import_documents()["waybill"], as_=CARRIER)
    await gql(DECLARATION, token=customs, variables={"id": waybill_id})
    seller = await enterprise_token(SELLER)  # not named on the waybill

    widened = await log(gql, seller, filter={"enterprise": CARRIER})
    assert widened["edges"] == []
    assert (await log(gql, seller))["edges"] == []


async def test_enterprise_sees_only_its_own_part_of_an_event_about_several_enterprises(
    gql: Gql,
    declare: Callable[..., Awaitable[str]],
    enterprise_token: Callable[[str], Awaitable[str]],
    customs: str,
    supervisor: str,
) -> None:
    docs = import_documents()
    await declare("cbec.order", docs["order"], as_=PLATFORM)
    await declare("cbec.waybill", docs["waybill"], as_=CARRIER)
    await gql(DECLARATIONS, token=customs)

    [view] = nodes(await log(gql, await enterprise_token(CARRIER)))
    assert view["enterprises"] == [CARRIER]
    assert view["records"] == [f"cbec.waybill:{CARRIER}|{docs['waybill']['logisticsNo']}"]
    assert (view["recordCount"], view["partial"]) == (1, True)
    [whole] = nodes(await log(gql, supervisor))
    assert whole["enterprises"] == sorted([PLATFORM, SELLER, PAYER_INSTITUTION, CARRIER])
    assert (whole["recordCount"], whole["partial"]) == (2, False)


async def test_supervisor_filters_by_client_department_enterprise_operation_and_time(
    gql: Gql,
    get_token: Token,
    declare: Callable[..., Awaitable[str]],
    customs: str,
    supervisor: str,
) -> None:
    docs = import_documents()
    order_id = await declare("cbec.order", docs["order"], as_=PLATFORM)
    payment_id = await declare("cbec.payment", docs["payment"], as_=PAYER_INSTITUTION)
    tax = await get_token(scopes="tax:read audit:read", name="Tax bureau")
    await gql(DECLARATION, token=customs, variables={"id": order_id})
    await gql(DECLARATIONS, token=customs)
    await gql(DECLARATION, token=tax, variables={"id": payment_id})
    everything = nodes(await log(gql, supervisor))
    assert [e["operationName"] for e in everything] == ["One", "Declarations", "One"]
    newest, middle, oldest = everything

    async def ids(**filter: Any) -> list[str]:
        return [e["id"] for e in nodes(await log(gql, supervisor, filter=filter))]

    assert await ids(clientId=oldest["clientId"]) == [middle["id"], oldest["id"]]
    assert await ids(department="tax") == [newest["id"]]
    # The order names its payment institution and seller: they are subjects of its reads.
    assert await ids(enterprise=PAYER_INSTITUTION) == [newest["id"], middle["id"], oldest["id"]]
    assert await ids(enterprise=SELLER) == [middle["id"], oldest["id"]]
    assert await ids(enterprise=CARRIER) == []
    assert await ids(operationName="Declarations") == [middle["id"]]
    assert await ids(occurredFrom=middle["occurredAt"]) == [newest["id"], middle["id"]]
    assert await ids(occurredTo=middle["occurredAt"]) == [oldest["id"]]
    assert await ids(department="customs", enterprise=PLATFORM) == [middle["id"], oldest["id"]]


async def test_time_filter_without_utc_offset_is_bad_input(gql: Gql, supervisor: str) -> None:
    body = await gql(
        ACCESS_LOG, token=supervisor, variables={"filter": {"occurredFrom": "2026-03-15T08:00:00"}}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_access_log_pages_newest_first_with_first_and_after(
    gql: Gql, declare: Callable[..., Awaitable[str]], customs: str, supervisor: str
) -> None:
    declaration_id = await declare("cbec.order", import_documents()["order"], as_=PLATFORM)
    for _ in range(5):
        await gql(DECLARATION, token=customs, variables={"id": declaration_id})
    all_ids = [e["id"] for e in nodes(await log(gql, supervisor))]
    assert all_ids == sorted(all_ids, key=int, reverse=True) and len(all_ids) == 5

    pages: list[list[str]] = []
    after = None
    while True:
        page = await log(gql, supervisor, first=2, after=after)
        pages.append([e["id"] for e in nodes(page)])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == [all_ids[0:2], all_ids[2:4], all_ids[4:5]]


async def test_reading_the_access_log_writes_no_event(
    app: Starlette, gql: Gql, declare: Callable[..., Awaitable[str]], customs: str, supervisor: str
) -> None:
    declaration_id = await declare("cbec.order", import_documents()["order"], as_=PLATFORM)
    await gql(DECLARATION, token=customs, variables={"id": declaration_id})

    await log(gql, supervisor)
    await log(gql, supervisor)

    assert len(await stored_events(app)) == 1


async def test_department_reader_without_audit_scope_is_forbidden(
    gql: Gql, get_token: Token
) -> None:
    body = await gql(ACCESS_LOG, token=await get_token(scopes="tax:read"))

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.fixture
def access_inserts(app: Starlette) -> Iterator[list[str]]:
    """The INSERT statements into access_event* tables the engine sends, as they happen."""
    statements: list[str] = []

    def before_cursor_execute(*args: Any) -> None:
        statement = str(args[2]).lstrip().upper()
        if statement.startswith("INSERT INTO ACCESS_EVENT"):
            statements.append(statement)

    engine = app.state.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    yield statements
    event.remove(engine, "before_cursor_execute", before_cursor_execute)


async def test_writing_one_event_costs_two_statements(
    gql: Gql,
    declare: Callable[..., Awaitable[str]],
    customs: str,
    access_inserts: list[str],
) -> None:
    docs = import_documents()
    await declare("cbec.order", docs["order"], as_=PLATFORM)
    await declare("cbec.payment", docs["payment"], as_=PAYER_INSTITUTION)
    await declare("cbec.waybill", docs["waybill"], as_=CARRIER)
    assert access_inserts == []

    await gql(DECLARATIONS, token=customs)  # three subjects, still one executemany

    assert len(access_inserts) == 2
    assert access_inserts[0].startswith("INSERT INTO ACCESS_EVENTS ")
    assert access_inserts[1].startswith("INSERT INTO ACCESS_EVENT_SUBJECTS ")


async def test_failed_audit_write_withholds_the_data_with_an_internal_error(
    app: Starlette,
    http: httpx.AsyncClient,
    declare: Callable[..., Awaitable[str]],
    customs: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await declare("cbec.order", import_documents()["order"], as_=PLATFORM)

    async def broken(**_: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit_log, "record_many", broken)
    response = await http.post(
        "/graphql", json={"query": DECLARATIONS}, headers={"Authorization": f"Bearer {customs}"}
    )

    assert response.status_code == 500
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert PLATFORM not in response.text
    assert any(r.levelname == "ERROR" and "access event" in r.message for r in caplog.records)
