"""What follows an order's customs declaration in the demo data set (CEB 2022-05 shapes).

Pure builders the generator (`hub.demo.generator`) calls once all orders are written:
- import: the electronic tax bill (816) customs assesses for each released inventory, and a
  few cancellations (623) and returns (625, partial quantities) relayed by the broker;
- export: the carriers' arrival (507) and departure (509) lists, each listing every parcel of
  one carrier at one customs office in one window, and per broker, seller, trade mode and
  month a summary application (701) and its result (792), which gives the inventories the
  customs declaration number (`entryId`) export tax refunds need.

Times are offsets in seconds from New Year of the data set's year; `time(offset)` formats
one as YYYYMMDDhhmmss. Every value is invented (numbers follow the specification's lengths).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.trade.rules_config import RuleConfig
from hub.trade.tax import retail_import_tax

__all__ = [
    "Cleared",
    "arrival_lists",
    "departure_lists",
    "new_guid",
    "requests",
    "summaries",
    "tax_bill",
]

Payload = dict[str, Any]
Clock = Callable[[int], str]
Parcel = tuple[str, str]  # (logisticsCode, logisticsNo)

CENT = Decimal("0.01")
_WINDOW = 6 * 3600  # arrival lists: one per carrier, customs office and six hours
_FLIGHTS = (9 * 3600 + 1800, 21 * 3600 + 1800)  # departures at 09:30 and 21:30
_DAY = 86400
_VOYAGE_PREFIX = {"2": "COS", "3": "X", "4": "T", "5": "CA"}  # sea, rail, road, air
# The customs offices' cities, for the trucks' plates (苏C Xuzhou, 苏F Nantong).
_PLATE = {"2305": "苏C", "2306": "苏F"}


@dataclass(frozen=True, slots=True)
class Cleared:
    """An inventory customs accepted, with its order and waybill and customs' numbers."""

    order: Payload
    inventory: Payload
    waybill: Payload | None
    pre_no: str
    invt_no: str
    released: int  # when customs released it (offset)


def new_guid(rng: random.Random) -> str:
    """A message guid (36 characters, upper case as the e-port writes them), from `rng` so
    the same seed gives the same data."""
    # What uuid.UUID(int=..., version=4) gives, without building UUID objects (a third of
    # the generator's time went there): version 4, RFC 4122 variant.
    number = rng.getrandbits(128) & ~(0xF << 76) & ~(0x3 << 62) | (4 << 76) | (0x2 << 62)
    text = f"{number:032X}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low))


def _head(rng: random.Random, time: Clock, offset: int) -> Payload:
    return {"guid": new_guid(rng), "appType": "1", "appTime": time(offset), "appStatus": "2"}


def _millis(rng: random.Random, time: Clock, offset: int) -> str:
    """A customs time with milliseconds (YYYYMMDDhhmmssSSS)."""
    return time(offset) + f"{_between(rng, 0, 1000):03d}"


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


# --- import -------------------------------------------------------------------------------


