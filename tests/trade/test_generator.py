"""The synthetic demo data set: deterministic, realistic in its mix, valid per the standards.

Also covers the region lookup the enterprises' USCCs resolve through.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from hub.demo.generator import AnomalyKind, DemoDataSet, generate
from hub.standards.formats import is_uscc
from hub.trade.matching import MatchStatus, match_order
from hub.trade.regions import Region, region_of
from hub.trade.rules_config import RuleConfig
from hub.trade.tax import retail_import_tax
from tests.standards.samples import shipped_validator

ORDERS = 2000
RULES = RuleConfig()
MISMATCHES = {
    AnomalyKind.AMOUNT_MISMATCH,
    AnomalyKind.CONSIGNEE_MISMATCH,
    AnomalyKind.LINE_NAME_MISMATCH,
}


@pytest.fixture(scope="module")
def data() -> DemoDataSet:
    return generate(orders=ORDERS, seed=20240601)


def _of(data: DemoDataSet, standard: str) -> list[dict[str, Any]]:
    return [payload for standard_id, payload in data.records if standard_id == standard]


def _documents_by_order(data: DemoDataSet) -> dict[tuple[str, str], dict[str, Any]]:
    slots = {
        "cbec.order": "order",
        "cbec.payment": "payment",
        "cbec.receipt": "payment",
        "cbec.waybill": "waybill",
        "cbec.inventory": "inventory",
    }
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for standard, payload in data.records:
        if standard in slots:
            key = (payload["ebpCode"], payload["orderNo"])
            grouped.setdefault(key, {})[slots[standard]] = payload
    return grouped


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
    assert big.summary()["cbec.order"] == 10_000


def test_zero_orders_gives_only_enterprises() -> None:
    empty = generate(orders=0, seed=1)
    assert empty.records == []
    assert empty.summary() == {"cbec.enterprise": len(empty.enterprises)}


def test_a_negative_order_count_is_refused() -> None:
    with pytest.raises(ValueError, match="orders"):
        generate(orders=-1, seed=1)


# -- the mix --------------------------------------------------------------------------------


def test_summary_counts_every_standard(data: DemoDataSet) -> None:
    summary = data.summary()
    assert summary["cbec.order"] == ORDERS
    assert set(summary) == {
        "cbec.enterprise",
        "cbec.order",
        "cbec.payment",
        "cbec.receipt",
        "cbec.waybill",
        "cbec.logistics-status",
        "cbec.inventory",
        "cbec.inventory-status",
    }
    assert sum(summary.values()) == len(data.records) + len(data.enterprises)


def test_all_five_trade_modes_occur_with_import_and_export(data: DemoDataSet) -> None:
    modes = Counter((inv["ieFlag"], inv["tradeMode"]) for inv in _of(data, "cbec.inventory"))
    assert {mode for _, mode in modes} == {"9610", "1210", "1239", "9710", "9810"}
    assert {flag for flag, _ in modes} == {"I", "E"}
    order_types = Counter(order["orderType"] for order in _of(data, "cbec.order"))
    assert set(order_types) == {"I", "E", "B", "W"}


def test_enterprises_have_valid_usccs_in_xuzhou_or_nantong_and_cover_every_role(
    data: DemoDataSet,
) -> None:
    assert 10 <= len(data.enterprises) <= 16
    roles: set[str] = set()
    for standard, enterprise in data.enterprises:
        assert standard == "cbec.enterprise"
        code = enterprise["code"]
        assert isinstance(code, str) and len(code) == 18 and is_uscc(code)
        region = region_of(code=code)
        assert region is not None and region.city in {"Xuzhou", "Nantong"}
        assert region.district is not None
        roles.update(enterprise["roles"])
    assert roles == {"ebp", "ebc", "logistics", "payment", "agent", "warehouse", "guarantor"}


def test_buyers_are_synthetic_people(data: DemoDataSet) -> None:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for order in _of(data, "cbec.order"):
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
        if standard == "cbec.order":
            seen_orders.add(key)  # type: ignore[arg-type]
        elif standard == "cbec.payment" and key not in seen_orders:
            early += 1
    assert 0 < early < len(_of(data, "cbec.payment")) / 2


def test_records_arrive_in_app_time_order(data: DemoDataSet) -> None:
    times = [payload["appTime"] for _, payload in data.records]
    assert times == sorted(times)


# -- planted faults ---------------------------------------------------------------------------


def test_mismatch_share_is_about_eight_percent_across_the_three_kinds(data: DemoDataSet) -> None:
    kinds = Counter(anomaly.kind for anomaly in data.anomalies)
    mismatched = sum(kinds[kind] for kind in MISMATCHES)
    assert 0.06 * ORDERS <= mismatched <= 0.10 * ORDERS
    assert all(kinds[kind] > 0.015 * ORDERS for kind in MISMATCHES)


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
    imports = [order for order in _of(data, "cbec.order") if order["orderType"] == "I"]
    over = [a for a in data.anomalies if a.kind is AnomalyKind.SINGLE_LIMIT_EXCEEDED]
    assert 0.015 * len(imports) <= len(over) <= 0.05 * len(imports)
    by_key = {(o["ebpCode"], o["orderNo"]): o for o in imports}
    for anomaly in over:
        order = by_key[(anomaly.ebp_code, anomaly.order_no)]
        assert Decimal(order["goodsValue"]) > Decimal(5000)
        assert len(order["items"]) > 1  # several items: not the indivisible-item exemption


def test_a_few_buyers_pass_the_annual_limit(data: DemoDataSet) -> None:
    orders = {(o["ebpCode"], o["orderNo"]): o for o in _of(data, "cbec.order")}
    annual = [a for a in data.anomalies if a.kind is AnomalyKind.ANNUAL_LIMIT_EXCEEDED]
    buyers = {orders[(a.ebp_code, a.order_no)]["buyerIdNumber"] for a in annual}
    assert 1 <= len(buyers) <= 5


def test_limit_breaches_are_rejected_by_customs(data: DemoDataSet) -> None:
    limits = {AnomalyKind.SINGLE_LIMIT_EXCEEDED, AnomalyKind.ANNUAL_LIMIT_EXCEEDED}
    breached = {(a.ebp_code, a.order_no) for a in data.anomalies if a.kind in limits}
    rejected = {
        (status["ebpCode"], status["orderNo"])
        for status in _of(data, "cbec.inventory-status")
        if status["returnStatus"] == 100
    }
    released = {
        (status["ebpCode"], status["orderNo"])
        for status in _of(data, "cbec.inventory-status")
        if status["returnStatus"] == 800
    }
    with_inventory = {(i["ebpCode"], i["orderNo"]) for i in _of(data, "cbec.inventory")}
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


def test_every_generated_record_validates_against_its_standard(data: DemoDataSet) -> None:
    validators = {standard: shipped_validator(standard) for standard in data.summary()}
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
