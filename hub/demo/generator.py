"""A deterministic synthetic data set for demos, tests and benchmarks, in the shapes of the
CEB 2022-05 specification (standards 2.0.0; enterprise filings 1.0.0, their only version).

`generate(orders=..., seed=...)` builds enterprises of the Xuzhou / Nantong pilot zone and,
for every order, the messages the specification defines. Import (9610 direct purchase, 1210
bonded): order 311, payment 411, waybill 511, inventory 621, customs receipts 622, waybill
status 513 (S: signed for), electronic tax bill 816 for each released inventory, and for a
few orders a cancellation 623 or a return 625. Export (9610, 9710 orderType B, 9810 orderType
W, 1210): order 303, receipt of payment 403, waybill 505, inventory 603, customs receipts
604, arrival (507) and departure (509) lists of the carriers' waybills, and per broker,
seller, trade mode and month a summary application 701 and its result 792 (giving the
customs declaration `entryId`). Records come in arrival order (`arrival_time`), so some
payments arrive before their orders, as in real traffic. Each record names its standard
with the version (`cbec.order@2.0.0`): a bare id would resolve to 1.0.0.

Everything is invented. Enterprise names are pinyin-like inventions. People are synthetic:
their ID numbers are well-formed (birth date, MOD 11-2 check digit) but start with "99", a
province code GB/T 2260 does not assign, and their phone numbers start with "100", which no
mobile network issues, so no record can point at a real person.

Deliberate faults, recorded in `DemoDataSet.anomalies`:
- about 8 % of orders have one mismatch. Imports: the amount paid, the consignee on the
  waybill, or an inventory line name. Exports: the receipt's currency, the seller the
  waybill names, or an inventory line name (a 303 states no amount paid and a 505 no
  consignee, so the import kinds cannot show on an export);
- about 2 % of orders are incomplete (one document not sent yet);
- about 3 % of import orders exceed the CNY 5,000 single limit (several items);
- a few heavy buyers pass the CNY 26,000 annual limit.
Import taxTotal is computed with `hub.trade.tax`, so every clean import order is consistent,
and the 816 tax bills assess exactly that tax.
"""

from __future__ import annotations

import gc
import random
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from operator import itemgetter
from typing import Any

from hub.demo import DEFAULT_ORDERS, DEFAULT_SEED, clearance
from hub.demo.clearance import Cleared
from hub.standards.formats import uscc_check_char
from hub.trade.limits import RiskFlag, buyer_year_key, check_retail_limits, limit_value
from hub.trade.rules_config import DEFAULT_RULES
from hub.trade.tax import retail_import_tax

__all__ = [
    "DEFAULT_ORDERS",
    "DEFAULT_SEED",
    "Anomaly",
    "AnomalyKind",
    "DemoDataSet",
    "arrival_time",
    "generate",
    "standard_id",
]

VERSION = "2.0.0"  # the CEB 2022-05 shapes
ENTERPRISE = "cbec.enterprise@1.0.0"
ORDER = f"cbec.order@{VERSION}"  # 311 / 303
PAYMENT = f"cbec.payment@{VERSION}"  # 411
RECEIPT = f"cbec.receipt@{VERSION}"  # 403
WAYBILL = f"cbec.waybill@{VERSION}"  # 511 / 505
LOGISTICS_STATUS = f"cbec.logistics-status@{VERSION}"  # 513
INVENTORY = f"cbec.inventory@{VERSION}"  # 621 / 603
INVENTORY_STATUS = f"cbec.inventory-status@{VERSION}"  # 622 / 604
INVENTORY_CANCEL = f"cbec.inventory-cancel@{VERSION}"  # 623
INVENTORY_RETURN = f"cbec.inventory-return@{VERSION}"  # 625
TAX_BILL = f"cbec.tax-bill@{VERSION}"  # 816
ARRIVAL = f"cbec.arrival@{VERSION}"  # 507
DEPARTURE = f"cbec.departure@{VERSION}"  # 509
SUMMARY_APPLY = f"cbec.summary-apply@{VERSION}"  # 701
SUMMARY_RESULT = f"cbec.summary-result@{VERSION}"  # 792

Payload = dict[str, Any]
Record = tuple[str, Payload]  # (standard reference `id@version`, payload)

CENT = Decimal("0.01")
GRAM = Decimal("0.001")
USD_RATE = Decimal("7.1")  # fixed illustrative CNY per USD for USD-priced B2B orders

MISMATCH_SHARE = 0.08
INCOMPLETE_SHARE = 0.02
SINGLE_LIMIT_SHARE = 0.03  # of import orders
HEAVY_BUYER_ORDERS = 8  # orders of CNY 3,500-4,700 each: passes 26,000 with the 7th or 8th
_REGULAR_ORDERS = 8  # at most this many orders a year for any other buyer (≤ CNY 3,000 each)


