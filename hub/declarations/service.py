"""Intake: resolve the standard, validate, check authority, deduplicate, log, project.

`declare_batch` is the one write path (a single declaration is a batch of one). It never
commits: the caller's unit of work does, so a batch is all-or-nothing on a crash too.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access import authority
from hub.canonical import MAX_DEPTH, canonical_json, find_unstorable_text, nesting_depth
from hub.db import in_values, json_loads, pair_in
from hub.declarations import serial
from hub.declarations.errors import DeclarationErrorCode, DeclarationIssue
from hub.declarations.models import Declaration, NewDeclaration, StoredDeclaration
from hub.events import outbox
from hub.log import store as log_store
from hub.standards import service as standards
from hub.standards.errors import StandardErrorCode, StandardsError
from hub.standards.models import StandardVersion
from hub.standards.validation import CompiledValidator, ValidationIssue
from hub.trade import projection
from hub.trade.models import Inventory
from hub.trade.rules_config import RuleConfig

MAX_BATCH = 1000
MAX_ERRORS_PER_RECORD = 100

_CODE_FOR_STANDARD_ERROR = {
    StandardErrorCode.UNKNOWN_STANDARD: DeclarationErrorCode.UNKNOWN_STANDARD,
    StandardErrorCode.UNKNOWN_VERSION: DeclarationErrorCode.UNKNOWN_VERSION,
    StandardErrorCode.INVALID_VERSION: DeclarationErrorCode.INVALID_STANDARD_REF,
    StandardErrorCode.INVALID_STANDARD_ID: DeclarationErrorCode.INVALID_STANDARD_REF,
    StandardErrorCode.NOT_PUBLISHED: DeclarationErrorCode.NOT_PUBLISHED,
    StandardErrorCode.RETIRED: DeclarationErrorCode.RETIRED,
}


@dataclass(frozen=True)
class DeclareItem:
    """One record to declare: `standard` is `id` or `id@x.y.z`."""

    standard: str
    payload: Any
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Declarant:
    """Who declares: the client and the enterprise it is bound to."""

    client_id: str
    enterprise_code: str | None


@dataclass(frozen=True)
class ItemResult:
    """The outcome for one record: the declaration (new or original) or the refusals."""

    declaration: StoredDeclaration | None = None
    duplicate: bool = False
    warnings: tuple[str, ...] = ()
    errors: tuple[DeclarationIssue, ...] = ()


@dataclass
class BatchOutcome:
    """Per-record results, in input order."""

    results: list[ItemResult]
    batch_id: str | None = None

    @property
    def accepted(self) -> int:
        """Records that are stored (new or duplicates of stored ones)."""
        return sum(1 for r in self.results if r.declaration is not None)

    @property
    def rejected(self) -> int:
        """Records refused for their own fault (not those aborted with an atomic batch)."""
        return sum(
            1
            for r in self.results
            if r.errors and r.errors[0].code != DeclarationErrorCode.BATCH_ABORTED
        )


class BatchRejected(Exception):
    """An atomic batch had a bad record: raise through the unit of work so it rolls back."""

    def __init__(self, outcome: BatchOutcome):
        super().__init__(f"{outcome.rejected} record(s) refused; nothing was stored")
        self.outcome = outcome


@dataclass
class _Candidate:
    index: int
    item: DeclareItem
    version: StandardVersion | None = None
    warnings: tuple[str, ...] = ()
    canonical: str = ""
    digest: str = ""
    record_key: str = ""
    app_type: str = "1"
    rtype: authority.RecordType | None = None
    errors: list[DeclarationIssue] = field(default_factory=list)


def _new_id() -> str:
    return secrets.token_hex(12)


def _canonical_or_issue(payload: Any) -> bytes | DeclarationIssue:
    """The canonical bytes of a payload, or why it has none (NUL, lone surrogate, NaN, depth)."""
    if nesting_depth(payload) > MAX_DEPTH:
        return DeclarationIssue(
            DeclarationErrorCode.TOO_DEEP,
            f"objects and arrays nest deeper than {MAX_DEPTH} levels",
            "",
            None,
        )
    try:
        canonical = canonical_json(payload)
    except UnicodeEncodeError:
        canonical = None
    except ValueError:
        return DeclarationIssue(
            DeclarationErrorCode.SCHEMA_VIOLATION,
            "NaN and Infinity are not JSON numbers",
            "",
            "type",
        )
    # The canonical text shows NUL as \u0000 and cannot exist with a lone surrogate, so only
    # suspicious payloads pay for the walk that finds the exact pointer.
    if canonical is None or b"\\u0000" in canonical:
        pointer = find_unstorable_text(payload)
        if pointer is not None or canonical is None:
            return DeclarationIssue(
                DeclarationErrorCode.INVALID_CHARACTERS,
                "text holds a NUL character or an unpaired surrogate, which cannot be "
                "stored or hashed",
                pointer or "",
            )
    return canonical


async def _resolve_all(*, session: AsyncSession, candidates: list[_Candidate]) -> None:
    cache: dict[str, standards.Resolved | DeclarationIssue] = {}
    for candidate in candidates:
        ref = candidate.item.standard
        if ref not in cache:
            try:
                cache[ref] = await standards.resolve(session=session, ref=ref, with_schema=False)
            except StandardsError as exc:
                code = _CODE_FOR_STANDARD_ERROR.get(exc.code, DeclarationErrorCode.UNKNOWN_STANDARD)
                cache[ref] = DeclarationIssue(code, exc.message, "/standard")
        resolved = cache[ref]
        if isinstance(resolved, DeclarationIssue):
            candidate.errors.append(resolved)
        else:
            candidate.version = resolved.version
            candidate.warnings = resolved.warnings


@dataclass(frozen=True)
class _Checked:
    """A payload's canonical bytes (or why it has none) and its schema violations."""

    canonical: bytes | DeclarationIssue
    issues: list[ValidationIssue]


