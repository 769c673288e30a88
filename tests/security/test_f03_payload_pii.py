"""Finding 3: personal data in clear through raw payloads, without pii:read.

The attack: a platform declares an import order (buyer name, ID number, phone, consignee
address); customs without pii:read and an audit:read supervisor ask for
`declarations { edges { node { payload } } }` and `declaration(id) { payload }`. On the
hub before the fix both answered the personal fields in clear while the graph masked them.
The same holds for every other raw-payload surface: the canonical bytes, and the examples
a compatibility check keeps from stored records.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.applications import Starlette

from tests.builders.parties import publish_shipped_standards
from tests.standards.samples import BUYER, PLATFORM, sample

Gql = Callable[..., Awaitable[dict[str, Any]]]
Token = Callable[..., Awaitable[str]]

DECLARE = """
mutation($input: DeclareInput!) {
  declare(input: $input) { declaration { id } errors { code message } }
}"""
# The finding's queries, exactly as the attacker sent them.
ATTACK_LIST = "{ declarations { edges { node { payload } } } }"
ATTACK_ONE = "query($id: ID!) { declaration(id: $id) { payload } }"
LIST = """
{ declarations { edges { node {
    id recordKey appType payload canonicalPayload
    payloadAccess { withheldCategories maskedPersonal undeclaredWithheld }
} } } }"""
ONE = """
query($id: ID!) { declaration(id: $id) {
    payload canonicalPayload payloadAccess { withheldCategories maskedPersonal }
} }"""


# The finding's list, written independently of the annotations: buyer names, ID numbers,
# phones and addresses (and the consignee's).
PERSONAL_FIELDS = (
    "buyerName",
    "buyerIdNumber",
    "buyerTelephone",
    "buyerRegNo",
    "consignee",
    "consigneeTelephone",
    "consigneeAddress",
)


def personal_values(payload: dict[str, Any]) -> list[str]:
    """The record's personal values, each long enough to be recognised in a response."""
    return [str(payload[f]) for f in PERSONAL_FIELDS if len(str(payload.get(f, ""))) >= 2]


