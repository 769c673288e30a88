"""Derives the 2.0.0 shipped standards from the customs CEB 2022-05 specification.

    .venv/bin/python -m tools.derive_standards           # writes standards/<id>/2.0.0.json
    .venv/bin/python -m tools.derive_standards --check   # exit 1 if a file is out of date

Every element of every covered message becomes a property with its XSD type and length,
the PDF's required flag (the stronger source where the two disagree), the enumerations
and code patterns the PDF's notes give, and its data category (`x-hub-category`, from the
one table below). A standard that covers an import and an export message (order 311/303,
waybill 511/505, inventory 621/603, receipt 622/604) holds one `$defs` schema per message
and picks it with `if`/`then`/`else` on the discriminator. Deliberate deviations from the
specification are the `DEVIATIONS` table; `docs/standards.md` prints it (the section
between the `deviations` markers is rewritten by this tool) and the conformance test
(`tests/customs/test_conformance.py`) reads it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.ceb_spec import ROOT, Element, Message, read_message

VERSION = "2.0.0"
STANDARDS = ROOT / "standards"
DOCS = ROOT / "docs" / "standards.md"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class Variant:
    """One message of a standard: `when` is the discriminator value that selects it
    (None: the standard's only message). `added` are hub fields the message lacks."""

    code: str
    xsd: str
    section: str
    when: str | None = None
    added: tuple[str, ...] = ()


@dataclass(frozen=True)
class Covered:
    """A standard and the messages its 2.0.0 covers; `discriminator` picks the message."""

    standard_id: str
    title: str
    description: str
    variants: tuple[Variant, ...]
    discriminator: str | None = None


COVERED = (
    Covered(
        "cbec.order",
        "E-commerce order 2.0.0 (CEB311 import / CEB303 export, 2022-05)",
        'An order as the platform declares it: import CEB311 (orderType "I") or export '
        'CEB303 ("E" B2C, "B" B2B, "W" overseas-warehouse booking). Key: ebpCode + orderNo.',
        (
            Variant("311", "import.xsd", "3.1.4 订单报文描述", when="I"),
            Variant("303", "export.xsd", "2.1.4 订单报文描述"),
        ),
        discriminator="orderType",
    ),
    Covered(
        "cbec.payment",
        "Payment 2.0.0 (CEB411, 2022-05)",
        "An import payment voucher as the payment institution declares it. "
        "Key: payCode + payTransactionId.",
        (Variant("411", "import.xsd", "3.3.4 支付报文描述"),),
    ),
    Covered(
        "cbec.receipt",
        "Receipt of payment 2.0.0 (CEB403, 2022-05)",
        "An export receipt of payment (收款单). payCode and payNo are optional in the "
        "specification, so the key is the order's: ebpCode + orderNo.",
        (Variant("403", "export.xsd", "2.3.4 收款单报文描述"),),
    ),
    Covered(
        "cbec.waybill",
        "Waybill 2.0.0 (CEB511 import / CEB505 export, 2022-05)",
        'A waybill: import CEB511 (ieFlag "I") or export CEB505 ("E"). The export waybill '
        "names no order: the export inventory (603) links it by logisticsCode + logisticsNo. "
        "Key: logisticsCode + logisticsNo.",
        (
            Variant("511", "import.xsd", "3.5.4 运单报文描述", when="I", added=("ieFlag",)),
            Variant("505", "export.xsd", "2.5.4 运单报文描述", added=("ieFlag",)),
        ),
        discriminator="ieFlag",
    ),
    Covered(
        "cbec.logistics-status",
        "Waybill status 2.0.0 (CEB513, 2022-05)",
        'The carrier\'s signed-for status of an import waybill (logisticsStatus "S": signed '
        "for by the consignee). Key: logisticsCode + logisticsNo + logisticsTime + status.",
        (Variant("513", "import.xsd", "3.7.4 运单状态报文描述"),),
    ),
    Covered(
        "cbec.inventory",
        "Customs inventory 2.0.0 (CEB621 import / CEB603 export, 2022-05)",
        "A customs inventory (清单) declared by the customs broker (agentCode): import "
        'CEB621 (ieFlag "I") or export CEB603 ("E"). Key: ebpCode + orderNo.',
        (
            Variant("621", "import.xsd", "3.9.4 进口清单报文描述", when="I"),
            Variant("603", "export.xsd", "2.11.4 申报清单报文描述"),
        ),
        discriminator="ieFlag",
    ),
    Covered(
        "cbec.inventory-status",
        "Inventory receipt 2.0.0 (CEB622 import / CEB604 export, 2022-05)",
        "Customs' (and the e-port's) receipt on an inventory, relayed by the broker: import "
        'CEB622 (ieFlag "I") or export CEB604 ("E"). It names the inventory by copNo / '
        "preNo / invtNo; times have milliseconds (17 digits); returnStatus is a string: the "
        "e-port codes 1-4, customs' 100 … 899, or a negative processing error.",
        (
            Variant(
                "622", "import.xsd", "3.10.4 进口清单回执报文描述", when="I", added=("ieFlag",)
            ),
            Variant("604", "export.xsd", "2.12.4 申报清单回执报文描述", added=("ieFlag",)),
        ),
        discriminator="ieFlag",
    ),
    Covered(
        "cbec.inventory-cancel",
        "Inventory cancellation 2.0.0 (CEB623, 2022-05)",
        "The broker's application to withdraw an import inventory customs accepted "
        "(撤销申请单), naming it by ebpCode + orderNo and its invtNo. While it stands, the "
        "inventory no longer counts toward the buyer's annual quota. "
        "Key: ebpCode + orderNo + invtNo.",
        (Variant("623", "import.xsd", "3.11.4 撤销申请单报文描述"),),
    ),
    Covered(
        "cbec.inventory-return",
        "Inventory return 2.0.0 (CEB625, 2022-05)",
        "The broker's return application (退货申请单) for goods of an import inventory, "
        "line by line with the quantity returned (at most the inventory's). The returned "
        "share of the dutiable value gives annual quota back. Key: ebpCode + orderNo + copNo.",
        (Variant("625", "import.xsd", "3.13.4 退货申请单报文描述"),),
    ),
    Covered(
        "cbec.arrival",
        "Arrival list 2.0.0 (CEB507, 2022-05)",
        "The carrier's arrival list (运抵单): export waybills that reached the customs "
        "supervision site, with their own head (site operator, bill of lading, vehicle). "
        "Key: logisticsCode + copNo + msgSeqNo.",
        (Variant("507", "export.xsd", "2.7.4 运抵单报文描述"),),
    ),
    Covered(
        "cbec.departure",
        "Departure list 2.0.0 (CEB509, 2022-05)",
        "The carrier's departure list (离境单): export waybills that left the country, with "
        "their own head (means of transport, voyage, bill of lading, leaveTime): the "
        "departure evidence export tax refunds rest on. Key: logisticsCode + copNo + msgSeqNo.",
        (Variant("509", "export.xsd", "2.9.4 离境单报文描述"),),
    ),
    Covered(
        "cbec.summary-apply",
        "Summary application 2.0.0 (CEB701, 2022-05)",
        "The broker's application (汇总申请单) to sum export inventories up into one "
        "customs declaration, listing them by invtNo. Key: agentCode + copNo + msgSeqNo.",
        (Variant("701", "export.xsd", "2.21.4 汇总申请单报文描述"),),
    ),
    Covered(
        "cbec.summary-result",
        "Summary result 2.0.0 (CEB792, 2022-05)",
        "Customs' summary result (汇总结果单), relayed by the broker: the customs declaration "
        "(entryId) the listed inventories were summed into, the link export tax refunds "
        "need. Key: agentCode + sumNo + msgSeqNo.",
        (Variant("792", "export.xsd", "2.23.4 汇总结果单报文描述"),),
    ),
    Covered(
        "cbec.tax-bill",
        "Electronic tax bill 2.0.0 (CEB816, 2022-05)",
        "Customs' electronic tax bill (电子税单) of an import inventory (by invtNo), relayed "
        "by the broker or the guarantor: the tax customs assessed, in total and per line. "
        "Key: invtNo + taxNo + returnTime + status.",
        (Variant("816", "import.xsd", "3.17.4 电子税单报文描述"),),
    ),
)

# --- data categories: the one table ------------------------------------------------------
# The document's own category, then the fields that belong elsewhere. Line fields are
# `items.<name>`; a line field not listed is `goods`. These agree with 1.0.0 wherever a
# property exists in both (a property keeps its category in every version).
DOCUMENT_CATEGORY = {
    "cbec.order": "order",
    "cbec.payment": "payment",
    "cbec.receipt": "payment",
    "cbec.waybill": "logistics",
    "cbec.logistics-status": "logistics",
    "cbec.inventory": "clearance",
    "cbec.inventory-status": "clearance",
    "cbec.inventory-cancel": "clearance",
    "cbec.inventory-return": "clearance",
    "cbec.arrival": "logistics",
    "cbec.departure": "logistics",
    "cbec.summary-apply": "clearance",
    "cbec.summary-result": "clearance",
    "cbec.tax-bill": "tax",
}
_BUYER = dict.fromkeys(
    ("buyerRegNo", "buyerName", "buyerTelephone", "buyerIdType", "buyerIdNumber"), "personal"
)
_CONSIGNEE = dict.fromkeys(
    ("consignee", "consigneeTelephone", "consigneeAddress", "consigneeDistrict"), "personal"
)
_LIST_OF_WAYBILLS = dict.fromkeys(
    ("items.gnum", "items.logisticsNo", "items.totalPackageNo", "items.note"), "logistics"
)
_LINE_MONEY = {"items.price": "order", "items.totalPrice": "order", "items.currency": "order"}
FIELD_CATEGORY: dict[str, dict[str, str]] = {
    "cbec.order": {
        **_BUYER,
        **_CONSIGNEE,
        **_LINE_MONEY,
        "orderNo": "registration",
        "ebpCode": "registration",
        "ebpName": "registration",
        "ebcCode": "registration",
        "ebcName": "registration",
        "taxTotal": "tax",
        "items": "goods",
    },
    "cbec.payment": dict.fromkeys(
        ("payerIdType", "payerIdNumber", "payerName", "telephone"), "personal"
    ),
    "cbec.receipt": {},
    "cbec.waybill": dict(_CONSIGNEE),
    "cbec.logistics-status": {},
    "cbec.inventory": {
        **_BUYER,
        **_LINE_MONEY,
        "consigneeAddress": "personal",
        "freight": "order",
        "fCurrency": "order",
        "insuredFee": "order",
        "iCurrency": "order",
        "currency": "order",
        "items": "goods",
    },
    "cbec.inventory-status": {},
    "cbec.inventory-cancel": dict(_BUYER),
    "cbec.inventory-return": {**_BUYER, "items": "goods"},
    # The lines of an arrival or departure list are waybill numbers, not goods.
    "cbec.arrival": {"items": "logistics", **_LIST_OF_WAYBILLS},
    "cbec.departure": {"items": "logistics", **_LIST_OF_WAYBILLS},
    "cbec.summary-apply": {"items": "clearance", "items.invtNo": "clearance"},
    "cbec.summary-result": {
        "items": "clearance",
        **dict.fromkeys(("items.invtNo", "items.gseqno", "items.gnum"), "clearance"),
        "items.logisticsNo": "logistics",
    },
    # A tax bill's lines are the taxes customs assessed per line and the dutiable price it
    # assessed them on: tax amounts (the broker and guarantor read them), not goods; only
    # the HS code is goods.
    "cbec.tax-bill": {
        "invtNo": "clearance",
        "items": "tax",
        **dict.fromkeys(
            (
                "items.gnum",
                "items.taxPrice",
                "items.customsTax",
                "items.valueAddedTax",
                "items.consumptionTax",
            ),
            "tax",
        ),
    },
}

# --- what the PDF's notes say beyond the XSD -----------------------------------------------
# (message code or "*", element) → allowed values; the PDF note they come from is quoted.
# Not here: 513 logisticsStatus, which the PDF limits to S but whose official sample sends
# R (docs/standards.md); it stays a 1-letter code.
ENUMS: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("*", "appType"): (("1", "2", "3"), "企业报送类型。1-新增 2-变更 3-删除"),
    ("*", "appStatus"): (("1", "2"), "业务状态:1-暂存,2-申报"),
    ("311", "orderType"): (("I",), "电子订单类型：I进口"),
    ("303", "orderType"): (("E", "B", "W"), "E-B2C 出口订单；B-B2B 出口订单；W-海外仓订仓单"),
    ("*", "buyerIdType"): (("1",), "1-身份证,2-其它。限定为身份证，填写“1”"),
    ("*", "payerIdType"): (("1",), "1-身份证,2-其它。限定为身份证，填写“1”"),
    ("621", "ieFlag"): (("I",), "I-进口,E-出口 (an import inventory)"),
    ("603", "ieFlag"): (("E",), "I-进口,E-出口 (an export inventory)"),
    ("511", "ieFlag"): (("I",), "hub field: the import waybill"),
    ("505", "ieFlag"): (("E",), "hub field: the export waybill"),
    ("622", "ieFlag"): (("I",), "hub field: a receipt on an import inventory"),
    ("604", "ieFlag"): (("E",), "hub field: a receipt on an export inventory"),
    ("621", "tradeMode"): (
        ("9610", "1210", "1239"),
        "直购进口填写“9610”，保税进口填写“1210” (1239: bonded retail A, GACC 2016 No. 75)",
    ),
    ("603", "tradeMode"): (
        ("9610", "1210", "9710", "9810"),
        "一般出口填 9610，特殊区域出口填 1210，B2B 出口填 9710，出口海关仓填 9810",
    ),
    ("*", "statisticsFlag"): (("A", "B"), "A-简化申报;B-汇总申报"),
    ("507", "ieFlag"): (("I", "E"), "进出口标记-I进口/E出口"),
    ("701", "summaryFlag"): (("1", "2"), "1:按收发货人单一汇总，2:按收发货人和生产销售单位汇总"),
    ("816", "status"): (("1", "2", "3"), "税单状态 1-已生成，2-已汇总 3-作废"),
    ("*", "fFlag"): (("1", "2", "3"), "1-率，2-单价，3-总价"),
    ("*", "iFlag"): (("1", "2", "3"), "1-率，2-单价，3-总价"),
}
# Code-table and format patterns (element → pattern, why). Digits are [0-9], never \d.
_CODE3 = ("^[0-9]{3}$", "a 3-digit customs parameter code (currency, unit or country table)")
PATTERNS: dict[str, tuple[str, str]] = {
    "currency": _CODE3,
    "fCurrency": _CODE3,
    "iCurrency": _CODE3,
    "unit": _CODE3,
    "unit1": _CODE3,
    "unit2": _CODE3,
    "country": _CODE3,
    "tradeCountry": _CODE3,
    "appTime": ("^[0-9]{14}$", "YYYYMMDDhhmmss"),
    "payTime": ("^[0-9]{14}$", "YYYYMMDDhhmmss"),
    "accountingDate": ("^[0-9]{14}$", "YYYYMMDDhhmmss"),
    "logisticsTime": ("^[0-9]{14}$", "YYYYMMDDhhmmss"),
    "returnTime": ("^[0-9]{17}$", "YYYYMMDDhhmmssSSS"),
    "opDate": ("^[0-9]{17}$", "YYYYMMDDhhmmssSSS"),
    "leaveTime": ("^[0-9]{14}$", "YYYYMMDDhhmmss"),
    "startTime": ("^[0-9]{14}$", "YYYYMMDDhhmmss"),
    "endTime": ("^[0-9]{14}$", "YYYYMMDDhhmmss"),
    "declTime": ("^[0-9]{8}$", "YYYYMMDD"),
    "ieDate": ("^[0-9]{8}$", "YYYYMMDD"),
    "customsCode": ("^[0-9]{4}$", "a 4-digit customs (关区) code"),
    "portCode": ("^[0-9]{4}$", "a 4-digit customs (关区) code"),
    "gcode": ("^[0-9]{10}$", "a 10-digit HS code (8-digit tariff line + 2-digit supplement)"),
    "consigneeDistrict": ("^[0-9]{6}$", "a 6-digit administrative division code"),
    "returnStatus": ("^-?[0-9]{1,9}$", "e-port 1-4, customs 100 … 899, negative: error"),
}

