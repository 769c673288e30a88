"""The synthetic demo data set: deterministic, realistic in its mix, valid per the standards.

Also covers the region lookup the enterprises' USCCs resolve through.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from hub.demo import generator as g
from hub.demo.generator import (
    EXPORT_MISMATCH_KINDS,
    IMPORT_MISMATCH_KINDS,
    MISMATCH_KINDS,
    AnomalyKind,
    DemoDataSet,
    arrival_time,
    generate,
)
from hub.standards.formats import is_uscc
from hub.standards.validation import CompiledValidator, compile_validator, schema_uri
from hub.trade.matching import MatchStatus, match_order
from hub.trade.regions import Region, region_of
from hub.trade.rules_config import RuleConfig
from hub.trade.tax import retail_import_tax
from tests.standards.samples import STANDARDS_DIR

ORDERS = 2000
RULES = RuleConfig()
MISMATCHES = MISMATCH_KINDS


@pytest.fixture(scope="module")
def data() -> DemoDataSet:
    return generate(orders=ORDERS, seed=20240601)


def _of(data: DemoDataSet, standard: str) -> list[dict[str, Any]]:
    return [payload for reference, payload in data.records if reference == standard]


def _documents_by_order(data: DemoDataSet) -> dict[tuple[str, str], dict[str, Any]]:
    """Each order's documents, linked as the specification links them: the 2.0.0 waybills
    (511 / 505) name no platform, their inventory names them by logisticsCode + logisticsNo
    (an order without its inventory has no waybill either)."""
    slots = {g.ORDER: "order", g.PAYMENT: "payment", g.RECEIPT: "payment", g.INVENTORY: "inventory"}
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    waybills = {}
    for standard, payload in data.records:
        if standard in slots:
            key = (payload["ebpCode"], payload["orderNo"])
            grouped.setdefault(key, {})[slots[standard]] = payload
        elif standard == g.WAYBILL:
            waybills[(payload["logisticsCode"], payload["logisticsNo"])] = payload
    for documents in grouped.values():
        inventory = documents.get("inventory")
        if inventory is not None:
            waybill = waybills.get((inventory["logisticsCode"], inventory["logisticsNo"]))
            if waybill is not None:
                documents["waybill"] = waybill
    return grouped


def _validators() -> dict[str, CompiledValidator]:
    """Every shipped standard version, compiled against all the others."""
    resources = {
        schema_uri(path.parent.name, path.stem): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(STANDARDS_DIR.glob("*/*.*.*.json"))
    }
    return {
        f"{path.parent.name}@{path.stem}": compile_validator(
            schema=resources[uri], uri=uri, resources=resources
        )
        for path in sorted(STANDARDS_DIR.glob("*/*.*.*.json"))
        if (uri := schema_uri(path.parent.name, path.stem))
    }


# -- determinism ------------------------------------------------------------------------------


def test_the_same_seed_gives_identical_output() -> None:
    first, second = generate(orders=300, seed=7), generate(orders=300, seed=7)
    assert first.records == second.records
    assert first.enterprises == second.enterprises
    assert first.anomalies == second.anomalies


def test_a_different_seed_gives_different_records() -> None:
    assert generate(orders=300, seed=7).records != generate(orders=300, seed=8).records


@pytest.mark.slow
def test_ten_thousand_orders_are_generated() -> None:
    # The generator's speed is measured by benchmarks/bench_generator.py, not asserted here.
    big = generate(orders=10_000, seed=3)
    orders = [p for s, p in big.records if s == g.ORDER]
    assert len({(p["ebpCode"], p["orderNo"]) for p in orders}) == 10_000
    # One of them is changed after release (appType 2), a planted risk scenario.
    assert [p["appType"] for p in orders].count("2") == 1 == len(orders) - 10_000


def test_zero_orders_gives_only_enterprises() -> None:
    empty = generate(orders=0, seed=1)
    assert empty.records == []
    assert empty.summary() == {g.ENTERPRISE: len(empty.enterprises)}


def test_a_negative_order_count_is_refused() -> None:
    with pytest.raises(ValueError, match="orders"):
        generate(orders=-1, seed=1)


# -- the mix --------------------------------------------------------------------------------


def test_summary_counts_every_standard_version(data: DemoDataSet) -> None:
    summary = data.summary()
    assert summary[g.ORDER] == ORDERS + 1  # one order is changed (appType 2) after release
    assert set(summary) == {
        "cbec.enterprise@1.0.0",
        *(f"cbec.{name}@2.0.0" for name in (
            "order", "payment", "receipt", "waybill", "logistics-status", "inventory",
            "inventory-status", "inventory-cancel", "inventory-return", "tax-bill", "arrival",
            "departure", "summary-apply", "summary-result",
        )),
    }  # fmt: skip
    assert sum(summary.values()) == len(data.records) + len(data.enterprises)


def test_the_pilot_zones_six_modes_occur_import_and_export(data: DemoDataSet) -> None:
    modes = Counter((inv["ieFlag"], inv["tradeMode"]) for inv in _of(data, g.INVENTORY))
    assert set(modes) == {
        ("I", "9610"), ("I", "1210"), ("E", "9610"), ("E", "9710"), ("E", "9810"), ("E", "1210")
    }  # fmt: skip
    order_types = Counter(order["orderType"] for order in _of(data, g.ORDER))
    assert set(order_types) == {"I", "E", "B", "W"}
    # 9710 is B2B direct export (orderType B), 9810 overseas warehouse (W).
    by_order = {(o["ebpCode"], o["orderNo"]): o["orderType"] for o in _of(data, g.ORDER)}
    for inventory in _of(data, g.INVENTORY):
        expected = {"9710": "B", "9810": "W"}.get(inventory["tradeMode"])
        if expected is not None:
            assert by_order[(inventory["ebpCode"], inventory["orderNo"])] == expected


def test_enterprises_have_valid_usccs_in_xuzhou_or_nantong_and_cover_every_role(
    data: DemoDataSet,
) -> None:
    assert 10 <= len(data.enterprises) <= 16
    roles: set[str] = set()
    for standard, enterprise in data.enterprises:
        assert standard == g.ENTERPRISE
        code = enterprise["code"]
        assert isinstance(code, str) and len(code) == 18 and is_uscc(code)
        region = region_of(code=code)
        assert region is not None and region.city in {"Xuzhou", "Nantong"}
        assert region.district is not None
        roles.update(enterprise["roles"])
    assert roles == {"ebp", "ebc", "logistics", "payment", "agent", "warehouse", "guarantor"}


def test_buyers_are_synthetic_people(data: DemoDataSet) -> None:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for order in _of(data, g.ORDER):
        if order["orderType"] != "I":
            continue
        number = order["buyerIdNumber"]
        # Well-formed (18 chars, MOD 11-2 check) but in province 99, which does not exist.
        assert len(number) == 18 and number.startswith("99")
        total = sum(int(digit) * weight for digit, weight in zip(number, weights, strict=False))
        assert "10X98765432"[total % 11] == number[17]
        assert order["buyerTelephone"].startswith("100")


def test_some_payments_arrive_before_their_orders(data: DemoDataSet) -> None:
    seen_orders: set[tuple[str, str]] = set()
    early = 0
    for standard, payload in data.records:
        key = (payload.get("ebpCode"), payload.get("orderNo"))
        if standard == g.ORDER:
            seen_orders.add(key)  # type: ignore[arg-type]
        elif standard == g.PAYMENT and key not in seen_orders:
            early += 1
    assert 0 < early < len(_of(data, g.PAYMENT)) / 2


def test_records_arrive_in_time_order(data: DemoDataSet) -> None:
    # appTime, or when customs answered for its own messages (622/604/816/792 have none).
    times = [arrival_time(payload) for _, payload in data.records]
    assert times == sorted(times)
    assert all(len(t) == 14 and t.isdigit() for t in times)


# -- planted faults ---------------------------------------------------------------------------


def test_mismatch_share_is_about_eight_percent_across_each_directions_kinds(
    data: DemoDataSet,
) -> None:
    kinds = Counter((anomaly.order_no[6], anomaly.kind) for anomaly in data.anomalies)
    mismatched = sum(n for (_, kind), n in kinds.items() if kind in MISMATCHES)
    assert 0.06 * ORDERS <= mismatched <= 0.10 * ORDERS
    orders = Counter(order["orderType"] == "I" for order in _of(data, g.ORDER))
    # About a third of 8 % of each direction's orders per kind (order numbers say I or E).
    for direction, planted, count in (("I", IMPORT_MISMATCH_KINDS, orders[True]),
                                      ("E", EXPORT_MISMATCH_KINDS, orders[False])):  # fmt: skip
        assert all(kinds[(direction, kind)] > 0.015 * count for kind in planted)
        assert not any(kinds[(direction, kind)] for kind in set(MISMATCHES) - set(planted))


def test_matching_finds_exactly_the_planted_faults(data: DemoDataSet) -> None:
    planted: dict[tuple[str, str], set[AnomalyKind]] = {}
    for anomaly in data.anomalies:
        planted.setdefault((anomaly.ebp_code, anomaly.order_no), set()).add(anomaly.kind)
    statuses: Counter[MatchStatus] = Counter()
    for key, documents in _documents_by_order(data).items():
        order = documents["order"]
        result = match_order(
            order=order,
            payment=documents.get("payment"),
            waybill=documents.get("waybill"),
            inventory=documents.get("inventory"),
            direction="I" if order["orderType"] == "I" else "E",
            config=RULES,
        )
        kinds = planted.get(key, set())
        if kinds & MISMATCHES:
            expected = MatchStatus.MISMATCH
        elif AnomalyKind.INCOMPLETE in kinds:
            expected = MatchStatus.INCOMPLETE
        else:
            expected = MatchStatus.MATCHED
        assert result.status is expected, (key, kinds, result)
        statuses[result.status] += 1
    assert statuses[MatchStatus.MATCHED] > 0.85 * ORDERS


def test_about_three_percent_of_imports_exceed_the_single_limit(data: DemoDataSet) -> None:
    imports = [order for order in _of(data, g.ORDER) if order["orderType"] == "I"]
    over = [a for a in data.anomalies if a.kind is AnomalyKind.SINGLE_LIMIT_EXCEEDED]
    assert 0.015 * len(imports) <= len(over) <= 0.05 * len(imports)
    by_key = {(o["ebpCode"], o["orderNo"]): o for o in imports}
    for anomaly in over:
        order = by_key[(anomaly.ebp_code, anomaly.order_no)]
        assert Decimal(order["goodsValue"]) > Decimal(5000)
        assert len(order["items"]) > 1  # several items: not the indivisible-item exemption


def test_a_few_buyers_pass_the_annual_limit(data: DemoDataSet) -> None:
    orders = {(o["ebpCode"], o["orderNo"]): o for o in _of(data, g.ORDER)}
    annual = [a for a in data.anomalies if a.kind is AnomalyKind.ANNUAL_LIMIT_EXCEEDED]
    buyers = {orders[(a.ebp_code, a.order_no)]["buyerIdNumber"] for a in annual}
    assert 1 <= len(buyers) <= 5


def test_limit_breaches_are_rejected_by_customs(data: DemoDataSet) -> None:
    limits = {AnomalyKind.SINGLE_LIMIT_EXCEEDED, AnomalyKind.ANNUAL_LIMIT_EXCEEDED}
    breached = {(a.ebp_code, a.order_no) for a in data.anomalies if a.kind in limits}
    # A 622 names its inventory by the broker and copNo, not by its order.
    order_of = {
        (i["agentCode"], i["copNo"]): (i["ebpCode"], i["orderNo"]) for i in _of(data, g.INVENTORY)
    }
    receipts = [
        (order_of[(s["agentCode"], s["copNo"])], s["returnStatus"])
        for s in _of(data, g.INVENTORY_STATUS)
    ]
    rejected = {key for key, status in receipts if status == "100"}
    released = {key for key, status in receipts if status == "800"}
    with_inventory = set(order_of.values())
    assert breached & with_inventory <= rejected
    assert not breached & released


def test_clean_import_orders_declare_the_tax_the_rules_compute(data: DemoDataSet) -> None:
    for documents in _documents_by_order(data).values():
        order = documents["order"]
        if order["orderType"] != "I" or "inventory" not in documents:
            continue
        assessment = retail_import_tax(order=order, inventory=documents["inventory"], config=RULES)
        assert assessment.matches, (order["orderNo"], assessment)


# -- validation against the shipped standards ---------------------------------------------------


def test_every_generated_record_validates_against_its_standard_version(
    data: DemoDataSet,
) -> None:
    validators = _validators()
    failures: Counter[str] = Counter()
    first: dict[str, Any] = {}
    for standard, payload in data.enterprises + data.records:
        validator = validators[standard]
        if not validator.is_valid(payload):
            failures[standard] += 1
            first.setdefault(standard, validator.errors(payload)[:3])
    assert not failures, (failures, first)


# -- regions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "city", "district"),
    [
        ("320302", "Xuzhou", "Gulou"),
        ("320382", "Xuzhou", "Pizhou"),
        ("320612", "Nantong", "Tongzhou"),
        ("320685", "Nantong", "Hai'an"),
        ("320611", "Nantong", "Gangzha"),  # abolished in 2020, still in older USCCs
        ("320399", "Xuzhou", None),  # unknown district of a known city
        ("110105", None, None),  # outside the zone
    ],
)
def test_region_of_a_division(code: str, city: str | None, district: str | None) -> None:
    assert region_of(code=code) == Region(division=code, city=city, district=district)


def test_region_of_a_uscc_reads_positions_three_to_eight() -> None:
    region = region_of(code="91320602MA1X3N8Q5U")
    assert region == Region(division="320602", city="Nantong", district="Chongchuan")


@pytest.mark.parametrize("code", ["3206960001", "32A602", "", "91ABCDEFMA1X3N8Q5U"])
def test_codes_without_a_division_have_no_region(code: str) -> None:
    assert region_of(code=code) is None
