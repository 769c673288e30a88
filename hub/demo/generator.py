"""A deterministic synthetic data set for demos, tests and benchmarks.

`generate(orders=..., seed=...)` builds enterprises of the Xuzhou / Nantong pilot zone and,
for every order, the documents the standards define: orders, payments (import) or receipts
(export), waybills, logistics milestones, inventories and customs receipts. Records come in
arrival order (by appTime), so some payments arrive before their orders, as in real traffic.

Everything is invented. Enterprise names are pinyin-like inventions. People are synthetic:
their ID numbers are well-formed (birth date, MOD 11-2 check digit) but start with "99", a
province code GB/T 2260 does not assign, and their phone numbers start with "100", which no
mobile network issues, so no record can point at a real person.

Deliberate faults, recorded in `DemoDataSet.anomalies`:
- about 8 % of orders have one mismatch (amount paid, consignee, or an inventory line name);
- about 2 % of orders are incomplete (one document not sent yet);
- about 3 % of import orders exceed the CNY 5,000 single limit (several items);
- a few heavy buyers pass the CNY 26,000 annual limit.
Import taxTotal is computed with `hub.trade.tax`, so every clean import order is consistent.
"""

from __future__ import annotations

import gc
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from operator import itemgetter
from typing import Any

from hub.standards.formats import uscc_check_char
from hub.trade.limits import RiskFlag, buyer_year_key, check_retail_limits, limit_value
from hub.trade.rules_config import DEFAULT_RULES
from hub.trade.tax import retail_import_tax

__all__ = [
    "Anomaly",
    "AnomalyKind",
    "DemoDataSet",
    "generate",
]

ENTERPRISE = "cbec.enterprise"
ORDER = "cbec.order"
PAYMENT = "cbec.payment"
RECEIPT = "cbec.receipt"
WAYBILL = "cbec.waybill"
LOGISTICS_STATUS = "cbec.logistics-status"
INVENTORY = "cbec.inventory"
INVENTORY_STATUS = "cbec.inventory-status"

Payload = dict[str, Any]
Record = tuple[str, Payload]

CENT = Decimal("0.01")
GRAM = Decimal("0.001")
USD_RATE = Decimal("7.1")  # fixed illustrative CNY per USD for USD-priced B2B orders

MISMATCH_SHARE = 0.08
INCOMPLETE_SHARE = 0.02
SINGLE_LIMIT_SHARE = 0.03  # of import orders
HEAVY_BUYER_ORDERS = 8  # orders of CNY 3,500-4,700 each: passes 26,000 with the 7th or 8th


class AnomalyKind(StrEnum):
    """The deliberate fault an order carries."""

    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    CONSIGNEE_MISMATCH = "CONSIGNEE_MISMATCH"
    LINE_NAME_MISMATCH = "LINE_NAME_MISMATCH"
    INCOMPLETE = "INCOMPLETE"
    SINGLE_LIMIT_EXCEEDED = "SINGLE_LIMIT_EXCEEDED"
    ANNUAL_LIMIT_EXCEEDED = "ANNUAL_LIMIT_EXCEEDED"