def _line_taxes(
    *, order: Mapping[str, Any], inventory: Mapping[str, Any], config: RuleConfig
) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(dutiable value, VAT, consumption tax) of each line, each taxed on its own share of
    freight and insurance, so consumption tax lands on the lines that owe it."""
    lines = list(order["items"])
    by_gnum = {line["gnum"]: line for line in inventory["items"]}
    total = sum((Decimal(line["totalPrice"]) for line in lines), Decimal(0))
    shares = []
    for line in lines:
        weight = Decimal(line["totalPrice"]) / total if total else Decimal(1) / len(lines)
        part = {
            **order,
            "items": [line],
            "goodsValue": line["totalPrice"],
            "freight": str(Decimal(order["freight"]) * weight),
            "discount": "0",
        }
        part_inventory = {
            **inventory,
            "items": [by_gnum[line["gnum"]]],
            "insuredFee": str(Decimal(inventory["insuredFee"]) * weight),
        }
        taxed = retail_import_tax(order=part, inventory=part_inventory, config=config)
        shares.append((taxed.dutiable_value, taxed.vat, taxed.consumption_tax))
    return shares


def tax_bill(*, rng: random.Random, time: Clock, cleared: Cleared, config: RuleConfig) -> Payload:
    """The 816 customs sends for a released import inventory: no tariff within the retail
    limits, and the VAT and consumption tax the hub's rules compute (so the assessed tax
    equals the estimate), split over the lines."""
    order, inventory = cleared.order, cleared.inventory
    assessed = retail_import_tax(order=order, inventory=inventory, config=config)
    if len(order["items"]) == 1:  # the order's tax is its line's (half the imports)
        shares = [(assessed.dutiable_value, assessed.vat, assessed.consumption_tax)]
    else:
        shares = _line_taxes(order=order, inventory=inventory, config=config)
    vat_left, consumption_left = assessed.vat, assessed.consumption_tax
    items = []
    for position, (line, (value, vat, consumption)) in enumerate(
        zip(order["items"], shares, strict=True)
    ):
        last = position == len(shares) - 1
        # The last line takes what rounding left over, so the lines add up to the head.
        line_vat = vat_left if last else vat.quantize(CENT, rounding=ROUND_HALF_UP)
        line_consumption = (
            consumption_left if last else consumption.quantize(CENT, rounding=ROUND_HALF_UP)
        )
        vat_left -= line_vat
        consumption_left -= line_consumption
        gcode = next(i["gcode"] for i in inventory["items"] if i["gnum"] == line["gnum"])
        items.append(
            {
                "gnum": line["gnum"],
                "gcode": gcode,
                "taxPrice": _money(value),
                "customsTax": "0.00",
                "valueAddedTax": _money(line_vat),
                "consumptionTax": _money(line_consumption),
            }
        )
    return {
        "guid": new_guid(rng),
        "returnTime": _millis(rng, time, cleared.released + _between(rng, 60, 3600)),
        "invtNo": cleared.invt_no,
        "taxNo": f"{cleared.invt_no}T01",
        "customsTax": _money(assessed.tariff),
        "valueAddedTax": _money(assessed.vat),
        "consumptionTax": _money(assessed.consumption_tax),
        "status": "1",  # generated (2 summarised, 3 void)
        "assureCode": inventory["assureCode"],
        "ebcCode": inventory["ebcCode"],
        "logisticsCode": inventory["logisticsCode"],
        "agentCode": inventory["agentCode"],
        "customsCode": inventory["customsCode"],
        "items": items,
    }


_REQUEST_FIELDS = (
    "customsCode", "orderNo", "ebpCode", "ebpName", "ebcCode", "ebcName", "logisticsNo",
    "logisticsCode", "logisticsName", "copNo", "buyerIdType", "buyerIdNumber", "buyerName",
    "buyerTelephone", "agentCode", "agentName",
)  # fmt: skip


def _request(rng: random.Random, time: Clock, cleared: Cleared, offset: int) -> Payload:
    inventory = cleared.inventory
    return {
        **_head(rng, time, offset),
        **{name: inventory[name] for name in _REQUEST_FIELDS},
        "invtNo": cleared.invt_no,
    }


def requests(
    *, rng: random.Random, time: Clock, candidates: Sequence[Cleared]
) -> tuple[list[Payload], list[Payload]]:
    """Cancellations (623, about 1 % of the candidates) and returns (625, about 2 %, one
    line each, a part of its quantity where it has several), at least one of each when
    there are two candidates."""
    if len(candidates) < 2:
        return [], []
    cancels = max(1, len(candidates) // 100)
    returns = max(1, len(candidates) // 50)
    chosen = rng.sample(list(candidates), min(len(candidates), cancels + returns))
    cancellations = [
        _request(rng, time, cleared, cleared.released + _between(rng, 3600, 3 * _DAY))
        | {"preNo": cleared.pre_no, "reason": "the buyer cancelled the order"}
        for cleared in chosen[:cancels]
    ]
    goods_returns = []
    for cleared in chosen[cancels:]:
        lines = cleared.inventory["items"]
        line = rng.choice(lines)
        qty = Decimal(line["qty"])
        returned = qty - 1 if qty > 1 else qty  # keep one where there are several
        goods_returns.append(
            _request(rng, time, cleared, cleared.released + _between(rng, 3 * _DAY, 20 * _DAY))
            | {
                # A return is a new document of the broker: its own copNo.
                "copNo": f"R{cleared.inventory['copNo']}"[:20],
                "reason": "goods returned by the buyer",
                "items": [
                    {
                        "gnum": line["gnum"],
                        "gcode": line["gcode"],
                        "gname": line["gname"],
                        "qty": str(returned),
                        "unit": line["unit"],
                    }
                ],
            }
        )
    return cancellations, goods_returns


# --- export -------------------------------------------------------------------------------


def arrival_lists(
    *,
    rng: random.Random,
    time: Clock,
    parcels: Sequence[tuple[Payload, str, int]],
    operator: tuple[str, str],
) -> tuple[list[Payload], dict[Parcel, int]]:
    """507 lists: the parcels (waybill, customs office, moment it reached the site) of one
    carrier at one office within six hours, declared when the window closes; returns the
    lists and when each parcel was listed as arrived."""
    groups: dict[tuple[str, str, int], list[Payload]] = {}
    for waybill, customs, moment in parcels:
        groups.setdefault((waybill["logisticsCode"], customs, moment // _WINDOW), []).append(
            waybill
        )
    lists: list[Payload] = []
    listed: dict[Parcel, int] = {}
    for number, ((code, customs, window), waybills) in enumerate(sorted(groups.items()), 1):
        closes = (window + 1) * _WINDOW
        lists.append(
            {
                **_head(rng, time, closes + _between(rng, 60, 900)),
                "customsCode": customs,
                "copNo": f"A{customs}{time(closes)[:12]}{number:05d}",
                "operatorCode": operator[0],
                "operatorName": operator[1],
                "ieFlag": "E",
                "trafMode": "4",  # by road to the supervision site
                "domesticTrafNo": f"{_PLATE.get(customs, '苏')}{_between(rng, 10000, 99999)}",
                "logisticsCode": code,
                "logisticsName": waybills[0]["logisticsName"],
                "msgCount": 1,
                "msgSeqNo": 1,
                "items": [
                    {"gnum": gnum, "logisticsNo": waybill["logisticsNo"]}
                    for gnum, waybill in enumerate(waybills, 1)
                ],
            }
        )
        listed |= {(code, w["logisticsNo"]): closes for w in waybills}
    return lists, listed


def _next_departure(moment: int) -> int:
    day, second = divmod(moment, _DAY)
    for slot in _FLIGHTS:
        if second <= slot:
            return day * _DAY + slot
    return (day + 1) * _DAY + _FLIGHTS[0]


def departure_lists(
    *, rng: random.Random, time: Clock, parcels: Sequence[tuple[Payload, str, str, int]]
) -> tuple[list[Payload], dict[Parcel, int]]:
    """509 lists: released parcels (waybill, customs office, transport mode, release) leave
    on the first departure at least two hours after release, one list per carrier, office,
    mode and departure; returns the lists and when each parcel left."""
    groups: dict[tuple[str, str, str, int], list[Payload]] = {}
    for waybill, customs, mode, release in parcels:
        leaves = _next_departure(release + 2 * 3600)
        groups.setdefault((waybill["logisticsCode"], customs, mode, leaves), []).append(waybill)
    lists: list[Payload] = []
    left: dict[Parcel, int] = {}
    for number, ((code, customs, mode, leaves), waybills) in enumerate(sorted(groups.items()), 1):
        prefix = _VOYAGE_PREFIX.get(mode, "V")
        lists.append(
            {
                **_head(rng, time, leaves + _between(rng, 600, 3600)),
                "customsCode": customs,
                "copNo": f"D{customs}{time(leaves)[:12]}{number:05d}",
                "logisticsCode": code,
                "logisticsName": waybills[0]["logisticsName"],
                "trafMode": mode,
                "voyageNo": f"{prefix}{_between(rng, 1000, 9999)}",
                "billNo": f"{prefix}-{_between(rng, 10**7, 10**8)}",
                "leaveTime": time(leaves),
                "msgCount": 1,
                "msgSeqNo": 1,
                "items": [
                    {"gnum": gnum, "logisticsNo": waybill["logisticsNo"]}
                    for gnum, waybill in enumerate(waybills, 1)
                ],
            }
        )
        left |= {(code, w["logisticsNo"]): leaves for w in waybills}
    return lists, left


def _month_bounds(year: int, month_key: str) -> tuple[int, int]:
    """Offsets of the start of a month (YYYYMM) and of the next one."""
    start = datetime(int(month_key[:4]), int(month_key[4:]), 1)
    after = datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
    base = datetime(year, 1, 1)
    return int((start - base).total_seconds()), int((after - base).total_seconds())


def summaries(
    *, rng: random.Random, time: Clock, cleared: Sequence[Cleared], year: int
) -> tuple[list[Payload], list[Payload]]:
    """Per broker, seller, trade mode, customs office and month of release: the summary
    application (701) sent early the next month and customs' result (792) a few days later,
    with the declaration's entryId and one line per inventory line (gseqno: the
    declaration line of the line's HS code)."""
    groups: dict[tuple[str, str, str, str, str], list[Cleared]] = {}
    for item in cleared:
        inventory = item.inventory
        month = time(item.released)[:6]
        key = (
            inventory["agentCode"],
            inventory["ebcCode"],
            inventory["tradeMode"],
            inventory["customsCode"],
            month,
        )
        groups.setdefault(key, []).append(item)
    applications, results = [], []
    for number, ((agent, ebc, _mode, customs, month), members) in enumerate(
        sorted(groups.items()), 1
    ):
        first = members[0].inventory
        start, after = _month_bounds(year, month)
        applied = after + 10 * 3600 + _between(rng, 0, 3 * 3600)
        parties = {
            "agentCode": agent,
            "agentName": first["agentName"],
            "ebcCode": ebc,
            "ebcName": first["ebcName"],
            "declAgentCode": agent,
            "declAgentName": first["agentName"],
        }
        applications.append(
            {
                **_head(rng, time, applied),
                "customsCode": customs,
                "copNo": f"S{customs}{month}{number:06d}",
                **parties,
                "summaryFlag": "1",  # by consignor only
                "itemNameFlag": "1",  # by the inventories' own goods names
                "startTime": time(start),
                "endTime": time(after - 1),
                "msgCount": 1,
                "msgSeqNo": 1,
                "items": [{"invtNo": m.invt_no} for m in members],
            }
        )
        declaration_lines: dict[str, int] = {}
        lines = []
        for member in members:
            for line in member.inventory["items"]:
                gseqno = declaration_lines.setdefault(line["gcode"], len(declaration_lines) + 1)
                lines.append(
                    {
                        "invtNo": member.invt_no,
                        "logisticsNo": member.inventory["logisticsNo"],
                        "gseqno": gseqno,
                        "gnum": line["gnum"],
                        "gcode": line["gcode"],
                    }
                )
        gross = sum((Decimal(m.inventory["grossWeight"]) for m in members), Decimal(0))
        net = sum((Decimal(m.inventory["netWeight"]) for m in members), Decimal(0))
        results.append(
            {
                "guid": new_guid(rng),
                "customsCode": customs,
                "sumNo": f"{customs}{month}{number:08d}",
                "opDate": _millis(rng, time, applied + _between(rng, _DAY, 3 * _DAY)),
                "declSeqNo": f"{customs}{month[:4]}{number:010d}",
                "entryId": f"{customs}{month[:4]}0{number:09d}",  # 0: an export declaration
                "decState": "10",
                **parties,
                "grossWeight": str(gross),
                "netWeight": str(net),
                "msgCount": 1,
                "msgSeqNo": 1,
                "items": lines,
            }
        )
    return applications, results
