"""The access log: writing one event per data-returning operation, and reading it back.

Writing costs two statements (the event, then its subject index rows in one executemany).
Reading is keyset-paginated on the event id, newest first; an enterprise's view is driven
by the subject index and projected onto its own part of each event.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from graphql import OperationDefinitionNode, get_operation_ast
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.access.audit import AccessRecorder
from hub.access.models import AccessEvent, AccessEventSubject, Consent
from hub.access.policy import department_label
from hub.auth.principal import Principal
from hub.graphql.documents import parse_document

MAX_PURPOSE = 500  # the width of access_events.purpose
MAX_OPERATION_NAME = 200  # the width of access_events.operation_name


@dataclass(frozen=True)
class Operation:
    """What was asked: operation type and name, and the SHA-256 of the document text."""

    type: str  # "query", "mutation" or "subscription"
    name: str | None
    document_hash: str


@dataclass(frozen=True)
class AccessEventCreate:
    """The fields of one access event, before it is stored."""

    occurred_at: datetime
    client_id: str
    client_name: str
    department: str
    caller_enterprise: str | None
    operation_type: str
    operation_name: str | None
    document_hash: str
    purpose: str | None
    consent_ids: list[str]
    enterprises: list[str]
    records: list[str]
    record_count: int
    document_id: str | None = None  # the trusted document the request named, if any
    # A principal is (issuer, client id): None for the hub's own clients, else the external
    # identity provider's issuer, so that its clients never pass for hub clients.
    client_issuer: str | None = None


@dataclass(frozen=True, kw_only=True)
class AccessEventRead(AccessEventCreate):
    """An access event as one reader may see it (`partial`: other subjects left out)."""

    id: int
    partial: bool


@dataclass(frozen=True)
class AccessLogFilter:
    """Narrowing conditions; every one given must hold (`occurred_to` is exclusive)."""

    client_id: str | None = None
    # With `client_id`: the external issuer of that client; None: a client of this hub.
    client_issuer: str | None = None
    department: str | None = None
    enterprise: str | None = None
    operation_name: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


def describe_operation(*, query: str, operation_name: str | None) -> Operation:
    """The operation a document and optional operationName select, with the document hash."""
    document_hash = hashlib.sha256(query.encode("utf-8")).hexdigest()
    document = parse_document(query)  # shared with the endpoint: parsed once per process
    node: OperationDefinitionNode | None = (
        get_operation_ast(document, operation_name) if document is not None else None
    )
    if node is None:
        return Operation("query", _clip(operation_name, MAX_OPERATION_NAME), document_hash)
    name = node.name.value if node.name else operation_name
    return Operation(node.operation.value, _clip(name, MAX_OPERATION_NAME), document_hash)


def normalise_purpose(*, header: str | None) -> str | None:
    """The stated purpose from a `Hub-Purpose` header: trimmed, at most 500 characters."""
    if header is None:
        return None
    # Starlette decodes header bytes as latin-1; a client sending UTF-8 (e.g. Chinese text)
    # gets its characters back instead of mojibake.
    with contextlib.suppress(UnicodeError):
        header = header.encode("latin-1").decode("utf-8")
    return _clip(header.strip(), MAX_PURPOSE) or None


def build_event(
    *,
    principal: Principal,
    recorder: AccessRecorder,
    operation: Operation,
    purpose: str | None,
    occurred_at: datetime,
    document_id: str | None = None,
) -> AccessEventCreate:
    """The event of one operation from the caller, what it touched and what it asked."""
    return AccessEventCreate(
        occurred_at=occurred_at,
        client_id=principal.client_id,
        client_name=principal.name,
        department=department_label(principal),
        caller_enterprise=principal.enterprise_code,
        operation_type=operation.type,
        operation_name=operation.name,
        document_hash=operation.document_hash,
        purpose=purpose,
        consent_ids=sorted(recorder.consent_ids),
        enterprises=sorted(recorder.enterprises),
        records=list(recorder.records),
        record_count=recorder.record_count,
        document_id=document_id,
        client_issuer=principal.issuer_key,
    )


async def record(*, session: AsyncSession, event: AccessEventCreate) -> int:
    """Stores one event and its subject index rows (two statements); returns the event id."""
    event_id: int = (
        await session.execute(insert(AccessEvent).values(**vars(event)).returning(AccessEvent.id))
    ).scalar_one()
    if event.enterprises:
        await session.execute(
            insert(AccessEventSubject),
            [{"event_id": event_id, "enterprise_code": code} for code in event.enterprises],
        )
    return event_id


async def list_events(
    *,
    session: AsyncSession,
    filter: AccessLogFilter,
    subject: str | None,
    before_id: int | None,
    limit: int,
) -> list[AccessEvent]:
    """Events newest first; `subject` (the reader's own enterprise) cannot be widened."""
    query = select(AccessEvent).order_by(AccessEvent.id.desc()).limit(limit)
    # Each required subject is one join on the (enterprise_code, event_id) index, so an
    # enterprise's page is read from its own index range, not by scanning every event.
    # A filter enterprise only narrows the reader's subject further (both must be present).
    for code in dict.fromkeys(c for c in (subject, filter.enterprise) if c is not None):
        subjects = aliased(AccessEventSubject)
        query = query.join(
            subjects, (subjects.event_id == AccessEvent.id) & (subjects.enterprise_code == code)
        )
    if filter.client_id is not None:
        query = query.where(AccessEvent.client_id == filter.client_id)
        if filter.client_issuer is None:
            query = query.where(AccessEvent.client_issuer.is_(None))
    if filter.client_issuer is not None:
        query = query.where(AccessEvent.client_issuer == filter.client_issuer)
    if filter.department is not None:
        query = query.where(AccessEvent.department == filter.department)
    if filter.operation_name is not None:
        query = query.where(AccessEvent.operation_name == filter.operation_name)
    if filter.occurred_from is not None:
        query = query.where(AccessEvent.occurred_at >= filter.occurred_from)
    if filter.occurred_to is not None:
        query = query.where(AccessEvent.occurred_at < filter.occurred_to)
    if before_id is not None:
        query = query.where(AccessEvent.id < before_id)
    return list(await session.scalars(query))


async def view_for(
    *, session: AsyncSession, events: Sequence[AccessEvent], enterprise: str | None
) -> list[AccessEventRead]:
    """The events as a reader sees them: whole, or projected onto one enterprise's part."""
    if enterprise is None:
        return [_read(e, e.enterprises, e.records, e.consent_ids, e.record_count) for e in events]
    # Consents name one enterprise each; an enterprise may see only its own consents' ids.
    mentioned = {c for e in events for c in e.consent_ids}
    own_consents = (
        set(
            await session.scalars(
                select(Consent.id).where(
                    Consent.id.in_(mentioned), Consent.enterprise_code == enterprise
                )
            )
        )
        if mentioned
        else set()
    )
    views = []
    for e in events:
        records = [r for r in e.records if _names(r, enterprise)]
        consents = [c for c in e.consent_ids if c in own_consents]
        views.append(_read(e, [enterprise], records, consents, len(records)))
    return views


def _read(
    event: AccessEvent,
    enterprises: list[str],
    records: list[str],
    consent_ids: list[str],
    record_count: int,
) -> AccessEventRead:
    return AccessEventRead(
        id=event.id,
        occurred_at=event.occurred_at,
        client_id=event.client_id,
        client_name=event.client_name,
        department=event.department,
        caller_enterprise=event.caller_enterprise,
        operation_type=event.operation_type,
        operation_name=event.operation_name,
        document_hash=event.document_hash,
        purpose=event.purpose,
        consent_ids=consent_ids,
        enterprises=enterprises,
        records=records,
        record_count=record_count,
        document_id=event.document_id,
        client_issuer=event.client_issuer,
        partial=(enterprises, records, consent_ids, record_count)
        != (event.enterprises, event.records, event.consent_ids, event.record_count),
    )


def _names(record: str, enterprise: str) -> bool:
    """True when the record key (`standard:part|part…`) has the enterprise as a key part."""
    _, _, key = record.partition(":")
    return enterprise in key.split("|")


def _clip(text: str | None, width: int) -> str | None:
    return text[:width] if text is not None else None
