"""CEB messages built from the official samples' shapes, with values that belong together.

`message(name, records)` writes a message of type `name` (`CEB311`): its elements in the
order of the official XSD, each record's values taken from the first record of the
official sample (or, for a message without a sample, only from `records`), overridden by
the given ones; a value of None writes the element empty (the hub reads it as absent),
`OMIT` leaves it out. Lines go in `items`. The envelope
(BaseTransfer) is the sample's, naming the sender, and so is the XML-DSig signature where
the XSD requires one (it no longer verifies over the changed values; the hub keeps
signatures and does not verify them, README "Customs XML messages").

`import_set()` and `export_set()` give the documents of one order in the payloads' words
(field → value, lines in `items`), consistent with each other so that the hub matches them;
tests change one value to break one rule.
"""

from __future__ import annotations

import copy
import uuid
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from hub.messages.catalog import MESSAGE_TYPES
from hub.messages.xsd import CEB_NAMESPACE, XS, schema, schema_document
from hub.trade.rules_config import DEFAULT_RULES
from hub.trade.tax import retail_import_tax

SAMPLES = Path(__file__).parent / "samples"
CEB = f"{{{CEB_NAMESPACE}}}"

# One enterprise per role, customs-style 10-character codes.
PLATFORM = "3301960001"  # ebpCode
SELLER = "3301960002"  # ebcCode
PAYER = "3301960003"  # payCode
CARRIER = "3301960004"  # logisticsCode
BROKER = "3301960005"  # agentCode
GUARANTOR = "3301960006"  # assureCode
OWNER = "3301960007"  # ownerCode (export)

Record = dict[str, Any]


class _Omit:
    """Leaves an element out (survives copying a record)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Omit:
        return self


OMIT = _Omit()


def _globals(xsd: str) -> dict[str, etree._Element]:
    root = schema_document(xsd).getroot()
    return {e.get("name"): e for e in root.findall(f"{XS}element")}


def _children(xsd: str, element: etree._Element) -> list[tuple[str, etree._Element]]:
    """(name, definition) of an element's children in XSD order (refs resolved)."""
    sequence = element.find(f"{XS}complexType/{XS}sequence")
    found = []
    for child in [] if sequence is None else sequence.findall(f"{XS}element"):
        ref = child.get("ref")
        if ref is None:
            found.append((child.get("name"), child))
        elif ref.startswith("ceb:"):
            name = ref.split(":", 1)[1]
            found.append((name, _globals(xsd)[name]))
    return found


def _leaves(xsd: str, element: etree._Element) -> list[str]:
    return [name for name, _ in _children(xsd, element)]


_DS = "{http://www.w3.org/2000/09/xmldsig#}"


def _texts(element: etree._Element) -> Record:
    return {etree.QName(c).localname: c.text for c in element if isinstance(c.tag, str)}


def _sample_values(
    name: str,
) -> tuple[Record, Record, etree._Element | None, etree._Element | None]:
    """The head (or flat record) and first line values of the sample's first record, its
    first BaseTransfer and its signature."""
    path = SAMPLES / f"{name}.xml"
    if not path.exists():
        return {}, {}, None, None
    root = etree.parse(str(path)).getroot()
    mtype = MESSAGE_TYPES[f"{name}Message"]
    record = root.find(f"{CEB}{mtype.record}")
    assert record is not None
    groups = [c for c in record if isinstance(c.tag, str) and len(c)]
    head = _texts(groups[0]) if groups else _texts(record)
    line = _texts(groups[1]) if len(groups) > 1 else {}
    return head, line, root.find(f"{CEB}BaseTransfer"), root.find(f"{_DS}Signature")


def _fill(parent: etree._Element, names: list[str], values: Record) -> None:
    for leaf in names:
        if leaf not in values or values[leaf] is OMIT:
            continue
        value = values[leaf]
        etree.SubElement(parent, f"{CEB}{leaf}").text = None if value is None else str(value)


