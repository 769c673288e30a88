"""Mutations that declare records, and queries over the declaration store."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON

from hub.access.audit import AccessRecorder
from hub.access.authority import RECORD_TYPES, record_type
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.db import json_loads
from hub.declarations import chain, serial
from hub.declarations.models import Declaration as DeclarationRow
from hub.declarations.models import StoredDeclaration
from hub.declarations.service import (
    MAX_BATCH,
    BatchOutcome,
    BatchRejected,
    Declarant,
    DeclareItem,
    declare_batch,
)
from hub.graphql.conditions import Use, readable_anywhere, require_readable
from hub.graphql.context import Info
from hub.graphql.declarations.types import (
    ChainVerification,
    Declaration,
    DeclareBatchPayload,
    DeclarePayload,
)
from hub.graphql.pagination import Connection, connection, window
from hub.observability.metrics import metrics
from hub.standards.categories import shipped_categories

_DECLARE = f"Requires the scope `{Scope.DECLARE.value}` and a client bound to an enterprise."
# Scopes that read every declaration; others read only their own enterprise's.
_READ_ALL = (Scope.CUSTOMS_READ, Scope.AUDIT_READ)


def _reads_all(principal: Principal) -> bool:
    return any(principal.has(s) for s in _READ_ALL)


def may_read_every_declaration(principal: Principal) -> bool:
    """Who may read every declaration (and so every log entry): customs and audit."""
    return _reads_all(principal)


def may_read_declaration(principal: Principal, declarant: str) -> bool:
    """Who may read a declaration (and its log proof): customs/audit, or its declarant."""
    return _reads_all(principal) or declarant == principal.enterprise_code


def _touch(info: Info, rows: Sequence[StoredDeclaration]) -> None:
    """Notes each declaration returned, for the access log, under its declarant and every
    enterprise its record names in a role (they all see that their record was read)."""
    touch_declarations(info.context.audit, rows)


def touch_declarations(recorder: AccessRecorder, rows: Sequence[StoredDeclaration]) -> None:
    """`_touch` for any recorder (the log's HTTP proofs note their reads the same way)."""
    for row in rows:
        rtype = record_type(row.standard_id)
        named: frozenset[str] = frozenset()
        if rtype is not None:
            payload = json_loads(row.payload)
            named = rtype.party_codes(payload) if isinstance(payload, dict) else frozenset()
        recorder.touch(
            enterprises=(row.declarant, *sorted(named)),
            records=(f"{row.standard_id}:{row.record_key}",),
        )


def _record_key_uses(standard_id: str | None) -> list[Use]:
    """A record-key filter tests the key fields (an order's ebpCode and orderNo): their
    categories, for the standard named or for every record type."""
    uses = []
    for rtype in RECORD_TYPES.values():
        if standard_id is not None and rtype.standard_id != standard_id:
            continue
        tree = shipped_categories(rtype.standard_id)
        for name in rtype.key_fields:
            category = tree.at(f"/{name}")
            if category is not None:
                uses.append(Use("filter.recordKey", category))
    return uses


@strawberry.input
class DeclareInput:
    standard: str = strawberry.field(
        description="`id` (newest published version) or `id@x.y.z`, e.g. `cbec.order@1.0.0`."
    )
    payload: JSON
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Re-sending with the same key returns the original declaration.",
    )


@strawberry.input
class DeclarationFilter:
    standard_id: str | None = None
    record_key: str | None = None
    declarant: str | None = strawberry.field(
        default=None, description="Only for callers that read every declaration."
    )


