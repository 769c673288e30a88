"""Conformance of the 2.0.0 standards with the CEB 2022-05 specification, element by
element: read from the official XSDs (lxml) and the PDF's field tables, not from the
standards' own generator, except for the deviations table docs/standards.md prints."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools.ceb_spec import Element, read_message
from tools.derive_standards import COVERED, DEVIATIONS, STANDARDS, decimal_pattern

CASES = [(c.standard_id, v) for c in COVERED for v in c.variants]
JSON_TYPE = {"string": "string", "decimal": "string", "int": "integer"}


def _deviation(code: str, name: str, kind: str) -> bool:
    return any((d["message"], d["element"], d["kind"]) == (code, name, kind) for d in DEVIATIONS)


def _message_schemas(standard_id: str, code: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    document = json.loads((STANDARDS / standard_id / "2.0.0.json").read_text(encoding="utf-8"))
    defs = document.get("$defs", {})
    head = defs.get(f"CEB{code}", document)
    lines = next((v for k, v in defs.items() if k.startswith(f"CEB{code}.")), None)
    return head, lines


def _check(element: Element, schema: dict[str, Any], required: list[str], code: str) -> None:
    where = f"CEB{code} {element.group} {element.name}"
    assert schema["type"] == JSON_TYPE[element.kind], where
    if element.kind == "string" and element.max_length is not None:
        assert schema["maxLength"] == element.max_length, where
        if element.min_length == element.max_length:
            assert schema["minLength"] == element.max_length, where  # fixed length
    if element.kind == "decimal":
        total, fraction = element.total_digits or 19, element.fraction_digits or 5
        assert schema["pattern"] == decimal_pattern(total, fraction), where
    if element.kind == "int" and element.total_digits:
        assert schema["maximum"] == 10**element.total_digits - 1, where
    if not _deviation(code, element.name, "required") and not _deviation(
        code, element.name, "not-required"
    ):
        assert (element.name in required) == element.required, where


@pytest.mark.parametrize(("standard_id", "variant"), CASES, ids=lambda c: getattr(c, "code", c))
def test_every_element_is_a_property_with_its_type_length_and_required_flag(
    standard_id: str, variant: Any
) -> None:
    message = read_message(variant.code, variant.xsd, variant.section)
    head, lines = _message_schemas(standard_id, variant.code)
    for element in message.group("head"):
        assert element.name in head["properties"], (variant.code, element.name)
        _check(element, head["properties"][element.name], head["required"], variant.code)
    if message.lines:
        assert lines is not None
        assert head["properties"]["items"].get("maxItems") == message.max_lines
        for element in message.group("list"):
            assert element.name in lines["properties"], (variant.code, element.name)
            _check(element, lines["properties"][element.name], lines["required"], variant.code)
    spec_names = {e.name for e in message.group("head")} | ({"items"} if message.lines else set())
    extra = set(head["properties"]) - spec_names
    assert extra == {
        d["element"] for d in DEVIATIONS if d["message"] == variant.code and d["kind"] == "added"
    }


def test_the_pdf_decides_required_where_the_xsd_disagrees() -> None:
    # CEB622 preNo: the XSD requires it, the PDF table says 否 (not required).
    message = read_message("622", "import.xsd", "3.10.4 进口清单回执报文描述")
    pre_no = next(e for e in message.elements if e.name == "preNo")
    assert pre_no.xsd_required and pre_no.pdf_required is False
    head, _ = _message_schemas("cbec.inventory-status", "622")
    assert "preNo" not in head["required"]


def test_every_deviation_is_printed_in_docs_standards_md() -> None:
    docs = (STANDARDS.parent / "docs" / "standards.md").read_text(encoding="utf-8")
    for deviation in DEVIATIONS:
        assert f"| CEB{deviation['message']} | `{deviation['element']}` |" in docs
