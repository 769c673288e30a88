"""Reads the customs CEB 2022-05 specification: the XSDs (with lxml) and the PDF's field
tables (`tools/spec/field-tables.json`), one element at a time.

Shared by `tools/derive_standards.py` (which writes the 2.0.0 standards from it) and
`tests/customs/test_conformance.py` (which checks the standards against it), so both read
the specification the same way. The hub itself never imports this module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
XSD_DIR = ROOT / "hub" / "messages" / "xsd"
FIELD_TABLES = ROOT / "tools" / "spec" / "field-tables.json"
XS = "{http://www.w3.org/2001/XMLSchema}"
# Message-level elements that carry no record data.
ENVELOPE = frozenset({"BaseTransfer", "BaseSubscribe", "ExtendMessage", "Signature"})
# Names the PDF's text extraction garbled, as (section, garbled) → element name.
PDF_NAME_FIXES = {
    ("3.1.4 订单报文描述", "consigneeTelephon"): "consigneeTelephone",
    ("3.1.4 订单报文描述", "consigneeDitrict"): "consigneeDistrict",
    ("3.5.4 运单报文描述", "consingee"): "consignee",
    ("3.9.4 进口清单报文描述", "s"): "consigneeAddress",
}


@dataclass(frozen=True)
class Element:
    """One leaf element of a record as the XSD and the PDF define it.

    `group` is "head" for the record's head (or a flat record) and "list" for its
    repeated lines. `kind` is the XSD base type: string, decimal or int. Lengths are the
    XSD facets; `pdf_format` is the PDF's `C..60` / `N19,5` text and `required` the PDF's
    必填 flag (None when the PDF table lacks the element)."""

    name: str
    group: str
    kind: str
    xsd_required: bool
    min_length: int | None
    max_length: int | None
    total_digits: int | None
    fraction_digits: int | None
    pdf_format: str | None
    pdf_required: bool | None
    doc: str = ""

    @property
    def required(self) -> bool:
        """The PDF's flag where it has one (the stronger source), else the XSD's."""
        return self.pdf_required if self.pdf_required is not None else self.xsd_required

    @property
    def pdf_max_length(self) -> int | None:
        """The PDF's length for text (`C..60` → 60, `C36` → 36)."""
        match = re.fullmatch(r"(?:C|an)(?:\.\.)?(\d+)", self.pdf_format or "")
        return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Message:
    """A message's record layout: its record element, head and list element names."""

    code: str
    xsd: str
    record: str
    head: str | None
    lines: str | None
    max_lines: int | None
    elements: tuple[Element, ...]

    def group(self, name: str) -> tuple[Element, ...]:
        """The elements of one group ("head" or "list")."""
        return tuple(e for e in self.elements if e.group == name)


def _schema(xsd: str) -> etree._ElementTree:
    return etree.parse(str(XSD_DIR / xsd))


def _globals(tree: etree._ElementTree) -> dict[str, etree._Element]:
    return {e.get("name"): e for e in tree.getroot().findall(f"{XS}element")}


def _target(el: etree._Element, globals_: dict[str, etree._Element]) -> etree._Element:
    ref = el.get("ref")
    return globals_[ref.split(":", 1)[1]] if ref else el


def _children(el: etree._Element) -> list[etree._Element]:
    complex_type = el.find(f"{XS}complexType")
    if complex_type is None:
        return []
    sequence = complex_type.find(f"{XS}sequence")
    return [] if sequence is None else sequence.findall(f"{XS}element")


def _name(el: etree._Element) -> str:
    ref = el.get("ref")
    return ref.split(":", 1)[1] if ref else el.get("name")


def _leaf(el: etree._Element, target: etree._Element, group: str) -> Element:
    facets: dict[str, int] = {}
    kind = (target.get("type") or "").removeprefix("xs:")
    restriction = target.find(f"{XS}simpleType/{XS}restriction")
    if restriction is not None:
        kind = restriction.get("base").removeprefix("xs:")
        for facet in restriction:
            if isinstance(facet.tag, str) and facet.get("value", "").isdigit():
                facets[etree.QName(facet).localname] = int(facet.get("value"))
    length = facets.get("length")
    documentation = target.find(f"{XS}annotation/{XS}documentation")
    text = " ".join((documentation.text or "").split()) if documentation is not None else ""
    return Element(
        name=_name(el),
        group=group,
        kind=kind,
        xsd_required=el.get("minOccurs", "1") != "0",
        min_length=length if length is not None else facets.get("minLength"),
        max_length=length if length is not None else facets.get("maxLength"),
        total_digits=facets.get("totalDigits"),
        fraction_digits=facets.get("fractionDigits"),
        pdf_format=None,
        pdf_required=None,
        doc=text,
    )


def _pdf_rows(section: str) -> list[tuple[str, str, bool]]:
    tables = json.loads(FIELD_TABLES.read_text(encoding="utf-8"))
    rows = []
    for name, fmt, required in tables[section]:
        rows.append((PDF_NAME_FIXES.get((section, name), name), fmt, required == "是"))
    return rows


def _with_pdf(elements: list[Element], section: str) -> list[Element]:
    """Pairs each element with the PDF row of the same name, in order (names repeat
    between head and lines: `currency`, `note`, `country`)."""
    rows = _pdf_rows(section)
    cursor = 0
    out = []
    for element in elements:
        found = next((i for i in range(cursor, len(rows)) if rows[i][0] == element.name), None)
        if found is None:
            out.append(element)
            continue
        cursor = found + 1
        _, fmt, required = rows[found]
        out.append(Element(**{**element.__dict__, "pdf_format": fmt, "pdf_required": required}))
    return out


def read_message(code: str, xsd: str, section: str) -> Message:
    """The record layout of CEB`code`Message from its XSD and the PDF section."""
    tree = _schema(xsd)
    globals_ = _globals(tree)
    root = globals_[f"CEB{code}Message"]
    records = [c for c in _children(root) if _name(c) not in ENVELOPE]
    if len(records) != 1:
        raise ValueError(f"CEB{code}Message has {len(records)} record elements")
    record_el = _target(records[0], globals_)
    elements: list[Element] = []
    head = lines = None
    max_lines = None
    for child in _children(record_el):
        target = _target(child, globals_)
        grandchildren = _children(target)
        if not grandchildren:
            elements.append(_leaf(child, target, "head"))
            continue
        occurs = child.get("maxOccurs", "1")
        group = "head" if occurs == "1" else "list"
        if group == "head":
            head = _name(child)
        else:
            lines = _name(child)
            max_lines = None if occurs == "unbounded" else int(occurs)
        for leaf in grandchildren:
            elements.append(_leaf(leaf, _target(leaf, globals_), group))
    return Message(
        code=code,
        xsd=xsd,
        record=_name(records[0]),
        head=head,
        lines=lines,
        max_lines=max_lines,
        elements=tuple(_with_pdf(elements, section)),
    )