# --- deliberate deviations from the specification --------------------------------------
# kind: "added" (a hub property the message lacks), "not-required" / "required" (the
# standard's required flag differs from the PDF's), "length" (maxLength differs from the
# XSD's). The conformance test accepts exactly these differences.
DEVIATIONS: tuple[dict[str, str], ...] = (
    {
        "message": "511",
        "element": "ieFlag",
        "kind": "added",
        "why": "cbec.waybill holds the import and the export waybill; the XML intake sets "
        "ieFlag from the message type (511 → I), a JSON declarant names it",
    },
    {
        "message": "505",
        "element": "ieFlag",
        "kind": "added",
        "why": "the export waybill's discriminator (505 → E), as for 511",
    },
    {
        "message": "622",
        "element": "ieFlag",
        "kind": "added",
        "why": "cbec.inventory-status holds import and export receipts; the XML intake sets "
        "ieFlag from the message type (622 → I)",
    },
    {
        "message": "604",
        "element": "ieFlag",
        "kind": "added",
        "why": "the export receipt's discriminator (604 → E), as for 622",
    },
)


def _category(standard_id: str, name: str) -> str:
    return FIELD_CATEGORY[standard_id].get(name) or (
        "goods" if name.startswith("items.") else DOCUMENT_CATEGORY[standard_id]
    )


