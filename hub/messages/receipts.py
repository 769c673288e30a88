"""Customs-style receipts (`Accept: application/xml`): the receipt message of the posted
type (CEB312 for a 311, …), one return entity per record, valid against the official XSD.

`returnStatus` follows customs' codes for what the hub decided: 120 (入库, accepted:
stored, or a duplicate of a stored record) or 100 (退单, refused; `returnInfo` lists the
refusals with their element paths).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from lxml import etree

from hub.messages.catalog import MessageType
from hub.messages.service import MessageOutcome, RecordResult
from hub.messages.xsd import CEB_NAMESPACE, record_fields

ACCEPTED = "120"
REFUSED = "100"
_INFO_LIMIT = 1000


def _info(result: RecordResult) -> str:
    if result.accepted:
        what = "duplicate of declaration" if result.duplicate else "accepted: declaration"
        return f"{what} {result.declaration_id}"
    text = "; ".join(f"{e['code']} {e['path']}: {e['message']}" for e in result.errors)
    return text[:_INFO_LIMIT] or "refused"


def render(mtype: MessageType, outcome: MessageOutcome) -> bytes:
    """The receipt message answering a posted message (mtype.receipt must be set)."""
    assert mtype.receipt is not None
    ceb = f"{{{CEB_NAMESPACE}}}"
    root = etree.Element(
        f"{ceb}{mtype.receipt.message}",
        nsmap={"ceb": CEB_NAMESPACE},
        guid=str(uuid.uuid4()).upper(),
        version="1.0",
    )
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}"
    for result in outcome.results:
        entity = etree.SubElement(root, f"{ceb}{mtype.receipt.entity}")
        for name in record_fields(mtype.xsd, mtype.receipt.entity):
            if name == "returnStatus":
                value: str | None = ACCEPTED if result.accepted else REFUSED
            elif name == "returnTime":
                value = stamp
            elif name == "returnInfo":
                value = _info(result)
            else:
                value = result.record.leaf_text(name)
            if value is not None:
                etree.SubElement(entity, f"{ceb}{name}").text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
