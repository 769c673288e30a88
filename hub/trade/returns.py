"""What returned goods (CEB625) give back of an order's annual quota.

A return names lines of the inventory (`gnum`, the inventory line's number) and the
quantity returned, at most the line's (the specification: 小于等于原清单的成交计量单位的
数量). The order counts its dutiable value against the buyer's year (hub.trade.limits);
each inventory line carries its share of it in proportion to its totalPrice, and a return
gives back that share times the part of the line's quantity returned. A quantity above the
line's counts as the whole line, a line the inventory lacks as nothing: a return never
gives back more than the order counted. Several returns of one order add up, to the order's
value at most.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from hub.trade.limits import limit_value
from hub.trade.rules_config import RuleConfig
from hub.trade.tax import read_amount

ZERO = Decimal(0)


def _amount(document: Mapping[str, Any], field: str) -> Decimal:
    try:
        value = read_amount(document=document, field=field)
    except ValueError:
        return ZERO
    return value if value is not None and value > 0 else ZERO


def returned_value(
    *,
    order: Mapping[str, Any],
    inventory: Mapping[str, Any],
    returns: Iterable[Mapping[str, Any]],
    config: RuleConfig,
) -> Decimal:
    """The dutiable value the returns give back (0 … the order's limit value)."""
    value = limit_value(order=order, inventory=inventory, config=config)
    lines = {
        line.get("gnum"): line for line in inventory.get("items") or () if isinstance(line, Mapping)
    }
    goods = sum((_amount(line, "totalPrice") for line in lines.values()), ZERO)
    if value <= 0 or goods <= 0:
        return ZERO
    returned_qty: dict[Any, Decimal] = {}
    for document in returns:
        for line in document.get("items") or ():
            if isinstance(line, Mapping) and line.get("gnum") in lines:
                returned_qty[line["gnum"]] = returned_qty.get(line["gnum"], ZERO) + _amount(
                    line, "qty"
                )
    given = ZERO
    for gnum, qty in returned_qty.items():
        line = lines[gnum]
        declared = _amount(line, "qty")
        part = Decimal(1) if declared <= 0 or qty >= declared else qty / declared
        given += value * _amount(line, "totalPrice") / goods * part
    return min(value, given).quantize(Decimal("0.00001"))
