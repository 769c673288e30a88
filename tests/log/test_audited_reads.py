"""Proof reads are reads: an inclusion proof shows a declaration's provenance, so fetching
one is written to the access log (HTTP and GraphQL), under the declarant and the parties
its record names; a refused request leaves no event naming the declaration."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from hub.access.models import AccessEvent
from tests.declarations.conftest import PLATFORM, import_documents
from tests.standards.samples import uscc

Declare = Callable[..., Awaitable[dict[str, Any]]]
STRANGER = uscc("91110000MA0000000")  # an enterprise with no part in the order
PROOF = "query($id: ID!) { inclusionProof(id: $id) { leafIndex treeSize } }"


async def _events(app: Starlette, record: str) -> list[AccessEvent]:
    async with app.state.runtime.session_factory() as session:
        rows = (await session.scalars(select(AccessEvent).order_by(AccessEvent.id))).all()
    return [e for e in rows if record in e.records]


async def test_an_http_inclusion_proof_read_is_in_the_access_log(
    http: httpx.AsyncClient, app: Starlette, declare: Declare, token_for: Any, wait_for_size: Any
) -> None:
    order = import_documents("XZA0001")["order"]
    declared = await declare("cbec.order", order, as_=PLATFORM)
    await wait_for_size(1)
    record = f"cbec.order:{PLATFORM}|XZA0001"
    before = len(await _events(app, record))
    response = await http.get(
        "/log/proof/inclusion",
        params={"id": declared["id"]},
        headers={"Authorization": f"Bearer {await token_for(STRANGER)}"},
    )
    assert response.status_code == 404
    assert len(await _events(app, record)) == before  # nothing returned, nothing logged
    response = await http.get(
        "/log/proof/inclusion",
        params={"id": declared["id"]},
        headers={"Authorization": f"Bearer {await token_for(PLATFORM)}", "Hub-Purpose": "audit"},
    )
    assert response.status_code == 200, response.text
    events = await _events(app, record)
    assert len(events) == before + 1
    event = events[-1]
    assert event.operation_name == "GET /log/proof/inclusion"
    assert event.caller_enterprise == PLATFORM and event.purpose == "audit"
    assert PLATFORM in event.enterprises and order["ebcCode"] in event.enterprises


async def test_a_graphql_inclusion_proof_read_is_in_the_access_log(
    gql: Any, app: Starlette, declare: Declare, get_token: Any, wait_for_size: Any
) -> None:
    declared = await declare("cbec.order", import_documents("XZA0002")["order"], as_=PLATFORM)
    await wait_for_size(1)
    record = f"cbec.order:{PLATFORM}|XZA0002"
    before = len(await _events(app, record))
    customs = await get_token(scopes="customs:read", name="customs")
    body = await gql(PROOF, token=customs, variables={"id": declared["id"]})
    assert "errors" not in body, body
    events = await _events(app, record)
    assert len(events) == before + 1
    assert events[-1].operation_type == "query" and PLATFORM in events[-1].enterprises
