"""One scenario per risk rule: data built to trigger it, data just below it stays quiet, and
the finding names its evidence. The rules are pure functions over the graph's facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from hub.risk import rules
from hub.risk.facts import ChangeFact, Facts, OrderFact, PaymentFact
from hub.risk.ruleset import DEFAULT_RULE_SET
from hub.stats.service import ForexBand, ForexTotal

NOW = datetime(2025, 6, 30, 12, 0, 0)
EBP = "91320303MA1PLT001X"
EBC = "91320311MA1EBC002X"


def params(rule_id: str) -> dict[str, object]:
    """The shipped rule set's parameters of a rule."""
    [rule] = [r for r in DEFAULT_RULE_SET["rules"] if r["id"] == rule_id]
    return dict(rule["params"])


def order(no: str, value: str | int, at: datetime, **extra: object) -> OrderFact:
    fields: dict[str, object] = {
        "ref": f"cbec.order:{EBP}|{no}",
        "ebp_code": EBP,
        "order_no": no,
        "ebc_code": EBC,
        "direction": "I",
        "buyer_id": "320300199001010010",
        "goods_value": Decimal(str(value)),
        "at": at,
        "consignee": "张三",
        "phone": "000-0000-0001",
        "address": "徐州市 1 号",
    }
    fields.update(extra)
    return OrderFact(**fields)  # type: ignore[arg-type]


# --- split orders ------------------------------------------------------------------------


def test_split_orders_under_the_single_limit_are_found() -> None:
    start = NOW - timedelta(days=2)
    orders = [order(f"S{i}", 1900, start + timedelta(hours=3 * i)) for i in range(3)]

    [finding] = rules.split_orders(Facts(orders=orders), params("split-orders"), NOW)

    assert finding.enterprise_code == EBP
    assert finding.evidence == tuple(o.ref for o in orders)
    assert "CNY 5700" in finding.summary


def test_split_orders_just_below_stay_quiet() -> None:
    start = NOW - timedelta(days=2)
    # Two orders only; or three that stay within the limit; or three spread over 25 hours.
    two = [order(f"S{i}", 2600, start + timedelta(hours=i)) for i in range(2)]
    within = [order(f"S{i}", 1666, start + timedelta(hours=i)) for i in range(3)]
    spread = [order(f"S{i}", 1900, start + timedelta(hours=12.5 * i)) for i in range(3)]
    for orders in (two, within, spread):
        assert rules.split_orders(Facts(orders=orders), params("split-orders"), NOW) == []


def test_split_orders_of_different_buyers_are_not_one_cluster() -> None:
    start = NOW - timedelta(days=2)
    orders = [
        order(f"S{i}", 1900, start + timedelta(hours=i), buyer_id=f"32030019900101001{i}")
        for i in range(3)
    ]
    assert rules.split_orders(Facts(orders=orders), params("split-orders"), NOW) == []


# --- identity misuse -------------------------------------------------------------------------


def test_one_buyer_id_with_many_consignees_is_found() -> None:
    orders = [
        order(f"M{i}", 100, NOW, consignee=f"收货人{i}", phone=f"000-1{i}", address=f"地址{i}")
        for i in range(3)
    ]

    [finding] = rules.identity_misuse(Facts(orders=orders), params("identity-misuse"), NOW)

    assert finding.enterprise_code == EBP
    assert set(finding.evidence) == {o.ref for o in orders}
    assert "3 consignees" in finding.summary


def test_a_buyer_with_two_consignees_stays_quiet() -> None:
    orders = [order(f"M{i}", 100, NOW, consignee=f"收货人{i % 2}") for i in range(4)]
    assert rules.identity_misuse(Facts(orders=orders), params("identity-misuse"), NOW) == []


# --- payments without logistics --------------------------------------------------------------


def _payment(no: str, at: datetime) -> PaymentFact:
    return PaymentFact(ref=f"cbec.payment:{EBP}|{no}", ebp_code=EBP, order_no=no, at=at)


def test_a_payment_with_no_waybill_or_inventory_after_seven_days_is_found() -> None:
    facts = Facts(
        orders=[order("P1", 100, NOW - timedelta(days=9))],
        payments=[_payment("P1", NOW - timedelta(days=8))],
    )

    [finding] = rules.payment_without_logistics(facts, params("payment-without-logistics"), NOW)

    assert finding.enterprise_code == EBC  # the seller of the order it pays
    assert finding.evidence == (f"cbec.payment:{EBP}|P1",)


def test_a_payment_six_days_old_or_with_a_waybill_stays_quiet() -> None:
    young = Facts(payments=[_payment("P1", NOW - timedelta(days=6, hours=23))])
    shipped = Facts(payments=[_payment("P2", NOW - timedelta(days=30))], with_waybill={(EBP, "P2")})
    declared = Facts(
        payments=[_payment("P3", NOW - timedelta(days=30))], with_inventory={(EBP, "P3")}
    )
    for facts in (young, shipped, declared):
        assert (
            rules.payment_without_logistics(facts, params("payment-without-logistics"), NOW) == []
        )


# --- exports without departure ---------------------------------------------------------------


