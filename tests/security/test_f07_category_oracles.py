"""Finding 7: category leaks across departments and banks, written as the attacks.

What the hub before the fix did (git show ded634c):
- market supervision (market:read: registration, credit, goods) summed `items { totalPrice }`
  (then a goods field) to every order's goodsValue, and read `statistics { totalValueCny }`;
- `statistics` groups of one order gave single orders' values to every reader;
- `orders(filter: {matchStatus | customsStatus | dateFrom | tradeMode ...})` answered for
  callers who may not read those fields: the filter was an oracle on them (market learnt
  which orders customs released; a bank consented ORDER learnt clearance results);
- `matching { discrepancies { detail } }` printed amounts to a bank consented CLEARANCE only.
Each test below is one of these attacks and asserts the refusal (or the suppression).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.builders.parties import (
    OTHER_PLATFORM,
    PLATFORM,
    SELLER,
    STRANGER,
    Actors,
    hub_actors,
    import_set,
)
from tests.standards.samples import PAYER_INSTITUTION, sample

__all__ = ["hub_actors"]

ORDERS = """
query($filter: OrderFilter) { orders(filter: $filter, first: 100) {
  edges { node { orderNo } } } }"""
GRANT = """
mutation($input: GrantConsentInput!) {
  grantConsent(input: $input) { consent { id } errors { code message } }
}"""
MARKET = "market:read"


def order_nos(body: dict[str, Any]) -> list[str]:
    """The order numbers of an `orders` answer."""
    return [e["node"]["orderNo"] for e in body["data"]["orders"]["edges"]]


def refusal(body: dict[str, Any]) -> dict[str, Any]:
    """The one FORBIDDEN error of an answer that computed nothing."""
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body
    extensions: dict[str, Any] = body["errors"][0]["extensions"]
    assert extensions["code"] == "FORBIDDEN", body
    return extensions


def text(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


async def grant_consent(actors: Actors, *, by: str, bank: str, categories: list[str]) -> None:
    """The enterprise `by` consents the bank client (scopes `bank`) to these categories."""
    await actors.reader(bank)
    variables = {
        "input": {
            "bank": actors.client_ids[bank],
            "categories": categories,
            "purpose": "credit line review",
            "dataFrom": "2024-01-01",
            "dataTo": "2024-12-31",
            "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        }
    }
    body = await actors.query(GRANT, as_=by, variables=variables)
    assert body["data"]["grantConsent"]["errors"] == [], body


@pytest.fixture
async def released(hub_actors: Actors) -> dict[str, dict[str, Any]]:
    """One import order with all its documents, released by customs (MATCHED, 800)."""
    docs = import_set("XZ-F07-0001")
    await hub_actors.file_all(docs)
    return docs


# -- filters are oracles on the categories they test ----------------------------------------


@pytest.mark.parametrize(
    ("condition", "category"),
    [
        ({"matchStatus": "MATCHED"}, "clearance"),
        ({"customsStatus": 800}, "clearance"),
        ({"dateFrom": "2024-03-15"}, "order"),
        ({"dateTo": "2024-03-15"}, "order"),
        ({"tradeMode": "9610"}, "order"),
        ({"direction": "I"}, "order"),
        ({"includeCancelled": True}, "order"),
        ({"enterprise": PAYER_INSTITUTION, "role": "PAYMENT"}, "order"),
    ],
)
async def test_market_supervision_cannot_filter_orders_by_what_it_may_not_read(
    hub_actors: Actors,
    released: dict[str, dict[str, Any]],
    condition: dict[str, Any],
    category: str,
) -> None:
    refused = refusal(
        await hub_actors.query(ORDERS, scopes=MARKET, variables={"filter": condition})
    )
    assert refused["category"] == category
    assert refused["argument"].startswith("filter.")
    # Customs reads those categories: the same filter finds the order.
    found = await hub_actors.query(ORDERS, scopes="customs:read", variables={"filter": condition})
    assert order_nos(found) == ["XZ-F07-0001"]


async def test_market_supervision_filters_by_what_it_reads(
    hub_actors: Actors, released: dict[str, dict[str, Any]]
) -> None:
    body = await hub_actors.query(
        ORDERS, scopes=MARKET, variables={"filter": {"enterprise": SELLER, "role": "SELLER"}}
    )
    assert order_nos(body) == ["XZ-F07-0001"]
    body = await hub_actors.query(
        ORDERS, scopes=MARKET, variables={"filter": {"riskFlag": "NO_SUCH_FLAG"}}
    )
    assert order_nos(body) == []  # credit: market reads risk flags


async def test_an_enterprise_filter_without_role_matches_only_readable_roles(
    hub_actors: Actors, released: dict[str, dict[str, Any]]
) -> None:
    # The payment institution is named on the order only in payCode (order category):
    # market supervision must not find "the orders this bank pays" by leaving out the role.
    body = await hub_actors.query(
        ORDERS, scopes=MARKET, variables={"filter": {"enterprise": PAYER_INSTITUTION}}
    )
    assert order_nos(body) == []
    body = await hub_actors.query(
        ORDERS, scopes="tax:read", variables={"filter": {"enterprise": PAYER_INSTITUTION}}
    )
    assert order_nos(body) == ["XZ-F07-0001"]
    body = await hub_actors.query(
        ORDERS, scopes=MARKET, variables={"filter": {"enterprise": PLATFORM}}
    )
    assert order_nos(body) == ["XZ-F07-0001"]


async def test_a_supervisor_cannot_probe_record_keys_through_the_declarations_filter(
    hub_actors: Actors, released: dict[str, dict[str, Any]]
) -> None:
    query = """query($f: DeclarationFilter) { declarations(filter: $f) {
        edges { node { id } } } }"""
    probe = {"f": {"recordKey": f"{PLATFORM}|XZ-F07-0001", "standardId": "cbec.order"}}
    refused = refusal(await hub_actors.query(query, scopes="audit:read", variables=probe))
    assert refused["category"] == "registration"
    found = await hub_actors.query(query, scopes="customs:read", variables=probe)
    assert len(found["data"]["declarations"]["edges"]) == 1


async def test_a_bank_filters_only_the_records_it_reads_that_category_of(
    hub_actors: Actors,
) -> None:
    """A bank consented CLEARANCE by one seller and ORDER by another: a matchStatus filter
    finds the first seller's order, never the second's (though both are INCOMPLETE)."""
    mine = sample("cbec.order", "import-9610") | {"orderNo": "XZ-F07-CLR"}
    theirs = sample("cbec.order", "import-9610") | {
        "orderNo": "XZ-F07-ORD",
        "ebpCode": OTHER_PLATFORM,
        "ebcCode": STRANGER,
    }
    await hub_actors.file("order", mine)
    await hub_actors.file("order", theirs, as_=OTHER_PLATFORM)
    bank = "finance:read"
    await grant_consent(hub_actors, by=SELLER, bank=bank, categories=["REGISTRATION", "CLEARANCE"])
    await grant_consent(hub_actors, by=STRANGER, bank=bank, categories=["REGISTRATION", "ORDER"])
    every = await hub_actors.query(ORDERS, scopes=bank)
    assert sorted(order_nos(every)) == ["XZ-F07-CLR", "XZ-F07-ORD"]
    incomplete = {"filter": {"matchStatus": "INCOMPLETE"}}
    assert order_nos(await hub_actors.query(ORDERS, scopes=bank, variables=incomplete)) == [
        "XZ-F07-CLR"
    ]
    # tradeMode is order data: only the second seller's order can be tested on it.
    mode = {"filter": {"tradeMode": mine["tradeMode"]}}
    assert order_nos(await hub_actors.query(ORDERS, scopes=bank, variables=mode)) == ["XZ-F07-ORD"]
    # A category no consent names is refused outright.
    refused = refusal(
        await hub_actors.query(ORDERS, scopes=bank, variables={"filter": {"riskFlag": "X"}})
    )
    assert refused["category"] == "credit"


async def test_enterprise_list_filters_need_the_category_they_test(
    hub_actors: Actors, released: dict[str, dict[str, Any]]
) -> None:
    query = """query($f: EnterpriseFilter) { enterprises(filter: $f) {
        edges { node { code } } } }"""
    refused = refusal(
        await hub_actors.query(query, scopes="audit:read", variables={"f": {"creditClass": "A"}})
    )
    assert refused["category"] == "credit"
    body = await hub_actors.query(query, scopes=MARKET, variables={"f": {"creditClass": "A"}})
    assert "errors" not in body, body
