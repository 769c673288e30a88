"""What the compiled path answers itself, what it leaves to strawberry, and its switches."""

from __future__ import annotations

import dataclasses

from starlette.applications import Starlette

from hub.config import Settings
from tests.compiled.test_differential import Recorder
from tests.views.conftest import Demo, Gql

DEPARTMENT = (
    "{ orders(first: 10) { edges { node { orderNo goodsValue buyerName buyerIdNumber "
    "items { gnum itemName price } payment { amountPaid payerName } waybill { logisticsNo } "
    "inventory { invtNo } } } } }"
)


async def test_a_market_reader_gets_nulls_and_forbidden_errors_from_the_compiled_path(
    demo: Demo, gql: Gql, app: Starlette
) -> None:
    recorder = Recorder(app)
    app.state.graphql.compiled = recorder.path
    token = await demo.token(scopes="market:read")
    body = await gql(DEPARTMENT, token=token)
    assert recorder.compiled == 1 and recorder.refusing == 1
    nodes = [e["node"] for e in body["data"]["orders"]["edges"]]
    assert len(nodes) == 10
    # Order, payment, logistics and clearance data: none of it reaches a market supervisor.
    for node in nodes:
        assert node["goodsValue"] is None and node["payment"] is None
        assert node["waybill"] is None and node["inventory"] is None
        assert all(item["price"] is None and item["itemName"] for item in node["items"])
        assert node["buyerName"] is None or "*" in node["buyerName"]  # masked
    refused = {(e["path"][-1], e["extensions"]["category"]) for e in body["errors"]}
    assert refused == {
        ("goodsValue", "order"),
        ("price", "order"),
        ("payment", "payment"),
        ("waybill", "logistics"),
        ("inventory", "clearance"),
    }
    assert all(e["locations"] for e in body["errors"])


async def test_documents_outside_the_subset_are_answered_by_strawberry(
    demo: Demo, gql: Gql, app: Starlette
) -> None:
    recorder = Recorder(app)
    app.state.graphql.compiled = recorder.path
    token = await demo.token(scopes="customs:read pii:read")
    documents = [
        "{ orders(first: 2) { edges { node { orderNo provenance { declarationId } } } } }",
        "{ orders(first: 2) { edges { node { ...F } } } } fragment F on Order { orderNo }",
        "{ orders(first: 2) { edges { node { orderNo @include(if: true) } } } }",
        "{ a: orders(first: 1) { edges { cursor } } b: orders(first: 1) { edges { cursor } } }",
        "{ orders(first: 2) { edges { node { waybill { milestones { status } } } } } }",
        '{ orders(first: 1, after: "nonsense") { edges { cursor } } }',
        "{ orders(first: 501) { edges { cursor } } }",
        "{ me { clientId } }",
    ]
    for document in documents:
        body = await gql(document, token=token)
        assert "data" in body, body
    assert recorder.compiled == 0
    body = await gql('{ orders(first: 1, after: "nonsense") { edges { cursor } } }', token=token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_compiled_path_is_on_by_default_and_can_be_switched_off() -> None:
    assert Settings.from_env({}).compiled_execution is True
    assert Settings.from_env({"HUB_COMPILED_EXECUTION": "false"}).compiled_execution is False


async def test_switched_off_every_request_runs_through_strawberry(
    app: Starlette, settings: Settings
) -> None:
    from hub.app import create_app

    off = create_app(dataclasses.replace(settings, compiled_execution=False))
    assert off.state.graphql.compiled is None
    assert app.state.graphql.compiled is not None


async def test_a_body_orjson_refuses_is_read_as_the_standard_library_reads_it(
    demo: Demo,
) -> None:
    token = await demo.token(scopes="customs:read pii:read")
    # A 30-digit integer (beyond orjson's 64 bits) in an unused variable: read, then ignored.
    body = b'{"query": "{ me { clientId } }", "variables": {"big": 123456789012345678901234567890}}'
    response = await demo.http.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"]["clientId"]


async def test_forbidden_errors_come_in_the_order_strawberry_writes_them(
    demo: Demo, app: Starlette
) -> None:
    recorder = Recorder(app)
    endpoint = app.state.graphql
    carrier = next(c for c in demo.summary.clients if "logistics" in c.roles)
    tokens = [
        await demo.token(scopes="market:read"),
        await demo.token(scopes="tax:read"),
        await demo.token(enterprise=carrier.enterprise_code),
    ]
    query = DEPARTMENT.replace("first: 10", "first: 40").replace(
        "waybill { logisticsNo }", "waybill { logisticsNo consignee consigneeTelephone }"
    )
    for token in tokens:
        answers = []
        for compiled in (recorder.path, None):
            endpoint.compiled = compiled
            response = await demo.http.post(
                "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
            )
            answers.append(response.content)
        assert answers[0] == answers[1]
    assert recorder.refusing >= 2