def test_an_export_order_with_no_departure_after_fifteen_days_is_found() -> None:
    export = order("E1", 900, NOW - timedelta(days=16), direction="E")

    [finding] = rules.export_without_departure(
        Facts(orders=[export]), params("export-without-departure"), NOW
    )

    assert (finding.enterprise_code, finding.evidence) == (EBC, (export.ref,))


def test_a_departed_or_recent_export_stays_quiet() -> None:
    departed = Facts(
        orders=[order("E1", 900, NOW - timedelta(days=40), direction="E")],
        departed={(EBP, "E1")},
    )
    recent = Facts(orders=[order("E2", 900, NOW - timedelta(days=14), direction="E")])
    imported = Facts(orders=[order("E3", 900, NOW - timedelta(days=40))])
    for facts in (departed, recent, imported):
        assert rules.export_without_departure(facts, params("export-without-departure"), NOW) == []


# --- volume spikes ---------------------------------------------------------------------------


def _history(per_window: int, recent: int, value: int = 100) -> list[OrderFact]:
    orders = []
    for window in range(1, 4):
        for i in range(per_window):
            orders.append(order(f"H{window}-{i}", value, NOW - timedelta(days=30 * window + 1)))
    orders += [order(f"R{i}", value, NOW - timedelta(days=1)) for i in range(recent)]
    return orders


def test_a_spike_against_the_enterprises_own_history_is_found() -> None:
    orders = _history(per_window=4, recent=12)

    [finding] = rules.volume_spike(Facts(orders=orders), params("volume-spike"), NOW)

    assert finding.enterprise_code == EBC
    assert set(finding.evidence) == {o.ref for o in orders if o.order_no.startswith("R")}


def test_growth_below_three_times_the_mean_stays_quiet() -> None:
    orders = _history(per_window=4, recent=11)  # 11 < 3 × 4
    assert rules.volume_spike(Facts(orders=orders), params("volume-spike"), NOW) == []
    # No history at all is no spike either.
    fresh = [order(f"R{i}", 100, NOW - timedelta(days=1)) for i in range(50)]
    assert rules.volume_spike(Facts(orders=fresh), params("volume-spike"), NOW) == []


def test_an_amount_spike_is_found_with_steady_volume() -> None:
    orders = _history(per_window=10, recent=10)
    orders = [
        replace(o, goods_value=Decimal(5000)) if o.order_no.startswith("R") else o for o in orders
    ]

    [finding] = rules.volume_spike(Facts(orders=orders), params("volume-spike"), NOW)

    assert "CNY 50000" in finding.summary


# --- round amounts ---------------------------------------------------------------------------


def test_a_cluster_of_round_amounts_is_found() -> None:
    orders = [order(f"R{i}", 1000 + 100 * i, NOW) for i in range(5)] + [
        order(f"X{i}", "123.45", NOW) for i in range(5)
    ]

    [finding] = rules.round_amounts(Facts(orders=orders), params("round-amounts"), NOW)

    assert finding.enterprise_code == EBC
    assert set(finding.evidence) == {o.ref for o in orders if o.order_no.startswith("R")}


def test_four_round_amounts_or_a_small_share_stay_quiet() -> None:
    four = [order(f"R{i}", 1000, NOW) for i in range(4)]
    diluted = [order(f"R{i}", 1000, NOW) for i in range(5)] + [
        order(f"X{i}", "99.5", NOW) for i in range(6)
    ]
    for orders in (four, diluted):
        assert rules.round_amounts(Facts(orders=orders), params("round-amounts"), NOW) == []


# --- forex band crossings --------------------------------------------------------------------


def _total(usd: str, band: ForexBand) -> ForexTotal:
    return ForexTotal(EBC, None, 2025, Decimal(usd), Decimal(0), band, 0)


def test_a_seller_over_the_safe_threshold_is_found() -> None:
    facts = Facts(forex=[_total("200000.01", ForexBand.OVER)])

    [finding] = rules.forex_band(facts, params("forex-band"), NOW)

    assert finding.enterprise_code == EBC
    assert finding.evidence == (f"forex.total:{EBC}:2025",)


def test_a_seller_watched_but_not_over_stays_quiet() -> None:
    facts = Facts(forex=[_total("200000.00", ForexBand.WATCH)])
    assert rules.forex_band(facts, params("forex-band"), NOW) == []


# --- changes after release -------------------------------------------------------------------


def test_a_change_declared_after_release_is_found() -> None:
    facts = Facts(
        orders=[order("C1", 100, NOW)],
        changes=[ChangeFact("declaration:change1", (EBP, "C1"), "declaration:release1")],
    )

    [finding] = rules.changed_after_release(facts, params("changed-after-release"), NOW)

    assert finding.enterprise_code == EBC
    assert finding.evidence == ("declaration:release1", "declaration:change1")


def test_no_change_after_release_stays_quiet() -> None:
    facts = Facts(orders=[order("C1", 100, NOW)])
    assert rules.changed_after_release(facts, params("changed-after-release"), NOW) == []


def test_the_shipped_rule_set_names_every_rule_once() -> None:
    from hub.risk.ruleset import problems

    assert problems(DEFAULT_RULE_SET) == []
    assert sorted(r["id"] for r in DEFAULT_RULE_SET["rules"]) == sorted(rules.RULES)
    assert problems({"rules": [{"id": "nope", "severity": "X"}]}) != []
