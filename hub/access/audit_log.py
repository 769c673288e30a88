"""The access log: writing one event per data-returning operation, and reading it back.

Writing costs two statements (the event, then its subject index rows in one executemany).
Reading is keyset-paginated on the event id, newest first; an enterprise's view is driven
by the subject index and projected onto its own part of each event (the records naming it
in any role). A department may mark a read confidential (a legal basis and a disclosure
date): until that date its subjects see only that a confidential read by that department
happened; supervisors see everything at once.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from graphql import OperationDefinitionNode, get_operation_ast
from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.access.audit import AccessRecorder
from hub.access.models import AccessEvent, AccessEventSubject, Consent
from hub.access.policy import department_categories, department_label
from hub.auth.principal import Principal
from hub.graphql.documents import parse_document

MAX_PURPOSE = 500  # the width of access_events.purpose
MAX_OPERATION_NAME = 200  # the width of access_events.operation_name
MAX_CONFIDENTIAL_YEARS = 10  # the furthest disclosure date a department may set
PURPOSE_HEADER = "Hub-Purpose"  # the stated purpose of a read
CONFIDENTIAL_HEADER = "Hub-Confidential"  # the legal basis of a confidential read
DISCLOSE_AFTER_HEADER = "Hub-Disclose-After"  # YYYY-MM-DD: when its subjects may see it


class ConfidentialityRefused(Exception):
    """The confidentiality headers cannot be honoured: a coded 400 before anything runs."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Confidentiality:
    """A department's confidential read: why (legal basis) and until when it is hidden."""

    basis: str
    disclose_after: date


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
    confidential_basis: str | None = None
    disclose_after: date | None = None
    # Enterprise → (its records, how many): each subject's own part of the event.
    subjects: dict[str, tuple[list[str], int]] | None = None


@dataclass(frozen=True, kw_only=True)
class AccessEventRead:
    """An access event as one reader may see it (`partial`: other subjects left out;
    `confidential`: a confidential read, whose details are None until disclosure for
    anyone but a supervisor)."""

    id: int
    occurred_at: datetime
    client_id: str | None
    client_name: str | None
    department: str
    caller_enterprise: str | None
    operation_type: str
    operation_name: str | None
    document_hash: str | None
    purpose: str | None
    consent_ids: list[str]
    enterprises: list[str]
    records: list[str]
    record_count: int
    document_id: str | None
    partial: bool
    # A principal is (issuer, client id): None for the hub's own clients.
    client_issuer: str | None = None
    confidential: bool = False
    confidential_basis: str | None = None
    disclose_after: date | None = None
    withheld: bool = False  # the details of a confidential read are not shown yet


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


def confidentiality(
    *, principal: Principal, basis: str | None, disclose_after: str | None, today: date
) -> Confidentiality | None:
    """The confidentiality a request asks for (`Hub-Confidential` + `Hub-Disclose-After`),
    or None; raises ConfidentialityRefused when it may not or says it badly."""
    if basis is None and disclose_after is None:
        return None
    if not department_categories(principal):
        raise ConfidentialityRefused(
            "CONFIDENTIAL_NOT_ALLOWED",
            "only a department (customs, tax, forex, market) may mark a read confidential",
        )
    text = normalise_purpose(header=basis)  # same decoding and width as a purpose
    if not text:
        raise ConfidentialityRefused(
            "CONFIDENTIAL_BASIS_MISSING",
            f"a confidential read needs its legal basis in {CONFIDENTIAL_HEADER}",
        )
    if disclose_after is None:
        raise ConfidentialityRefused(
            "DISCLOSE_AFTER_MISSING",
            f"a confidential read needs {DISCLOSE_AFTER_HEADER}: YYYY-MM-DD",
        )
    try:
        day = date.fromisoformat(disclose_after.strip())
    except ValueError:
        raise ConfidentialityRefused(
            "DISCLOSE_AFTER_INVALID", f"{DISCLOSE_AFTER_HEADER} must be a date, YYYY-MM-DD"
        ) from None
    latest = today.replace(year=today.year + MAX_CONFIDENTIAL_YEARS, day=min(today.day, 28))
    if not today < day <= latest:
        raise ConfidentialityRefused(
            "DISCLOSE_AFTER_INVALID",
            f"{DISCLOSE_AFTER_HEADER} must be after today and at most "
            f"{MAX_CONFIDENTIAL_YEARS} years ahead",
        )
    return Confidentiality(text, day)


def build_event(
    *,
    principal: Principal,
    recorder: AccessRecorder,
    operation: Operation,
    purpose: str | None,
    occurred_at: datetime,
    document_id: str | None = None,
    confidential: Confidentiality | None = None,
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
        confidential_basis=confidential.basis if confidential else None,
        disclose_after=confidential.disclose_after if confidential else None,
        subjects={
            code: (list(part.records), part.record_count)
            for code, part in recorder.subjects.items()
        },
    )