def message(name: str, records: list[Record], *, sender: str | None = None) -> bytes:
    """A `name` message (e.g. CEB311) holding `records`, valid against the official XSD."""
    mtype = MESSAGE_TYPES[f"{name}Message"]
    xsd = mtype.xsd
    head_defaults, line_defaults, transfer, signature = _sample_values(name)
    root = etree.Element(
        f"{CEB}{mtype.name}",
        nsmap={"ceb": CEB_NAMESPACE},
        guid=str(uuid.uuid4()).upper(),
        version="1.0",
    )
    parts = dict(_children(xsd, _globals(xsd)[mtype.name]))
    record_def = parts[mtype.record]
    groups = [(n, d) for n, d in _children(xsd, record_def) if _children(xsd, d)]
    for values in records:
        record = etree.SubElement(root, f"{CEB}{mtype.record}")
        if not groups:
            _fill(record, _leaves(xsd, record_def), {**head_defaults, **values})
            continue
        head_name, head_def = groups[0]
        head_values = {**head_defaults, **{k: v for k, v in values.items() if k != "items"}}
        _fill(etree.SubElement(record, f"{CEB}{head_name}"), _leaves(xsd, head_def), head_values)
        for line_name, line_def in groups[1:]:
            for line in values.get("items", [{}]):
                element = etree.SubElement(record, f"{CEB}{line_name}")
                _fill(element, _leaves(xsd, line_def), {**line_defaults, **line})
    if "BaseTransfer" in parts and transfer is not None:
        envelope = copy.deepcopy(transfer)
        code = envelope.find(f"{CEB}copCode")
        if sender and code is not None:
            code.text = sender
        root.append(envelope)
    if signature is not None:
        root.append(copy.deepcopy(signature))
    tree = etree.ElementTree(root)
    violations = schema(xsd).errors(tree)
    assert violations == [], violations
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


# --- documents of one order that belong together -----------------------------------------

_BUYER = {
    "buyerIdType": "1",
    "buyerIdNumber": "130681136250023332",
    "buyerName": "李小宝",
    "buyerTelephone": "13256253633",
}
_CONSIGNEE = {
    "consignee": "李小宝",
    "consigneeTelephone": "13256253633",
    "consigneeAddress": "北京市海淀区中关村软件园",
}
_LINES = (
    {"gnum": 1, "itemNo": "AF001-001", "itemName": "小米盒子", "qty": "2", "price": "300",
     "totalPrice": "600", "gcode": "8541401000"},
    {"gnum": 2, "itemNo": "AF001-002", "itemName": "蓝牙耳机", "qty": "1", "price": "400",
     "totalPrice": "400", "gcode": "8518300000"},
)  # fmt: skip


def _order_lines() -> list[Record]:
    return [{k: v for k, v in line.items() if k != "gcode"} for line in _LINES]


def _inventory_lines(*, export: bool) -> list[Record]:
    lines = []
    for line in _LINES:
        lines.append(
            {
                "gnum": line["gnum"],
                "itemNo": line["itemNo"],
                "itemName": line["itemName"],
                "gcode": line["gcode"],
                "gname": line["itemName"],
                "qty": line["qty"],
                "qty1": line["qty"],
                "unit": "007",
                "unit1": "007",
                "price": line["price"],
                "totalPrice": line["totalPrice"],
                "qty2": OMIT,
                "unit2": OMIT,
            }
        )
    return lines


def _numbered(prefix: str, order_no: str, length: int = 18) -> str:
    """A customs-assigned number of fixed length (preNo, invtNo), one per order."""
    digits = str(zlib.crc32(f"{prefix}{order_no}".encode()))
    return (prefix + "2024" + digits.zfill(length))[:length]


def _goods_value() -> Decimal:
    return sum((Decimal(line["totalPrice"]) for line in _LINES), Decimal(0))


