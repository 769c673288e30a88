"""Finding 13: a bank with an ORDER consent got FORBIDDEN on `Enterprise.orders`.

The original code (ded634c) guarded `Enterprise.orders` with the enterprise node's own
grant, which for a bank holds only registration and credit, so the consenting seller's
orders were refused though `orders(filter: {enterprise})` returned them. The list now needs
the category at all (a consent of that enterprise naming it) and then reads each order
under the bank's grant on it, exactly as `orders` does; enterprises that did not consent
stay invisible.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.builders.parties import (
    OTHER_PLATFORM,
    PLATFORM,
    SELLER,
    STRANGER,
    Actors,
    hub_actors,
    import_set,
)

__all__ = ["hub_actors"]

BANK = "finance:read"
GRANT = """
mutation($input: GrantConsentInput!) {
  grantConsent(input: $input) { consent { id status } errors { code message } }
}"""
NESTED = """query($code: String!) {
  enterprise(code: $code) { code orders { edges { node { orderNo goodsValue } } } }
}"""
ROOT = """query($code: String!) {
  orders(filter: {enterprise: $code}) { edges { node { orderNo goodsValue } } }
}"""


async def _consent(actors: Actors, enterprise: str, app_time: str, categories: list[str]) -> None:
    await actors.reader(BANK)  # registers the bank's client
    day = f"{app_time[:4]}-{app_time[4:6]}-{app_time[6:8]}"
    variables = {
        "input": {
            "bank": actors.client_ids[BANK],
            "categories": categories,
            "purpose": "working-capital loan review",
            "dataFrom": day,
            "dataTo": day,
            "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        }
    }
    body = await actors.query(GRANT, as_=enterprise, variables=variables)
    assert body["data"]["grantConsent"]["errors"] == [], body


def _orders(body: dict[str, Any], path: tuple[str, ...]) -> list[dict[str, Any]]:
    node: Any = body["data"]
    for part in path:
        node = node[part]
    return [e["node"] for e in node["edges"]]


async def test_a_bank_with_an_order_consent_reads_enterprise_orders_like_the_orders_root(
    hub_actors: Actors,
) -> None:
    docs = import_set("XZ-F13-0001")
    await hub_actors.file_all(docs, "order", "payment")
    await _consent(hub_actors, SELLER, docs["order"]["appTime"], ["REGISTRATION", "ORDER"])

    nested = await hub_actors.query(NESTED, scopes=BANK, variables={"code": SELLER})
    root = await hub_actors.query(ROOT, scopes=BANK, variables={"code": SELLER})

    assert "errors" not in nested, nested["errors"]
    assert nested["data"]["enterprise"]["code"] == SELLER
    listed = _orders(nested, ("enterprise", "orders"))
    assert listed == _orders(root, ("orders",))
    assert [o["orderNo"] for o in listed] == ["XZ-F13-0001"]
    assert listed[0]["goodsValue"] is not None


async def test_a_bank_lists_nothing_of_an_enterprise_that_did_not_consent(
    hub_actors: Actors,
) -> None:
    mine, theirs = import_set("XZ-F13-0002"), import_set("XZ-F13-0003")
    theirs["order"] |= {"ebpCode": OTHER_PLATFORM, "ebcCode": STRANGER}
    await hub_actors.file_all(mine, "order")
    await hub_actors.file("order", theirs["order"], as_=OTHER_PLATFORM)
    await _consent(hub_actors, SELLER, mine["order"]["appTime"], ["REGISTRATION", "ORDER"])

    # The other platform did not consent: its node and its orders stay out of reach.
    other = await hub_actors.query(NESTED, scopes=BANK, variables={"code": OTHER_PLATFORM})
    assert other["data"]["enterprise"] is None
    root = await hub_actors.query(ROOT, scopes=BANK, variables={"code": OTHER_PLATFORM})
    assert _orders(root, ("orders",)) == []
    # The consenting seller's list holds only its own orders; the platform that sold them
    # did not consent, so its node stays invisible.
    nested = await hub_actors.query(NESTED, scopes=BANK, variables={"code": SELLER})
    assert [o["orderNo"] for o in _orders(nested, ("enterprise", "orders"))] == ["XZ-F13-0002"]
    platform = await hub_actors.query(NESTED, scopes=BANK, variables={"code": PLATFORM})
    assert platform["data"]["enterprise"] is None


async def test_a_consent_without_order_still_refuses_the_orders_list(hub_actors: Actors) -> None:
    docs = import_set("XZ-F13-0004")
    await hub_actors.file_all(docs, "order")
    await _consent(hub_actors, SELLER, docs["order"]["appTime"], ["REGISTRATION", "CLEARANCE"])

    nested = await hub_actors.query(NESTED, scopes=BANK, variables={"code": SELLER})

    assert nested["data"]["enterprise"]["orders"] is None
    [error] = nested["errors"]
    assert (error["extensions"]["code"], error["extensions"]["category"]) == ("FORBIDDEN", "order")