MISMATCH_KINDS = (
    AnomalyKind.AMOUNT_MISMATCH,
    AnomalyKind.CONSIGNEE_MISMATCH,
    AnomalyKind.LINE_NAME_MISMATCH,
)


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A deliberate fault: which order (platform code + order number) and what kind."""

    ebp_code: str
    order_no: str
    kind: AnomalyKind


@dataclass(frozen=True, slots=True)
class DemoDataSet:
    """Enterprises and records as (standard_id, payload) pairs, plus the faults planted."""

    enterprises: list[Record]
    records: list[Record]
    anomalies: tuple[Anomaly, ...] = field(default=())

    def summary(self) -> dict[str, int]:
        """Count the records of each standard (enterprises included), sorted by standard id."""
        counts = Counter(standard for standard, _ in self.enterprises)
        counts.update(standard for standard, _ in self.records)
        return dict(sorted(counts.items()))


# -- the cast ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Enterprise:
    key: str
    code: str
    customs_code: str
    name: str
    roles: tuple[str, ...]
    credit: str
    address: str


# key, division, organisation code (9 chars of the USCC alphabet), name, roles, credit class
_ENTERPRISE_SPECS: tuple[tuple[str, str, str, str, tuple[str, ...], str, str], ...] = (
    ("ebp_xz", "320303", "MA1W4K2L7", "Pengyun Kuajing E-Commerce Platform Co., Ltd.",
     ("ebp",), "ADVANCED", "Yunlong District, Xuzhou"),
    ("ebp_nt", "320602", "MA1X3N8Q5", "Haitong Yigou Cross-Border Platform Co., Ltd.",
     ("ebp",), "GENERAL", "Chongchuan District, Nantong"),
    ("ebc_textile", "320612", "MA1R7T2D9", "Nantong Jinsha Jiafang Home Textiles Co., Ltd.",
     ("ebc",), "ADVANCED", "Tongzhou District, Nantong"),
    ("ebc_garlic", "320382", "MA1P5H6C3", "Pizhou Dasuan Agricultural Products Co., Ltd.",
     ("ebc",), "GENERAL", "Pizhou, Xuzhou"),
    ("ebc_machinery", "320312", "MA1K8M4B2", "Xuzhou Gongji Machinery Parts Co., Ltd.",
     ("ebc",), "ADVANCED", "Tongshan District, Xuzhou"),
    ("ebc_home", "320381", "MA1G2F9E6", "Xinyi Senmu Home and Solar Lighting Co., Ltd.",
     ("ebc",), "GENERAL", "Xinyi, Xuzhou"),
    ("ebc_import", "320311", "MA1U6Y3A8", "Huaihai Haiwai Youxuan Trading Co., Ltd.",
     ("ebc",), "GENERAL", "Quanshan District, Xuzhou"),
    ("logistics_jh", "320681", "MA1Q9W5N4", "Jianghai Suda International Logistics Co., Ltd.",
     ("logistics",), "ADVANCED", "Qidong, Nantong"),
    ("logistics_hh", "320322", "MA1T4X7J1", "Huaihai Kuaiyun Supply Chain Co., Ltd.",
     ("logistics",), "GENERAL", "Peixian, Xuzhou"),
    ("pay_tz", "320602", "MA1L3C8R6", "Tongzhi Zhifu Payment Services Co., Ltd.",
     ("payment",), "ADVANCED", "Chongchuan District, Nantong"),
    ("pay_ph", "320302", "MA1D7B2P5", "Pengcheng Huitong Payment Technology Co., Ltd.",
     ("payment",), "GENERAL", "Gulou District, Xuzhou"),
    ("agent", "320303", "MA1H5K9T2", "Huaihai Baoguan Customs Brokerage Co., Ltd.",
     ("agent",), "ADVANCED", "Yunlong District, Xuzhou"),
    ("warehouse", "320611", "MA1N2Q6W8", "Nantong Zongbao Bonded Warehousing Co., Ltd.",
     ("warehouse", "agent"), "ADVANCED", "Gangzha District, Nantong"),
    ("guarantor", "320685", "MA1F8R3U7", "Jiangbei Xinbao Guarantee Co., Ltd.",
     ("guarantor",), "GENERAL", "Hai'an, Nantong"),
)  # fmt: skip


def _make_uscc(division: str, organisation: str) -> str:
    # "9" registered by market regulation, "1" company; then division and organisation code.
    body = f"91{division}{organisation}"
    return body + uscc_check_char(body)


def _enterprises() -> dict[str, _Enterprise]:
    result = {}
    for index, (key, division, organisation, name, roles, credit, place) in enumerate(
        _ENTERPRISE_SPECS, start=1
    ):
        result[key] = _Enterprise(
            key=key,
            code=_make_uscc(division, organisation),
            # Customs registration codes start with the city's 4 division digits.
            customs_code=f"{division[:4]}96{index:04d}",
            name=name,
            roles=roles,
            credit=credit,
            address=f"{10 + index} Kejian Road, {place}",
        )
    return result


@dataclass(frozen=True, slots=True)
class _Product:
    name: str
    gmodel: str
    gcode: str
    unit: str  # customs unit of the transaction
    unit1: str  # statutory unit
    qty1_per_unit: Decimal
    kg_per_unit: Decimal
    low: int  # CNY price range
    high: int
    origins: tuple[str, ...]


def _p(
    name: str,
    gmodel: str,
    gcode: str,
    unit: str,
    unit1: str,
    qty1: str,
    kg: str,
    low: int,
    high: int,
    origins: tuple[str, ...],
) -> _Product:
    return _Product(
        name, gmodel, gcode, unit, unit1, Decimal(qty1), Decimal(kg), low, high, origins
    )


# Units: 006 set, 007 piece, 011 article, 015 strip, 035 kg, 095 litre, 122 can, 142 bottle.
# Countries: 116 Japan, 133 Korea, 142 China, 305 France, 307 Italy, 309 Netherlands,
# 502 USA, 601 Australia, 609 New Zealand.
_IMPORT_PRODUCTS = (
    _p("Hydrating face cream", "50 ml jar, skin care", "3304990099", "142", "035", "0.05",
       "0.12", 180, 680, ("305", "116", "133")),
    _p("Matte lipstick", "3.5 g, shade 05", "3304100000", "007", "035", "0.004",
       "0.03", 120, 320, ("305", "116", "133")),
    _p("Eau de parfum", "100 ml spray", "3303000000", "142", "035", "0.1",
       "0.35", 450, 1200, ("305", "307")),
    _p("Infant formula stage 1", "800 g can, 0-6 months", "1901101000", "122", "035", "0.8",
       "1.0", 210, 420, ("609", "309", "601")),
    _p("Fish oil softgels", "400 capsules per bottle", "2106909090", "142", "035", "0.45",
       "0.55", 150, 360, ("601", "502")),
    _p("Vitamin C chewable tablets", "120 tablets per bottle", "2106909090", "142", "035",
       "0.2", "0.28", 90, 220, ("601", "502")),
    _p("Dry red wine", "750 ml, 13.5 % vol", "2204210000", "142", "095", "0.75",
       "1.35", 160, 1200, ("305", "601", "307")),
    _p("Moisturising shampoo", "500 ml bottle", "3305100000", "142", "035", "0.55",
       "0.62", 60, 160, ("116", "133")),
)  # fmt: skip

# Nantong home textiles and bedding, Pizhou garlic, Xuzhou construction machinery parts,
# Xinyi wooden furniture and solar lamps: what the two cities export.
_EXPORT_PRODUCTS: dict[str, tuple[_Product, ...]] = {
    "ebc_textile": (
        _p("Cotton duvet cover set", "queen size, 4 pieces, printed", "6302210000", "006",
           "035", "1.6", "1.7", 120, 380, ("142",)),
        _p("Mulberry silk quilt", "200 x 230 cm, 2 kg filling", "9404909000", "015", "035",
           "2.6", "2.8", 380, 1200, ("142",)),
        _p("Cotton bath towel set", "3 pieces, 500 gsm", "6302600000", "006", "035", "0.9",
           "1.0", 60, 150, ("142",)),
        _p("Memory foam pillow", "60 x 40 cm", "9404909000", "007", "035", "1.1", "1.3",
           50, 180, ("142",)),
    ),
    "ebc_garlic": (
        _p("Fresh garlic bulbs", "normal white, 5.0 cm up, 10 kg carton", "0703201000",
           "035", "035", "1", "1", 8, 15, ("142",)),
        _p("Dehydrated garlic flakes", "grade A, 20 kg bag", "0712905000", "035", "035", "1",
           "1", 20, 35, ("142",)),
        _p("Black garlic", "500 g jar, fermented", "2005999990", "122", "035", "0.5", "0.7",
           35, 80, ("142",)),
    ),
    "ebc_machinery": (
        _p("Excavator bucket tooth", "for 20 t class excavators", "8431499900", "007",
           "035", "3.5", "3.5", 80, 260, ("142",)),
        _p("Hydraulic cylinder seal kit", "boom cylinder, NBR/PU", "8484900000", "006",
           "035", "0.6", "0.6", 150, 480, ("142",)),
        _p("Track roller", "for crawler excavators, forged", "8431499900", "007", "035",
           "38", "38", 900, 2400, ("142",)),
        _p("Hydraulic cylinder", "bore 120 mm, stroke 1200 mm", "8412210000", "007", "035",
           "45", "45", 2500, 6800, ("142",)),
    ),
    "ebc_home": (
        _p("Solid oak bedside table", "2 drawers, 45 x 40 x 55 cm", "9403509900", "011",
           "035", "14", "14", 400, 1100, ("142",)),
        _p("Wooden dining chair", "beech, lacquered", "9401690000", "011", "035", "6", "6",
           180, 520, ("142",)),
        _p("Solar garden light", "LED, 2 W, IP65", "9405410000", "007", "035", "0.4", "0.4",
           25, 90, ("142",)),
        _p("Solar street lamp", "LED, 60 W, with pole bracket", "9405410000", "007", "035",
           "9", "9", 300, 900, ("142",)),
    ),
}  # fmt: skip

_SURNAMES = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu",
    "Xu", "Sun", "Hu", "Zhu", "Gao", "Lin", "He", "Guo", "Ma", "Luo",
)  # fmt: skip
_SYLLABLES = (
    "an", "bo", "chen", "di", "fang", "hao", "jia", "jun", "lan", "lei", "min", "ning",
    "qian", "rui", "shan", "ting", "wei", "xin", "yan", "yu", "zhe", "zi", "hui", "kai",
)  # fmt: skip
_CITIES = (
    ("Shanghai", "Pudong"), ("Beijing", "Chaoyang"), ("Nanjing", "Gulou"),
    ("Xuzhou", "Yunlong"), ("Nantong", "Chongchuan"), ("Hangzhou", "Xihu"),
    ("Shenzhen", "Nanshan"), ("Chengdu", "Wuhou"), ("Wuhan", "Hongshan"), ("Suzhou", "Gusu"),
)  # fmt: skip
_STREETS = ("Huaihai", "Heping", "Jiefang", "Renmin", "Xinhua", "Binhe", "Yingbin", "Qingnian")
# Overseas consignees: (country code, synthetic consignee, city).
_DESTINATIONS = (
    ("502", "Harbor Lane Home Goods LLC", "Seattle"),
    ("303", "Northmere Living Ltd", "Leeds"),
    ("304", "Elbtal Handelshaus GmbH", "Hamburg"),
    ("344", "Volga Stroy Parts LLC", "Kazan"),
    ("122", "Seri Impian Trading Sdn Bhd", "Penang"),
    ("136", "Chao Phraya Garden Co., Ltd.", "Bangkok"),
    ("141", "Song Hong Machinery JSC", "Hai Phong"),
    ("601", "Southern Cross Homewares Pty Ltd", "Brisbane"),
)  # fmt: skip
# Lookup tables: formatting clock times with f-strings was the slowest step of a run.
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))
_HHMM = tuple(f"{h:02d}{m:02d}" for h in range(24) for m in range(60))
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Illustrative 4-digit customs codes for the Xuzhou and Nantong offices.
_CUSTOMS = {"3203": "2305", "3206": "2306"}


@dataclass(slots=True)
class _Person:
    name: str
    id_number: str
    phone: str
    address: str
    reg_no: str


def _between(rng: random.Random, low: int, high: int) -> int:
    """Return an integer in [low, high): random.randrange's checks cost a third of the run."""
    return low + int(rng.random() * (high - low))