def text(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


@pytest.fixture
async def declared(app: Starlette, gql: Gql, get_token: Token) -> tuple[str, dict[str, Any]]:
    """An import order with buyer and consignee data, declared by its platform."""
    await publish_shipped_standards(app)
    order = sample("cbec.order", "import-9610")
    platform = await get_token(scopes="declare", enterprise=PLATFORM, name="platform ERP")
    body = await gql(
        DECLARE, token=platform, variables={"input": {"standard": "cbec.order", "payload": order}}
    )
    assert body["data"]["declare"]["errors"] == [], body
    return body["data"]["declare"]["declaration"]["id"], order


async def test_customs_without_pii_read_sees_personal_payload_fields_masked(
    gql: Gql, get_token: Token, declared: tuple[str, dict[str, Any]]
) -> None:
    declaration_id, order = declared
    secrets = personal_values(order)
    assert BUYER["name"] in secrets and BUYER["id"] in secrets
    customs = await get_token(scopes="customs:read", name="customs without pii")
    for query, variables in ((ATTACK_LIST, {}), (ATTACK_ONE, {"id": declaration_id})):
        body = await gql(query, token=customs, variables=variables)
        leaked = [s for s in secrets if s in text(body)]
        assert leaked == [], (query, leaked)
    listed = (await gql(LIST, token=customs))["data"]["declarations"]["edges"][0]["node"]
    payload = listed["payload"]
    assert payload["buyerIdNumber"] == BUYER["id"][:4] + "*" * 10 + BUYER["id"][-4:]
    assert payload["goodsValue"] == order["goodsValue"]  # customs reads the order category
    assert listed["payloadAccess"] == {
        "withheldCategories": [],
        "maskedPersonal": True,
        "undeclaredWithheld": False,
    }
    assert listed["canonicalPayload"] is None  # the hashed bytes would show the clear data


async def test_a_supervisor_reads_the_envelope_but_nothing_of_the_content(
    gql: Gql, get_token: Token, declared: tuple[str, dict[str, Any]]
) -> None:
    declaration_id, order = declared
    supervisor = await get_token(scopes="audit:read", name="supervisor")
    for query, variables in ((ATTACK_LIST, {}), (ATTACK_ONE, {"id": declaration_id})):
        attack = await gql(query, token=supervisor, variables=variables)
        assert [s for s in personal_values(order) if s in text(attack)] == [], query
        assert f'"{order["goodsValue"]}"' not in text(attack)
    body = await gql(LIST, token=supervisor)
    node = body["data"]["declarations"]["edges"][0]["node"]
    assert node["id"] == declaration_id
    assert node["payload"] is None
    assert node["recordKey"] is None and node["appType"] is None
    assert set(node["payloadAccess"]["withheldCategories"]) >= {"ORDER", "GOODS", "TAX"}
    refused = {tuple(e["path"][-1:]): e["extensions"] for e in body["errors"]}
    assert refused[("canonicalPayload",)]["code"] == "FORBIDDEN"
    assert refused[("recordKey",)]["categories"] == ["registration"]  # ebpCode, orderNo
    assert refused[("appType",)]["categories"] == ["order"]


async def test_customs_with_pii_read_reads_the_record_as_declared(
    gql: Gql, get_token: Token, declared: tuple[str, dict[str, Any]]
) -> None:
    declaration_id, order = declared
    customs = await get_token(scopes="customs:read pii:read", name="customs with pii")
    body = await gql(ONE, token=customs, variables={"id": declaration_id})
    assert "errors" not in body, body
    node = body["data"]["declaration"]
    assert node["payload"] == order
    assert json.loads(node["canonicalPayload"]) == order
    assert node["payloadAccess"] == {"withheldCategories": [], "maskedPersonal": False}


async def test_the_declarant_reads_its_own_record_with_personal_data_masked(
    gql: Gql, get_token: Token, declared: tuple[str, dict[str, Any]]
) -> None:
    declaration_id, order = declared
    platform = await get_token(scopes="declare", enterprise=PLATFORM, name="platform reader")
    body = await gql(ATTACK_ONE, token=platform, variables={"id": declaration_id})
    assert [s for s in personal_values(order) if s in text(body)] == []
    payload = body["data"]["declaration"]["payload"]
    assert payload["items"] == order["items"]


async def test_compatibility_reports_keep_no_stored_value(
    gql: Gql, get_token: Token, app: Starlette, declared: tuple[str, dict[str, Any]]
) -> None:
    _declaration_id, order = declared
    async with app.state.runtime.session_factory() as session:
        from hub.standards import service

        current = await service.get_version(
            session=session, standard_id="cbec.order", version="1.0.0"
        )
    candidate = copy.deepcopy(current.schema)
    # A stricter buyer name and phone: the stored record fails both, with its values.
    candidate["properties"]["buyerName"] = {
        "type": "string",
        "pattern": "^[A-Z]+$",
        "x-hub-category": "personal",
    }
    candidate["properties"]["buyerTelephone"] = {
        "type": "integer",
        "x-hub-category": "personal",
    }
    admin = await get_token(scopes="standards:write", name="registry admin")
    body = await gql(
        """mutation($input: StandardVersionInput!) { checkCompatibility(input: $input) {
             report { dataSample { rejected examples { issues { path keyword message } } } }
             errors { code } } }""",
        token=admin,
        variables={"input": {"standardId": "cbec.order", "version": "2.0.0", "schema": candidate}},
    )
    sample_report = body["data"]["checkCompatibility"]["report"]["dataSample"]
    assert sample_report["rejected"] == 1
    issues = sample_report["examples"][0]["issues"]
    assert {i["path"] for i in issues} == {"/buyerName", "/buyerTelephone"}
    assert [s for s in personal_values(order) if s in text(body)] == []