def decimal_pattern(total: int, fraction: int) -> str:
    """An RE2-safe pattern for an XSD decimal with totalDigits/fractionDigits (no
    lookahead: one alternative per number of decimals)."""
    options = [f"[0-9]{{1,{total}}}"]
    options += [f"[0-9]{{1,{total - n}}}\\.[0-9]{{{n}}}" for n in range(1, fraction + 1)]
    return "^-?(" + "|".join(options) + ")$"


def _int_digits(element: Element) -> int:
    if element.total_digits:
        return element.total_digits
    fmt = element.pdf_format or ""
    if fmt.startswith("N") and fmt[1:].isdigit():
        return int(fmt[1:])
    return 9


def _enum(code: str, name: str) -> tuple[tuple[str, ...], str] | None:
    return ENUMS.get((code, name)) or ENUMS.get(("*", name))


def leaf_schema(element: Element, *, code: str, category: str) -> dict[str, Any]:
    """The JSON Schema of one element."""
    schema: dict[str, Any] = {}
    if element.doc:
        schema["description"] = element.doc
    if element.kind == "decimal":
        total, fraction = element.total_digits or 19, element.fraction_digits or 5
        schema["type"] = "string"
        schema["pattern"] = decimal_pattern(total, fraction)
        schema["$comment"] = f"decimal N{total},{fraction} as a string"
    elif element.kind == "int":
        schema["type"] = "integer"
        schema["minimum"] = 0
        schema["maximum"] = 10 ** _int_digits(element) - 1
    else:
        schema["type"] = "string"
        # An empty element is an absent one (the XML intake drops it), so text is never "".
        schema["minLength"] = max(1, element.min_length or 1)
        if element.max_length is not None:
            schema["maxLength"] = element.max_length
        enum = _enum(code, element.name)
        if enum is not None:
            schema["enum"] = list(enum[0])
        elif element.name in PATTERNS:
            schema["pattern"] = PATTERNS[element.name][0]
    schema["x-hub-category"] = category
    return schema