def _id_number(rng: random.Random) -> str:
    # "99" is no province in GB/T 2260: well-formed yet never a real person's number.
    birth = datetime(1960, 1, 1) + timedelta(days=_between(rng, 0, 16_000))
    body = f"99{_between(rng, 10, 100):02d}{_between(rng, 1, 100):02d}{birth:%Y%m%d}"
    body += f"{_between(rng, 0, 1000):03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    return body + check


def _phone(rng: random.Random) -> str:
    return f"100{_between(rng, 0, 10**8):08d}"


def _person(rng: random.Random, index: int) -> _Person:
    given = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((1, 2))))
    city, district = rng.choice(_CITIES)
    return _Person(
        name=f"{rng.choice(_SURNAMES)} {given.capitalize()}",
        id_number=_id_number(rng),
        phone=_phone(rng),
        address=(
            f"Room {_between(rng, 101, 2999)}, Building {_between(rng, 1, 40)}, "
            f"{_between(rng, 1, 999)} {rng.choice(_STREETS)} Road, {district} District, {city}"
        ),
        reg_no=f"u{index:07d}",
    )


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _weight(value: Decimal) -> str:
    return str(value.quantize(GRAM, rounding=ROUND_HALF_UP))


# -- generation ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    """What one order will be, decided before any payload is written."""

    index: int
    offset: int  # seconds after New Year of the order
    direction: str
    trade_mode: str
    scenario: AnomalyKind | None
    heavy_buyer: int | None = None
    missing: str | None = None  # the document not sent yet (incomplete orders)


