"""Reads a posted CEB message: well-formed, no DTD, the CEB namespace, a known root, valid
against the official XSD. Every refusal names the element path it concerns."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from hub.messages.catalog import MESSAGE_TYPES, MessageType
from hub.messages.errors import MessageErrorCode, MessageIssue, MessageRefused
from hub.messages.xsd import CEB_NAMESPACE, schema

MAX_XSD_ERRORS = 100
_PREFIX = re.compile(r"(?<=/)[A-Za-z_][\w.-]*:")


@dataclass(frozen=True)
class ReadMessage:
    """A message that passed the XSD: its type, root guid and parsed tree."""

    type: MessageType
    guid: str
    tree: etree._ElementTree


def _parser() -> etree.XMLParser:
    # No entity expansion, no DTD loading, nothing fetched, no huge-tree mode (libxml2's
    # limits on depth and text size stay on).
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def element_path(xpath: str) -> str:
    """lxml's `/ceb:CEB311Message/ceb:Order[2]/ceb:OrderHead` without the prefixes."""
    return _PREFIX.sub("", xpath)


def read(body: bytes) -> ReadMessage:
    """Parses and validates a message; raises MessageRefused (400/422) naming each fault."""
    try:
        tree = etree.ElementTree(etree.fromstring(body, _parser()))
    except etree.XMLSyntaxError as exc:
        line = f" (line {exc.lineno})" if exc.lineno else ""
        raise MessageRefused(
            400,
            [MessageIssue(MessageErrorCode.XML_MALFORMED, f"not well-formed XML{line}: {exc.msg}")],
        ) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise MessageRefused(
            400,
            [MessageIssue(MessageErrorCode.XML_DTD_FORBIDDEN, "a message may not carry a DOCTYPE")],
        )
    root = tree.getroot()
    name = etree.QName(root)
    path = f"/{name.localname}"
    if name.namespace != CEB_NAMESPACE:
        raise MessageRefused(
            400,
            [
                MessageIssue(
                    MessageErrorCode.WRONG_NAMESPACE,
                    f"the root element must be in the namespace {CEB_NAMESPACE}, "
                    f"not {name.namespace or 'no namespace'}",
                    path,
                )
            ],
        )
    mtype = MESSAGE_TYPES.get(name.localname)
    if mtype is None:
        known = ", ".join(sorted(MESSAGE_TYPES))
        raise MessageRefused(
            422,
            [
                MessageIssue(
                    MessageErrorCode.UNKNOWN_MESSAGE_TYPE,
                    f"{name.localname} is not a message the hub takes ({known})",
                    path,
                )
            ],
        )
    violations = schema(mtype.xsd).errors(tree)
    if violations:
        issues = [
            MessageIssue(
                MessageErrorCode.XSD_VIOLATION, f"line {line}: {message}", element_path(xpath)
            )
            for xpath, line, message in violations[:MAX_XSD_ERRORS]
        ]
        raise MessageRefused(422, issues)
    return ReadMessage(type=mtype, guid=root.get("guid", ""), tree=tree)
