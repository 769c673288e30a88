"""The risk rules: pure functions from the graph's facts and a rule's parameters to findings.

Decisions the issue leaves open:
- Split orders are import orders of one buyer on one platform, each under the single limit,
  declared within `window_hours` of the first, at least `min_orders` of them, together over
  the limit. The finding is the platform's (it takes the orders).
- Identity misuse counts, per platform and buyer ID, the distinct consignees, consignee
  phones and consignee addresses; any of them reaching `max_distinct` is a hit.
- "After N days" is measured from the declared time to `as_of` (today, or the replay's day).
- A spike compares an enterprise's (the seller's) orders in the last `window_days` with the
  mean of the `history_windows` windows before it; a seller without history has no spike.
- Round amounts are goods values that are whole multiples of `unit`.
- Evidence is capped at `MAX_EVIDENCE` records per finding, oldest first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hub.risk.facts import Facts, OrderFact

MAX_EVIDENCE = 50
Params = Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    """What one rule found about one enterprise."""

    enterprise_code: str
    evidence: tuple[str, ...]
    summary: str


def _refs(orders: list[OrderFact]) -> tuple[str, ...]:
    return tuple(o.ref for o in sorted(orders, key=lambda o: (o.at or datetime.min, o.ref)))[
        :MAX_EVIDENCE
    ]


def split_orders(facts: Facts, params: Params, as_of: datetime) -> list[Finding]:
    """Orders split to stay under the single limit: one buyer, one platform, a short window."""
    limit = Decimal(str(params.get("single_limit_cny", 5000)))
    window = timedelta(hours=float(params.get("window_hours", 24)))
    least = int(params.get("min_orders", 3))
    groups: dict[tuple[str, str], list[OrderFact]] = defaultdict(list)
    for o in facts.orders:
        if o.direction == "I" and o.buyer_id and o.at and o.goods_value < limit:
            groups[(o.ebp_code, o.buyer_id)].append(o)
    findings = []
    for (platform, _), orders in sorted(groups.items()):
        orders.sort(key=lambda o: (o.at, o.ref))
        start = 0
        for end in range(len(orders)):
            while orders[end].at - orders[start].at > window:  # type: ignore[operator]
                start += 1
            cluster = orders[start : end + 1]
            total = sum((o.goods_value for o in cluster), Decimal(0))
            if len(cluster) >= least and total > limit:
                # The longest cluster from this start: extend while it stays in the window.
                while end + 1 < len(orders) and orders[end + 1].at - orders[start].at <= window:  # type: ignore[operator]
                    end += 1
                cluster = orders[start : end + 1]
                total = sum((o.goods_value for o in cluster), Decimal(0))
                findings.append(
                    Finding(
                        platform,
                        _refs(cluster),
                        f"{len(cluster)} orders of one buyer within {window} total CNY "
                        f"{total}, each under the CNY {limit} single limit",
                    )
                )
                break
    return findings


def identity_misuse(facts: Facts, params: Params, as_of: datetime) -> list[Finding]:
    """One buyer ID used with many consignees, phones or addresses."""
    most = int(params.get("max_distinct", 3))
    groups: dict[tuple[str, str], list[OrderFact]] = defaultdict(list)
    for o in facts.orders:
        if o.buyer_id:
            groups[(o.ebp_code, o.buyer_id)].append(o)
    findings = []
    for (platform, _), orders in sorted(groups.items()):
        counts = {
            "consignees": len({o.consignee for o in orders if o.consignee}),
            "phones": len({o.phone for o in orders if o.phone}),
            "addresses": len({o.address for o in orders if o.address}),
        }
        over = {k: v for k, v in counts.items() if v >= most}
        if over:
            what = ", ".join(f"{v} {k}" for k, v in over.items())
            findings.append(Finding(platform, _refs(orders), f"one buyer ID with {what}"))
    return findings


def payment_without_logistics(facts: Facts, params: Params, as_of: datetime) -> list[Finding]:
    """Payments with no waybill or inventory after N days (non-genuine trade)."""
    days = int(params.get("days", 7))
    sellers = facts.seller_of()
    late: dict[str, list[str]] = defaultdict(list)
    for p in facts.payments:
        key = (p.ebp_code, p.order_no)
        if p.at is None or as_of - p.at < timedelta(days=days):
            continue
        if key in facts.with_waybill or key in facts.with_inventory:
            continue
        late[sellers.get(key, p.ebp_code)].append(p.ref)
    return [
        Finding(
            code,
            tuple(sorted(refs))[:MAX_EVIDENCE],
            f"{len(refs)} payment(s) with no waybill or inventory after {days} days",
        )
        for code, refs in sorted(late.items())
    ]


def export_without_departure(facts: Facts, params: Params, as_of: datetime) -> list[Finding]:
    """Export orders with no departure (509) after N days."""
    days = int(params.get("days", 15))
    late: dict[str, list[OrderFact]] = defaultdict(list)
    for o in facts.orders:
        if o.direction != "E" or o.at is None or as_of - o.at < timedelta(days=days):
            continue
        if (o.ebp_code, o.order_no) not in facts.departed:
            late[o.ebc_code].append(o)
    return [
        Finding(
            code,
            _refs(orders),
            f"{len(orders)} export order(s) with no departure after {days} days",
        )
        for code, orders in sorted(late.items())
    ]


def volume_spike(facts: Facts, params: Params, as_of: datetime) -> list[Finding]:
    """Sudden volume or amount spikes against the enterprise's own history."""
    window = timedelta(days=int(params.get("window_days", 30)))
    windows = int(params.get("history_windows", 3))
    factor = Decimal(str(params.get("factor", 3)))
    least = int(params.get("min_orders", 10))
    recent: dict[str, list[OrderFact]] = defaultdict(list)
    before: dict[str, list[OrderFact]] = defaultdict(list)
    for o in facts.orders:
        if o.at is None or o.at > as_of:
            continue
        if as_of - o.at < window:
            recent[o.ebc_code].append(o)
        elif as_of - o.at < window * (windows + 1):
            before[o.ebc_code].append(o)
    findings = []
    for code, orders in sorted(recent.items()):
        history = before.get(code, [])
        if not history or len(orders) < least:
            continue
        mean_count = Decimal(len(history)) / windows
        mean_amount = sum((o.goods_value for o in history), Decimal(0)) / windows
        amount = sum((o.goods_value for o in orders), Decimal(0))
        if Decimal(len(orders)) >= factor * mean_count or amount >= factor * mean_amount:
            findings.append(
                Finding(
                    code,
                    _refs(orders),
                    f"{len(orders)} orders (CNY {amount}) in {window.days} days against a "
                    f"mean of {mean_count:.1f} (CNY {mean_amount:.2f}) before",
                )
            )
    return findings