_IMPORT_MODES = (("9610", 0.45), ("1210", 0.45), ("1239", 0.10))
_EXPORT_MODES = (("9610", 0.5), ("9710", 0.2), ("9810", 0.2), ("1210", 0.1))
_ORDER_TYPE = {"9610": "E", "1210": "E", "9710": "B", "9810": "W"}


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    roll = rng.random()
    for value, weight in weighted:
        roll -= weight
        if roll < 0:
            return value
    return weighted[-1][0]


def generate(*, orders: int, seed: int, year: int = 2024) -> DemoDataSet:
    """Build a synthetic data set of `orders` orders; the same seed gives identical output."""
    if orders < 0:
        raise ValueError(f"orders must be >= 0, got {orders}")
    rng = random.Random(seed)
    cast = _enterprises()
    enterprise_records: list[Record] = [
        (
            ENTERPRISE,
            {
                "code": e.code,
                "customsCode": e.customs_code,
                "name": e.name,
                "roles": list(e.roles),
                "creditClass": e.credit,
                # Local numbers never start with 0: the area code is real, the number is not.
                "contactPhone": f"{'0516' if e.code[2:6] == '3203' else '0513'}-0000{i:04d}",
                "address": e.address,
                "appType": "1",
                "appTime": f"{year - 1}1201090000",
            },
        )
        for i, e in enumerate(cast.values())
    ]
    builder = _Builder(rng=rng, cast=cast, year=year)
    with _collector_paused():
        for plan in _plan(rng, orders, year):
            builder.build(plan)
        builder.apply_limits()
        pending = builder.emit()
        # Arrival order is appTime order; the sort is stable, so records of the same second
        # keep their generation order and the output stays deterministic.
        pending.sort(key=itemgetter(0))
        records = [record for _, _, record in pending]
    return DemoDataSet(
        enterprises=enterprise_records, records=records, anomalies=tuple(builder.anomalies)
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    # The payloads are acyclic dicts of strings, yet every few hundred new dicts the cyclic
    # collector rescans all of them: a fifth of the run time for nothing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _plan(rng: random.Random, count: int, year: int) -> list[_Plan]:
    # Orders spread over the year up to mid-December so their documents stay in the year.
    span = (datetime(year, 12, 15) - datetime(year, 1, 1)).total_seconds()
    offsets = sorted(_between(rng, 0, int(span)) for _ in range(count))
    plans = []
    for index, offset in enumerate(offsets):
        direction = "I" if rng.random() < 0.55 else "E"
        trade_mode = _pick(rng, _IMPORT_MODES if direction == "I" else _EXPORT_MODES)
        roll = rng.random()
        scenario: AnomalyKind | None = None
        if roll < MISMATCH_SHARE:
            scenario = MISMATCH_KINDS[int(roll / MISMATCH_SHARE * 3)]
        elif roll < MISMATCH_SHARE + INCOMPLETE_SHARE:
            scenario = AnomalyKind.INCOMPLETE
        elif direction == "I" and rng.random() < SINGLE_LIMIT_SHARE:
            scenario = AnomalyKind.SINGLE_LIMIT_EXCEEDED
        plan = _Plan(index, offset, direction, trade_mode, scenario)
        if scenario is AnomalyKind.INCOMPLETE:
            plan.missing = rng.choice(
                ("inventory", "inventory", "waybill", "payment" if direction == "I" else "waybill")
            )
        plans.append(plan)
    # A few heavy buyers: one per 2,500 orders (at least two), each with eight clean imports.
    clean_imports = [p for p in plans if p.direction == "I" and p.scenario is None]
    heavy = max(2, count // 2500)
    if len(clean_imports) >= heavy * HEAVY_BUYER_ORDERS * 3:
        chosen = rng.sample(clean_imports, heavy * HEAVY_BUYER_ORDERS)
        for n, plan in enumerate(chosen):
            plan.heavy_buyer = n % heavy
    return plans


class _Builder:
    """Writes the payloads of planned orders and collects them with their arrival times."""

    def __init__(self, *, rng: random.Random, cast: dict[str, _Enterprise], year: int) -> None:
        self.rng = rng
        self.cast = cast
        self.year = year
        self.new_year = datetime(year, 1, 1)
        self.pending: list[tuple[str, int, Record]] = []
        self.anomalies: list[Anomaly] = []
        self.buyers: list[_Person] = []
        self.heavy: dict[int, _Person] = {}
        self.imports: list[tuple[_Plan, Payload, Payload | None, int]] = []
        self.sequence = 0
        self.days: dict[int, str] = {}

    # -- helpers --

    def _time(self, offset: int) -> str:
        # Formatting datetimes dominated the run time; days are cached, the clock is arithmetic.
        day, second = divmod(offset, 86400)
        prefix = self.days.get(day)
        if prefix is None:
            prefix = self.days[day] = f"{self.new_year + timedelta(days=day):%Y%m%d}"
        return prefix + _HHMM[second // 60] + _TWO_DIGITS[second % 60]

    def _order_no(self, ebp: _Enterprise, plan: _Plan) -> str:
        # Unique within the platform: platform prefix, year, direction, running number.
        prefix = "PY" if ebp.key == "ebp_xz" else "HT"
        return f"{prefix}{self.year}{plan.direction}{plan.index + 1:08d}"

    def _add(self, standard: str, payload: Payload) -> None:
        self.sequence += 1
        self.pending.append((payload["appTime"], self.sequence, (standard, payload)))

    def _buyer(self, plan: _Plan) -> _Person:
        if plan.heavy_buyer is not None:
            if plan.heavy_buyer not in self.heavy:
                self.heavy[plan.heavy_buyer] = _person(self.rng, 900_000 + plan.heavy_buyer)
            return self.heavy[plan.heavy_buyer]
        # A growing pool: most buyers come back a few times a year.
        if not self.buyers or self.rng.random() < 0.3:
            self.buyers.append(_person(self.rng, len(self.buyers) + 1))
        return self.rng.choice(self.buyers)

    def _lines(
        self, products: tuple[_Product, ...], count: int, qty_range: tuple[int, int], currency: str
    ) -> list[tuple[_Product, Payload]]:
        lines = []
        for gnum, product in enumerate(self.rng.sample(products, count), start=1):
            price = Decimal(_between(self.rng, product.low * 100, product.high * 100 + 1)) / 100
            if currency == "502":
                price = (price / USD_RATE).quantize(CENT, rounding=ROUND_HALF_UP)
            qty = _between(self.rng, qty_range[0], qty_range[1] + 1)
            lines.append((product, self._line(gnum, product, qty, price, currency)))
        return lines

    def _line(
        self, gnum: int, product: _Product, qty: int, price: Decimal, currency: str
    ) -> Payload:
        line = {
            "gnum": gnum,
            "itemNo": f"SKU-{product.gcode[:4]}-{gnum:02d}",
            "itemName": product.name,
            "gmodel": product.gmodel,
            "unit": product.unit,
            "qty": str(qty),
            "price": _money(price),
            "totalPrice": _money(price * qty),
            "currency": currency,
            "country": self.rng.choice(product.origins),
        }
        return line

    @staticmethod
    def _goods(lines: list[tuple[_Product, Payload]]) -> Decimal:
        return sum((Decimal(line["totalPrice"]) for _, line in lines), Decimal(0))

    def _resize(self, lines: list[tuple[_Product, Payload]], low: Decimal, high: Decimal) -> None:
        """Change quantities until the goods value lies within [low, high] (best effort)."""
        for _ in range(200):
            goods = self._goods(lines)
            if low <= goods <= high:
                return
            # Step the dearest line: each step moves at most one unit price (<= the window).
            if goods > high:
                candidates = [pair for pair in lines if int(pair[1]["qty"]) > 1]
                if not candidates:
                    return
                _, line = max(candidates, key=lambda pair: Decimal(pair[1]["price"]))
                qty = int(line["qty"]) - 1
            else:
                _, line = max(lines, key=lambda pair: Decimal(pair[1]["price"]))
                qty = int(line["qty"]) + 1
            line["qty"] = str(qty)
            line["totalPrice"] = _money(Decimal(line["price"]) * qty)

    # -- one order --

    def build(self, plan: _Plan) -> None:
        """Write every document of one planned order."""
        if plan.direction == "I":
            self._build_import(plan)
        else:
            self._build_export(plan)

    def _build_import(self, plan: _Plan) -> None:
        rng, cast = self.rng, self.cast
        bonded = plan.trade_mode in ("1210", "1239")
        ebp = cast["ebp_nt"] if bonded else cast["ebp_xz"]
        ebc = cast["ebc_import"]
        payer_firm = cast["pay_tz"] if rng.random() < 0.6 else cast["pay_ph"]
        carrier = cast["logistics_jh"] if bonded else cast["logistics_hh"]
        buyer = self._buyer(plan)
        count = 1 if rng.random() < 0.5 else _between(rng, 2, 4)
        if plan.scenario is AnomalyKind.SINGLE_LIMIT_EXCEEDED or plan.heavy_buyer is not None:
            count = max(count, 2)  # several items: the single-item exemption does not apply
        lines = self._lines(_IMPORT_PRODUCTS, count, (1, 3), "142")
        if plan.scenario is AnomalyKind.SINGLE_LIMIT_EXCEEDED:
            self._resize(lines, Decimal(5200), Decimal(9000))
        elif plan.heavy_buyer is not None:
            self._resize(lines, Decimal(3500), Decimal(4700))
        else:
            self._resize(lines, Decimal(0), Decimal(3000))
        goods = self._goods(lines)
        freight = Decimal(0) if bonded else Decimal(_between(rng, 8, 31))
        freight_text = _money(freight)
        discount = Decimal(rng.choice((0, 0, 0, 5, 10, 20))) if goods > 100 else Decimal(0)
        insured = Decimal(_between(rng, 1, 6)) if not bonded and rng.random() < 0.2 else 0
        order_no = self._order_no(ebp, plan)
        logistics_no = f"{'JHSD' if bonded else 'HHKY'}{self.year % 100:02d}{plan.index:010d}"
        pay_id = f"{'TZ' if payer_firm.key == 'pay_tz' else 'PH'}{plan.index + 1:014d}"
        consignee = buyer if rng.random() < 0.85 else _person(rng, 0)
        order_time = plan.offset
        customs = _CUSTOMS["3206" if bonded else "3203"]
        order: Payload = {
            "orderType": "I",
            "orderNo": order_no,
            "ebpCode": ebp.code,
            "ebpName": ebp.name,
            "ebcCode": ebc.code,
            "ebcName": ebc.name,
            "goodsValue": _money(goods),
            "freight": freight_text,
            "discount": _money(discount),
            "taxTotal": "0",  # replaced below once the inventory gives HS codes
            "acturalPaid": "0",
            "currency": "142",
            "tradeMode": plan.trade_mode,
            "buyerRegNo": buyer.reg_no,
            "buyerName": buyer.name,
            "buyerTelephone": buyer.phone,
            "buyerIdType": "1",
            "buyerIdNumber": buyer.id_number,
            "payCode": payer_firm.code,
            "payName": payer_firm.name,
            "payTransactionId": pay_id,
            "consignee": consignee.name,
            "consigneeTelephone": consignee.phone,
            "consigneeAddress": consignee.address,
            "items": [line for _, line in lines],
            "appType": "1",
            "appTime": self._time(order_time),
        }
        net = sum((product.kg_per_unit * int(line["qty"]) for product, line in lines), Decimal(0))
        gross = net * Decimal("1.15") + Decimal("0.2")
        inventory_time = order_time + _between(rng, 3600, 6 * 3600 if bonded else 30 * 3600)
        inventory: Payload = {
            "ieFlag": "I",
            "orderNo": order_no,
            "ebpCode": ebp.code,
            "ebpName": ebp.name,
            "ebcCode": ebc.code,
            "ebcName": ebc.name,
            "logisticsCode": carrier.code,
            "logisticsName": carrier.name,
            "logisticsNo": logistics_no,
            "copNo": f"CI{self.year}{plan.index + 1:010d}",
            "assureCode": cast["guarantor"].code,
            "declTime": self._time(inventory_time)[:8],
            "customsCode": customs,
            "portCode": customs,
            "buyerIdType": "1",
            "buyerIdNumber": buyer.id_number,
            "buyerName": buyer.name,
            "buyerTelephone": buyer.phone,
            "consigneeAddress": consignee.address,
            "agentCode": (cast["warehouse"] if bonded else cast["agent"]).code,
            "agentName": (cast["warehouse"] if bonded else cast["agent"]).name,
            "tradeMode": plan.trade_mode,
            # W: bonded logistics centre; 5: air parcels for direct purchase.
            "trafMode": "W" if bonded else "5",
            "country": "142" if bonded else lines[0][1]["country"],
            "freight": freight_text,
            "insuredFee": _money(Decimal(insured)),
            "currency": "142",
            "packNo": 1,
            "grossWeight": _weight(gross),
            "netWeight": _weight(net),
            "items": [
                self._inventory_line(product, line, bonded, "142") for product, line in lines
            ],
            "appType": "1",
            "appTime": self._time(inventory_time),
        }
        if bonded:
            inventory["emsNo"] = f"T{customs}W{cast['warehouse'].customs_code[-6:]}"
            inventory["areaCode"] = cast["warehouse"].customs_code
        else:
            inventory["trafNo"] = f"CA{_between(rng, 1000, 9999)}"
            inventory["billNo"] = f"999-{_between(rng, 10**7, 10**8)}"

        tax = retail_import_tax(order=order, inventory=inventory, config=DEFAULT_RULES).computed
        order["taxTotal"] = _money(tax)
        order["acturalPaid"] = _money(goods + freight + tax - discount)
        paid = Decimal(order["acturalPaid"])

        payment_time = order_time + _between(rng, -600, 1800)  # some arrive before the order
        payment: Payload = {
            "payCode": payer_firm.code,
            "payName": payer_firm.name,
            "payTransactionId": pay_id,
            "orderNo": order_no,
            "ebpCode": ebp.code,
            "ebpName": ebp.name,
            "payerIdType": "1",
            "payerIdNumber": buyer.id_number,
            "payerName": buyer.name,
            "telephone": buyer.phone,
            "amountPaid": _money(paid),
            "currency": "142",
            "payTime": self._time(payment_time),
            "appType": "1",
            "appTime": self._time(payment_time + _between(rng, 5, 120)),
        }
        waybill_time = order_time + _between(rng, 1800, 5 * 3600)
        waybill: Payload = {
            "ieFlag": "I",
            "logisticsCode": carrier.code,
            "logisticsName": carrier.name,
            "logisticsNo": logistics_no,
            "ebpCode": ebp.code,
            "orderNo": order_no,
            "freight": freight_text,
            "currency": "142",
            "weight": _weight(gross),
            "packNo": 1,
            "goodsInfo": ", ".join(line["itemName"] for _, line in lines)[:500],
            "consignee": consignee.name,
            "consigneeAddress": consignee.address,
            "consigneeTelephone": consignee.phone,
            "appType": "1",
            "appTime": self._time(waybill_time),
        }
        if not bonded:
            waybill["billNo"] = inventory["billNo"]
        self._spoil(plan, ebp.code, order_no, payment, "amountPaid", waybill, inventory)
        self.imports.append(
            (plan, order, inventory if plan.missing != "inventory" else None, inventory_time)
        )
        self._emit_common(
            plan, order, payment, waybill, inventory, inventory_time, waybill_time, "I"
        )

    def _build_export(self, plan: _Plan) -> None:
        rng, cast = self.rng, self.cast
        seller_key = rng.choice(tuple(_EXPORT_PRODUCTS))
        ebc = cast[seller_key]
        ebp = cast["ebp_xz"] if ebc.code[2:6] == "3203" else cast["ebp_nt"]
        carrier = cast["logistics_jh"] if rng.random() < 0.5 else cast["logistics_hh"]
        pay_firm = cast["pay_tz"] if rng.random() < 0.5 else cast["pay_ph"]
        order_type = _ORDER_TYPE[plan.trade_mode]
        b2b = order_type in ("B", "W")
        currency = "502" if b2b else "142"
        products = _EXPORT_PRODUCTS[seller_key]
        if b2b:
            qty_range = (50, 600) if order_type == "B" else (20, 200)
            if seller_key == "ebc_machinery":
                qty_range = (1, 20)
            lines = self._lines(products, _between(rng, 1, len(products) + 1), qty_range, currency)
        else:
            lines = self._lines(
                products, _between(rng, 1, min(2, len(products)) + 1), (1, 4), currency
            )
        goods = self._goods(lines)
        # FOB goods value; B2B freight is the buyer's affair, B2C parcels charge postage.
        freight = Decimal(0) if b2b else Decimal(_between(rng, 30, 121))
        freight_text = _money(freight)
        country, firm, city = rng.choice(_DESTINATIONS)
        consignee_name = (
            firm if b2b else f"{rng.choice(('A.', 'J.', 'M.', 'S.'))} Doe-{_between(rng, 100, 999)}"
        )
        consignee_address = f"{_between(rng, 1, 400)} Example Street, {city}"
        consignee_phone = f"+00 {_between(rng, 10**7, 10**8)}"
        order_no = self._order_no(ebp, plan)
        logistics_no = f"{'JHSD' if carrier.key == 'logistics_jh' else 'HHKY'}E{plan.index:010d}"
        order_time = plan.offset
        customs = _CUSTOMS[ebc.code[2:6]]
        order: Payload = {
            "orderType": order_type,
            "orderNo": order_no,
            "ebpCode": ebp.code,
            "ebpName": ebp.name,
            "ebcCode": ebc.code,
            "ebcName": ebc.name,
            "goodsValue": _money(goods),
            "freight": freight_text,
            "discount": "0.00",
            "acturalPaid": _money(goods + freight),
            "currency": currency,
            "tradeMode": plan.trade_mode,
            "buyerName": consignee_name,
            "consignee": consignee_name,
            "consigneeTelephone": consignee_phone,
            "consigneeAddress": consignee_address,
            "items": [line for _, line in lines],
            "appType": "1",
            "appTime": self._time(order_time),
        }
        net = sum((product.kg_per_unit * int(line["qty"]) for product, line in lines), Decimal(0))
        gross = net * Decimal("1.08") + Decimal("0.5")
        waybill_time = order_time + _between(rng, 3600, 24 * 3600)
        inventory_time = waybill_time + _between(rng, 1800, 12 * 3600)
        traf_mode = {"344": "3", "141": "4"}.get(country, "2" if b2b else "5")
        inventory: Payload = {
            "ieFlag": "E",
            "orderNo": order_no,
            "ebpCode": ebp.code,
            "ebpName": ebp.name,
            "ebcCode": ebc.code,
            "ebcName": ebc.name,
            "logisticsCode": carrier.code,
            "logisticsName": carrier.name,
            "logisticsNo": logistics_no,
            "copNo": f"CE{self.year}{plan.index + 1:010d}",
            "ownerCode": ebc.code,
            "statisticsFlag": "B" if b2b else "A",
            "declTime": self._time(inventory_time)[:8],
            "customsCode": customs,
            "portCode": customs,
            "agentCode": cast["agent"].code,
            "agentName": cast["agent"].name,
            "tradeMode": plan.trade_mode,
            "trafMode": traf_mode,
            "country": country,
            "freight": freight_text,
            "insuredFee": "0.00",
            "currency": currency,
            "packNo": max(1, int(gross / 25)) if b2b else 1,
            "grossWeight": _weight(gross),
            "netWeight": _weight(net),
            "items": [
                self._inventory_line(product, line, False, currency) for product, line in lines
            ],
            "appType": "1",
            "appTime": self._time(inventory_time),
        }
        if plan.trade_mode == "1210":
            inventory["emsNo"] = f"T{customs}W{cast['warehouse'].customs_code[-6:]}"
            inventory["areaCode"] = cast["warehouse"].customs_code
            for item in inventory["items"]:
                item["itemRecordNo"] = f"R{item['gcode'][:6]}{item['gnum']:03d}"
        waybill: Payload = {
            "ieFlag": "E",
            "logisticsCode": carrier.code,
            "logisticsName": carrier.name,
            "logisticsNo": logistics_no,
            "ebpCode": ebp.code,
            "orderNo": order_no,
            "freight": freight_text,
            "currency": currency,
            "weight": _weight(gross),
            "packNo": inventory["packNo"],
            "goodsInfo": ", ".join(line["itemName"] for _, line in lines)[:500],
            "consignee": consignee_name,
            "consigneeAddress": consignee_address,
            "consigneeTelephone": consignee_phone,
            "appType": "1",
            "appTime": self._time(waybill_time),
        }
        # Exporters are paid after shipment; some receipts have not come in yet.
        receipt: Payload | None = None
        if plan.scenario is AnomalyKind.AMOUNT_MISMATCH or rng.random() < 0.88:
            receipt_time = inventory_time + _between(rng, 2 * 86400, 20 * 86400)
            receipt = {
                "payCode": pay_firm.code,
                "payName": pay_firm.name,
                "payNo": f"R{'TZ' if pay_firm.key == 'pay_tz' else 'PH'}{plan.index + 1:014d}",
                "orderNo": order_no,
                "ebpCode": ebp.code,
                "ebpName": ebp.name,
                "charge": order["acturalPaid"],
                "currency": currency,
                "accountingDate": self._time(receipt_time),
                "appType": "1",
                "appTime": self._time(receipt_time + _between(rng, 60, 3600)),
            }
        self._spoil(plan, ebp.code, order_no, receipt, "charge", waybill, inventory)
        self._emit_common(
            plan, order, receipt, waybill, inventory, inventory_time, waybill_time, "E"
        )

    def _inventory_line(
        self, product: _Product, line: Payload, bonded: bool, currency: str
    ) -> Payload:
        qty = int(line["qty"])
        item: Payload = {
            "gnum": line["gnum"],
            "itemNo": line["itemNo"],
            "gcode": product.gcode,
            "gname": line["itemName"],
            "gmodel": line["gmodel"],
            "country": line["country"],
            "qty": line["qty"],
            "unit": line["unit"],
            "qty1": _weight(product.qty1_per_unit * qty),
            "unit1": product.unit1,
            "price": line["price"],
            "totalPrice": line["totalPrice"],
            "currency": currency,
        }
        if bonded:
            item["itemRecordNo"] = f"R{product.gcode[:6]}{line['gnum']:03d}"
        return item

    def _spoil(
        self,
        plan: _Plan,
        ebp_code: str,
        order_no: str,
        payment: Payload | None,
        paid_field: str,
        waybill: Payload,
        inventory: Payload,
    ) -> None:
        """Plant the order's deliberate mismatch, if it has one."""
        rng = self.rng
        kind = plan.scenario
        if kind is AnomalyKind.AMOUNT_MISMATCH and payment is not None:
            paid = Decimal(payment[paid_field])
            delta = max(CENT, (paid * Decimal(_between(rng, 2, 20)) / 100).quantize(CENT))
            payment[paid_field] = _money(paid - delta if rng.random() < 0.5 else paid + delta)
        elif kind is AnomalyKind.CONSIGNEE_MISMATCH:
            # Typical slips: a mistyped phone digit group, a misspelt name, a changed address.
            which = rng.choice(("consignee", "consigneeTelephone", "consigneeAddress"))
            value = waybill[which]
            if which == "consigneeTelephone":
                last = (int(value[-4:]) + _between(rng, 1, 10000)) % 10000
                waybill[which] = f"{value[:-4]}{last:04d}"
            elif which == "consignee":
                waybill[which] = value[:-1] + ("e" if value[-1] != "e" else "a")
            else:
                waybill[which] = f"Back entrance, {value}"
        elif kind is AnomalyKind.LINE_NAME_MISMATCH:
            item = rng.choice(inventory["items"])
            item["gname"] = item["gname"] + " gift box"
        # Limit breaches are recorded by apply_limits, from what the rules actually flag.
        if kind in MISMATCH_KINDS or kind is AnomalyKind.INCOMPLETE:
            self.anomalies.append(Anomaly(ebp_code, order_no, kind))

    def _emit_common(
        self,
        plan: _Plan,
        order: Payload,
        payment: Payload | None,
        waybill: Payload,
        inventory: Payload,
        inventory_time: int,
        waybill_time: int,
        direction: str,
    ) -> None:
        rng = self.rng
        self._add(ORDER, order)
        if payment is not None and plan.missing != "payment":
            self._add(PAYMENT if direction == "I" else RECEIPT, payment)
        if plan.missing != "waybill":
            self._add(WAYBILL, waybill)
            statuses = ("S", "T") if direction == "I" else ("S", "A", "D")
            moment = waybill_time
            for status in statuses:
                moment += _between(rng, 1800, 18 * 3600)
                self._status(waybill, status, moment)
            if direction == "I" and plan.missing is None and rng.random() < 0.8:
                self._status(waybill, "R", moment + _between(rng, 86400, 4 * 86400))
        if plan.missing == "inventory":
            return
        self._add(INVENTORY, inventory)
        # Import inventories get their customs receipts once limits are known.
        if direction == "E":
            self._customs(inventory, inventory_time, plan, rejected=None)

    def _status(self, waybill: Payload, status: str, moment: int) -> None:
        self._add(
            LOGISTICS_STATUS,
            {
                "logisticsCode": waybill["logisticsCode"],
                "logisticsNo": waybill["logisticsNo"],
                "logisticsStatus": status,
                "statusTime": self._time(moment),
                "appType": "1",
                "appTime": self._time(moment + _between(self.rng, 10, 600)),
            },
        )

    def _customs(
        self, inventory: Payload, moment: int, plan: _Plan, *, rejected: str | None
    ) -> None:
        """Write the customs receipts of an inventory: rejected, or accepted and released."""
        rng = self.rng
        if plan.scenario in MISMATCH_KINDS:
            rejected = "three-document matching failed"
        if rejected is not None:
            steps: tuple[tuple[int, str], ...] = ((100, rejected),)
        else:
            roll = rng.random()
            steps = ((120, "accepted"),)
            if roll < 0.05:
                steps += ((300, "manual review"), (399, "review done"))
            elif roll < 0.07:
                steps += ((500, "inspection"),)
            steps += ((800, "released"),)
            if inventory["ieFlag"] == "E":
                steps += ((899, "closed"),)
        invt_no = f"{inventory['customsCode']}{self.year}{inventory['ieFlag']}{plan.index:09d}"
        for status, info in steps:
            moment += _between(rng, 60, 4 * 3600)
            payload: Payload = {
                "ebpCode": inventory["ebpCode"],
                "orderNo": inventory["orderNo"],
                "copNo": inventory["copNo"],
                "agentCode": inventory["agentCode"],
                "customsCode": inventory["customsCode"],
                "returnStatus": status,
                "returnTime": self._time(moment),
                "returnInfo": info,
                "appType": "1",
                "appTime": self._time(moment + _between(rng, 1, 60)),
            }
            if status != 100:
                payload["invtNo"] = invt_no
            self._add(INVENTORY_STATUS, payload)

    # -- after all orders --

    def apply_limits(self) -> None:
        """Run the retail limits over import orders in time order and write customs receipts."""
        year_totals: dict[tuple[str, str, int], Decimal] = {}
        for plan, order, inventory, inventory_time in self.imports:
            key = buyer_year_key(order=order)
            value = limit_value(order=order, inventory=inventory, config=DEFAULT_RULES)
            before = year_totals.get(key, Decimal(0)) if key else Decimal(0)
            flags = check_retail_limits(
                order_total=value,
                buyer_year_total_before=before,
                single_item_indivisible=len(order["items"]) == 1
                and order["items"][0]["qty"] == "1",
                config=DEFAULT_RULES,
            )
            rejected: str | None = None
            if plan.scenario in MISMATCH_KINDS:
                rejected = "three-document matching failed"
            elif RiskFlag.SINGLE_LIMIT_EXCEEDED in flags:
                rejected = "single transaction limit exceeded"
            elif RiskFlag.ANNUAL_LIMIT_EXCEEDED in flags:
                rejected = "annual transaction limit exceeded"
            if rejected is None and key is not None:
                # Rejected orders never became purchases, so they use none of the quota.
                year_totals[key] = before + value
            if plan.scenario not in MISMATCH_KINDS:
                for flag in flags:
                    if flag.value in AnomalyKind.__members__:
                        kind = AnomalyKind(flag.value)
                        self.anomalies.append(Anomaly(order["ebpCode"], order["orderNo"], kind))
            if inventory is not None:
                self._customs(
                    inventory,
                    inventory_time,
                    plan,
                    rejected=rejected,
                )

    def emit(self) -> list[tuple[str, int, Record]]:
        """Return the collected records with their sort keys (appTime, sequence)."""
        return self.pending