def import_set(order_no: str = "ORD-XML-I-0001") -> dict[str, Record]:
    """A 9610 import order (311) with its payment (411), waybill (511), inventory (621) and
    customs release receipt (622), as the official samples shape them."""
    logistics_no = f"L{order_no}"[-32:]
    cop_no = f"C{order_no}"[-20:]
    freight = Decimal("10")
    order: Record = {
        "guid": str(uuid.uuid4()).upper(),
        "appTime": "20240301100000",
        "orderNo": order_no,
        "ebpCode": PLATFORM,
        "ebpName": "测试电商平台",
        "ebcCode": SELLER,
        "ebcName": "测试电商企业",
        "goodsValue": str(_goods_value()),
        "freight": str(freight),
        "discount": "0",
        "payCode": PAYER,
        "payName": "测试支付企业",
        "payTransactionId": f"P{order_no}",
        **_BUYER,
        **_CONSIGNEE,
        "items": _order_lines(),
    }
    inventory: Record = {
        "guid": str(uuid.uuid4()).upper(),
        "appTime": "20240301120000",
        "orderNo": order_no,
        "ebpCode": PLATFORM,
        "ebpName": "测试电商平台",
        "ebcCode": SELLER,
        "ebcName": "测试电商企业",
        "logisticsCode": CARRIER,
        "logisticsName": "测试物流企业",
        "logisticsNo": logistics_no,
        "copNo": cop_no,
        "assureCode": GUARANTOR,
        "agentCode": BROKER,
        "agentName": "测试报关企业",
        "tradeMode": "9610",
        "freight": str(freight),
        "insuredFee": "0",
        "consigneeAddress": _CONSIGNEE["consigneeAddress"],
        **_BUYER,
        "items": _inventory_lines(export=False),
    }
    tax = retail_import_tax(order=order, inventory=inventory, config=DEFAULT_RULES).computed
    paid = _goods_value() + freight + tax
    order |= {"taxTotal": f"{tax:.2f}", "acturalPaid": f"{paid:.2f}"}
    payment: Record = {
        "guid": str(uuid.uuid4()).upper(),
        "payCode": PAYER,
        "payName": "测试支付企业",
        "payTransactionId": f"P{order_no}",
        "orderNo": order_no,
        "ebpCode": PLATFORM,
        "ebpName": "测试电商平台",
        "payerIdType": _BUYER["buyerIdType"],
        "payerIdNumber": _BUYER["buyerIdNumber"],
        "payerName": _BUYER["buyerName"],
        "amountPaid": order["acturalPaid"],
        "currency": "142",
    }
    waybill: Record = {
        "guid": str(uuid.uuid4()).upper(),
        "logisticsCode": CARRIER,
        "logisticsName": "测试物流企业",
        "logisticsNo": logistics_no,
        "orderNo": order_no,
        "freight": str(freight),
        "packNo": "1",
        **_CONSIGNEE,
    }
    release: Record = {
        "guid": str(uuid.uuid4()).upper(),
        "ebpCode": PLATFORM,
        "ebcCode": SELLER,
        "agentCode": BROKER,
        "copNo": cop_no,
        "preNo": _numbered("B", order_no),
        "invtNo": _numbered("I", order_no),
        "returnStatus": "800",
        "returnTime": "20240301150000000",
        "returnInfo": "放行",
    }
    return {
        "CEB311": order,
        "CEB411": payment,
        "CEB511": waybill,
        "CEB621": inventory,
        "CEB622": release,
    }


