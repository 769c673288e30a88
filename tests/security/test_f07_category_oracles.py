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


# -- item prices are money, not goods -------------------------------------------------------

ITEMS = """
{ orders(first: 10) { edges { node { orderNo goodsValue
    items { gnum itemName qty price totalPrice currency } } } } }"""


async def test_market_supervision_cannot_sum_item_prices_to_the_goods_value(
    hub_actors: Actors, released: dict[str, dict[str, Any]]
) -> None:
    order = released["order"]
    body = await hub_actors.query(ITEMS, scopes=MARKET)
    node = body["data"]["orders"]["edges"][0]["node"]
    assert node["goodsValue"] is None
    lines = node["items"]
    assert [line["itemName"] for line in lines] == [i["itemName"] for i in order["items"]]
    assert all(line["price"] is None and line["totalPrice"] is None for line in lines)
    refused = {(tuple(e["path"][-1:]), e["extensions"]["category"]) for e in body["errors"]}
    assert refused == {
        (("goodsValue",), "order"),
        (("price",), "order"),
        (("totalPrice",), "order"),
        (("currency",), "order"),
    }
    for line in order["items"]:
        assert f'"{line["totalPrice"]}"' not in text(body)
    # Tax reads order money: the same query answers it in full.
    taxed = await hub_actors.query(ITEMS, scopes="tax:read")
    assert "errors" not in taxed
    total = sum(
        Decimal(line["totalPrice"]) for line in taxed["data"]["orders"]["edges"][0]["node"]["items"]
    )
    assert total == Decimal(order["goodsValue"])


# -- statistics -----------------------------------------------------------------------------

STATS = """
query($groupBy: [StatisticsDimension!]!, $filter: StatisticsFilter) {
  statistics(groupBy: $groupBy, filter: $filter) {
    groups { enterpriseCode month suppressed orderCount totalValueCny matchedCount } } }"""


async def test_market_supervision_reads_no_money_and_groups_by_no_order_field(
    hub_actors: Actors, released: dict[str, dict[str, Any]]
) -> None:
    for dimension in ("MONTH", "TRADE_MODE", "DIRECTION", "BUSINESS_TYPE"):
        refused = refusal(
            await hub_actors.query(STATS, scopes=MARKET, variables={"groupBy": [dimension]})
        )
        assert refused == {
            "code": "FORBIDDEN",
            "category": "order",
            "argument": f"groupBy: {dimension}",
        }
    refused = refusal(
        await hub_actors.query(
            STATS, scopes=MARKET, variables={"groupBy": [], "filter": {"matchStatus": "MATCHED"}}
        )
    )
    assert refused["category"] == "clearance"
    body = await hub_actors.query(STATS, scopes=MARKET, variables={"groupBy": ["ENTERPRISE"]})
    (group,) = body["data"]["statistics"]["groups"]
    assert group["totalValueCny"] is None and group["matchedCount"] is None
    assert {e["extensions"]["category"] for e in body["errors"]} == {"order", "clearance"}
    assert released["order"]["goodsValue"] not in text(body)


async def test_statistics_cells_of_few_orders_are_suppressed_with_their_complement(
    hub_actors: Actors,
) -> None:
    """Six orders of one platform, one of another. Grouped by enterprise, the single order
    is a cell of one: its value is that order's. Suppressing it alone would not do: the
    ungrouped total minus the other cell gives it back, so that cell is suppressed too."""
    for n in range(6):
        order = sample("cbec.order", "import-9610") | {"orderNo": f"XZ-F07-S{n}"}
        await hub_actors.file("order", order)
    lone = sample("cbec.order", "import-9610") | {
        "orderNo": "XZ-F07-LONE",
        "ebpCode": OTHER_PLATFORM,
        "goodsValue": "777.00",
    }
    await hub_actors.file("order", lone, as_=OTHER_PLATFORM)
    by_enterprise = {"groupBy": ["ENTERPRISE"]}
    for reader in ("tax:read", "forex:read"):
        body = await hub_actors.query(STATS, scopes=reader, variables=by_enterprise)
        groups = body["data"]["statistics"]["groups"]
        assert {g["enterpriseCode"] for g in groups} == {PLATFORM, OTHER_PLATFORM}
        assert all(g["suppressed"] for g in groups), groups
        assert all(g["orderCount"] is None and g["totalValueCny"] is None for g in groups)
        total = await hub_actors.query(STATS, scopes=reader, variables={"groupBy": []})
        (cell,) = total["data"]["statistics"]["groups"]
        assert (cell["suppressed"], cell["orderCount"]) == (False, 7)
        # Filtering down to the lone order gives a cell of one: suppressed as well.
        alone = await hub_actors.query(
            STATS,
            scopes=reader,
            variables={"groupBy": [], "filter": {"enterprise": OTHER_PLATFORM}},
        )
        assert alone["data"]["statistics"]["groups"][0]["suppressed"] is True
        assert "777" not in text(body) + text(alone)
    # Customs reads every order anyway: no suppression.
    body = await hub_actors.query(STATS, scopes="customs:read", variables=by_enterprise)
    counts = {g["enterpriseCode"]: g["orderCount"] for g in body["data"]["statistics"]["groups"]}
    assert counts == {PLATFORM: 6, OTHER_PLATFORM: 1}