async def _declare(info: Info, inputs: list[DeclareInput], atomic: bool) -> BatchOutcome:
    info.context.require(Scope.DECLARE)
    principal = info.context.principal
    runtime = info.context.runtime
    declarant = Declarant(client_id=principal.client_id, enterprise_code=principal.enterprise_code)
    items = [DeclareItem(i.standard, i.payload, i.idempotency_key) for i in inputs]
    for attempt in range(1, serial.ATTEMPTS + 1):
        try:
            async with info.context.transaction() as session:
                outcome = await declare_batch(
                    session=session,
                    declarant=declarant,
                    items=items,
                    atomic=atomic,
                    validators=runtime.validators,
                    rules=runtime.rules,
                )
            break
        except BatchRejected as rejected:
            metrics.count_declarations(rejected.outcome, committed=False)
            return rejected.outcome
        except Exception as exc:
            # No global write lock: a rare race the database broke (a deadlock) runs again.
            if attempt == serial.ATTEMPTS or not serial.retryable(exc):
                raise
    # Counted once the transaction has committed: only stored records are "accepted".
    metrics.count_declarations(outcome, committed=True)
    # A duplicate answer returns a stored declaration (the declarant's own): a read, logged.
    _touch(info, [r.declaration for r in outcome.results if r.duplicate and r.declaration])
    return outcome


@strawberry.type
class DeclarationsMutation:
    @strawberry.mutation(
        description="Declares one record: validated against its standard, stored with "
        "provenance, queued for the verifiable log, projected into the graph and matched. "
        f"{_DECLARE}"
    )
    async def declare(self, info: Info, input: DeclareInput) -> DeclarePayload:
        outcome = await _declare(info, [input], atomic=True)
        return DeclarePayload.of(outcome.results[0])

    @strawberry.mutation(
        description=f"Declares up to {MAX_BATCH} records in one transaction; `atomic: true` "
        f"stores all or none. {_DECLARE}"
    )
    async def declare_batch(
        self, info: Info, inputs: list[DeclareInput], atomic: bool = False
    ) -> DeclareBatchPayload:
        outcome = await _declare(info, inputs, atomic=atomic)
        committed = not (atomic and outcome.rejected)
        return DeclareBatchPayload(
            results=[DeclarePayload.of(r) for r in outcome.results],
            accepted=outcome.accepted if committed else 0,
            rejected=outcome.rejected,
            committed=committed,
            batch_id=outcome.batch_id if committed else None,
        )


@strawberry.type
class DeclarationsQuery:
    @strawberry.field(description="One declaration: your own, or any with customs/audit scope.")
    async def declaration(self, info: Info, id: strawberry.ID) -> Declaration | None:
        row = await info.context.read_session.get(DeclarationRow, str(id))
        principal = info.context.principal
        if row is None or not may_read_declaration(principal, row.declarant):
            return None
        _touch(info, [row])
        return Declaration.from_row(row)

    @strawberry.field(description="Declarations in chain order: your own enterprise's, or all.")
    async def declarations(
        self,
        info: Info,
        filter: DeclarationFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Declaration]:
        span = window("declaration", first=first, after=after, last=last, before=before)
        principal = info.context.principal
        query = select(DeclarationRow)
        if not _reads_all(principal):
            query = query.where(DeclarationRow.declarant == (principal.enterprise_code or ""))
        elif filter and filter.declarant:
            query = query.where(DeclarationRow.declarant == filter.declarant)
        if filter and filter.standard_id:
            query = query.where(DeclarationRow.standard_id == filter.standard_id)
        if filter and filter.record_key:
            # A supervisor reads envelopes, not keys: the filter would be an oracle on them.
            viewer = await info.context.viewer()
            require_readable(_record_key_uses(filter.standard_id), readable_anywhere(viewer))
            query = query.where(DeclarationRow.record_key == filter.record_key)
        query = span.keyset(query, DeclarationRow.chain_index)
        rows = list(await info.context.read_session.scalars(query))
        _touch(info, rows[: span.size])
        return connection(
            [Declaration.from_row(r) for r in rows],
            [r.chain_index for r in rows],
            "declaration",
            span,
        )

    @strawberry.field(
        description="Recomputes the hash chain over positions [fromIndex, toIndex] of the "
        "verifiable log (position = log index + 1) and reports any altered, removed or "
        "reordered declaration; declarations not yet integrated are counted as `pending`."
    )
    async def verify_chain(
        self, info: Info, from_index: int = 1, to_index: int | None = None
    ) -> ChainVerification:
        report = await chain.verify(
            session=info.context.read_session, from_index=from_index, to_index=to_index
        )
        # It reads the declaration store (hashes, ids of altered entries): logged, naming
        # no enterprise (supervisors see it).
        info.context.audit.touch()
        return ChainVerification.of(report)
