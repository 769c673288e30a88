"""XML intake: a validated CEB message's records are declared as one `declareBatch`, and
the message's bytes are kept as the provenance of the declarations made from it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.declarations.errors import DeclarationIssue
from hub.declarations.service import BatchOutcome, Declarant, DeclareItem, declare_batch
from hub.messages import mapping, reader
from hub.messages.models import CustomsMessage, CustomsMessageRecord
from hub.standards.service import ValidatorCache
from hub.trade.rules_config import RuleConfig


@dataclass(frozen=True)
class RecordResult:
    """The outcome for one record, in message order."""

    index: int
    declaration_id: str | None
    duplicate: bool
    errors: tuple[dict[str, str], ...]
    record: mapping.MappedRecord

    @property
    def accepted(self) -> bool:
        """True when the record is stored (new or a duplicate of a stored one)."""
        return self.declaration_id is not None

    def as_json(self) -> dict[str, object]:
        """The record's entry in the JSON answer."""
        return {
            "index": self.index,
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "declarationId": self.declaration_id,
            "errors": list(self.errors),
        }


@dataclass(frozen=True)
class MessageOutcome:
    """What posting one message did."""

    message_type: str
    guid: str
    message_id: str | None
    results: list[RecordResult]

    def as_json(self) -> dict[str, object]:
        """The answer of `POST /messages` (issue 10's shape)."""
        return {
            "messageType": self.message_type,
            "guid": self.guid,
            "results": [r.as_json() for r in self.results],
        }


def _errors(record: mapping.MappedRecord, issues: tuple[DeclarationIssue, ...]) -> tuple:
    return tuple(
        {
            "code": issue.code.value,
            "path": mapping.json_to_element(record, issue.path, issue.message),
            "message": issue.message,
        }
        for issue in issues
    )


async def import_message(
    *,
    session: AsyncSession,
    declarant: Declarant,
    body: bytes,
    validators: ValidatorCache,
    rules: RuleConfig,
) -> MessageOutcome:
    """Validates a message against its XSD, declares its records (same checks, idempotency
    and authority as `declareBatch`) and keeps its bytes; raises MessageRefused when the
    message is refused as a whole. Never commits."""
    message = await validators.run(reader.read, body)
    records = mapping.map_records(message.type, message.tree.getroot())
    items = [DeclareItem(message.type.standard, r.payload) for r in records]
    outcome: BatchOutcome = await declare_batch(
        session=session,
        declarant=declarant,
        items=items,
        atomic=False,
        validators=validators,
        rules=rules,
    )
    results = []
    new: list[tuple[str, int]] = []
    for record, result in zip(records, outcome.results, strict=True):
        declaration = result.declaration
        if declaration is not None and not result.duplicate:
            new.append((declaration.id, record.index))
        results.append(
            RecordResult(
                index=record.index,
                declaration_id=declaration.id if declaration is not None else None,
                duplicate=result.duplicate,
                errors=_errors(record, result.errors),
                record=record,
            )
        )
    message_id = None
    if new:
        # Kept once per message that declared something: a re-sent message (all
        # duplicates) adds nothing, and each declaration keeps the message it came from.
        message_id = secrets.token_hex(12)
        await session.execute(
            insert(CustomsMessage.__table__),
            [
                {
                    "id": message_id,
                    "message_type": message.type.name,
                    "guid": message.guid[:36],
                    "declarant": declarant.enterprise_code,
                    "client_id": declarant.client_id,
                    "received_at": datetime.now(UTC),
                    "content_hash": hashlib.sha256(body).hexdigest(),
                    "body": body,
                }
            ],
        )
        await session.execute(
            insert(CustomsMessageRecord.__table__),
            [
                {"declaration_id": did, "message_id": message_id, "record_index": index}
                for did, index in new
            ],
        )
    return MessageOutcome(message.type.name, message.guid, message_id, results)


async def message_of(*, session: AsyncSession, declaration_id: str) -> CustomsMessage | None:
    """The message a declaration was made from, if it came as XML."""
    return await session.scalar(
        select(CustomsMessage)
        .join(CustomsMessageRecord, CustomsMessageRecord.message_id == CustomsMessage.id)
        .where(CustomsMessageRecord.declaration_id == declaration_id)
    )
