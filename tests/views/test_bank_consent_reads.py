"""Banks read an enterprise only under an active consent: its categories and its period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette

from hub.trade.models import Order
from tests.views.conftest import Demo, Gql

GRANT = """
mutation($input: GrantConsentInput!) {
  grantConsent(input: $input) { consent { id status } errors { code message } }
}"""
REVOKE = """
mutation($id: ID!) { revokeConsent(id: $id) { consent { status } errors { code } } }
"""
BANK_VIEW = """
{ orders(first: 500) { edges { node {
    ebcCode appTime goodsValue
    payment { amountPaid }
    waybill { logisticsNo }
    items { gnum }
} } } }"""


async def _seller_with_orders(
    app: Starlette, direction: str | None = None
) -> tuple[str, list[Order]]:
    async with app.state.runtime.session_factory() as session:
        rows = list(await session.scalars(select(Order).where(Order.status == "ACTIVE")))
    candidates = [r for r in rows if direction is None or r.direction == direction]
    seller = max(
        {r.ebc_code for r in candidates}, key=lambda c: sum(r.ebc_code == c for r in candidates)
    )
    return seller, [r for r in rows if seller in (r.ebc_code, r.ebp_code)]


async def _grant(demo: Demo, gql: Gql, seller: str, **overrides: Any) -> str:
    bank = demo.client(scopes="finance:read")
    variables = {
        "input": {
            "bank": bank.client_id,
            "categories": ["ORDER", "PAYMENT", "REGISTRATION"],
            "purpose": "working-capital loan review",
            "dataFrom": "2024-01-01",
            "dataTo": "2024-12-31",
            "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            **overrides,
        }
    }
    body = await gql(GRANT, token=await demo.token(enterprise=seller), variables=variables)
    assert body["data"]["grantConsent"]["errors"] == [], body
    consent_id: str = body["data"]["grantConsent"]["consent"]["id"]
    return consent_id


async def test_a_bank_reads_only_the_consented_enterprise_and_categories(
    demo: Demo, gql: Gql, app: Starlette
) -> None:
    seller, own_orders = await _seller_with_orders(app)
    await _grant(demo, gql, seller)
    body = await gql(BANK_VIEW, token=await demo.token(scopes="finance:read"))
    nodes = [e["node"] for e in body["data"]["orders"]["edges"]]
    expected = {o.order_no for o in own_orders if o.app_time.startswith("2024")}
    assert len(nodes) == len(expected) > 0
    assert all(n["goodsValue"] is not None for n in nodes)  # order category: consented
    assert all(n["waybill"] is None and n["items"] is None for n in nodes)
    refused = {e["extensions"]["category"] for e in body["errors"]}
    assert refused == {"logistics", "goods"}


async def test_the_consent_period_limits_which_orders_a_bank_sees(
    demo: Demo, gql: Gql, app: Starlette
) -> None:
    seller, own_orders = await _seller_with_orders(app)
    months = sorted({o.app_time[:6] for o in own_orders})
    first = months[0]
    await _grant(
        demo,
        gql,
        seller,
        dataFrom=f"{first[:4]}-{first[4:]}-01",
        dataTo=f"{first[:4]}-{first[4:]}-28",
    )
    body = await gql(BANK_VIEW, token=await demo.token(scopes="finance:read"))
    seen = [e["node"]["appTime"] for e in body["data"]["orders"]["edges"]]
    expected = [
        o.app_time for o in own_orders if o.app_time[:6] == first and int(o.app_time[6:8]) <= 28
    ]
    assert sorted(seen) == sorted(expected)


async def test_revocation_takes_effect_on_the_next_request(
    demo: Demo, gql: Gql, app: Starlette
) -> None:
    seller, _ = await _seller_with_orders(app)
    consent_id = await _grant(demo, gql, seller)
    bank = await demo.token(scopes="finance:read")
    before = await gql(BANK_VIEW, token=bank)
    assert before["data"]["orders"]["edges"]
    revoked = await gql(
        REVOKE, token=await demo.token(enterprise=seller), variables={"id": consent_id}
    )
    assert revoked["data"]["revokeConsent"]["consent"]["status"] == "REVOKED"
    after = await gql(BANK_VIEW, token=bank)
    assert after["data"]["orders"]["edges"] == []


async def test_a_bank_reads_the_consenting_enterprise_node_and_no_other(
    demo: Demo, gql: Gql, app: Starlette
) -> None:
    seller, _ = await _seller_with_orders(app)
    await _grant(demo, gql, seller)
    body = await gql(
        "{ enterprises(first: 50) { edges { node { code name creditClass } } } }",
        token=await demo.token(scopes="finance:read"),
    )
    assert [e["node"]["code"] for e in body["data"]["enterprises"]["edges"]] == [seller]
    assert body["errors"][0]["extensions"]["category"] == "credit"


EVIDENCE = """
query($e: String!) {
  orders(first: 500, filter: {enterprise: $e, direction: "E"}) { edges { node {
    orderNo
    receipt { charge provenance { ...link } }
    waybill { logisticsNo milestones { status statusTime } provenance { ...link } }
    inventory { customsStatus statusHistory { status time } provenance { ...link } }
    provenance { ...link }
  } } }
}
fragment link on Provenance {
  declarationId chainIndex standard declarant clientId receivedAt contentHash prevHash chainHash
}"""


async def test_a_bank_gets_traceable_evidence_and_can_check_every_chain_link(
    demo: Demo, gql: Gql, app: Starlette
) -> None:
    from hub.declarations.chain import link_hash

    seller, _ = await _seller_with_orders(app, direction="E")
    await _grant(
        demo,
        gql,
        seller,
        categories=["REGISTRATION", "ORDER", "PAYMENT", "LOGISTICS", "CLEARANCE"],
    )
    bank = await demo.token(scopes="finance:read")
    body = await gql(EVIDENCE, token=bank, variables={"e": seller})
    assert "errors" not in body, body.get("errors")
    orders = [e["node"] for e in body["data"]["orders"]["edges"]]
    links = []
    for order in orders:
        links += order["provenance"]
        for document in ("receipt", "waybill", "inventory"):
            if order[document]:
                links += order[document]["provenance"]
    assert links, "the seller's export orders carry provenance"
    for link in links:
        recomputed = link_hash(
            index=link["chainIndex"],
            prev_hash=link["prevHash"],
            declaration_id=link["declarationId"],
            content_hash=link["contentHash"],
            standard_ref=link["standard"],
            declarant=link["declarant"],
            client_id=link["clientId"],
            received_at=datetime.fromisoformat(link["receivedAt"]),
        )
        assert recomputed == link["chainHash"]
    indexes = [link["chainIndex"] for link in links]
    verified = await gql(
        "query($a: Int!, $b: Int!) { verifyChain(fromIndex: $a, toIndex: $b) { ok checked } }",
        token=bank,
        variables={"a": min(indexes), "b": max(indexes)},
    )
    assert verified["data"]["verifyChain"]["ok"] is True
    inventories = [o["inventory"] for o in orders if o["inventory"]]
    assert inventories, "evidence includes the customs inventories"
    for inventory in inventories:
        history = inventory["statusHistory"]
        if history:
            assert inventory["customsStatus"] == history[-1]["status"]
