"""Realistic, synthetic sample records for every shipped standard.

Enterprises are invented but carry checksum-valid USCCs from Xuzhou (3203xx) and Nantong
(3206xx), computed with our own `uscc_check_char`. People are invented: placeholder names,
`000-` telephone numbers and 18-character ID numbers from a city-level division (320300,
never issued to individuals) with a deliberately wrong check digit.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from hub.standards.formats import uscc_check_char
from hub.standards.validation import CompiledValidator, compile_validator, schema_uri

Record = dict[str, Any]

STANDARDS_DIR = Path(__file__).resolve().parents[2] / "standards"
VERSION = "1.0.0"


def uscc(body17: str) -> str:
    """Complete a 17-character USCC body with its check character."""
    return body17 + uscc_check_char(body17)


# Xuzhou (Yunlong 320303, Quanshan 320311) and Nantong (Chongchuan 320602, Tongzhou 320612).
PLATFORM = uscc("91320303MA1PLT001")  # e-commerce platform, Xuzhou
SELLER = uscc("91320311MA1EBC002")  # e-commerce seller, Xuzhou
PAYER_INSTITUTION = uscc("91320602MA1PAY003")  # payment institution, Nantong
CARRIER = uscc("91320612MA1WLG004")  # logistics operator, Nantong
AGENT = uscc("91320303MA1BGD005")  # customs declaration agent, Xuzhou
GUARANTOR = PLATFORM  # the platform guarantees the withheld tax
WAREHOUSE_OWNER = uscc("91320602MA1BWC006")  # bonded-warehouse operator, Nantong
CUSTOMS_REGISTRATION = "3203960ABC"  # 10-character customs registration code

# Synthetic people: placeholder names and numbers that cannot belong to anyone.
BUYER = {"name": "张三", "id": "320300199001010010", "phone": "000-0000-0001"}
SECOND_BUYER = {"name": "李四", "id": "320300198502020020", "phone": "000-0000-0002"}


def _enterprise() -> Record:
    return {
        "code": PLATFORM,
        "customsCode": CUSTOMS_REGISTRATION,
        "name": "徐州云龙示例跨境电商平台有限公司",
        "roles": ["ebp", "guarantor"],
        "creditClass": "GENERAL",
        "contactPhone": "0516-0000000",
        "address": "江苏省徐州市云龙区示例路1号",
        "appType": "1",
        "appTime": "20240301093000",
    }


def _import_lines() -> list[Record]:
    return [
        {
            "gnum": 1,
            "itemNo": "SKU-0001",
            "itemName": "婴儿配方奶粉",
            "gmodel": "900克/罐，1段",
            "barCode": "0000000000017",
            "unit": "122",
            "qty": "2",
            "price": "200.00",
            "totalPrice": "400.00",
            "currency": "142",
            "country": "601",
        },
        {
            "gnum": 2,
            "itemNo": "SKU-0002",
            "itemName": "保湿面霜",
            "gmodel": "50毫升/瓶",
            "unit": "011",
            "qty": "1",
            "price": "150.00",
            "totalPrice": "150.00",
            "currency": "142",
            "country": "116",
        },
        {
            "gnum": 3,
            "itemName": "复合维生素片",
            "gmodel": "120片/瓶",
            "unit": "011",
            "qty": "1",
            "price": "50.00",
            "totalPrice": "50.00",
            "currency": "142",
            "country": "502",
        },
    ]


def _import_order(trade_mode: str, order_no: str) -> Record:
    # goods 600.00, VAT 13% at 70%: 600 × 0.13 × 0.7 = 54.60; paid = 600 + 0 + 54.60 − 0.
    return {
        "orderType": "I",
        "orderNo": order_no,
        "ebpCode": PLATFORM,
        "ebpName": "徐州云龙示例跨境电商平台有限公司",
        "ebcCode": SELLER,
        "ebcName": "徐州泉山示例进口商贸有限公司",
        "goodsValue": "600.00",
        "freight": "0.00",
        "discount": "0.00",
        "taxTotal": "54.60",
        "acturalPaid": "654.60",
        "currency": "142",
        "tradeMode": trade_mode,
        "buyerRegNo": "buyer-0001",
        "buyerName": BUYER["name"],
        "buyerTelephone": BUYER["phone"],
        "buyerIdType": "1",
        "buyerIdNumber": BUYER["id"],
        "payCode": PAYER_INSTITUTION,
        "payName": "南通崇川示例支付服务有限公司",
        "payTransactionId": f"PAY{order_no}",
        "consignee": BUYER["name"],
        "consigneeTelephone": BUYER["phone"],
        "consigneeAddress": "江苏省徐州市鼓楼区示例小区1栋101室",
        "consigneeDistrict": "320302",
        "note": "synthetic sample",
        "appType": "1",
        "appTime": "20240315101500",
        "items": _import_lines(),
    }


def _export_order(order_type: str, trade_mode: str, order_no: str) -> Record:
    return {
        "orderType": order_type,
        "orderNo": order_no,
        "ebpCode": PLATFORM,
        "ebpName": "徐州云龙示例跨境电商平台有限公司",
        "ebcCode": SELLER,
        "ebcName": "徐州泉山示例进口商贸有限公司",
        "goodsValue": "1200.00",
        "freight": "80.00",
        "currency": "502",
        "tradeMode": trade_mode,
        "buyerName": "Alex Example",
        "appType": "1",
        "appTime": "20240316080000",
        "items": [
            {
                "gnum": 1,
                "itemName": "纯棉针织T恤",
                "gmodel": "男式，M码",
                "unit": "011",
                "qty": "100",
                "price": "12.00",
                "totalPrice": "1200.00",
                "currency": "502",
                "country": "142",
            }
        ],
    }


def _payment() -> Record:
    return {
        "payCode": PAYER_INSTITUTION,
        "payName": "南通崇川示例支付服务有限公司",
        "payTransactionId": "PAYXZ202403150001",
        "orderNo": "XZ202403150001",
        "ebpCode": PLATFORM,
        "ebpName": "徐州云龙示例跨境电商平台有限公司",
        "payerIdType": "1",
        "payerIdNumber": BUYER["id"],
        "payerName": BUYER["name"],
        "telephone": BUYER["phone"],
        "amountPaid": "654.60",
        "currency": "142",
        "payTime": "20240315101000",
        "appType": "1",
        "appTime": "20240315101200",
    }


def _receipt() -> Record:
    return {
        "payCode": PAYER_INSTITUTION,
        "payName": "南通崇川示例支付服务有限公司",
        "payNo": "RCV202403200001",
        "orderNo": "EX202403160001",
        "ebpCode": PLATFORM,
        "ebpName": "徐州云龙示例跨境电商平台有限公司",
        "charge": "1280.00",
        "currency": "502",
        "accountingDate": "20240320150000",
        "appType": "1",
        "appTime": "20240320150500",
    }


def _waybill(ie_flag: str) -> Record:
    record: Record = {
        "ieFlag": ie_flag,
        "logisticsCode": CARRIER,
        "logisticsName": "南通通州示例国际物流有限公司",
        "logisticsNo": f"NT{ie_flag}2024031500001",
        "ebpCode": PLATFORM,
        "orderNo": "XZ202403150001" if ie_flag == "I" else "EX202403160001",
        "billNo": "MAWB-000-00000001",
        "freight": "0.00",
        "insuredFee": "0.00",
        "currency": "142",
        "weight": "2.35",
        "packNo": 1,
        "goodsInfo": "奶粉、面霜、维生素",
    }
    if ie_flag == "I":
        record |= {
            "consignee": BUYER["name"],
            "consigneeAddress": "江苏省徐州市鼓楼区示例小区1栋101室",
            "consigneeTelephone": BUYER["phone"],
        }
    record |= {"appType": "1", "appTime": "20240315120000"}
    return record


def _logistics_status() -> Record:
    return {
        "logisticsCode": CARRIER,
        "logisticsNo": "NTI2024031500001",
        "logisticsStatus": "A",
        "statusTime": "20240317081500",
        "note": "arrived at Xuzhou cross-border e-commerce supervision centre",
        "appType": "1",
        "appTime": "20240317081600",
    }


def _inventory_lines(*, bonded: bool) -> list[Record]:
    codes = ["1901101010", "3304990099", "2106909090"]
    lines = []
    for line, gcode in zip(_import_lines(), codes, strict=True):
        inventory_line: Record = {
            "gnum": line["gnum"],
            "gcode": gcode,
            "gname": line["itemName"],
            "gmodel": line["gmodel"],
            "country": line["country"],
            "qty": line["qty"],
            "unit": line["unit"],
            "qty1": "0.9" if line["gnum"] == 1 else line["qty"],
            "unit1": "035" if line["gnum"] == 1 else line["unit"],
            "price": line["price"],
            "totalPrice": line["totalPrice"],
            "currency": "142",
        }
        if bonded:
            inventory_line["itemRecordNo"] = f"T2305W000{line['gnum']:03d}"
        lines.append(inventory_line)
    return lines


def _import_inventory(trade_mode: str) -> Record:
    bonded = trade_mode in ("1210", "1239")
    record: Record = {
        "ieFlag": "I",
        "orderNo": "XZ202403150001",
        "ebpCode": PLATFORM,
        "ebpName": "徐州云龙示例跨境电商平台有限公司",
        "ebcCode": SELLER,
        "ebcName": "徐州泉山示例进口商贸有限公司",
        "logisticsCode": CARRIER,
        "logisticsName": "南通通州示例国际物流有限公司",
        "logisticsNo": "NTI2024031500001",
        "copNo": "COP202403150001",
        "assureCode": GUARANTOR,
        "declTime": "20240315",
        "customsCode": "2305",
        "portCode": "2305",
        "buyerIdType": "1",
        "buyerIdNumber": BUYER["id"],
        "buyerName": BUYER["name"],
        "buyerTelephone": BUYER["phone"],
        "consigneeAddress": "江苏省徐州市鼓楼区示例小区1栋101室",
        "agentCode": AGENT,
        "agentName": "徐州云龙示例报关有限公司",
        "tradeMode": trade_mode,
        "trafMode": "4" if bonded else "5",
        "country": "142" if bonded else "601",
        "freight": "0.00",
        "insuredFee": "0.00",
        "currency": "142",
        "packNo": 1,
        "grossWeight": "2.35",
        "netWeight": "1.95",
        "appType": "1",
        "appTime": "20240315130000",
        "items": _inventory_lines(bonded=bonded),
    }
    if bonded:
        record |= {"emsNo": "T2305W000001", "areaCode": "3203960ABC"}
    else:
        record |= {"trafNo": "CA000", "voyageNo": "20240315", "billNo": "MAWB-000-00000001"}
    return record


def _export_inventory(trade_mode: str) -> Record:
    record: Record = {
        "ieFlag": "E",
        "orderNo": f"EX{trade_mode}0001",
        "ebpCode": PLATFORM,
        "ebpName": "徐州云龙示例跨境电商平台有限公司",
        "ebcCode": SELLER,
        "ebcName": "徐州泉山示例进口商贸有限公司",
        "logisticsCode": CARRIER,
        "logisticsName": "南通通州示例国际物流有限公司",
        "logisticsNo": f"NTE{trade_mode}0001",
        "copNo": f"COPE{trade_mode}0001",
        "ownerCode": SELLER,
        "statisticsFlag": "A" if trade_mode == "9610" else "B",
        "declTime": "20240316",
        "customsCode": "2306",
        "portCode": "2306",
        "agentCode": AGENT,
        "agentName": "徐州云龙示例报关有限公司",
        "tradeMode": trade_mode,
        "trafMode": "2",
        "country": "502",
        "freight": "80.00",
        "insuredFee": "0.00",
        "currency": "502",
        "packNo": 4,
        "grossWeight": "32.5",
        "netWeight": "30",
        "appType": "1",
        "appTime": "20240316090000",
        "items": [
            {
                "gnum": 1,
                "gcode": "6109100021",
                "gname": "纯棉针织T恤",
                "gmodel": "男式，M码",
                "country": "142",
                "qty": "100",
                "unit": "011",
                "qty1": "30",
                "unit1": "035",
                "price": "12.00",
                "totalPrice": "1200.00",
                "currency": "502",
            }
        ],
    }
    return record


def _inventory_status() -> Record:
    return {
        "ebpCode": PLATFORM,
        "orderNo": "XZ202403150001",
        "copNo": "COP202403150001",
        "invtNo": "23052024I000000001",
        "agentCode": AGENT,
        "customsCode": "2305",
        "returnStatus": 800,
        "returnTime": "20240316100000",
        "returnInfo": "released",
        "appType": "1",
        "appTime": "20240316100100",
    }


# standard id -> sample name -> factory returning a fresh record.
SAMPLES: dict[str, dict[str, Callable[[], Record]]] = {
    "cbec.enterprise": {"enterprise": _enterprise},
    "cbec.order": {
        "import-9610": lambda: _import_order("9610", "XZ202403150001"),
        "import-1210": lambda: _import_order("1210", "XZ202403150002"),
        "export-9610": lambda: _export_order("E", "9610", "EX202403160001"),
        "export-9710": lambda: _export_order("B", "9710", "EX202403160002"),
        "export-9810": lambda: _export_order("W", "9810", "EX202403160003"),
    },
    "cbec.payment": {"payment": _payment},
    "cbec.receipt": {"receipt": _receipt},
    "cbec.waybill": {"import": lambda: _waybill("I"), "export": lambda: _waybill("E")},
    "cbec.logistics-status": {"arrival": _logistics_status},
    "cbec.inventory": {
        "import-9610": lambda: _import_inventory("9610"),
        "import-1210": lambda: _import_inventory("1210"),
        "export-9610": lambda: _export_inventory("9610"),
        "export-9710": lambda: _export_inventory("9710"),
        "export-9810": lambda: _export_inventory("9810"),
    },
    "cbec.inventory-status": {"released": _inventory_status},
}


def sample(standard_id: str, name: str) -> Record:
    """Return a fresh copy of one named sample record."""
    return copy.deepcopy(SAMPLES[standard_id][name]())


def all_samples() -> list[tuple[str, str, Record]]:
    """Return (standard id, sample name, record) for every sample."""
    return [(sid, name, sample(sid, name)) for sid, names in SAMPLES.items() for name in names]


@cache
def _shipped_json() -> str:
    documents = {
        schema_uri(path.parent.name, path.stem): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(STANDARDS_DIR.glob(f"*/{VERSION}.json"))
    }
    return json.dumps(documents)


def shipped_resources() -> dict[str, dict[str, Any]]:
    """Return every shipped standard keyed by its internal URI (fresh copies)."""
    return json.loads(_shipped_json())


def shipped_validator(standard_id: str) -> CompiledValidator:
    """Compile one shipped standard against all the others."""
    resources = shipped_resources()
    uri = schema_uri(standard_id, VERSION)
    return compile_validator(schema=resources[uri], uri=uri, resources=resources)
