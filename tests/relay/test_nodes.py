"""`node(id:)` and `nodes(ids:)` answer exactly what the root fields answer, to everyone.

Each global id resolves through its root field's path (an order's documents through the
order), so every attack below is one the root fields already refuse: the test shows the
node path refuses it the same way, with null rather than an error that would tell an
existing record from a missing one.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.graphql.node import MAX_NODES, global_id, parse_global_id
from tests.builders.parties import (
    PLATFORM,
    SELLER,
    STRANGER,
    Actors,
    hub_actors,
    import_set,
)

__all__ = ["hub_actors"]

ORDER_NO = "XZ-NODE-0001"
IDS = """query($ebp: String!, $no: String!) {
  order(ebpCode: $ebp, orderNo: $no) {
    id orderNo
    payment { id } waybill { id } inventory { id }
  }
  enterprise(code: $ebp) { id code }
}"""
DIRECT = """query($ebp: String!, $no: String!) {
  order(ebpCode: $ebp, orderNo: $no) {
    orderNo goodsValue buyerIdNumber
    payment { payTransactionId amountPaid }
    waybill { logisticsNo }
    inventory { agentCode }
  }
}"""
NODE = """query($id: ID!) { node(id: $id) {
  __typename id
  ... on Order { orderNo goodsValue buyerIdNumber }
  ... on Payment { payTransactionId amountPaid }
  ... on Waybill { logisticsNo }
  ... on Inventory { agentCode }
  ... on Enterprise { code }
} }"""
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
LOG = """{ accessLog(first: 50) { edges { node {
  operationName enterprises records recordCount consentIds
} } } }"""
GRANT = """mutation($input: GrantConsentInput!) {
  grantConsent(input: $input) { consent { id } errors { code } }
}"""


def _raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def _filed(actors: Actors) -> dict[str, str]:
    """The import set filed; the global ids of its order, documents and platform."""
    await actors.file_all(import_set(ORDER_NO))
    body = await actors.query(
        IDS, scopes="customs:read", variables={"ebp": PLATFORM, "no": ORDER_NO}
    )
    assert "errors" not in body, body
    order = body["data"]["order"]
    return {
        "Order": order["id"],
        "Payment": order["payment"]["id"],
        "Waybill": order["waybill"]["id"],
        "Inventory": order["inventory"]["id"],
        "Enterprise": body["data"]["enterprise"]["id"],
    }


async def _node(actors: Actors, id_: str, **who: Any) -> dict[str, Any]:
    return await actors.query(NODE, variables={"id": id_}, **who)


async def test_an_id_spells_the_type_and_key_and_refetches_the_same_object(
    hub_actors: Actors,
) -> None:
    ids = await _filed(hub_actors)
    assert parse_global_id(ids["Order"]) == ("Order", (PLATFORM, ORDER_NO))
    assert ids["Order"] == global_id("Order", PLATFORM, ORDER_NO)
    assert ids["Enterprise"] == global_id("Enterprise", PLATFORM)
    for type_name, id_ in ids.items():
        body = await _node(hub_actors, id_, scopes="customs:read")
        assert "errors" not in body, body
        assert body["data"]["node"]["__typename"] == type_name
        assert body["data"]["node"]["id"] == id_
    # The platform reads its order by id exactly as through `order(...)`.
    direct = await hub_actors.query(
        DIRECT, as_=PLATFORM, variables={"ebp": PLATFORM, "no": ORDER_NO}
    )
    by_id = await _node(hub_actors, ids["Order"], as_=PLATFORM)
    assert by_id["data"]["node"]["orderNo"] == direct["data"]["order"]["orderNo"]
    assert by_id["data"]["node"]["goodsValue"] == direct["data"]["order"]["goodsValue"]
    # Masked alike: the platform reads personal data masked.
    assert by_id["data"]["node"]["buyerIdNumber"] == direct["data"]["order"]["buyerIdNumber"]
    assert "*" in by_id["data"]["node"]["buyerIdNumber"]
    # nodes: in order, each as node answers it.
    body = await hub_actors.query(
        NODES, scopes="customs:read", variables={"ids": list(ids.values())}
    )
    assert [n["id"] for n in body["data"]["nodes"]] == list(ids.values())


async def test_a_stranger_and_a_bank_without_consent_get_null_for_every_id(
    hub_actors: Actors,
) -> None:
    ids = await _filed(hub_actors)
    missing = global_id("Order", PLATFORM, "NO-SUCH-ORDER")
    for who in ({"as_": STRANGER}, {"scopes": "finance:read"}):
        direct = await hub_actors.query(DIRECT, variables={"ebp": PLATFORM, "no": ORDER_NO}, **who)
        assert direct["data"]["order"] is None
        for id_ in [*ids.values(), missing]:
            if id_ == ids["Enterprise"] and who.get("as_"):
                continue  # a stranger enterprise reads no other enterprise either
            body = await _node(hub_actors, id_, **who)
            # The same null as for an order that does not exist: no error, no hint.
            assert body == {"data": {"node": None}}, (who, id_, body)
        body = await hub_actors.query(NODES, variables={"ids": list(ids.values())}, **who)
        assert body == {"data": {"nodes": [None] * len(ids)}}


async def test_a_department_reads_by_id_only_the_documents_of_its_categories(
    hub_actors: Actors,
) -> None:
    ids = await _filed(hub_actors)
    # Market supervision reads registration, credit and goods: the order, not its money,
    # parcels or customs papers. `order { payment }` refuses them with FORBIDDEN ...
    direct = await hub_actors.query(
        DIRECT, scopes="market:read", variables={"ebp": PLATFORM, "no": ORDER_NO}
    )
    assert direct["data"]["order"]["orderNo"] == ORDER_NO
    refused = {e["path"][-1] for e in direct["errors"]}
    assert {"payment", "waybill", "inventory"} <= refused
    # ... and by id they are simply not there.
    order = await _node(hub_actors, ids["Order"], scopes="market:read")
    assert order["data"]["node"]["orderNo"] == ORDER_NO
    assert order["data"]["node"]["goodsValue"] is None  # order category: refused alike
    assert {e["extensions"]["code"] for e in order["errors"]} == {"FORBIDDEN"}
    for kind in ("Payment", "Waybill", "Inventory"):
        body = await _node(hub_actors, ids[kind], scopes="market:read")
        assert body == {"data": {"node": None}}, (kind, body)
    # Tax reads payments and clearance but not logistics.
    assert (await _node(hub_actors, ids["Payment"], scopes="tax:read"))["data"]["node"]
    body = await _node(hub_actors, ids["Waybill"], scopes="tax:read")
    assert body == {"data": {"node": None}}


BAD_IDS = [
    "",
    "!!",
    "a" * 2000,
    _raw_id("Order"),  # no key
    _raw_id(f"Order:{PLATFORM}"),  # one part short
    _raw_id(f"Order:{PLATFORM}:X:Y"),  # one too many
    _raw_id(f"Order:{PLATFORM}:%00"),  # a NUL inside
    _raw_id(f"Order:{PLATFORM}:%ZZ"),  # a broken escape
    _raw_id(f"Order:{PLATFORM}:"),  # an empty part
    _raw_id(f"Order:{PLATFORM}:X") + "==",  # padded: not the canonical spelling
    base64.urlsafe_b64encode(b"Order:\xff\xfe:x").decode().rstrip("="),  # not UTF-8
    _raw_id("Standard:cbec.order"),  # types that are no node
    _raw_id("Declaration:0123456789abcdef"),
    _raw_id("Query:node"),
    _raw_id("order:1"),  # a cursor is not an id
]


async def test_a_malformed_or_forged_id_is_bad_user_input(hub_actors: Actors) -> None:
    requests = [(NODE, {"id": bad}) for bad in BAD_IDS]
    requests += [(NODES, {"ids": [global_id("Order", "a", "b"), bad]}) for bad in BAD_IDS]
    for query, variables in requests:
        response = await hub_actors.post(
            query, token=await hub_actors.reader("customs:read"), variables=variables
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
        assert "not a node id" in body["errors"][0]["message"]


async def test_nodes_takes_at_most_a_hundred_ids(hub_actors: Actors) -> None:
    token = await hub_actors.reader("customs:read")
    ids = [global_id("Order", PLATFORM, f"N{i}") for i in range(MAX_NODES + 1)]
    response = await hub_actors.post(NODES, token=token, variables={"ids": ids})
    body = response.json()
    assert response.status_code == 200
    # Refused with the schema's other list caps, before anything is read.
    assert body["errors"][0]["extensions"]["code"] == "LIST_TOO_LONG"
    assert str(MAX_NODES) in body["errors"][0]["message"]
    assert body["data"] is None
    response = await hub_actors.post(NODES, token=token, variables={"ids": ids[:MAX_NODES]})
    assert response.json() == {"data": {"nodes": [None] * MAX_NODES}}


async def _log(actors: Actors, operation: str) -> list[dict[str, Any]]:
    body = await actors.query(LOG, scopes="audit:read")
    events = [e["node"] for e in body["data"]["accessLog"]["edges"]]
    return [e for e in events if e["operationName"] == operation]


async def test_a_read_by_id_is_logged_like_the_direct_read_with_its_consent(
    hub_actors: Actors,
) -> None:
    ids = await _filed(hub_actors)
    bank = await hub_actors.reader("finance:read")
    consent = await hub_actors.query(
        GRANT,
        as_=SELLER,
        variables={
            "input": {
                "bank": hub_actors.client_ids["finance:read"],
                "categories": ["REGISTRATION", "ORDER", "PAYMENT"],
                "purpose": "loan review",
                "dataFrom": "2000-01-01",
                "dataTo": "2099-12-31",
                "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            }
        },
    )
    assert consent["data"]["grantConsent"]["errors"] == [], consent
    consent_id = consent["data"]["grantConsent"]["consent"]["id"]
    direct = """query Direct($ebp: String!, $no: String!) {
      order(ebpCode: $ebp, orderNo: $no) { orderNo payment { amountPaid } } }"""
    body = await hub_actors.post(direct, token=bank, variables={"ebp": PLATFORM, "no": ORDER_NO})
    assert body.json()["data"]["order"]["payment"]["amountPaid"]
    by_id = """query ById($ids: [ID!]!) { nodes(ids: $ids) {
      ... on Order { orderNo } ... on Payment { amountPaid } } }"""
    body = await hub_actors.post(
        by_id, token=bank, variables={"ids": [ids["Order"], ids["Payment"]]}
    )
    assert [n is not None for n in body.json()["data"]["nodes"]] == [True, True]
    # The bank's consent does not cover logistics: its waybill id is null, logged nowhere.
    body = await hub_actors.post(
        "query Refused($id: ID!) { node(id: $id) { id } }",
        token=bank,
        variables={"id": ids["Waybill"]},
    )
    assert body.json() == {"data": {"node": None}}
    [seen_direct] = await _log(hub_actors, "Direct")
    [seen_by_id] = await _log(hub_actors, "ById")
    assert seen_by_id == {**seen_direct, "operationName": "ById"}
    assert seen_by_id["consentIds"] == [consent_id]
    assert set(seen_by_id["enterprises"]) >= {PLATFORM, SELLER}
    assert await _log(hub_actors, "Refused") == []


async def test_an_id_is_refused_where_the_key_it_spells_is(hub_actors: Actors) -> None:
    ids = await _filed(hub_actors)
    # A consent naming only ORDER reads the amounts, not the registration data the
    # order's key (and so its id) consists of.
    await hub_actors.reader("finance:read")
    consent = await hub_actors.query(
        GRANT,
        as_=SELLER,
        variables={
            "input": {
                "bank": hub_actors.client_ids["finance:read"],
                "categories": ["ORDER"],
                "purpose": "loan review",
                "dataFrom": "2000-01-01",
                "dataTo": "2099-12-31",
                "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            }
        },
    )
    assert consent["data"]["grantConsent"]["errors"] == [], consent
    query = "query($id: ID!) { node(id: $id) { ... on Order { goodsValue } } }"
    body = await hub_actors.query(query, scopes="finance:read", variables={"id": ids["Order"]})
    assert body["data"]["node"]["goodsValue"]
    body = await hub_actors.query(NODE, scopes="finance:read", variables={"id": ids["Order"]})
    assert body["data"]["node"] is None
    assert {e["extensions"].get("category") for e in body["errors"]} >= {"registration"}


def _readme_examples() -> list[str]:
    """The GraphQL examples of the README's Relay section, as written."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("#### Relay: global ids", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```graphql\n(.*?)```", section, flags=re.S)


async def test_the_readme_examples_run_as_written(hub_actors: Actors) -> None:
    ids = await _filed(hub_actors)
    refetch, backward = _readme_examples()
    body = await hub_actors.query(refetch, scopes="customs:read", variables={"id": ids["Order"]})
    assert "errors" not in body, body
    assert body["data"]["node"]["orderNo"] == ORDER_NO
    assert body["data"]["node"]["payment"]["id"] == ids["Payment"]
    body = await hub_actors.query(backward, scopes="customs:read")
    assert "errors" not in body, body
    [edge] = body["data"]["orders"]["edges"]
    assert edge["node"]["id"] == ids["Order"]
    assert body["data"]["orders"]["pageInfo"] == {
        "hasPreviousPage": False,
        "startCursor": edge["cursor"],
    }