def _check_payloads(work: list[tuple[CompiledValidator, dict[str, Any]]]) -> list[_Checked]:
    checked = []
    for validator, payload in work:
        canonical = _canonical_or_issue(payload)
        issues = (
            []
            if isinstance(canonical, DeclarationIssue)
            else validator.errors(payload, limit=MAX_ERRORS_PER_RECORD)
        )
        checked.append(_Checked(canonical, issues))
    return checked


async def _check_all_payloads(
    *,
    session: AsyncSession,
    candidates: list[_Candidate],
    validators: standards.ValidatorCache,
) -> dict[int, _Checked]:
    """Canonical form and schema violations of each object payload, by candidate index.

    Computed on the validation threads, off the event loop: a large batch (the error
    messages of invalid records above all) is seconds of CPU that would stall every other
    request of the process.
    """
    indexes: list[int] = []
    work: list[tuple[CompiledValidator, dict[str, Any]]] = []
    for candidate in candidates:
        if candidate.errors or candidate.version is None:
            continue
        if isinstance(candidate.item.payload, dict):
            validator = await validators.get(session=session, version=candidate.version)
            indexes.append(candidate.index)
            work.append((validator, candidate.item.payload))
    if not work:
        return {}
    checked = await validators.run(_check_payloads, work)
    return dict(zip(indexes, checked, strict=True))


async def _validate_all(
    *,
    session: AsyncSession,
    candidates: list[_Candidate],
    declarant: Declarant,
    validators: standards.ValidatorCache,
) -> None:
    checked = await _check_all_payloads(
        session=session, candidates=candidates, validators=validators
    )
    for candidate in candidates:
        if candidate.errors or candidate.version is None:
            continue
        payload = candidate.item.payload
        if not isinstance(payload, dict):
            candidate.errors.append(
                DeclarationIssue(
                    DeclarationErrorCode.NOT_AN_OBJECT, "the payload must be a JSON object", ""
                )
            )
            continue
        canonical = checked[candidate.index].canonical
        if isinstance(canonical, DeclarationIssue):
            candidate.errors.append(canonical)
            continue
        issues = checked[candidate.index].issues
        if issues:
            candidate.errors.extend(
                DeclarationIssue(
                    DeclarationErrorCode.SCHEMA_VIOLATION, issue.message, issue.path, issue.keyword
                )
                for issue in issues
            )
            continue
        rtype = authority.record_type(candidate.version.standard_id, candidate.version.major)
        app_type = str(payload.get("appType", "1"))
        if rtype is not None:
            refused = authority.check_create(
                rtype, declarant=declarant.enterprise_code, payload=payload, app_type=app_type
            )
            if refused is not None:
                candidate.errors.append(refused)
                continue
        candidate.canonical = canonical.decode("utf-8")
        candidate.digest = hashlib.sha256(canonical).hexdigest()  # = content_hash(payload)
        candidate.record_key = rtype.key(payload) if rtype is not None else candidate.digest
        candidate.app_type = app_type
        candidate.rtype = rtype