def _added_schema(name: str, code: str, category: str) -> dict[str, Any]:
    values, note = _enum(code, name) or ((), "")
    return {"description": note, "enum": list(values), "x-hub-category": category}


def _required_deviation(code: str, name: str) -> bool:
    return any(
        d["message"] == code and d["element"] == name and d["kind"] == "required"
        for d in DEVIATIONS
    )


def _object(
    elements: tuple[Element, ...], *, code: str, standard_id: str, prefix: str = ""
) -> dict[str, Any]:
    properties = {
        e.name: leaf_schema(e, code=code, category=_category(standard_id, prefix + e.name))
        for e in elements
    }
    required = [e.name for e in elements if e.required or _required_deviation(code, e.name)]
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required,
    }


def message_schema(covered: Covered, variant: Variant, message: Message) -> dict[str, Any]:
    """The `$defs` schema of one message's record (head fields flat, lines in `items`)."""
    code = variant.code
    sid = covered.standard_id
    schema = _object(message.group("head"), code=code, standard_id=sid)
    schema = {"title": f"CEB{code}Message {message.record}", **schema}
    for name in variant.added:
        schema["properties"][name] = _added_schema(name, code, _category(sid, name))
        schema["required"].append(name)
    if message.lines:
        schema["properties"]["items"] = {
            "description": f"the {message.lines} lines",
            "type": "array",
            "minItems": 1,
            **({"maxItems": message.max_lines} if message.max_lines else {}),
            "items": {"$ref": f"#/$defs/CEB{code}.{message.lines}"},
            "x-hub-category": _category(sid, "items"),
        }
        schema["required"].append("items")
    return schema