def test_complementary_suppression_leaves_no_line_with_a_small_hidden_sum() -> None:
    """Random two-dimensional tables: after suppression, in every row and column (the cells
    a coarser query sums), the hidden cells hold 0 or at least the minimum, or all of it."""
    import random

    from hub.stats.suppression import suppressed_cells

    rng = random.Random(7)
    for _ in range(300):
        cells = [
            ((a, b), rng.choice([1, 1, 2, 3, 4, 5, 6, 9, 20]))
            for a in range(rng.randint(1, 4))
            for b in range(rng.randint(1, 4))
            if rng.random() < 0.85
        ]
        hidden = suppressed_cells(
            cells,
            dimensions=["a", "b"],
            key_of=lambda c, d: c[0][0 if d == "a" else 1],
            count_of=lambda c: c[1],
            min_group=5,
        )
        assert {i for i, c in enumerate(cells) if c[1] < 5} <= hidden
        for axis in (0, 1):
            for value in {c[0][axis] for c in cells}:
                line = [i for i, c in enumerate(cells) if c[0][axis] == value]
                held = sum(cells[i][1] for i in line if i in hidden)
                assert held == 0 or held >= 5 or all(i in hidden for i in line), (cells, hidden)


# -- matching details -----------------------------------------------------------------------

MATCHING = """
query($ebp: String!, $no: String!) { order(ebpCode: $ebp, orderNo: $no) {
  matching { status discrepancies { code detail } } } }"""


async def test_a_bank_consented_clearance_sees_discrepancy_codes_without_amounts(
    hub_actors: Actors,
) -> None:
    docs = import_set("XZ-F07-AMT")
    docs["payment"]["amountPaid"] = "612.34"  # not the order's acturalPaid
    await hub_actors.file_all(docs, "order", "payment")
    bank = "finance:read"
    await grant_consent(hub_actors, by=SELLER, bank=bank, categories=["REGISTRATION", "CLEARANCE"])
    key = {"ebp": PLATFORM, "no": "XZ-F07-AMT"}
    body = await hub_actors.query(MATCHING, scopes=bank, variables=key)
    assert "errors" not in body, body
    matching = body["data"]["order"]["matching"]
    assert matching["status"] == "MISMATCH"
    details = {d["code"]: d["detail"] for d in matching["discrepancies"]}
    assert "AMOUNT_PAID_MISMATCH" in details
    assert "612.34" not in text(body) and docs["order"]["acturalPaid"] not in text(body)
    assert details["AMOUNT_PAID_MISMATCH"] == (
        "acturalPaid [order withheld] ≠ amountPaid [payment withheld]"
    )
    # Customs reads both amounts; a bank consented ORDER and PAYMENT too.
    customs = await hub_actors.query(MATCHING, scopes="customs:read", variables=key)
    full = {d["code"]: d["detail"] for d in customs["data"]["order"]["matching"]["discrepancies"]}
    assert full["AMOUNT_PAID_MISMATCH"] == (
        f"acturalPaid {docs['order']['acturalPaid']} ≠ amountPaid 612.34"
    )
    await grant_consent(
        hub_actors, by=SELLER, bank=bank, categories=["ORDER", "PAYMENT", "CLEARANCE"]
    )
    body = await hub_actors.query(MATCHING, scopes=bank, variables=key)
    assert "612.34" in text(body)