async def _existing_by_content(
    *, session: AsyncSession, declarant: Declarant, candidates: list[_Candidate]
) -> dict[tuple[str, str], StoredDeclaration]:
    """The declarant's own stored declarations with a candidate's content (duplicates).

    Another enterprise's identical content is never consulted: it is not a duplicate, and
    the candidate goes through the lifecycle like any other payload with its key (so
    nothing in the answer tells whether someone else declared exactly these bytes)."""
    pairs = {(c.version.standard_id, c.digest) for c in candidates if c.version and c.digest}
    if not pairs:
        return {}
    # By hash alone (its own index), then narrowed here: the plan stays an index lookup
    # whatever the planner thinks of the declarant's history.
    rows = await session.scalars(
        select(Declaration).where(Declaration.content_hash.in_({p[1] for p in pairs}))
    )
    return {
        (row.standard_id, row.content_hash): row
        for row in rows
        if (row.standard_id, row.content_hash) in pairs
        and row.declarant == declarant.enterprise_code
    }


async def _existing_by_key(
    *, session: AsyncSession, declarant: Declarant, candidates: list[_Candidate]
) -> dict[str, Declaration]:
    keys = {c.item.idempotency_key for c in candidates if c.item.idempotency_key}
    if not keys:
        return {}
    # Keys are per declarant (one namespace for all of an enterprise's clients; the
    # database's unique index is on the same pair), so a client id that another issuer
    # also uses can never replay or probe another enterprise's key.
    rows = await session.scalars(
        select(Declaration).where(
            Declaration.declarant == declarant.enterprise_code,
            Declaration.idempotency_key.in_(keys),
        )
    )
    return {r.idempotency_key: r for r in rows if r.idempotency_key}


@dataclass
class _Latest:
    """The latest declaration of a record: its id, appType and payload (parsed on demand)."""

    id: str
    app_type: str
    payload_text: str | None = None
    payload_value: Any = None

    @property
    def payload(self) -> Any:
        """The record as last declared."""
        if self.payload_value is None and self.payload_text is not None:
            self.payload_value = json_loads(self.payload_text)
        return self.payload_value

    @property
    def active(self) -> bool:
        """False once the record is cancelled."""
        return self.app_type != "3"


def _link_targets(candidate: _Candidate) -> list[tuple[authority.Link, tuple[str, str]]]:
    """The records a candidate names through its links: (link, (standard_id, key))."""
    if candidate.rtype is None or candidate.app_type == "3":
        return []  # a cancellation unlinks: nothing to agree with
    targets = []
    for link in candidate.rtype.links:
        key = link.target_key(candidate.item.payload)
        if key is not None:
            targets.append((link, (link.target, key)))
    return targets


def _namer_records(
    candidate: _Candidate,
) -> list[tuple[authority.RecordType, authority.Link, tuple[str, str]]]:
    """The stored records of the candidate's order that name a record of its type by
    their own fields (the order's inventory naming its waybill): (type, link, record)."""
    rtype = candidate.rtype
    if rtype is None or candidate.app_type == "3":
        return []
    order = rtype.order_key(candidate.item.payload)
    if order is None:
        return []
    return [
        (other, link, (other.standard_id, "|".join(order)))
        for other, link in authority.namers(rtype)
    ]


async def _latest_by_record(
    *, session: AsyncSession, candidates: list[_Candidate]
) -> dict[tuple[str, str], _Latest]:
    """(standard_id, record_key) → the latest declaration, for the candidates' own records
    and the records they link to."""
    pairs = {(c.version.standard_id, c.record_key) for c in candidates if c.version and c.digest}
    pairs |= {pair for c in candidates if c.digest for _, pair in _link_targets(c)}
    pairs |= {pair for c in candidates if c.digest for _, _, pair in _namer_records(c)}
    if not pairs:
        return {}
    dialect = session.get_bind().dialect.name
    rows = await session.execute(
        select(
            Declaration.standard_id,
            Declaration.record_key,
            Declaration.id,
            Declaration.app_type,
            Declaration.payload,
        )
        .where(
            in_values(Declaration.standard_id, {p[0] for p in pairs}, dialect=dialect),
            in_values(Declaration.record_key, {p[1] for p in pairs}, dialect=dialect),
        )
        .order_by(Declaration.chain_index)
    )
    latest: dict[tuple[str, str], _Latest] = {}
    for standard_id, key, declaration_id, app_type, payload in rows:
        latest[(standard_id, key)] = _Latest(declaration_id, app_type, payload)
    return latest