def standard_schema(covered: Covered) -> dict[str, Any]:
    """The whole 2.0.0 document of one standard."""
    defs: dict[str, Any] = {}
    union: dict[str, dict[str, Any]] = {}
    for variant in covered.variants:
        message = read_message(variant.code, variant.xsd, variant.section)
        body = message_schema(covered, variant, message)
        defs[f"CEB{variant.code}"] = body
        if message.lines:
            lines = _object(
                message.group("list"),
                code=variant.code,
                standard_id=covered.standard_id,
                prefix="items.",
            )
            defs[f"CEB{variant.code}.{message.lines}"] = {
                "title": f"CEB{variant.code}Message {message.lines}",
                **lines,
            }
        for name, prop in body["properties"].items():
            union.setdefault(name, {"x-hub-category": prop["x-hub-category"]})
    document: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "title": covered.title,
        "description": covered.description,
        "type": "object",
    }
    if len(covered.variants) == 1:
        only = defs.pop(f"CEB{covered.variants[0].code}")
        document.update({k: v for k, v in only.items() if k != "title"})
    else:
        first, other = covered.variants
        document["properties"] = union
        document["required"] = [covered.discriminator]
        document["if"] = {
            "properties": {covered.discriminator: {"const": first.when}},
            "required": [covered.discriminator],
        }
        document["then"] = {"$ref": f"#/$defs/CEB{first.code}"}
        document["else"] = {"$ref": f"#/$defs/CEB{other.code}"}
    if defs:
        document["$defs"] = defs
    return document