async def record(*, session: AsyncSession, event: AccessEventCreate) -> int:
    """Stores one event and its subject index rows (two statements); returns the event id."""
    return (await record_many(session=session, events=[event]))[0]


async def record_many(*, session: AsyncSession, events: Sequence[AccessEventCreate]) -> list[int]:
    """Stores events and their subject index rows in two statements; returns their ids in order."""
    rows = [{k: v for k, v in vars(event).items() if k != "subjects"} for event in events]
    table = AccessEvent.__table__
    # One multi-row INSERT ... RETURNING (Core, so that rows are never regrouped). Each id
    # must pair with its event for the subject rows: PostgreSQL sorts RETURNING by
    # parameter order on request. SQLite cannot (SQLAlchemy would fall back to one INSERT
    # per row), but it assigns rowids in VALUES order while the statement holds the write
    # lock, so the ascending ids are the events' in order; sorting is then exact on both.
    returning = table.insert().returning(
        table.c.id, sort_by_parameter_order=session.get_bind().dialect.name != "sqlite"
    )
    event_ids: list[int] = sorted((await session.execute(returning, rows)).scalars())
    subjects = [
        {
            "event_id": event_id,
            "enterprise_code": code,
            "records": (event.subjects or {}).get(code, ([], 0))[0],
            "record_count": (event.subjects or {}).get(code, ([], 0))[1],
        }
        for event_id, event in zip(event_ids, events, strict=True)
        for code in event.enterprises
    ]
    if subjects:
        await session.execute(insert(AccessEventSubject), subjects)
    return event_ids


async def list_events(
    *,
    session: AsyncSession,
    filter: AccessLogFilter,
    subject: str | None,
    before_id: int | None,
    limit: int,
    today: date | None = None,
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
    if subject is not None and (
        filter.client_id is not None
        or filter.client_issuer is not None
        or filter.operation_name is not None
    ):
        # A subject does not see who read confidentially, or with which operation, until
        # the disclosure date: filtering on either must not find such an event (an oracle).
        query = query.where(_disclosed(today or datetime.now(UTC).date()))
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


def _disclosed(today: date) -> Any:
    """SQL: events that are not confidential, or whose disclosure date has come."""
    return or_(AccessEvent.disclose_after.is_(None), AccessEvent.disclose_after <= today)


async def view_for(
    *,
    session: AsyncSession,
    events: Sequence[AccessEvent],
    enterprise: str | None,
    today: date | None = None,
) -> list[AccessEventRead]:
    """The events as a reader sees them: whole (a supervisor), or projected onto one
    enterprise's part, with confidential reads withheld until their disclosure date."""
    if enterprise is None:
        return [_read(e, e.enterprises, e.records, e.consent_ids, e.record_count) for e in events]
    day = today or datetime.now(UTC).date()
    ids = [e.id for e in events]
    parts = (
        {
            s.event_id: s
            for s in await session.scalars(
                select(AccessEventSubject).where(
                    AccessEventSubject.event_id.in_(ids),
                    AccessEventSubject.enterprise_code == enterprise,
                )
            )
        }
        if ids
        else {}
    )
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
        part = parts.get(e.id)
        if part is not None and part.records is not None:
            records, count = list(part.records), int(part.record_count or 0)
        else:  # an event from before migration 0010: records whose key names it
            records = [r for r in e.records if _names(r, enterprise)]
            count = len(records)
        if e.disclose_after is not None and day < e.disclose_after:
            views.append(_withheld(e, enterprise))
            continue
        consents = [c for c in e.consent_ids if c in own_consents]
        views.append(_read(e, [enterprise], records, consents, count))
    return views


def _withheld(event: AccessEvent, enterprise: str) -> AccessEventRead:
    """A confidential read before its disclosure date, as its subject sees it: when, and
    which department; no client, operation, purpose, basis, consent or record."""
    return AccessEventRead(
        id=event.id,
        occurred_at=event.occurred_at,
        client_id=None,
        client_name=None,
        department=event.department,
        caller_enterprise=None,
        operation_type=event.operation_type,
        operation_name=None,
        document_hash=None,
        purpose=None,
        consent_ids=[],
        enterprises=[enterprise],
        records=[],
        record_count=0,
        document_id=None,
        partial=True,
        confidential=True,
        withheld=True,
    )


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
        confidential=event.confidential_basis is not None,
        confidential_basis=event.confidential_basis,
        disclose_after=event.disclose_after,
    )


def _names(record: str, enterprise: str) -> bool:
    """True when the record key (`standard:part|part…`) has the enterprise as a key part."""
    _, _, key = record.partition(":")
    return enterprise in key.split("|")


def _clip(text: str | None, width: int) -> str | None:
    return text[:width] if text is not None else None