def _authority_issue(
    candidate: _Candidate, declarant: Declarant, latest: dict[tuple[str, str], _Latest]
) -> DeclarationIssue | None:
    """The authority table's verdict on a change against the stored record, and on the
    records this one links to where they are stored already."""
    rtype = candidate.rtype
    if rtype is None or candidate.version is None:
        return None
    payload = candidate.item.payload
    stored = latest.get((candidate.version.standard_id, candidate.record_key))
    if stored is not None and candidate.app_type != "1":
        refused = authority.check_stored(
            rtype,
            declarant=declarant.enterprise_code,
            payload=payload,
            app_type=candidate.app_type,
            stored=stored.payload,
        )
        if refused is not None:
            return refused
    for link, pair in _link_targets(candidate):
        target = latest.get(pair)
        if target is None or not target.active:
            continue  # arrives later (or anew): the graph links it only if it agrees then
        refused = authority.check_link(rtype, link, payload=payload, target=target.payload)
        if refused is not None:
            return refused
    for namer, link, pair in _namer_records(candidate):
        named_by = latest.get(pair)
        if named_by is None or not named_by.active:
            continue
        refused = authority.check_named(
            rtype, payload=payload, namer=namer, link=link, named_by=named_by.payload
        )
        if refused is not None:
            return refused
    return None


def _record_exists(rtype: authority.RecordType | None) -> DeclarationIssue:
    message = "this record exists already: declare a change with appType 2"
    if rtype is not None and rtype.exists_hint:
        message += f" ({rtype.exists_hint})"
    return DeclarationIssue(DeclarationErrorCode.RECORD_EXISTS, message, "/appType")


def _lifecycle_issue(
    app_type: str, latest: _Latest | None, rtype: authority.RecordType | None = None
) -> DeclarationIssue | None:
    if app_type == "1":
        if latest is not None and latest.active:
            return _record_exists(rtype)
        return None
    if latest is None:
        return DeclarationIssue(
            DeclarationErrorCode.RECORD_NOT_FOUND,
            f"appType {app_type} changes or cancels a record that was never declared",
            "/appType",
        )
    if not latest.active:
        return DeclarationIssue(
            DeclarationErrorCode.RECORD_CANCELLED,
            "this record was cancelled; declare it anew with appType 1",
            "/appType",
        )
    return None


def _identity(found: StoredDeclaration | dict[str, Any]) -> tuple[str, str]:
    """(content hash, standard id) of a stored declaration or of a row of this batch."""
    if isinstance(found, dict):
        return found["content_hash"], found["standard_id"]
    return found.content_hash, found.standard_id


def _id_of(found: StoredDeclaration | dict[str, Any]) -> str:
    return found["id"] if isinstance(found, dict) else found.id


async def _subjects(
    *, session: AsyncSession, declarant: Declarant, candidates: list[_Candidate]
) -> set[str]:
    """Everything the batch decides about, as serialisation subjects (hub/declarations/
    serial.py): its records, the orders they re-match, the records their links and namers
    are checked against, and its idempotency keys."""
    subjects: set[str] = set()
    indirect: set[tuple[str, str]] = set()  # (logisticsCode|logisticsNo or agentCode|copNo)
    for candidate in candidates:
        if not candidate.digest or candidate.version is None:
            continue
        subjects.add(serial.subject("record", candidate.version.standard_id, candidate.record_key))
        if candidate.item.idempotency_key:
            code = declarant.enterprise_code or ""
            subjects.add(serial.subject("idem", code, candidate.item.idempotency_key))
        rtype = candidate.rtype
        if rtype is None:
            continue
        payload = candidate.item.payload
        order = rtype.order_key(payload)
        if order is not None:
            subjects.add(serial.subject("order", *order))
        subjects |= {serial.subject("record", *pair) for _, pair in _link_targets(candidate)}
        subjects |= {serial.subject("record", *pair) for _, _, pair in _namer_records(candidate)}
        # Records the projection links by other fields than their order (2.0.0: a receipt
        # naming its inventory by copNo, an export waybill named by its inventory) re-match
        # the order found through them: hold that order too, and the linking fields.
        if payload.get("copNo") and payload.get("agentCode"):
            pair = ("cop", f"{payload['agentCode']}|{payload['copNo']}")
            subjects.add(serial.subject(*pair))
            indirect.add(pair)
        if rtype.node in ("waybill", "inventory") and payload.get("logisticsNo"):
            pair = ("waybill", f"{payload.get('logisticsCode')}|{payload['logisticsNo']}")
            subjects.add(serial.subject(*pair))
            indirect.add(pair)
    subjects |= {serial.subject("order", *o) for o in await _orders_via(session, indirect)}
    return subjects