def rendered() -> dict[Path, str]:
    """Every generated file and its content."""
    out: dict[Path, str] = {}
    for covered in COVERED:
        text = json.dumps(standard_schema(covered), ensure_ascii=False, indent=2) + "\n"
        out[STANDARDS / covered.standard_id / f"{VERSION}.json"] = text
    out[DOCS] = _docs_with_deviations(DOCS.read_text(encoding="utf-8"))
    return out


_BEGIN = "<!-- deviations: generated by tools/derive_standards.py -->"
_END = "<!-- /deviations -->"


def deviations_markdown() -> str:
    """The DEVIATIONS table as Markdown (printed into docs/standards.md)."""
    lines = ["| message | element | deviation | why |", "|---|---|---|---|"]
    for d in DEVIATIONS:
        lines.append(f"| CEB{d['message']} | `{d['element']}` | {d['kind']} | {d['why']} |")
    return "\n".join(lines)


def _docs_with_deviations(text: str) -> str:
    if _BEGIN not in text or _END not in text:
        return text
    head, rest = text.split(_BEGIN, 1)
    _, tail = rest.split(_END, 1)
    return f"{head}{_BEGIN}\n{deviations_markdown()}\n{_END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Writes the generated files, or with --check reports those out of date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in stale:
        verb = "out of date" if args.check else "written"
        print(f"{path.relative_to(ROOT)}: {verb}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