def export_set(order_no: str = "ORD-XML-E-0001") -> dict[str, Record]:
    """A 9610 export order (303) with its receipt of payment (403), waybill (505),
    inventory (603) and customs release receipt (604)."""
    logistics_no = f"L{order_no}"[-32:]
    cop_no = f"C{order_no}"[-30:]
    order: Record = {
        "guid": str(uuid.uuid4()).upper(),
        "orderType": "E",
        "orderNo": order_no,
        "ebpCode": PLATFORM,
        "ebpName": "测试电商平台",
        "ebcCode": SELLER,
        "ebcName": "测试电商企业",
        "goodsValue": str(_goods_value()),
        "freight": "0",
        "currency": "142",
        "items": [line | {"unit": "007", "currency": "142"} for line in _order_lines()],
    }
    receipt: Record = {
        "guid": str(uuid.uuid4()).upper(),
        "ebpCode": PLATFORM,
        "ebpName": "测试电商平台",
        "ebcCode": SELLER,
        "ebcName": "测试电商企业",
        "orderNo": order_no,
        "payCode": PAYER,
        "payName": "测试支付企业",
        "payNo": f"P{order_no}",
        "charge": str(_goods_value()),
        "currency": "142",
    }
    waybill: Record = {
        "guid": str(uuid.uuid4()).upper(),
        "logisticsCode": CARRIER,
        "logisticsName": "测试物流企业",
        "logisticsNo": logistics_no,
        "ebcCode": SELLER,
        "ebcName": "测试电商企业",
    }
    inventory: Record = {
        "guid": str(uuid.uuid4()).upper(),
        "orderNo": order_no,
        "ebpCode": PLATFORM,
        "ebpName": "测试电商平台",
        "ebcCode": SELLER,
        "ebcName": "测试电商企业",
        "logisticsCode": CARRIER,
        "logisticsName": "测试物流企业",
        "logisticsNo": logistics_no,
        "copNo": cop_no,
        "ieFlag": "E",
        "agentCode": BROKER,
        "agentName": "测试报关企业",
        "ownerCode": OWNER,
        "ownerName": "测试生产企业",
        "tradeMode": "9610",
        "items": _inventory_lines(export=True),
    }
    release: Record = {
        "guid": str(uuid.uuid4()).upper(),
        "agentCode": BROKER,
        "copNo": cop_no,
        "preNo": _numbered("B", order_no),
        "invtNo": _numbered("I", order_no),
        "ebcCode": SELLER,
        "ebpCode": PLATFORM,
        "orderNo": order_no,
        "statisticsFlag": "A",
        "returnStatus": "800",
        "returnTime": "20240301150000000",
        "returnInfo": "放行",
    }
    return {
        "CEB303": order,
        "CEB403": receipt,
        "CEB505": waybill,
        "CEB603": inventory,
        "CEB604": release,
    }


# The enterprise that sends each message (the role the authority table lets create it).
SENDER_FIELD = {
    "CEB311": "ebpCode",
    "CEB303": "ebpCode",
    "CEB411": "payCode",
    "CEB403": "payCode",
    "CEB511": "logisticsCode",
    "CEB505": "logisticsCode",
    "CEB621": "agentCode",
    "CEB603": "agentCode",
    "CEB622": "agentCode",
    "CEB604": "agentCode",
}


# --- what follows an order's clearance ----------------------------------------------------------


def cancellation(docs: dict[str, Record], **values: Any) -> Record:
    """A 623 of the import set's inventory, by its broker."""
    inventory = docs["CEB621"]
    fields = ("orderNo", "ebpCode", "ebpName", "ebcCode", "ebcName", "logisticsNo")
    fields += ("logisticsCode", "logisticsName", "copNo", "agentCode", "agentName")
    fields += ("buyerIdType", "buyerIdNumber", "buyerName", "buyerTelephone")
    return {
        "guid": str(uuid.uuid4()).upper(),
        "appTime": "20240305100000",
        "appStatus": "2",
        **{f: inventory[f] for f in fields},
        "preNo": docs["CEB622"]["preNo"],
        "invtNo": docs["CEB622"]["invtNo"],
        "reason": "消费者取消订单",
        **values,
    }


def goods_return(docs: dict[str, Record], lines: list[tuple[int, str]], **values: Any) -> Record:
    """A 625 of the import set's inventory: (gnum, qty returned) per line."""
    head = cancellation(docs) | {"copNo": f"R{docs['CEB621']['copNo']}"[:20], "reason": "退货"}
    head.pop("preNo")
    by_gnum = {line["gnum"]: line for line in docs["CEB621"]["items"]}
    items = [
        {
            "gnum": gnum,
            "gcode": by_gnum[gnum]["gcode"],
            "gname": by_gnum[gnum]["gname"],
            "qty": qty,
            "unit": "007",
        }
        for gnum, qty in lines
    ]
    return {**head, "items": items, **values}


