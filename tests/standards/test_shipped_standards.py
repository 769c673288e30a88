"""The shipped standards: well-formed, closed, and right about real customs records."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from hub.standards.formats import is_uscc, uscc_check_char, uscc_division
from hub.standards.validation import check_schema, compile_validator, find_refs, schema_uri
from tests.standards.samples import (
    BUYER,
    SECOND_BUYER,
    STANDARDS_DIR,
    all_samples,
    sample,
    shipped_resources,
    shipped_validator,
)

DOCUMENTED = [
    "cbec.common",
    "cbec.enterprise",
    "cbec.order",
    "cbec.payment",
    "cbec.receipt",
    "cbec.waybill",
    "cbec.logistics-status",
    "cbec.inventory",
    "cbec.inventory-status",
]
RECORD_STANDARDS = DOCUMENTED[1:]
# Standards of the CEB 2022-05 messages 1.0.0 never modelled: 2.0.0 only, generated and
# checked by tools/derive_standards.py and tests/customs.
GENERATED_ONLY = [
    "cbec.inventory-cancel",
    "cbec.inventory-return",
    "cbec.arrival",
    "cbec.departure",
    "cbec.summary-apply",
    "cbec.summary-result",
    "cbec.tax-bill",
]


def _load(standard_id: str) -> dict[str, Any]:
    return json.loads((STANDARDS_DIR / standard_id / "1.0.0.json").read_text(encoding="utf-8"))


def test_every_documented_standard_is_shipped_and_nothing_else() -> None:
    # `standard.json` next to the versions is the registry's metadata, not a schema.
    shipped = sorted({path.parent.name for path in STANDARDS_DIR.glob("*/[0-9]*.json")})
    assert shipped == sorted(DOCUMENTED + GENERATED_ONLY)


@pytest.mark.parametrize("standard_id", DOCUMENTED)
def test_shipped_file_declares_2020_12_with_title_description_and_no_id(standard_id: str) -> None:
    schema = _load(standard_id)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] and schema["description"]
    assert "$id" not in json.dumps(schema)


@pytest.mark.parametrize("standard_id", DOCUMENTED)
def test_shipped_standard_meta_validates(standard_id: str) -> None:
    assert check_schema(_load(standard_id)) == []


@pytest.mark.parametrize("standard_id", DOCUMENTED)
def test_refs_are_local_or_absolute_paths_into_cbec_common(standard_id: str) -> None:
    for ref in find_refs(_load(standard_id)):
        assert ref.startswith(("#/$defs/", "/standards/cbec.common/1.0.0#/$defs/")), ref


def test_common_defines_the_documented_shared_definitions() -> None:
    defs = _load("cbec.common")["$defs"]
    for name in ("money", "currency", "country", "date8", "dateTime14", "appType", "appTime"):
        assert name in defs
    for name in ("enterpriseCode", "usccCode", "lenientEnterpriseCode", "customsCode", "hsCode"):
        assert name in defs
    assert defs["money"]["pattern"] == r"^-?[0-9]{1,14}(\.[0-9]{1,5})?$"
    assert defs["enterpriseCode"]["format"] == "enterprise-code"
    assert defs["usccCode"]["format"] == "uscc"
    assert defs["customsCode"]["format"] == "customs-code"
    assert defs["hsCode"]["format"] == "hs-code"


@pytest.mark.parametrize("standard_id", RECORD_STANDARDS)
def test_records_and_lines_are_closed(standard_id: str) -> None:
    schema = _load(standard_id)
    assert schema["additionalProperties"] is False
    assert {"appType", "appTime"} <= set(schema["required"])
    for line in schema.get("$defs", {}).values():
        assert line["additionalProperties"] is False
    if "items" in schema["properties"]:
        items = schema["properties"]["items"]
        assert (items["minItems"], items["maxItems"]) == (1, 99)


# -- samples --------------------------------------------------------------------------------


@pytest.mark.parametrize(("standard_id", "name", "record"), all_samples())
def test_realistic_sample_is_accepted(standard_id: str, name: str, record: dict[str, Any]) -> None:
    validator = shipped_validator(standard_id)
    assert validator.errors(record) == []
    assert validator.is_valid(record)


def test_every_record_standard_has_samples() -> None:
    assert sorted({standard_id for standard_id, _, _ in all_samples()}) == sorted(RECORD_STANDARDS)


_CODE_FIELDS = ("code", "ebpCode", "ebcCode", "payCode", "logisticsCode", "agentCode")


def test_sample_enterprises_have_valid_usccs_from_xuzhou_or_nantong() -> None:
    seen = set()
    for _sid, _name, record in all_samples():
        for field in (*_CODE_FIELDS, "assureCode", "ownerCode"):
            if field in record:
                code = record[field]
                assert is_uscc(code), (field, code)
                assert uscc_division(code)[:4] in ("3203", "3206"), (field, code)
                seen.add(uscc_division(code)[:4])
    assert seen == {"3203", "3206"}


def test_sample_people_have_id_numbers_that_cannot_be_real() -> None:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for person in (BUYER, SECOND_BUYER):
        number = person["id"]
        assert len(number) == 18 and number[:17].isdigit()
        # 320300 is a city-level division, and the ISO 7064 check digit is deliberately wrong.
        assert number.startswith("320300")
        total = sum(int(c) * w for c, w in zip(number[:17], weights, strict=True))
        expected = "10X98765432"[total % 11]
        assert number[17] != expected
        assert person["phone"].startswith("000-")


def test_import_order_amounts_add_up() -> None:
    order = sample("cbec.order", "import-9610")
    total = (
        float(order["goodsValue"])
        + float(order["freight"])
        + float(order["taxTotal"])
        - float(order["discount"])
    )
    assert f"{total:.2f}" == order["acturalPaid"]
    assert sum(float(line["totalPrice"]) for line in order["items"]) == float(order["goodsValue"])


# -- broken records are rejected with pointed errors -------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _drop(*keys: str) -> Mutation:
    def apply(record: dict[str, Any]) -> None:
        for key in keys:
            del record[key]

    return apply


def _set(path: str, value: object) -> Mutation:
    def apply(record: dict[str, Any]) -> None:
        *parents, last = path.strip("/").split("/")
        node: Any = record
        for token in parents:
            node = node[int(token)] if isinstance(node, list) else node[token]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def _wrong_check_char(code: str) -> str:
    right = uscc_check_char(code[:17])
    return code[:17] + ("0" if right != "0" else "1")


def _many_lines(record: dict[str, Any]) -> None:
    record["items"] = [dict(record["items"][0], gnum=(n % 99) + 1) for n in range(100)]


BROKEN: list[tuple[str, str, Mutation, str, str]] = [
    # (standard, sample, mutation, expected pointer, expected keyword)
    ("cbec.order", "import-9610", _drop("buyerIdNumber"), "/buyerIdNumber", "required"),
    ("cbec.order", "import-9610", _drop("acturalPaid"), "/acturalPaid", "required"),
    ("cbec.order", "import-9610", _set("/tradeMode", "9710"), "/tradeMode", "enum"),
    ("cbec.order", "import-9610", _set("/orderType", "X"), "/orderType", "enum"),
    ("cbec.order", "import-9610", _set("/orderNo", "N" * 61), "/orderNo", "maxLength"),
    ("cbec.order", "import-9610", _set("/acturalPaid", 654.6), "/acturalPaid", "type"),
    ("cbec.order", "import-9610", _set("/goodsValue", "600.000001"), "/goodsValue", "pattern"),
    ("cbec.order", "import-9610", _set("/freight", "0.00\n"), "/freight", "pattern"),
    ("cbec.order", "import-9610", _set("/currency", "RMB"), "/currency", "pattern"),
    (
        "cbec.order",
        "import-1210",
        _set("/discountCode", "X"),
        "/discountCode",
        "additionalProperties",
    ),
    (
        "cbec.order",
        "import-9610",
        _set("/items/1/colour", "red"),
        "/items/1/colour",
        "additionalProperties",
    ),
    ("cbec.order", "import-9610", _set("/items/0/gnum", 0), "/items/0/gnum", "minimum"),
    ("cbec.order", "import-9610", _set("/items/2/gnum", 100), "/items/2/gnum", "maximum"),
    ("cbec.order", "import-9610", _set("/items/0/gnum", "1"), "/items/0/gnum", "type"),
    ("cbec.order", "import-9610", _set("/items/1/itemName", ""), "/items/1/itemName", "minLength"),
    ("cbec.order", "import-9610", _set("/items/0/unit", "11"), "/items/0/unit", "pattern"),
    ("cbec.order", "import-9610", _set("/items", []), "/items", "minItems"),
    ("cbec.order", "import-9610", _many_lines, "/items", "maxItems"),
    ("cbec.order", "export-9710", _set("/tradeMode", "0110"), "/tradeMode", "enum"),
    ("cbec.order", "export-9810", _drop("items"), "/items", "required"),
    ("cbec.order", "import-9610", _set("/appType", "4"), "/appType", "enum"),
    ("cbec.order", "import-9610", _set("/appTime", "20241301101500"), "/appTime", "pattern"),
    ("cbec.payment", "payment", _set("/payTime", "2024031510"), "/payTime", "pattern"),
    ("cbec.payment", "payment", _drop("payerIdNumber"), "/payerIdNumber", "required"),
    ("cbec.payment", "payment", _set("/amountPaid", "six hundred"), "/amountPaid", "pattern"),
    ("cbec.receipt", "receipt", _drop("payNo"), "/payNo", "required"),
    ("cbec.receipt", "receipt", _set("/accountingDate", "20240320"), "/accountingDate", "pattern"),
    ("cbec.waybill", "import", _drop("consignee"), "/consignee", "required"),
    ("cbec.waybill", "import", _set("/packNo", 0), "/packNo", "minimum"),
    ("cbec.waybill", "export", _drop("ebpCode"), "/ebpCode", "required"),
    ("cbec.waybill", "export", _set("/weight", "-1"), "/weight", "pattern"),
    ("cbec.logistics-status", "arrival", _set("/logisticsStatus", "Q"), "/logisticsStatus", "enum"),
    ("cbec.inventory", "import-1210", _drop("emsNo"), "/emsNo", "required"),
    ("cbec.inventory", "import-1210", _drop("areaCode"), "/areaCode", "required"),
    ("cbec.inventory", "import-1210", _set("/emsNo", ""), "/emsNo", "minLength"),
    ("cbec.inventory", "import-1210", _set("/country", "601"), "/country", "const"),
    ("cbec.inventory", "import-9610", _set("/emsNo", "T2305W000001"), "/emsNo", "maxLength"),
    (
        "cbec.inventory",
        "import-9610",
        _set("/items/0/itemRecordNo", "T1"),
        "/items/0/itemRecordNo",
        "maxLength",
    ),
    (
        "cbec.inventory",
        "import-9610",
        _set("/items/1/gcode", "33049900"),
        "/items/1/gcode",
        "format",
    ),
    ("cbec.inventory", "import-9610", _set("/customsCode", "230"), "/customsCode", "format"),
    ("cbec.inventory", "import-9610", _set("/portCode", "23O5"), "/portCode", "format"),
    ("cbec.inventory", "import-9610", _set("/tradeMode", "9710"), "/tradeMode", "enum"),
    ("cbec.inventory", "import-9610", _drop("assureCode"), "/assureCode", "required"),
    ("cbec.inventory", "import-9610", _drop("buyerIdType"), "/buyerIdType", "required"),
    ("cbec.inventory", "import-9610", _set("/declTime", "20241301"), "/declTime", "pattern"),
    ("cbec.inventory", "import-9610", _set("/trafMode", "45"), "/trafMode", "pattern"),
    ("cbec.inventory", "import-9610", _set("/items/0/qty1", "0,9"), "/items/0/qty1", "pattern"),
    ("cbec.inventory", "export-9710", _drop("ownerCode"), "/ownerCode", "required"),
    ("cbec.inventory", "export-9810", _set("/statisticsFlag", "C"), "/statisticsFlag", "enum"),
    ("cbec.inventory-status", "released", _set("/returnStatus", 650), "/returnStatus", "anyOf"),
    ("cbec.inventory-status", "released", _set("/returnStatus", "800"), "/returnStatus", "type"),
    ("cbec.inventory-status", "released", _set("/returnStatus", 0), "/returnStatus", "anyOf"),
    ("cbec.enterprise", "enterprise", _set("/roles", []), "/roles", "minItems"),
    ("cbec.enterprise", "enterprise", _set("/roles", ["ebp", "ebp"]), "/roles", "uniqueItems"),
    ("cbec.enterprise", "enterprise", _set("/roles/1", "bank"), "/roles/1", "enum"),
    ("cbec.enterprise", "enterprise", _set("/creditClass", "AAA"), "/creditClass", "enum"),
    (
        "cbec.enterprise",
        "enterprise",
        _set("/customsCode", "3203960abc"),
        "/customsCode",
        "pattern",
    ),
]


@pytest.mark.parametrize(
    ("standard_id", "name", "mutate", "pointer", "keyword"),
    BROKEN,
    ids=[f"{sid}:{name}:{pointer}:{keyword}" for sid, name, _m, pointer, keyword in BROKEN],
)
def test_broken_record_is_rejected_with_pointed_error(
    standard_id: str, name: str, mutate: Mutation, pointer: str, keyword: str
) -> None:
    record = sample(standard_id, name)
    mutate(record)
    validator = shipped_validator(standard_id)
    assert not validator.is_valid(record)
    issues = validator.errors(record)
    assert [(issue.path, issue.keyword) for issue in issues] == [(pointer, keyword)]


@pytest.mark.parametrize(
    ("standard_id", "name", "field"),
    [
        ("cbec.enterprise", "enterprise", "code"),
        ("cbec.order", "import-9610", "ebpCode"),
        ("cbec.order", "import-9610", "ebcCode"),
        ("cbec.order", "import-9610", "payCode"),
        ("cbec.payment", "payment", "payCode"),
        ("cbec.receipt", "receipt", "ebpCode"),
        ("cbec.waybill", "import", "logisticsCode"),
        ("cbec.logistics-status", "arrival", "logisticsCode"),
        ("cbec.inventory", "import-1210", "assureCode"),
        ("cbec.inventory", "export-9610", "ownerCode"),
        ("cbec.inventory-status", "released", "agentCode"),
    ],
)
def test_enterprise_code_with_wrong_check_char_is_rejected(
    standard_id: str, name: str, field: str
) -> None:
    record = sample(standard_id, name)
    record[field] = _wrong_check_char(record[field])
    issues = shipped_validator(standard_id).errors(record)
    assert [(issue.path, issue.keyword) for issue in issues] == [(f"/{field}", "format")]
    assert "check character" in issues[0].message


def test_enterprise_code_may_be_a_customs_registration_code() -> None:
    record = sample("cbec.order", "import-9610")
    record["ebcCode"] = "3203960ABC"
    assert shipped_validator("cbec.order").is_valid(record)


def test_bonded_inventory_without_account_book_names_the_rule() -> None:
    record = sample("cbec.inventory", "import-1210")
    del record["emsNo"]
    (issue,) = shipped_validator("cbec.inventory").errors(record)
    assert issue.message == "is required for bonded trade modes (1210/1239)"


def test_bonded_import_from_abroad_names_the_rule() -> None:
    record = sample("cbec.inventory", "import-1210")
    record["country"] = "601"
    (issue,) = shipped_validator("cbec.inventory").errors(record)
    assert issue.message == '"601" should be "142" for bonded imports'


def test_export_order_needs_no_buyer_identity() -> None:
    record = sample("cbec.order", "export-9610")
    assert not {"buyerIdNumber", "buyerIdType", "consignee", "taxTotal"} & set(record)
    assert shipped_validator("cbec.order").is_valid(record)


def test_export_waybill_needs_no_consignee() -> None:
    record = sample("cbec.waybill", "export")
    assert "consignee" not in record
    assert shipped_validator("cbec.waybill").is_valid(record)


def test_bonded_export_inventory_needs_the_account_book_but_not_country_142() -> None:
    record = sample("cbec.inventory", "export-9610")
    record["tradeMode"] = "1210"
    assert [(i.path, i.keyword) for i in shipped_validator("cbec.inventory").errors(record)] == [
        ("/emsNo", "required"),
        ("/areaCode", "required"),
    ]
    record |= {"emsNo": "T2306W000001", "areaCode": "3206960ABC"}
    assert shipped_validator("cbec.inventory").is_valid(record)


@pytest.mark.parametrize("status", [100, 120, 300, 399, 500, 501, 550, 599, 700, 800, 899, -1])
def test_every_documented_customs_status_is_accepted(status: int) -> None:
    record = sample("cbec.inventory-status", "released")
    record["returnStatus"] = status
    assert shipped_validator("cbec.inventory-status").is_valid(record)


def test_an_order_with_99_lines_is_accepted() -> None:
    record = sample("cbec.order", "import-9610")
    record["items"] = [dict(record["items"][0], gnum=n) for n in range(1, 100)]
    assert shipped_validator("cbec.order").is_valid(record)


def test_lenient_enterprise_code_accepts_early_pilot_codes_that_fail_the_checksum() -> None:
    resources = shipped_resources()
    uri = schema_uri("test.lenient", "1.0.0")
    common = "/standards/cbec.common/1.0.0#/$defs/"
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "properties": {
            "lenient": {"$ref": common + "lenientEnterpriseCode"},
            "strict": {"$ref": common + "usccCode"},
        },
    }
    validator = compile_validator(schema=schema, uri=uri, resources=resources)
    bad_checksum = _wrong_check_char(BUYER_PLATFORM)
    assert validator.is_valid({"lenient": bad_checksum})
    assert validator.is_valid({"lenient": "3203960ABC"})
    assert not validator.is_valid({"lenient": "3203960AB"})
    assert validator.is_valid({"strict": BUYER_PLATFORM})
    assert not validator.is_valid({"strict": bad_checksum})
    assert not validator.is_valid({"strict": "3203960ABC"})


BUYER_PLATFORM = sample("cbec.order", "import-9610")["ebpCode"]
