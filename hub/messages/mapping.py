"""Maps the records of a validated CEB message to the JSON of their 2.0.0 standard.

The one place XML becomes a standard's JSON:
- a record's head (`OrderHead`) or flat record (`Receipts`) gives the top-level fields,
  its repeated lines (`OrderList`) the `items` array, in document order;
- **an empty element is an absent one** (`<ceb:note></ceb:note>` maps to no `note`): this is
  where the standards' "empty optional elements read as absent" is done, before
  validation, so a required element left empty is refused as missing;
- `xs:int` elements become JSON integers, `xs:decimal` ones decimal strings in their
  canonical form (`+1.50` → `1.50`, `.5` → `0.5`, `3.` → `3`), all other text is kept
  exactly as sent;
- the hub fields the message lacks (`ieFlag` on 511/505/622/604) come from the message
  type (catalog).
Errors found on the JSON are reported at the element they came from (`json_to_element`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from hub.messages.catalog import MessageType
from hub.messages.xsd import ENVELOPE, leaf_kinds

_DECIMAL = re.compile(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?$")


@dataclass(frozen=True)
class MappedRecord:
    """One record: its JSON payload and the element paths it was read from."""

    index: int
    payload: dict[str, Any]
    path: str  # e.g. /CEB311Message/Order[2]
    head: str | None  # the head element's name (OrderHead), None for a flat record
    lines: str | None  # the lines' element name (OrderList)
    element: etree._Element

    def leaf_text(self, name: str) -> str | None:
        """The text of a head (or flat) element as sent, for receipts."""
        parent = self.element if self.head is None else self.element.find(f"{{*}}{self.head}")
        found = parent.find(f"{{*}}{name}") if parent is not None else None
        return found.text if found is not None else None


def _decimal(text: str) -> str:
    match = _DECIMAL.match(text)
    if match is None or not (match.group(2) or match.group(3)):
        return text  # the XSD let it through only if it is a decimal; keep it as sent
    sign, whole, fraction = match.group(1), match.group(2) or "0", match.group(3)
    sign = "-" if sign == "-" else ""
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"


def _value(text: str, kind: str) -> Any:
    if kind in ("int", "integer", "long", "short"):
        return int(text.strip())
    if kind == "decimal":
        return _decimal(text.strip())
    return text


def _leaves(element: etree._Element, kinds: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str) or len(child):
            continue
        if child.text is None or child.text == "":
            continue  # an empty element is an absent one
        name = etree.QName(child).localname
        out[name] = _value(child.text, kinds.get(name, "string"))
    return out


def map_records(mtype: MessageType, root: etree._Element) -> list[MappedRecord]:
    """Every record of the message, in order, as its standard's JSON."""
    kinds = leaf_kinds(mtype.xsd, mtype.name)
    records = []
    position = 0
    for element in root:
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name in ENVELOPE or name != mtype.record:
            continue
        position += 1
        groups = [c for c in element if isinstance(c.tag, str) and len(c)]
        head = lines = None
        payload: dict[str, Any] = {}
        if groups:
            items = []
            for group in groups:
                group_name = etree.QName(group).localname
                # OrderHead, …; the 816's head is TaxHeadRd (its lines TaxListRd).
                if head is None and "Head" in group_name:
                    head = group_name
                    payload.update(_leaves(group, kinds))
                else:
                    lines = group_name
                    items.append(_leaves(group, kinds))
            if items:
                payload["items"] = items
        else:
            payload = _leaves(element, kinds)
        payload.update(mtype.added)
        records.append(
            MappedRecord(
                index=position - 1,
                payload=payload,
                path=f"/{mtype.name}/{mtype.record}[{position}]",
                head=head,
                lines=lines,
                element=element,
            )
        )
    return records


def json_to_element(record: MappedRecord, pointer: str, message: str = "") -> str:
    """The element path of a JSON pointer into a mapped record (`/items/1/unit` →
    `/CEB303Message/Order[1]/OrderList[2]/unit`). A missing required property is reported
    where it should have been."""
    tokens = [t for t in pointer.split("/")[1:]] if pointer else []
    if not tokens:
        missing = re.search(r"'([A-Za-z0-9]+)' is a required property", message)
        tokens = [missing.group(1)] if missing else []
        if not tokens:
            return record.path
    if tokens[0] == "items" and record.lines:
        if len(tokens) >= 2 and tokens[1].isdigit():
            line = f"{record.path}/{record.lines}[{int(tokens[1]) + 1}]"
            return line + "".join(f"/{t}" for t in tokens[2:])
        return f"{record.path}/{record.lines}"
    head = f"{record.path}/{record.head}" if record.head else record.path
    return head + "".join(f"/{t}" for t in tokens)