def standard_id(reference: str) -> str:
    """The standard id of a reference (`cbec.order@2.0.0` → `cbec.order`)."""
    return reference.partition("@")[0]


def arrival_time(payload: Mapping[str, Any]) -> str:
    """When a record arrives (YYYYMMDDhhmmss): its appTime, or for customs' own messages
    that have none (622/604 receipts, 816, 792) the time customs answered."""
    moment = payload.get("appTime") or payload.get("returnTime") or payload["opDate"]
    return str(moment)[:14]


class AnomalyKind(StrEnum):
    """The deliberate fault an order carries."""

    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"  # import: amountPaid differs from acturalPaid
    CONSIGNEE_MISMATCH = "CONSIGNEE_MISMATCH"  # import: the 511 names another consignee
    LINE_NAME_MISMATCH = "LINE_NAME_MISMATCH"  # an inventory line's gname
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"  # export: the 403 in another currency
    WAYBILL_SELLER_MISMATCH = "WAYBILL_SELLER_MISMATCH"  # export: the 505 names another seller
    INCOMPLETE = "INCOMPLETE"
    SINGLE_LIMIT_EXCEEDED = "SINGLE_LIMIT_EXCEEDED"
    ANNUAL_LIMIT_EXCEEDED = "ANNUAL_LIMIT_EXCEEDED"


IMPORT_MISMATCH_KINDS = (
    AnomalyKind.AMOUNT_MISMATCH,
    AnomalyKind.CONSIGNEE_MISMATCH,
    AnomalyKind.LINE_NAME_MISMATCH,
)
EXPORT_MISMATCH_KINDS = (
    AnomalyKind.CURRENCY_MISMATCH,
    AnomalyKind.WAYBILL_SELLER_MISMATCH,
    AnomalyKind.LINE_NAME_MISMATCH,
)
MISMATCH_KINDS = frozenset(IMPORT_MISMATCH_KINDS + EXPORT_MISMATCH_KINDS)


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A deliberate fault: which order (platform code + order number) and what kind."""

    ebp_code: str
    order_no: str
    kind: AnomalyKind


@dataclass(frozen=True, slots=True)
class DemoDataSet:
    """Enterprises and records as (standard reference, payload) pairs, plus the faults
    planted."""

    enterprises: list[Record]
    records: list[Record]
    anomalies: tuple[Anomaly, ...] = field(default=())
    # (ebpCode, orderNo) → (direction I/E, trade mode), as planned: a 2.0.0 order states no
    # trade mode and an incomplete one may lack the inventory that does.
    modes: Mapping[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    # (standard reference, "import 9610" …) → records; "" for lists of several orders.
    contents: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # Risk rule id → the enterprises planted to trigger it (hub/risk/ruleset.py's shipped
    # rule set, evaluated as of `as_of`); the other rules fire on the faults above.
    risk: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The day the demo's risk rules are evaluated at: the end of the generated year.
    as_of: datetime | None = None

    def summary(self) -> dict[str, int]:
        """Count the records of each standard reference (enterprises included), sorted."""
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
    # A small exporter that only the planted risk scenarios use (see _risk_plans).
    ("ebc_gifts", "320305", "MA1C6W3H5", "Xuzhou Lanting Crafts and Gifts Co., Ltd.",
     ("ebc",), "GENERAL", "Jiawang District, Xuzhou"),
)  # fmt: skip


def cast_codes() -> dict[str, str]:
    """The demo enterprises' codes by cast key (ebp_xz, ebc_gifts, ...)."""
    return {key: e.code for key, e in _enterprises().items()}


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

