"""The official CEB 2022-05 XSDs (shipped in `hub/messages/xsd/`), loaded once, offline.

`import.xsd` and `export.xsd` import the W3C XML-DSig schema by a relative location, which
resolves to the copy beside them: nothing is ever fetched. One deliberate change is made
when the export schema loads: the official export samples (303, 403, 505, 507, 509, 603)
repeat `BaseTransfer`, which the export XSD allows once, so the hub accepts it repeated
(docs/standards.md lists it among the deviations).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).resolve().parent / "xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"
CEB_NAMESPACE = "http://www.chinaport.gov.cn/ceb"
ENVELOPE = frozenset({"BaseTransfer", "BaseSubscribe", "ExtendMessage", "Signature"})


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@lru_cache(maxsize=4)
def schema_document(xsd: str) -> etree._ElementTree:
    """The parsed XSD (with the export schema's repeated-BaseTransfer allowance)."""
    tree = etree.parse(str(XSD_DIR / xsd), _parser())
    if xsd == "export.xsd":
        for element in tree.getroot().iter(f"{XS}element"):
            if element.get("ref") == "ceb:BaseTransfer":
                element.set("maxOccurs", "unbounded")
    return tree


@dataclass
class Schema:
    """A compiled XSD; libxml2 validation contexts are not shared between threads."""

    xsd: etree.XMLSchema
    lock: threading.Lock

    def errors(self, document: etree._ElementTree) -> list[tuple[str, int, str]]:
        """(XPath, line, message) of every violation, in document order."""
        with self.lock:
            if self.xsd.validate(document):
                return []
            return [(e.path or "", e.line, e.message) for e in self.xsd.error_log]


@lru_cache(maxsize=4)
def schema(xsd: str) -> Schema:
    """The compiled schema of `import.xsd` or `export.xsd`."""
    return Schema(etree.XMLSchema(schema_document(xsd)), threading.Lock())


def _globals(xsd: str) -> dict[str, etree._Element]:
    return {e.get("name"): e for e in schema_document(xsd).getroot().findall(f"{XS}element")}


def _children(element: etree._Element) -> list[etree._Element]:
    sequence = element.find(f"{XS}complexType/{XS}sequence")
    return [] if sequence is None else sequence.findall(f"{XS}element")


def _name(element: etree._Element) -> str:
    ref = element.get("ref")
    return ref.split(":", 1)[1] if ref else element.get("name")


def _kind(element: etree._Element) -> str:
    restriction = element.find(f"{XS}simpleType/{XS}restriction")
    base = restriction.get("base") if restriction is not None else element.get("type") or ""
    return base.split(":", 1)[-1]


@lru_cache(maxsize=64)
def leaf_kinds(xsd: str, element_name: str) -> dict[str, str]:
    """Every leaf element below a global element (a message or a record) → its XSD base
    type (`string`, `decimal`, `int`). Names repeated between head and lines (`currency`,
    `note`) have the same type wherever they occur."""
    globals_ = _globals(xsd)
    kinds: dict[str, str] = {}

    def walk(element: etree._Element) -> None:
        ref = element.get("ref")
        if ref and ref.startswith("ds:"):
            return
        target = globals_[_name(element)] if ref else element
        children = _children(target)
        if not children:
            kinds.setdefault(_name(element), _kind(target))
        for child in children:
            if _name(child) not in ENVELOPE:
                walk(child)

    walk(globals_[element_name])
    return kinds


@lru_cache(maxsize=64)
def record_fields(xsd: str, record_element: str) -> tuple[str, ...]:
    """The leaf names of a flat global element, in order (a receipt's return entity)."""
    return tuple(_name(child) for child in _children(_globals(xsd)[record_element]))


def declares(xsd: str, message_name: str) -> bool:
    """True when the XSD defines this message root."""
    return message_name in _globals(xsd)