async def _orders_via(session: AsyncSession, links: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The orders of the stored inventories these copNo / waybill links lead to."""
    cops = [key.split("|", 1) for kind, key in links if kind == "cop"]
    waybills = [key.split("|", 1) for kind, key in links if kind == "waybill"]
    found: set[tuple[str, str]] = set()
    for (left, right), pairs in (
        ((Inventory.agent_code, Inventory.cop_no), cops),
        ((Inventory.logistics_code, Inventory.logistics_no), waybills),
    ):
        if pairs:
            rows = await session.execute(
                select(Inventory.ebp_code, Inventory.order_no, left, right).where(
                    pair_in(left, right, [(a, b) for a, b in pairs])
                )
            )
            wanted = {(a, b) for a, b in pairs}
            found |= {(r[0], r[1]) for r in rows if (r[2], r[3]) in wanted}
    return found


async def declare_batch(
    *,
    session: AsyncSession,
    declarant: Declarant,
    items: Sequence[DeclareItem],
    atomic: bool,
    validators: standards.ValidatorCache,
    rules: RuleConfig,
) -> BatchOutcome:
    """Declares up to 1,000 records in the caller's transaction; raises BatchRejected when an
    atomic batch has a bad record (so the caller's unit of work rolls back)."""
    if len(items) > MAX_BATCH:
        issue = DeclarationIssue(
            DeclarationErrorCode.BATCH_TOO_LARGE,
            f"a batch holds at most {MAX_BATCH} records, got {len(items)}",
        )
        return BatchOutcome([ItemResult(errors=(issue,)) for _ in items])
    if not declarant.enterprise_code:
        issue = DeclarationIssue(
            DeclarationErrorCode.NOT_BOUND, "the client is not bound to an enterprise"
        )
        return BatchOutcome([ItemResult(errors=(issue,)) for _ in items])

    # No lock shared by all writers: each batch holds only the subjects it decides about
    # (its records, their orders, the records they link to, its idempotency keys; see
    # hub/declarations/serial.py), so unrelated writers never wait for each other.
    # PostgreSQL validates first and locks for the decisions alone. SQLite takes its single
    # writer's lock first: a transaction that reads and then writes can fail to upgrade its
    # lock when another connection committed meanwhile.
    candidates = [_Candidate(i, item) for i, item in enumerate(items)]
    await serial.hold_writer(session=session)
    await _resolve_all(session=session, candidates=candidates)
    await _validate_all(
        session=session, candidates=candidates, declarant=declarant, validators=validators
    )
    await serial.hold(
        session=session,
        subjects=await _subjects(session=session, declarant=declarant, candidates=candidates),
    )
    by_content: dict[tuple[str, str], StoredDeclaration | int] = dict(
        await _existing_by_content(session=session, declarant=declarant, candidates=candidates)
    )
    by_key: dict[str, StoredDeclaration | int] = dict(
        await _existing_by_key(session=session, declarant=declarant, candidates=candidates)
    )
    latest = await _latest_by_record(session=session, candidates=candidates)

    now = datetime.now(UTC)
    batch_id = _new_id() if len(items) > 1 else None
    results: list[ItemResult] = []
    # Results that name a declaration of this batch: (result position, new row position).
    fresh: list[tuple[int, int]] = []
    new_rows: list[dict[str, Any]] = []
    accepted: list[projection.Accepted] = []
    for candidate in candidates:
        if candidate.errors or candidate.version is None:
            results.append(ItemResult(errors=tuple(candidate.errors), warnings=candidate.warnings))
            continue
        standard_id = candidate.version.standard_id
        idem = candidate.item.idempotency_key
        original = by_content.get((standard_id, candidate.digest))
        keyed = by_key.get(idem) if idem else None
        keyed_row = new_rows[keyed] if isinstance(keyed, int) else keyed
        if keyed_row is not None and _identity(keyed_row) != (candidate.digest, standard_id):
            issue = DeclarationIssue(
                DeclarationErrorCode.IDEMPOTENCY_KEY_REUSED,
                f"idempotency key {idem!r} was used for different content "
                f"(declaration {_id_of(keyed_row)})",
                "/idempotencyKey",
            )
            results.append(ItemResult(errors=(issue,), warnings=candidate.warnings))
            continue
        same = original if original is not None else keyed
        if same is not None:
            if isinstance(same, int):
                fresh.append((len(results), same))
                same = None
            results.append(
                ItemResult(declaration=same, duplicate=True, warnings=candidate.warnings)
            )
            continue
        record = (standard_id, candidate.record_key)
        refusal = _lifecycle_issue(candidate.app_type, latest.get(record), candidate.rtype)
        refusal = refusal or _authority_issue(candidate, declarant, latest)
        if refusal is not None:
            results.append(ItemResult(errors=(refusal,), warnings=candidate.warnings))
            continue

        declaration_id = _new_id()
        row: dict[str, Any] = {
            "id": declaration_id,
            "chain_index": 0,  # numbered below, once the batch's new rows are known
            "standard_id": standard_id,
            "standard_version": candidate.version.version,
            "record_key": candidate.record_key,
            "app_type": candidate.app_type,
            "declarant": declarant.enterprise_code,
            "client_id": declarant.client_id,
            "idempotency_key": idem,
            "received_at": now,
            "payload": candidate.canonical,
            "content_hash": candidate.digest,
            "supersedes": latest[record].id if record in latest else None,
            "batch_id": batch_id,
        }
        latest[record] = _Latest(
            declaration_id, candidate.app_type, payload_value=candidate.item.payload
        )
        by_content[(standard_id, candidate.digest)] = len(new_rows)
        if idem:
            by_key[idem] = len(new_rows)
        fresh.append((len(results), len(new_rows)))
        new_rows.append(row)
        results.append(ItemResult(warnings=candidate.warnings))
        accepted.append(
            projection.Accepted(
                standard_id=standard_id,
                payload=candidate.item.payload,
                app_type=candidate.app_type,
                record_key=candidate.record_key,
                declaration_id=declaration_id,
                major=candidate.version.major,
            )
        )

    # Numbered from the database's sequence after the subjects are held: a record's later
    # declaration always has the larger number, and no chain head is shared by writers.
    refused = atomic and any(r.errors for r in results)  # raised below: nothing is stored
    count = 0 if refused else len(new_rows)
    numbers = await serial.next_indexes(session=session, count=count) or [0] * len(new_rows)
    stored = []
    for row, number in zip(new_rows, numbers, strict=True):
        row["chain_index"] = number
        stored.append(NewDeclaration(**row))
    for position, new in fresh:
        results[position] = replace(results[position], declaration=stored[new])

    outcome = BatchOutcome(results, batch_id)
    if atomic and outcome.rejected:
        aborted = DeclarationIssue(
            DeclarationErrorCode.BATCH_ABORTED,
            "not stored: another record of this atomic batch was refused",
        )
        outcome.results = [
            r if r.errors else replace(r, declaration=None, duplicate=False, errors=(aborted,))
            for r in outcome.results
        ]
        raise BatchRejected(outcome)
    if new_rows:
        # Core insert on the table: one executemany, no ORM bookkeeping per row.
        await session.execute(insert(Declaration.__table__), new_rows)
        # Queued for the verifiable log; the sequencer integrates it off the write path.
        await log_store.enqueue(session=session, declarations=new_rows, now=now)
        await projection.apply(session=session, accepted=accepted, rules=rules, now=now)
        await outbox.declarations_accepted(
            session=session, accepted=accepted, declarant=declarant.enterprise_code, now=now
        )
    return outcome