# Products of the sellers that only planted scenarios use (not drawn for ordinary exports).
_SCENARIO_PRODUCTS: dict[str, tuple[_Product, ...]] = {
    "ebc_gifts": (
        _p("Carved jade pendant", "hetian jade, 3 cm, silk cord", "7116200000", "011", "035",
           "0.05", "0.06", 200, 400, ("142",)),
        _p("Lacquer jewellery box", "18 x 12 cm, red lacquer", "4420900090", "011", "035",
           "0.4", "0.5", 200, 400, ("142",)),
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
    split: bool = False  # one of the split-order buyer's orders (risk scenario)
    seller: str | None = None  # a cast key that overrides the export seller's choice
    round_price: int | None = None  # every line at this whole CNY price (risk scenario)


@dataclass(slots=True)
class _Sent:
    """The documents of one order as sent, kept for what customs answers afterwards."""

    plan: _Plan
    order: Payload
    waybill: Payload | None
    inventory: Payload | None
    inventory_time: int


# The pilot zone's modes (the specification's): import 9610 direct purchase and 1210 bonded;
# export 9610 B2C, 9710 B2B direct (orderType B), 9810 overseas warehouse (W), 1210 bonded.
_IMPORT_MODES = (("9610", 0.5), ("1210", 0.5))
_EXPORT_MODES = (("9610", 0.5), ("9710", 0.2), ("9810", 0.2), ("1210", 0.1))
_ORDER_TYPE = {"9610": "E", "1210": "E", "9710": "B", "9810": "W"}
ANY_MODE = ""  # a list (507/509) of parcels of several orders, and enterprise filings
_SIGNED_SHARE = 0.8  # of released import parcels whose signature (513 S) has come in
_EXPORT_ORDER_LINE = (
    "gnum",
    "itemNo",
    "itemName",
    "unit",
    "currency",
    "qty",
    "price",
    "totalPrice",
)


def _inventory_of(sent: _Sent) -> Payload:
    """The inventory a sent order has (only called where it has one)."""
    assert sent.inventory is not None
    return sent.inventory


def _parcel(waybill: Payload | None) -> tuple[str, str]:
    """A waybill's identity: the carrier and its waybill number."""
    if waybill is None:
        return ("", "")
    return (waybill["logisticsCode"], waybill["logisticsNo"])


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
    scenarios = orders >= RISK_SCENARIOS_FROM
    planted = _risk_plans(start=0, year=year) if scenarios else []
    # The planted orders are part of the count asked for, numbered after the others.
    plans = _plan(rng, orders - len(planted), year)
    for n, plan in enumerate(planted):
        plan.index = len(plans) + n
    plans += planted
    builder.plant_risk = scenarios
    with _collector_paused():
        for plan in plans:
            builder.build(plan)
        year_totals = builder.apply_limits()
        builder.after_import_release(year_totals)
        builder.clear_exports()
        pending = builder.emit()
        # Arrival order; the sort is stable, so records of the same second keep their
        # generation order and the output stays deterministic.
        pending.sort(key=itemgetter(0))
        records = [record for _, _, record in pending]
    return DemoDataSet(
        enterprises=enterprise_records,
        records=records,
        anomalies=tuple(builder.anomalies),
        modes=builder.modes,
        contents=dict(builder.contents),
        risk=builder.risk_planted(),
        as_of=risk_as_of(year),
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
            kinds = IMPORT_MISMATCH_KINDS if direction == "I" else EXPORT_MISMATCH_KINDS
            scenario = kinds[int(roll / MISMATCH_SHARE * 3)]
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


# -- planted risk scenarios -----------------------------------------------------------------
# Orders added to a data set of at least this many, so that the shipped risk rule set
# (hub/risk/ruleset.py) raises each of its alerts on the demo: split orders, a volume spike
# at round amounts, and an order changed after release. The others fire on the demo's own
# faults (identity misuse, late logistics and departures) and volumes (forex bands).
RISK_SCENARIOS_FROM = 200
SPLIT_ORDERS = 3  # of one buyer on one platform within 24 hours, together over CNY 5,000
SPIKE_HISTORY = 6  # the gifts seller's orders in the 90 days before the last 30
SPIKE_RECENT = 12  # and in the last 30: four times its mean, all at round amounts


def risk_as_of(year: int) -> datetime:
    """When the demo's risk rules are evaluated: the day after its last orders."""
    return datetime(year, 12, 16)


def _risk_plans(*, start: int, year: int) -> list[_Plan]:
    """The planted scenarios' orders, numbered from `start`."""
    new_year = datetime(year, 1, 1)

    def offset(moment: datetime) -> int:
        return int((moment - new_year).total_seconds())

    plans = [
        # 10:00, 13:20 and 16:40 on one June day, under one buyer on the Xuzhou platform.
        _Plan(0, offset(datetime(year, 6, 10, 10)) + n * 12_000, "I", "9610", None, split=True)
        for n in range(SPLIT_ORDERS)
    ]
    as_of = risk_as_of(year)
    history = [as_of - timedelta(days=40 + 13 * n) for n in range(SPIKE_HISTORY)]
    recent = [as_of - timedelta(days=4 + 2 * n, hours=3) for n in range(SPIKE_RECENT)]
    for moment in history + recent:
        plans.append(
            _Plan(0, offset(moment), "E", "9610", None, seller="ebc_gifts", round_price=300)
        )
    for n, plan in enumerate(plans):
        plan.index = start + n
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
        self.imports: list[_Sent] = []
        self.exports: list[_Sent] = []
        self.released_imports: list[Cleared] = []
        self.modes: dict[tuple[str, str], tuple[str, str]] = {}
        self.contents: Counter[tuple[str, str]] = Counter()
        self.purchases: Counter[str] = Counter()  # orders per regular buyer
        self.sequence = 0
        self.days: dict[int, str] = {}
        self.plant_risk = False
        self.split_buyer: _Person | None = None
        self.changed_after_release: str | None = None  # the seller of the changed order

    # -- helpers --

    def _time(self, offset: int) -> str:
        # Formatting datetimes dominated the run time; days are cached, the clock is arithmetic.
        day, second = divmod(offset, 86400)
        prefix = self.days.get(day)
        if prefix is None:
            prefix = self.days[day] = f"{self.new_year + timedelta(days=day):%Y%m%d}"
        return prefix + _HHMM[second // 60] + _TWO_DIGITS[second % 60]

    def _head(self, offset: int) -> Payload:
        """The fields every enterprise message starts with: guid, a new declaration (appType
        1) sent for real (appStatus 2, not 1 'stored only'), and its time."""
        return {
            "guid": clearance.new_guid(self.rng),
            "appType": "1",
            "appTime": self._time(offset),
            "appStatus": "2",
        }

    def _order_no(self, ebp: _Enterprise, plan: _Plan) -> str:
        # Unique within the platform: platform prefix, year, direction, running number.
        prefix = "PY" if ebp.key == "ebp_xz" else "HT"
        return f"{prefix}{self.year}{plan.direction}{plan.index + 1:08d}"

    def _add(self, standard: str, payload: Payload, column: str = ANY_MODE) -> None:
        """Collect a record; `column` is its order's direction and trade mode (`contents`)."""
        self.sequence += 1
        self.pending.append((arrival_time(payload), self.sequence, (standard, payload)))
        self.contents[(standard, column)] += 1

    def _column(self, order: Payload) -> str:
        direction, mode = self.modes[(order["ebpCode"], order["orderNo"])]
        return f"{'import' if direction == 'I' else 'export'} {mode}"

    def _buyer(self, plan: _Plan) -> _Person:
        if plan.split:
            if self.split_buyer is None:
                self.split_buyer = _person(self.rng, 800_000)
            return self.split_buyer
        if plan.heavy_buyer is not None:
            if plan.heavy_buyer not in self.heavy:
                self.heavy[plan.heavy_buyer] = _person(self.rng, 900_000 + plan.heavy_buyer)
            return self.heavy[plan.heavy_buyer]
        # A growing pool: most buyers come back a few times a year. Without a cap the first
        # buyers of a large data set would order twenty times and pass the annual limit,
        # which only the planted heavy buyers are meant to do.
        buyer = None
        if self.buyers and self.rng.random() >= 0.3:
            buyer = self.rng.choice(self.buyers)
            if self.purchases[buyer.reg_no] >= _REGULAR_ORDERS:
                buyer = None
        if buyer is None:
            buyer = _person(self.rng, len(self.buyers) + 1)
            self.buyers.append(buyer)
        self.purchases[buyer.reg_no] += 1
        return buyer

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
        bonded = plan.trade_mode == "1210"
        ebp = cast["ebp_nt"] if bonded else cast["ebp_xz"]
        ebc = cast["ebc_import"]
        payer_firm = cast["pay_tz"] if rng.random() < 0.6 else cast["pay_ph"]
        carrier = cast["logistics_jh"] if bonded else cast["logistics_hh"]
        broker = cast["warehouse"] if bonded else cast["agent"]
        buyer = self._buyer(plan)
        count = 1 if rng.random() < 0.5 else _between(rng, 2, 4)
        if plan.scenario is AnomalyKind.SINGLE_LIMIT_EXCEEDED or plan.heavy_buyer is not None:
            count = max(count, 2)  # several items: the single-item exemption does not apply
        lines = self._lines(_IMPORT_PRODUCTS, count, (1, 3), "142")
        if plan.scenario is AnomalyKind.SINGLE_LIMIT_EXCEEDED:
            self._resize(lines, Decimal(5200), Decimal(9000))
        elif plan.heavy_buyer is not None:
            self._resize(lines, Decimal(3500), Decimal(4700))
        elif plan.split:
            self._resize(lines, Decimal(1800), Decimal(2400))
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
            **self._head(order_time),
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
        }
        net = sum((product.kg_per_unit * int(line["qty"]) for product, line in lines), Decimal(0))
        gross = net * Decimal("1.15") + Decimal("0.2")
        inventory_time = order_time + _between(rng, 3600, 6 * 3600 if bonded else 30 * 3600)
        inventory: Payload = {
            **self._head(inventory_time),
            "orderNo": order_no,
            "ebpCode": ebp.code,
            "ebpName": ebp.name,
            "ebcCode": ebc.code,
            "ebcName": ebc.name,
            "logisticsNo": logistics_no,
            "logisticsCode": carrier.code,
            "logisticsName": carrier.name,
            "copNo": f"CI{self.year}{plan.index + 1:010d}",
            "assureCode": cast["guarantor"].code,
            "ieFlag": "I",
            "declTime": self._time(inventory_time)[:8],
            "customsCode": customs,
            "portCode": customs,
            "buyerIdType": "1",
            "buyerIdNumber": buyer.id_number,
            "buyerName": buyer.name,
            "buyerTelephone": buyer.phone,
            "consigneeAddress": consignee.address,
            "agentCode": broker.code,
            "agentName": broker.name,
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
                self._inventory_line(product, line, bonded=bonded, country=line["country"])
                for product, line in lines
            ],
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
            **self._head(payment_time + _between(rng, 5, 120)),
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
        }
        waybill_time = order_time + _between(rng, 1800, 5 * 3600)
        # CEB511 names the order but not the platform: the inventory links it.
        waybill: Payload = {
            **self._head(waybill_time),
            "logisticsCode": carrier.code,
            "logisticsName": carrier.name,
            "logisticsNo": logistics_no,
            "orderNo": order_no,
            "freight": freight_text,
            "insuredFee": inventory["insuredFee"],
            "currency": "142",
            "weight": _weight(gross),
            "packNo": 1,
            "goodsInfo": ", ".join(line["itemName"] for _, line in lines)[:200],
            "consignee": consignee.name,
            "consigneeAddress": consignee.address,
            "consigneeTelephone": consignee.phone,
            "ieFlag": "I",
        }
        if not bonded:
            waybill["billNo"] = inventory["billNo"]
        self._spoil(plan, ebp.code, order_no, payment, "amountPaid", waybill, inventory)
        self.imports.append(self._send(plan, order, payment, PAYMENT, waybill, inventory))
        self.imports[-1].inventory_time = inventory_time

    def _build_export(self, plan: _Plan) -> None:
        rng, cast = self.rng, self.cast
        seller_key = plan.seller or rng.choice(tuple(_EXPORT_PRODUCTS))
        ebc = cast[seller_key]
        ebp = cast["ebp_xz"] if ebc.code[2:6] == "3203" else cast["ebp_nt"]
        carrier = cast["logistics_jh"] if rng.random() < 0.5 else cast["logistics_hh"]
        pay_firm = cast["pay_tz"] if rng.random() < 0.5 else cast["pay_ph"]
        order_type = _ORDER_TYPE[plan.trade_mode]
        b2b = order_type in ("B", "W")
        currency = "502" if b2b else "142"
        products = _EXPORT_PRODUCTS.get(seller_key) or _SCENARIO_PRODUCTS[seller_key]
        if b2b:
            qty_range = (50, 600) if order_type == "B" else (20, 200)
            if seller_key == "ebc_machinery":
                qty_range = (1, 20)
            lines = self._lines(products, _between(rng, 1, len(products) + 1), qty_range, currency)
        else:
            lines = self._lines(
                products, _between(rng, 1, min(2, len(products)) + 1), (1, 4), currency
            )
        if plan.round_price is not None:
            for _, line in lines:
                line["price"] = _money(Decimal(plan.round_price))
                line["totalPrice"] = _money(Decimal(plan.round_price) * int(line["qty"]))
        goods = self._goods(lines)
        # FOB goods value; B2B freight is the buyer's affair, B2C parcels charge postage.
        freight = Decimal(0) if b2b else Decimal(_between(rng, 30, 121))
        freight_text = _money(freight)
        country, _firm, _city = rng.choice(_DESTINATIONS)
        order_no = self._order_no(ebp, plan)
        logistics_no = f"{'JHSD' if carrier.key == 'logistics_jh' else 'HHKY'}E{plan.index:010d}"
        order_time = plan.offset
        customs = _CUSTOMS[ebc.code[2:6]]
        # CEB303 names neither buyer nor consignee, and its lines carry no model or origin.
        order: Payload = {
            **self._head(order_time),
            "orderType": order_type,
            "orderNo": order_no,
            "ebpCode": ebp.code,
            "ebpName": ebp.name,
            "ebcCode": ebc.code,
            "ebcName": ebc.name,
            "goodsValue": _money(goods),
            "freight": freight_text,
            "currency": currency,
            "items": [{k: line[k] for k in _EXPORT_ORDER_LINE} for _, line in lines],
        }
        net = sum((product.kg_per_unit * int(line["qty"]) for product, line in lines), Decimal(0))
        gross = net * Decimal("1.08") + Decimal("0.5")
        waybill_time = order_time + _between(rng, 3600, 24 * 3600)
        inventory_time = waybill_time + _between(rng, 1800, 12 * 3600)
        traf_mode = {"344": "3", "141": "4"}.get(country, "2" if b2b else "5")
        pack_no = max(1, int(gross / 25)) if b2b else 1
        inventory: Payload = {
            **self._head(inventory_time),
            "customsCode": customs,
            "ebpCode": ebp.code,
            "ebpName": ebp.name,
            "orderNo": order_no,
            "logisticsCode": carrier.code,
            "logisticsName": carrier.name,
            "logisticsNo": logistics_no,
            "copNo": f"CE{self.year}{plan.index + 1:010d}",
            "ieFlag": "E",
            "portCode": customs,
            "ieDate": self._time(inventory_time)[:8],
            "statisticsFlag": "B" if b2b else "A",
            "agentCode": cast["agent"].code,
            "agentName": cast["agent"].name,
            "ebcCode": ebc.code,
            "ebcName": ebc.name,
            "ownerCode": ebc.code,
            "ownerName": ebc.name,
            "tradeMode": plan.trade_mode,
            "trafMode": traf_mode,
            "country": country,
            # Illustrative: the destination country's code stands for its port of discharge.
            "POD": country,
            "freight": freight_text,
            "fCurrency": currency,
            "fFlag": "3",  # freight as a total
            "insuredFee": "0.00",
            "iCurrency": currency,
            "iFlag": "3",
            # 1 wooden case for machinery parts, 2 carton for the rest.
            "wrapType": "1" if seller_key == "ebc_machinery" else "2",
            "packNo": pack_no,
            "grossWeight": _weight(gross),
            "netWeight": _weight(net),
            "items": [
                self._inventory_line(product, line, bonded=plan.trade_mode == "1210",
                                     country=country, export=True)
                for product, line in lines
            ],
        }  # fmt: skip
        if plan.trade_mode == "1210":
            inventory["emsNo"] = f"T{customs}W{cast['warehouse'].customs_code[-6:]}"
        # CEB505 names no order: the export inventory links it by logisticsCode + logisticsNo.
        waybill: Payload = {
            **self._head(waybill_time),
            "logisticsCode": carrier.code,
            "logisticsName": carrier.name,
            "logisticsNo": logistics_no,
            "freight": freight_text,
            "insuredFee": "0.00",
            "currency": currency,
            "grossWeight": _weight(gross),
            "packNo": pack_no,
            "goodsInfo": ", ".join(line["itemName"] for _, line in lines)[:200],
            "ebcCode": ebc.code,
            "ebcName": ebc.name,
            "ieFlag": "E",
        }
        # Exporters are paid after shipment; some receipts have not come in yet.
        receipt: Payload | None = None
        if plan.scenario is AnomalyKind.CURRENCY_MISMATCH or rng.random() < 0.88:
            receipt_time = inventory_time + _between(rng, 2 * 86400, 20 * 86400)
            receipt = {
                **self._head(receipt_time + _between(rng, 60, 3600)),
                "ebpCode": ebp.code,
                "ebpName": ebp.name,
                "ebcCode": ebc.code,
                "ebcName": ebc.name,
                "orderNo": order_no,
                "payCode": pay_firm.code,
                "payName": pay_firm.name,
                "payNo": f"R{'TZ' if pay_firm.key == 'pay_tz' else 'PH'}{plan.index + 1:014d}",
                "charge": _money(goods + freight),
                "currency": currency,
                "accountingDate": self._time(receipt_time),
            }
        self._spoil(plan, ebp.code, order_no, receipt, "charge", waybill, inventory)
        self.exports.append(self._send(plan, order, receipt, RECEIPT, waybill, inventory))
        self.exports[-1].inventory_time = inventory_time

    def _inventory_line(
        self, product: _Product, line: Payload, *, bonded: bool, country: str, export: bool = False
    ) -> Payload:
        qty = int(line["qty"])
        item: Payload = {
            "gnum": line["gnum"],
            "itemNo": line["itemNo"],
            "gcode": product.gcode,
            "gname": line["itemName"],
            "gmodel": line["gmodel"],
            # Import lines: the origin; export lines (CEB603): the destination.
            "country": country,
            "currency": line["currency"],
            "qty": line["qty"],
            "unit": line["unit"],
            "qty1": _weight(product.qty1_per_unit * qty),
            "unit1": product.unit1,
            "price": line["price"],
            "totalPrice": line["totalPrice"],
        }
        if export:
            item["barCode"] = "无"  # the specification's word for "no bar code"
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
        elif kind is AnomalyKind.CURRENCY_MISMATCH and payment is not None:
            # The payment firm reports the receipt converted into the other currency.
            charge = Decimal(payment[paid_field])
            usd = payment["currency"] == "502"
            payment[paid_field] = _money(charge * USD_RATE if usd else charge / USD_RATE)
            payment["currency"] = "142" if usd else "502"
        elif kind is AnomalyKind.WAYBILL_SELLER_MISMATCH:
            # The carrier files the parcel under another of its shippers.
            other = self.cast[
                rng.choice([k for k in _EXPORT_PRODUCTS if self.cast[k].code != waybill["ebcCode"]])
            ]
            waybill["ebcCode"], waybill["ebcName"] = other.code, other.name
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
                waybill[which] = f"Back entrance, {value}"[:200]
        elif kind is AnomalyKind.LINE_NAME_MISMATCH:
            item = rng.choice(inventory["items"])
            item["gname"] = item["gname"] + " gift box"
        # Limit breaches are recorded by apply_limits, from what the rules actually flag.
        if kind in MISMATCH_KINDS or kind is AnomalyKind.INCOMPLETE:
            self.anomalies.append(Anomaly(ebp_code, order_no, kind))

    def _send(
        self,
        plan: _Plan,
        order: Payload,
        money_doc: Payload | None,
        money_standard: str,
        waybill: Payload,
        inventory: Payload,
    ) -> _Sent:
        """Add the order's documents (except the one an incomplete order lacks)."""
        self.modes[(order["ebpCode"], order["orderNo"])] = (plan.direction, plan.trade_mode)
        column = self._column(order)
        self._add(ORDER, order, column)
        if money_doc is not None and plan.missing != "payment":
            self._add(money_standard, money_doc, column)
        sent_waybill = waybill if plan.missing != "waybill" else None
        if sent_waybill is not None:
            self._add(WAYBILL, sent_waybill, column)
        sent_inventory = inventory if plan.missing != "inventory" else None
        if sent_inventory is not None:
            self._add(INVENTORY, sent_inventory, column)
        return _Sent(plan, order, sent_waybill, sent_inventory, 0)

    # -- what customs answers --

    def _numbers(self, inventory: Payload, plan: _Plan) -> tuple[str, str]:
        """Customs' numbers of an inventory: the e-port's preNo and the invtNo (18 each)."""
        flag = inventory["ieFlag"]
        invt_no = f"{inventory['customsCode']}{self.year}{flag}{plan.index:09d}"
        pre_no = f"B{self.year}{inventory['customsCode']}{plan.index:09d}"
        return pre_no, invt_no

    def _receipt(
        self, inventory: Payload, plan: _Plan, status: int, info: str, moment: int
    ) -> None:
        """One customs receipt (622 / 604), relayed by the broker that declared."""
        pre_no, invt_no = self._numbers(inventory, plan)
        receipt: Payload = {
            "guid": clearance.new_guid(self.rng),
            "customsCode": inventory["customsCode"],
            "ebpCode": inventory["ebpCode"],
            "ebcCode": inventory["ebcCode"],
            "agentCode": inventory["agentCode"],
            "copNo": inventory["copNo"],
            "preNo": pre_no,
            "returnStatus": str(status),
            "returnTime": self._time(moment) + f"{_between(self.rng, 0, 1000):03d}",
            "returnInfo": info,
            "ieFlag": inventory["ieFlag"],
        }
        if inventory["ieFlag"] == "E":
            # CEB604 names the order and always carries the inventory number.
            del receipt["customsCode"]
            receipt |= {
                "invtNo": invt_no,
                "orderNo": inventory["orderNo"],
                "statisticsFlag": inventory["statisticsFlag"],
            }
        elif status != 100:
            receipt["invtNo"] = invt_no  # customs numbers an import inventory it accepts
        self._add(INVENTORY_STATUS, receipt, self._column(inventory))

    def apply_limits(self) -> dict[tuple[str, str, int], Decimal]:
        """Run the retail limits over import orders in time order and write their customs
        receipts; returns each buyer's counted total per year."""
        year_totals: dict[tuple[str, str, int], Decimal] = {}
        for sent in self.imports:
            plan, order, inventory = sent.plan, sent.order, sent.inventory
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
                self._import_customs(sent, rejected)
        return year_totals

    def _import_customs(self, sent: _Sent, rejected: str | None) -> None:
        """The 622 receipts of an import inventory; a released one is signed for (513)."""
        rng, plan, inventory = self.rng, sent.plan, sent.inventory
        assert inventory is not None
        moment = sent.inventory_time
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
        for status, info in steps:
            moment += _between(rng, 60, 4 * 3600)
            self._receipt(inventory, plan, status, info, moment)
        if rejected is not None:
            return
        self.released_imports.append(
            Cleared(sent.order, inventory, sent.waybill, *self._numbers(inventory, plan), moment)
        )
        if sent.waybill is not None and plan.missing is None and rng.random() < _SIGNED_SHARE:
            signed = moment + _between(rng, 86400, 4 * 86400)
            self._add(
                LOGISTICS_STATUS,
                {
                    **self._head(signed + _between(rng, 10, 600)),
                    "logisticsCode": sent.waybill["logisticsCode"],
                    "logisticsName": sent.waybill["logisticsName"],
                    "logisticsNo": sent.waybill["logisticsNo"],
                    "logisticsStatus": "S",  # signed for by the consignee (CEB513)
                    "logisticsTime": self._time(signed),
                },
                self._column(sent.order),
            )

    def after_import_release(self, year_totals: dict[tuple[str, str, int], Decimal]) -> None:
        """Tax bills (816) of released imports; a few cancellations (623) and returns (625)
        among buyers far from the annual limit, so no other order's limit changes."""
        for cleared in self.released_imports:
            bill = clearance.tax_bill(
                rng=self.rng, time=self._time, cleared=cleared, config=DEFAULT_RULES
            )
            self._add(TAX_BILL, bill, self._column(cleared.order))
        planted = {(a.ebp_code, a.order_no) for a in self.anomalies}
        heavy = {person.id_number for person in self.heavy.values()}
        candidates = [
            c
            for c in self.released_imports
            if (c.order["ebpCode"], c.order["orderNo"]) not in planted
            and c.order["buyerIdNumber"] not in heavy
            and year_totals.get(buyer_year_key(order=c.order) or ("", "", 0), Decimal(0))
            <= DEFAULT_RULES.annual_limit_cny
        ]
        cancellations, returns = clearance.requests(
            rng=self.rng, time=self._time, candidates=candidates
        )
        for payload in cancellations:
            self._add(INVENTORY_CANCEL, payload, self._column(payload))
        for payload in returns:
            self._add(INVENTORY_RETURN, payload, self._column(payload))
        if self.plant_risk:
            requested = {(p["ebpCode"], p["orderNo"]) for p in (*cancellations, *returns)}
            left = [
                c for c in candidates if (c.order["ebpCode"], c.order["orderNo"]) not in requested
            ]
            if left:
                self._change_after_release(self.rng.choice(left))

    def _change_after_release(self, cleared: Cleared) -> None:
        """The platform changes (appType 2) an order two days after customs released it:
        only its note, so matching is untouched; the risk rules flag it."""
        order = cleared.order
        change = {
            **order,
            **self._head(cleared.released + 2 * 86400),
            "appType": "2",
            "note": "delivery address note corrected after release",
        }
        self._add(ORDER, change, self._column(order))
        self.changed_after_release = order["ebcCode"]

    def risk_planted(self) -> dict[str, tuple[str, ...]]:
        """Risk rule id → the enterprises its planted scenario names."""
        if not self.plant_risk:
            return {}
        gifts = self.cast["ebc_gifts"].code
        planted: dict[str, tuple[str, ...]] = {
            "split-orders": (self.cast["ebp_xz"].code,),
            "volume-spike": (gifts,),
            "round-amounts": (gifts,),
        }
        if self.changed_after_release is not None:
            planted["changed-after-release"] = (self.changed_after_release,)
        return planted

    def clear_exports(self) -> None:
        """Customs receipts (604) of the export inventories, with the arrival (507) and
        departure (509) lists their waybills travel in: arrival at the supervision site,
        release, departure, then closure (899); and the monthly summaries (701/792)."""
        rng = self.rng
        declared = [sent for sent in self.exports if sent.inventory is not None]
        arrived: dict[int, int] = {}
        for sent in declared:
            arrived[sent.plan.index] = sent.inventory_time + _between(rng, 600, 3 * 3600)
        arrivals, listed = clearance.arrival_lists(
            rng=rng,
            time=self._time,
            parcels=[
                (sent.waybill, _inventory_of(sent)["customsCode"], arrived[sent.plan.index])
                for sent in declared
                if sent.waybill is not None
            ],
            operator=(self.cast["warehouse"].code, self.cast["warehouse"].name),
        )
        for payload in arrivals:
            self._add(ARRIVAL, payload)
        released: list[tuple[_Sent, int]] = []
        for sent in declared:
            inventory = sent.inventory
            assert inventory is not None
            accepted = sent.inventory_time + _between(rng, 60, 2 * 3600)
            if sent.plan.scenario in MISMATCH_KINDS:
                self._receipt(inventory, sent.plan, 100, "three-document matching failed", accepted)
                continue
            self._receipt(inventory, sent.plan, 120, "accepted", accepted)
            at_site = listed.get(_parcel(sent.waybill), arrived[sent.plan.index])
            release = max(accepted, at_site) + _between(rng, 600, 4 * 3600)
            self._receipt(inventory, sent.plan, 800, "released", release)
            released.append((sent, release))
        departures, left = clearance.departure_lists(
            rng=rng,
            time=self._time,
            parcels=[
                (
                    sent.waybill,
                    _inventory_of(sent)["customsCode"],
                    _inventory_of(sent)["trafMode"],
                    release,
                )
                for sent, release in released
                if sent.waybill is not None
            ],
        )
        for payload in departures:
            self._add(DEPARTURE, payload)
        cleared = []
        for sent, release in released:
            inventory = sent.inventory
            assert inventory is not None
            closed = left.get(_parcel(sent.waybill), release) + _between(rng, 3600, 8 * 3600)
            self._receipt(inventory, sent.plan, 899, "closed", closed)
            cleared.append(
                Cleared(
                    sent.order,
                    inventory,
                    sent.waybill,
                    *self._numbers(inventory, sent.plan),
                    release,
                )
            )
        applications, results = clearance.summaries(
            rng=rng, time=self._time, cleared=cleared, year=self.year
        )
        # A summary holds the inventories of one trade mode: its first one names the column.
        column_of = {c.invt_no: self._column(c.order) for c in cleared}
        for payload in applications:
            self._add(SUMMARY_APPLY, payload, column_of[payload["items"][0]["invtNo"]])
        for payload in results:
            self._add(SUMMARY_RESULT, payload, column_of[payload["items"][0]["invtNo"]])

    def emit(self) -> list[tuple[str, int, Record]]:
        """Return the collected records with their sort keys (arrival time, sequence)."""
        return self.pending