def tax_bill(docs: dict[str, Record], *, vat: str, **values: Any) -> Record:
    """An 816 of the import set's inventory: no duty, no consumption tax, this VAT, split
    over the lines in proportion to their value."""
    inventory = docs["CEB621"]
    lines = inventory["items"]
    total = sum((Decimal(line["totalPrice"]) for line in lines), Decimal(0))
    items = [
        {
            "gnum": line["gnum"],
            "gcode": line["gcode"],
            "taxPrice": line["totalPrice"],
            "customsTax": "0",
            "valueAddedTax": str(
                (Decimal(vat) * Decimal(line["totalPrice"]) / total).quantize(Decimal("0.01"))
            ),
            "consumptionTax": "0",
        }
        for line in lines
    ]
    return {
        "guid": str(uuid.uuid4()).upper(),
        "returnTime": "20240301160000000",
        "invtNo": docs["CEB622"]["invtNo"],
        "taxNo": f"T{docs['CEB622']['invtNo']}",
        "customsTax": "0",
        "valueAddedTax": vat,
        "consumptionTax": "0",
        "status": "1",
        "assureCode": inventory["assureCode"],
        "ebcCode": inventory["ebcCode"],
        "logisticsCode": inventory["logisticsCode"],
        "agentCode": inventory["agentCode"],
        "customsCode": "3700",
        "items": items,
        **values,
    }


def summary_result(docs: dict[str, Record], entry_id: str, **values: Any) -> Record:
    """A 792 of the export set's inventory, summed into customs declaration `entry_id`."""
    inventory, release = docs["CEB603"], docs["CEB604"]
    return {
        "guid": str(uuid.uuid4()).upper(),
        "customsCode": "1500",
        "sumNo": _numbered("S", inventory["orderNo"]),
        "opDate": "20240310100000000",
        "declSeqNo": _numbered("D", inventory["orderNo"]),
        "entryId": entry_id,
        "decState": "10",
        "agentCode": inventory["agentCode"],
        "agentName": inventory["agentName"],
        "ebcCode": inventory["ebcCode"],
        "ebcName": inventory["ebcName"],
        "declAgentCode": inventory["agentCode"],
        "declAgentName": inventory["agentName"],
        "grossWeight": "80.25",
        "netWeight": "70.25",
        "msgCount": 1,
        "msgSeqNo": 1,
        "items": [
            {
                "invtNo": release["invtNo"],
                "logisticsNo": inventory["logisticsNo"],
                "gseqno": 1,
                "gnum": line["gnum"],
                "gcode": line["gcode"],
            }
            for line in inventory["items"]
        ],
        **values,
    }


def departure(docs: dict[str, Record], **values: Any) -> Record:
    """A 509 listing the export set's waybill."""
    waybill = docs["CEB505"]
    return {
        "guid": str(uuid.uuid4()).upper(),
        "appTime": "20240309080000",
        "customsCode": "1500",
        "copNo": f"D{waybill['logisticsNo']}"[:30],
        "logisticsCode": waybill["logisticsCode"],
        "logisticsName": waybill["logisticsName"],
        "trafMode": "5",
        "voyageNo": "CA1234",
        "billNo": "999-12345675",
        "leaveTime": "20240309093000",
        "msgCount": 1,
        "msgSeqNo": 1,
        "items": [{"gnum": 1, "totalPackageNo": "P1", "logisticsNo": waybill["logisticsNo"]}],
        **values,
    }


def arrival(docs: dict[str, Record], **values: Any) -> Record:
    """A 507 listing the export set's waybill at the supervision site."""
    waybill = docs["CEB505"]
    return {
        "guid": str(uuid.uuid4()).upper(),
        "appTime": "20240308180000",
        "customsCode": "1500",
        "copNo": f"A{waybill['logisticsNo']}"[:30],
        "operatorCode": "3301960008",
        "operatorName": "测试监管场所",
        "ieFlag": "E",
        "trafMode": "4",
        "billNo": "999-12345675",
        "domesticTrafNo": "苏C12345",
        "logisticsCode": waybill["logisticsCode"],
        "logisticsName": waybill["logisticsName"],
        "msgCount": 1,
        "msgSeqNo": 1,
        "items": [{"gnum": 1, "logisticsNo": waybill["logisticsNo"]}],
        **values,
    }


SENDER_FIELD |= {
    "CEB623": "agentCode",
    "CEB625": "agentCode",
    "CEB816": "agentCode",
    "CEB792": "agentCode",
    "CEB701": "agentCode",
    "CEB507": "logisticsCode",
    "CEB509": "logisticsCode",
}
