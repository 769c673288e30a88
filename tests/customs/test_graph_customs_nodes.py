"""The graph of the CEB 2022-05 records after clearance (issue 10, Deliver 2): cancellations
(623) and returns (625) on inventories, the tax bill (816) beside the hub's estimate, the
customs declaration (792 entryId) on export inventories, arrival and departure evidence
(507/509) on waybills. Data through XML intake in the official samples' shapes.

Then the attacks: each reader that must not see a field gets null and a FORBIDDEN error
naming the field's category (from the standard's x-hub-category): a carrier, a payment
institution, a stranger, a bank consented CLEARANCE only, and departments outside the
category. Reads are in the access log under every enterprise the shown records name.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.builders.parties import Actors, hub_actors
from tests.customs.test_matching_xml import EXPORT_ORDER, IMPORT_ORDER, post_all, post_record
from tests.customs.xml_sets import (
    BROKER,
    CARRIER,
    GUARANTOR,
    OWNER,
    PAYER,
    PLATFORM,
    SELLER,
    arrival,
    cancellation,
    departure,
    export_set,
    goods_return,
    import_set,
    summary_result,
    tax_bill,
)

__all__ = ["hub_actors"]

IMPORT_NO = "ORD-GRAPH-I-0001"
CANCELLED_NO = "ORD-GRAPH-I-0002"
EXPORT_NO = "ORD-GRAPH-E-0001"
ENTRY_ID = "150120241000000007"
SITE_OPERATOR = "3301960008"  # the arrival list's operatorCode (xml_sets.arrival)
STRANGER = "3301969013"
STRANGER_BROKER = "3301969005"
ASSESSED_VAT = "120.00"
BANK = "finance:read"

CLEARANCE_VIEW = """
query ReadClearance($ebp: String!, $no: String!) {
  order(ebpCode: $ebp, orderNo: $no) {
    orderNo taxComputed taxAssessed taxDifference riskFlags
    inventory {
      invtNo entryId sumNo
      cancellations { appTime appStatus reason copNo invtNo declarationId }
      returns {
        appTime appStatus reason copNo invtNo declarationId
        items { gnum qty unit }
      }
      taxBill {
        taxNo status returnTime customsTax valueAddedTax consumptionTax total declarationId
        items { gnum gcode taxPrice customsTax valueAddedTax consumptionTax }
      }
    }
    waybill {
      logisticsNo
      passages {
        kind passedAt appTime leaveTime customsCode copNo trafMode voyageNo billNo
        domesticTrafNo operatorCode totalPackageNo declarationId
      }
      departure { kind leaveTime voyageNo billNo totalPackageNo }
    }
  }
}"""

LOG = """
query($filter: AccessLogFilter) {
  accessLog(filter: $filter) { edges { node { department enterprises records } } }
}"""

GRANT = """
mutation($input: GrantConsentInput!) {
  grantConsent(input: $input) { consent { id } errors { code message } }
}"""


# --- the data --------------------------------------------------------------------------------


@pytest.fixture
async def cleared(hub_actors: Actors) -> dict[str, Any]:
    """An import order released (622), returned in part (625) and taxed by customs other
    than the estimate (816); a second one cancelled (623); an export order released (604),
    summed into a customs declaration (792), arrived (507) and departed (509)."""
    docs = import_set(IMPORT_NO)
    await post_all(hub_actors, docs, (*IMPORT_ORDER, "CEB622"))
    returned = goods_return(docs, [(1, "1")])
    bill = tax_bill(docs, vat=ASSESSED_VAT)
    for name, record in (("CEB625", returned), ("CEB816", bill)):
        assert (await post_record(hub_actors, name, record))["accepted"], name

    cancelled = import_set(CANCELLED_NO)
    await post_all(hub_actors, cancelled, (*IMPORT_ORDER, "CEB622"))
    assert (await post_record(hub_actors, "CEB623", cancellation(cancelled)))["accepted"]

    exported = export_set(EXPORT_NO)
    await post_all(hub_actors, exported, (*EXPORT_ORDER, "CEB604"))
    summary = summary_result(exported, ENTRY_ID)
    for name, record in (
        ("CEB792", summary),
        ("CEB507", arrival(exported)),
        ("CEB509", departure(exported)),
    ):
        assert (await post_record(hub_actors, name, record))["accepted"], name
    return {
        "import": docs,
        "return": returned,
        "bill": bill,
        "cancelled": cancelled,
        "export": exported,
        "summary": summary,
    }


async def _read(
    actors: Actors, order_no: str, *, as_: str | None = None, scopes: str | None = None
) -> dict[str, Any]:
    return await actors.query(
        CLEARANCE_VIEW, as_=as_, scopes=scopes, variables={"ebp": PLATFORM, "no": order_no}
    )


def _forbidden(body: dict[str, Any]) -> dict[str, str]:
    """Path (dotted, list indexes dropped) → category of every FORBIDDEN error."""
    found = {}
    for error in body.get("errors", []):
        assert error["extensions"]["code"] == "FORBIDDEN", error
        path = ".".join(str(p) for p in error["path"] if not isinstance(p, int))
        found[path] = error["extensions"]["category"]
    return found


def _order(body: dict[str, Any]) -> dict[str, Any]:
    order: dict[str, Any] = body["data"]["order"]
    assert order is not None, body
    return order


async def _grant(actors: Actors, *, by: str, categories: list[str]) -> None:
    await actors.reader(BANK)
    variables = {
        "input": {
            "bank": actors.client_ids[BANK],
            "categories": categories,
            "purpose": "trade finance review",
            # The export set keeps its sample's 2018 appTime; the import set is 2024.
            "dataFrom": "2018-01-01",
            "dataTo": "2024-12-31",
            "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        }
    }
    body = await actors.query(GRANT, as_=by, variables=variables)
    assert body.get("data") and body["data"]["grantConsent"]["errors"] == [], body


# --- what customs reads ----------------------------------------------------------------------


async def test_customs_reads_the_return_and_the_tax_bill_beside_the_estimate(
    hub_actors: Actors, cleared: dict[str, Any]
) -> None:
    body = await _read(hub_actors, IMPORT_NO, scopes="customs:read")
    assert "errors" not in body, body
    order = _order(body)
    release = cleared["import"]["CEB622"]
    inventory = order["inventory"]
    # The 621 carries no invtNo: the graph shows the one customs assigned in the 622.
    assert inventory["invtNo"] == release["invtNo"]
    assert inventory["entryId"] is None and inventory["cancellations"] == []

    (returned,) = inventory["returns"]
    assert returned["reason"] == "退货" and returned["appStatus"] == "2"
    assert returned["copNo"] == cleared["return"]["copNo"]
    assert returned["invtNo"] == release["invtNo"]
    assert returned["items"] == [{"gnum": 1, "qty": "1", "unit": "007"}]
    assert returned["declarationId"]

    bill = inventory["taxBill"]
    assert bill["taxNo"] == cleared["bill"]["taxNo"] and bill["status"] == "1"
    assert Decimal(bill["total"]) == Decimal(ASSESSED_VAT)
    assert Decimal(bill["valueAddedTax"]) == Decimal(ASSESSED_VAT)
    assert [line["gnum"] for line in bill["items"]] == [1, 2]
    assert sum(Decimal(line["valueAddedTax"]) for line in bill["items"]) == Decimal(ASSESSED_VAT)
    assert bill["items"][0]["gcode"] == "8541401000"

    # Customs' tax beside the hub's estimate, the difference and its flag.
    estimate = Decimal(cleared["import"]["CEB311"]["taxTotal"])
    assert Decimal(order["taxComputed"]) == estimate
    assert Decimal(order["taxAssessed"]) == Decimal(ASSESSED_VAT)
    assert Decimal(order["taxDifference"]) == Decimal(ASSESSED_VAT) - estimate
    assert "TAX_ASSESSED_DIFFERS" in order["riskFlags"]
    # An import waybill no list named yet.
    assert order["waybill"]["passages"] == [] and order["waybill"]["departure"] is None


async def test_customs_reads_a_standing_cancellation_until_the_broker_withdraws_it(
    hub_actors: Actors, cleared: dict[str, Any]
) -> None:
    body = await _read(hub_actors, CANCELLED_NO, scopes="customs:read")
    assert "errors" not in body, body
    inventory = _order(body)["inventory"]
    (cancelled,) = inventory["cancellations"]
    assert cancelled["reason"] == "消费者取消订单" and cancelled["appTime"] == "20240305100000"
    assert cancelled["invtNo"] == cleared["cancelled"]["CEB622"]["invtNo"]
    assert inventory["returns"] == [] and inventory["taxBill"] is None

    withdrawn = cancellation(cleared["cancelled"], appType="3")
    assert (await post_record(hub_actors, "CEB623", withdrawn))["accepted"]
    body = await _read(hub_actors, CANCELLED_NO, scopes="customs:read")
    assert _order(body)["inventory"]["cancellations"] == []


async def test_customs_reads_the_export_declaration_and_the_departure_evidence(
    hub_actors: Actors, cleared: dict[str, Any]
) -> None:
    body = await _read(hub_actors, EXPORT_NO, scopes="customs:read")
    assert "errors" not in body, body
    order = _order(body)
    assert order["inventory"]["entryId"] == ENTRY_ID
    assert order["inventory"]["sumNo"] == cleared["summary"]["sumNo"]
    assert order["inventory"]["invtNo"] == cleared["export"]["CEB604"]["invtNo"]
    arrived, left = order["waybill"]["passages"]
    assert arrived["kind"] == "ARRIVAL" and arrived["passedAt"] == "20240308180000"
    assert arrived["operatorCode"] == SITE_OPERATOR and arrived["domesticTrafNo"] == "苏C12345"
    assert arrived["voyageNo"] is None and arrived["leaveTime"] is None
    assert left["kind"] == "DEPARTURE" and left["passedAt"] == "20240309093000"
    assert order["waybill"]["departure"] == {
        "kind": "DEPARTURE",
        "leaveTime": "20240309093000",
        "voyageNo": "CA1234",
        "billNo": "999-12345675",
        "totalPackageNo": "P1",
    }
    # An export order has no tax to assess.
    assert order["taxAssessed"] is None and order["taxDifference"] is None


async def test_a_tax_bill_relayed_by_a_stranger_broker_never_reaches_the_graph(
    hub_actors: Actors,
) -> None:
    docs = import_set("ORD-GRAPH-I-0003")
    await post_all(hub_actors, docs, (*IMPORT_ORDER, "CEB622"))
    forged = tax_bill(docs, vat="0.01", agentCode=STRANGER_BROKER)
    assert (await post_record(hub_actors, "CEB816", forged))["accepted"]
    body = await _read(hub_actors, "ORD-GRAPH-I-0003", scopes="customs:read")
    order = _order(body)
    assert order["inventory"]["taxBill"] is None
    assert order["taxAssessed"] is None and order["taxDifference"] is None
    # The stranger relaying it reads nothing of the order it names.
    assert (await _read(hub_actors, "ORD-GRAPH-I-0003", as_=STRANGER_BROKER))["data"] == {
        "order": None
    }


# --- who reads what: the parties ---------------------------------------------------------------


@pytest.mark.parametrize("party", [BROKER, GUARANTOR])
async def test_broker_and_guarantor_read_clearance_and_tax_not_goods_or_logistics(
    hub_actors: Actors, cleared: dict[str, Any], party: str
) -> None:
    body = await _read(hub_actors, IMPORT_NO, as_=party)
    order = _order(body)
    inventory = order["inventory"]
    assert inventory["invtNo"] == cleared["import"]["CEB622"]["invtNo"]
    # Tax: the bill, its per-line taxes (tax, not goods), and the comparison.
    assert Decimal(inventory["taxBill"]["total"]) == Decimal(ASSESSED_VAT)
    assert [Decimal(line["valueAddedTax"]) > 0 for line in inventory["taxBill"]["items"]] == [
        True,
        True,
    ]
    assert Decimal(order["taxAssessed"]) == Decimal(ASSESSED_VAT)
    assert order["taxDifference"] is not None
    assert inventory["returns"][0]["reason"] == "退货"
    forbidden = _forbidden(body)
    # The returned lines are goods, the waybill and its passages logistics: not theirs.
    assert forbidden["order.inventory.returns.items"] == "goods"
    assert forbidden["order.inventory.taxBill.items.gcode"] == "goods"
    assert forbidden["order.waybill"] == "logistics"
    assert inventory["returns"][0]["items"] is None and order["waybill"] is None
    assert forbidden["order.riskFlags"] == "credit"


async def test_a_carrier_reads_the_departure_evidence_but_no_clearance_or_tax(
    hub_actors: Actors, cleared: dict[str, Any]
) -> None:
    body = await _read(hub_actors, EXPORT_NO, as_=CARRIER)
    order = _order(body)
    assert order["waybill"]["departure"]["voyageNo"] == "CA1234"
    assert [p["kind"] for p in order["waybill"]["passages"]] == ["ARRIVAL", "DEPARTURE"]
    assert order["inventory"] is None
    assert order["taxAssessed"] is None and order["taxDifference"] is None
    forbidden = _forbidden(body)
    assert forbidden["order.inventory"] == "clearance"
    assert forbidden["order.taxAssessed"] == "tax"
    assert forbidden["order.taxDifference"] == "tax"
    # Nor, on an import order, the tax bill customs assessed.
    body = await _read(hub_actors, IMPORT_NO, as_=CARRIER)
    assert _order(body)["inventory"] is None
    assert "120" not in str(body["data"])


async def test_a_payment_institution_reads_no_clearance_tax_or_passages(
    hub_actors: Actors, cleared: dict[str, Any]
) -> None:
    # The import order names it (payCode): it reads the header, not these.
    body = await _read(hub_actors, IMPORT_NO, as_=PAYER)
    order = _order(body)
    assert order["inventory"] is None and order["waybill"] is None
    assert order["taxAssessed"] is None and order["taxDifference"] is None
    forbidden = _forbidden(body)
    assert forbidden["order.inventory"] == "clearance"
    assert forbidden["order.waybill"] == "logistics"
    assert forbidden["order.taxAssessed"] == "tax"
    # An export order does not name it (only its receipt, 403, does): nothing at all.
    assert await _read(hub_actors, EXPORT_NO, as_=PAYER) == {"data": {"order": None}}


async def test_a_stranger_reads_nothing_of_these_orders(
    hub_actors: Actors, cleared: dict[str, Any]
) -> None:
    for order_no in (IMPORT_NO, CANCELLED_NO, EXPORT_NO):
        body = await _read(hub_actors, order_no, as_=STRANGER)
        assert body == {"data": {"order": None}}, body


async def test_platform_and_seller_read_all_of_it(
    hub_actors: Actors, cleared: dict[str, Any]
) -> None:
    for party in (PLATFORM, SELLER):
        body = await _read(hub_actors, IMPORT_NO, as_=party)
        assert "errors" not in body, body
        inventory = _order(body)["inventory"]
        assert inventory["returns"][0]["items"][0]["qty"] == "1"
        assert inventory["taxBill"]["items"][1]["gcode"] == "8518300000"


# --- banks and departments -----------------------------------------------------------------------


async def test_a_bank_consented_clearance_only_reads_no_tax_goods_or_logistics(
    hub_actors: Actors, cleared: dict[str, Any]
) -> None:
    await _grant(hub_actors, by=PLATFORM, categories=["CLEARANCE"])
    body = await hub_actors.query(
        CLEARANCE_VIEW, scopes=BANK, variables={"ebp": PLATFORM, "no": IMPORT_NO}
    )
    order = _order(body)
    inventory = order["inventory"]
    assert inventory["invtNo"] == cleared["import"]["CEB622"]["invtNo"]
    assert inventory["returns"][0]["reason"] == "退货"
    assert inventory["taxBill"] is None and inventory["returns"][0]["items"] is None
    assert order["waybill"] is None
    forbidden = _forbidden(body)
    assert forbidden["order.inventory.taxBill"] == "tax"
    assert forbidden["order.inventory.returns.items"] == "goods"
    assert forbidden["order.taxAssessed"] == "tax"
    assert forbidden["order.taxDifference"] == "tax"
    assert forbidden["order.waybill"] == "logistics"
    assert ASSESSED_VAT not in str(body["data"])

    body = await hub_actors.query(
        CLEARANCE_VIEW, scopes=BANK, variables={"ebp": PLATFORM, "no": EXPORT_NO}
    )
    order = _order(body)
    assert order["inventory"]["entryId"] == ENTRY_ID  # clearance: consented
    assert order["waybill"] is None and _forbidden(body)["order.waybill"] == "logistics"


async def test_a_bank_without_consent_reads_nothing(
    hub_actors: Actors, cleared: dict[str, Any]
) -> None:
    body = await hub_actors.query(
        CLEARANCE_VIEW, scopes=BANK, variables={"ebp": PLATFORM, "no": IMPORT_NO}
    )
    assert body == {"data": {"order": None}}, body


@pytest.mark.parametrize(
    ("scopes", "refused"),
    [
        # Forex reads clearance, not tax or logistics.
        (
            "forex:read",
            {
                "order.inventory.taxBill": "tax",
                "order.inventory.returns.items": "goods",
                "order.waybill": "logistics",
                "order.taxAssessed": "tax",
            },
        ),
        # Tax reads clearance, goods and tax, not logistics.
        ("tax:read", {"order.waybill": "logistics"}),
        # Market supervision reads goods, not clearance: no inventory at all.
        ("market:read", {"order.inventory": "clearance", "order.waybill": "logistics"}),
    ],
)
async def test_departments_read_these_fields_by_category(
    hub_actors: Actors, cleared: dict[str, Any], scopes: str, refused: dict[str, str]
) -> None:
    body = await _read(hub_actors, IMPORT_NO, scopes=scopes)
    forbidden = _forbidden(body)
    for path, category in refused.items():
        assert forbidden[path] == category, (path, forbidden)
    if scopes == "tax:read":
        assert Decimal(_order(body)["inventory"]["taxBill"]["total"]) == Decimal(ASSESSED_VAT)


async def test_a_broker_listing_its_inventories_reads_the_tax_bill_not_the_returned_goods(
    hub_actors: Actors, cleared: dict[str, Any]
) -> None:
    listing = """
    query($code: String!) { enterprise(code: $code) { inventories(first: 10) { edges { node {
      copNo taxBill { total } returns { reason items { qty } } } } } } }"""
    body = await hub_actors.query(listing, as_=BROKER, variables={"code": BROKER})
    nodes = [e["node"] for e in body["data"]["enterprise"]["inventories"]["edges"]]
    by_cop = {n["copNo"]: n for n in nodes}
    mine = by_cop[cleared["import"]["CEB621"]["copNo"]]
    assert Decimal(mine["taxBill"]["total"]) == Decimal(ASSESSED_VAT)
    assert mine["returns"][0]["reason"] == "退货" and mine["returns"][0]["items"] is None
    assert set(_forbidden(body).values()) == {"goods"}


# --- the access log -----------------------------------------------------------------------------


async def _events(actors: Actors, **reader: str) -> list[dict[str, Any]]:
    body = await actors.query(
        LOG, variables={"filter": {"operationName": "ReadClearance"}}, **reader
    )
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["accessLog"]["edges"]]


async def test_reading_these_fields_names_every_enterprise_and_record_in_the_access_log(
    hub_actors: Actors, cleared: dict[str, Any]
) -> None:
    assert "errors" not in await _read(hub_actors, IMPORT_NO, scopes="customs:read")
    (event,) = await _events(hub_actors, scopes="audit:read")
    assert event["department"] == "customs"
    assert {PLATFORM, SELLER, PAYER, CARRIER, BROKER, GUARANTOR} <= set(event["enterprises"])
    invt_no = cleared["import"]["CEB622"]["invtNo"]
    bill = cleared["bill"]
    assert f"cbec.inventory:{PLATFORM}|{IMPORT_NO}" in event["records"]
    assert (
        f"cbec.tax-bill:{invt_no}|{bill['taxNo']}|{bill['returnTime']}|{bill['status']}"
        in event["records"]
    )
    copy_no = cleared["return"]["copNo"]
    assert f"cbec.inventory-return:{PLATFORM}|{IMPORT_NO}|{copy_no}" in event["records"]

    # The guarantor, named only on the inventory and its tax bill, finds the read in its
    # own view of the log, with the tax bill among its records.
    (seen,) = await _events(hub_actors, as_=GUARANTOR)
    assert any(r.startswith("cbec.tax-bill:") for r in seen["records"])


async def test_reading_the_departure_evidence_names_the_lists_and_their_parties(
    hub_actors: Actors, cleared: dict[str, Any]
) -> None:
    assert "errors" not in await _read(hub_actors, EXPORT_NO, scopes="customs:read")
    (event,) = await _events(hub_actors, scopes="audit:read")
    assert {PLATFORM, SELLER, CARRIER, BROKER, OWNER, SITE_OPERATOR} <= set(event["enterprises"])
    lists = [r for r in event["records"] if r.startswith(("cbec.arrival:", "cbec.departure:"))]
    assert len(lists) == 2
    # The site operator named on the arrival list sees that its list was read.
    (seen,) = await _events(hub_actors, as_=SITE_OPERATOR)
    assert [r for r in seen["records"] if r.startswith("cbec.arrival:")]


# --- the README's example -----------------------------------------------------------------------


def _readme_query() -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.partition("After clearance (CEB 2022-05 records")[2]
    found = re.search(r"```graphql\n(.*?)```", section, re.S)
    assert found is not None, "README lacks the example after clearance"
    return found.group(1)


async def test_the_readme_example_runs_as_written(
    hub_actors: Actors, cleared: dict[str, Any]
) -> None:
    variables = {"ebp": PLATFORM, "no": EXPORT_NO}
    body = await hub_actors.query(_readme_query(), scopes="customs:read", variables=variables)
    assert "errors" not in body, body
    order = _order(body)
    assert order["inventory"]["entryId"] == ENTRY_ID
    assert order["waybill"]["departure"]["voyageNo"] == "CA1234"