def round_amounts(facts: Facts, params: Params, as_of: datetime) -> list[Finding]:
    """Clusters of round amounts: many goods values that are whole multiples of a unit."""
    unit = Decimal(str(params.get("unit", 100)))
    least = int(params.get("min_orders", 5))
    share = Decimal(str(params.get("min_share", "0.5")))
    by_seller: dict[str, list[OrderFact]] = defaultdict(list)
    for o in facts.orders:
        by_seller[o.ebc_code].append(o)
    findings = []
    for code, orders in sorted(by_seller.items()):
        round_ = [o for o in orders if o.goods_value > 0 and o.goods_value % unit == 0]
        if len(round_) >= least and Decimal(len(round_)) >= share * len(orders):
            findings.append(
                Finding(
                    code,
                    _refs(round_),
                    f"{len(round_)} of {len(orders)} orders at whole multiples of CNY {unit}",
                )
            )
    return findings


def forex_band(facts: Facts, params: Params, as_of: datetime) -> list[Finding]:
    """Forex band crossings: a seller's yearly receipts or payments over SAFE's threshold."""
    bands = set(params.get("bands", ["OVER"]))
    return [
        Finding(
            t.enterprise_code,
            (f"forex.total:{t.enterprise_code}:{t.year}",),
            f"{t.year} receipts USD {t.receipts_usd}, payments USD {t.payments_usd}: band "
            f"{t.band.value}",
        )
        for t in facts.forex
        if t.band.value in bands
    ]


def changed_after_release(facts: Facts, params: Params, as_of: datetime) -> list[Finding]:
    """Declarations changed after customs released the goods."""
    sellers = facts.seller_of()
    by_seller: dict[str, list[str]] = defaultdict(list)
    for change in facts.changes:
        by_seller[sellers.get(change.order, change.order[0])] += [change.released_by, change.ref]
    return [
        Finding(
            code,
            tuple(dict.fromkeys(refs))[:MAX_EVIDENCE],
            f"{len(refs) // 2} change(s) declared after release",
        )
        for code, refs in sorted(by_seller.items())
    ]


Rule = Callable[[Facts, Params, datetime], list[Finding]]
# The rules a rule set can name, by id: the code is here, the thresholds are in the set.
RULES: dict[str, Rule] = {
    "split-orders": split_orders,
    "identity-misuse": identity_misuse,
    "payment-without-logistics": payment_without_logistics,
    "export-without-departure": export_without_departure,
    "volume-spike": volume_spike,
    "round-amounts": round_amounts,
    "forex-band": forex_band,
    "changed-after-release": changed_after_release,
}
