"""GraphQL types of the declaration store."""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from hub.access.policy import Category
from hub.declarations.chain import ChainReport
from hub.declarations.chain import ProblemKind as ProblemKindEnum
from hub.declarations.errors import DeclarationErrorCode as DeclarationErrorCodeEnum
from hub.declarations.errors import DeclarationIssue
from hub.declarations.models import StoredDeclaration
from hub.declarations.service import ItemResult
from hub.graphql.context import Info
from hub.graphql.declarations.access import (
    ContentForbidden,
    DeclarationView,
    declaration_view,
    key_fields,
)

strawberry.enum(
    DeclarationErrorCodeEnum,
    name="DeclarationErrorCode",
    description="Why a record was not accepted.",
)
strawberry.enum(ProblemKindEnum, name="ChainProblemKind", description="What is wrong in the chain.")


@strawberry.type(description="A refusal: code, JSON pointer into the payload, keyword, message.")
class DeclarationError:
    code: DeclarationErrorCodeEnum
    path: str
    keyword: str | None
    message: str

    @classmethod
    def of(cls, issue: DeclarationIssue) -> DeclarationError:
        """From the service's issue."""
        return cls(code=issue.code, path=issue.path, keyword=issue.keyword, message=issue.message)


@strawberry.type(description="What of a declaration's payload the caller may not read.")
class PayloadAccess:
    withheld_categories: list[Category] = strawberry.field(
        description="Categories whose fields were removed from `payload`."
    )
    masked_personal: bool = strawberry.field(
        description="Personal fields are masked (clear only with customs:read + pii:read)."
    )
    undeclared_withheld: bool = strawberry.field(
        description="Properties the standard declares no category for were removed (shown "
        "only to readers of every category in clear)."
    )


@strawberry.type(
    description="An accepted record with its provenance and chain link. Its content "
    "(`payload`, and the key, lifecycle and canonical bytes that show content) is cut down "
    "to the data categories the caller reads of that record, by the `x-hub-category` of "
    "each property in the record's standard version."
)
class Declaration:
    row: strawberry.Private[StoredDeclaration]
    _view: strawberry.Private[asyncio.Future[DeclarationView] | None] = None

    async def view(self, info: Info) -> DeclarationView:
        """The caller's view of this declaration, computed once."""
        if self._view is None:
            self._view = asyncio.ensure_future(declaration_view(info, self.row))
        return await self._view

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row.id)

    @strawberry.field(
        description="Arrival order (a database sequence; the number its chain link covers)."
    )
    def chain_index(self) -> int:
        return self.row.chain_index

    @strawberry.field(description="`id@version` it was validated against.")
    def standard(self) -> str:
        return self.row.standard_ref

    @strawberry.field
    def standard_id(self) -> str:
        return self.row.standard_id

    @strawberry.field
    def standard_version(self) -> str:
        return self.row.standard_version

    @strawberry.field(
        description="The record's identity (its key fields joined by |): null with a "
        "FORBIDDEN error when a key field is of a category the caller may not read."
    )
    async def record_key(self, info: Info) -> str | None:
        view = await self.view(info)
        for name in key_fields(self.row.standard_id, self.row.standard_version):
            view.readable(f"/{name}")
        return self.row.record_key

    @strawberry.field(
        description="1 new, 2 change, 3 cancel: the record's lifecycle, of the category of "
        "its standard's `appType`."
    )
    async def app_type(self, info: Info) -> str | None:
        (await self.view(info)).readable("/appType")
        return self.row.app_type

    @strawberry.field(description="The declaring enterprise.")
    def declarant(self) -> str:
        return self.row.declarant

    @strawberry.field(description="The submitting OAuth2 client.")
    def client_id(self) -> str:
        return self.row.client_id

    @strawberry.field
    def received_at(self) -> datetime:
        return self.row.received_at

    @strawberry.field(description="SHA-256 of the canonical payload.")
    def content_hash(self) -> str:
        return self.row.content_hash

    @strawberry.field(
        description="The previous chain link in log order; null until the log integrates "
        "this declaration (see `inclusionPromise`)."
    )
    def prev_hash(self) -> str | None:
        return self.row.prev_hash

    @strawberry.field(description="This declaration's chain link; null until integrated.")
    def chain_hash(self) -> str | None:
        return self.row.chain_hash

    @strawberry.field(
        description="The log's signed promise to integrate this declaration within the "
        "maximum merge delay (signed note; see README, Verifiable log)."
    )
    def inclusion_promise(self, info: Info) -> str:
        from hub.graphql.log import promise_for  # the log module imports this one

        return promise_for(info, self.row)

    @strawberry.field(
        description="The earlier declaration of the same record this one changes or "
        "cancels (lifecycle: the category of `appType`)."
    )
    async def supersedes(self, info: Info) -> str | None:
        if self.row.supersedes is None:
            return None
        (await self.view(info)).readable("/appType")
        return self.row.supersedes

    @strawberry.field
    def batch_id(self) -> str | None:
        return self.row.batch_id

    @strawberry.field
    def idempotency_key(self) -> str | None:
        return self.row.idempotency_key

    @strawberry.field(
        description="The record with only the fields the caller may read: fields of other "
        "categories removed, personal data masked without pii:read (see `payloadAccess`). "
        "Null when the caller reads nothing of the record's content."
    )
    async def payload(self, info: Info) -> JSON | None:
        return (await self.view(info)).payload.value

    @strawberry.field(description="What `payload` leaves out for this caller.")
    async def payload_access(self, info: Info) -> PayloadAccess:
        readable = (await self.view(info)).payload
        return PayloadAccess(
            withheld_categories=[c for c in Category if c in readable.withheld],
            masked_personal=readable.masked,
            undeclared_withheld=readable.undeclared,
        )

    @strawberry.field(
        description="The exact bytes that were hashed (UTF-8 JSON, sorted keys, no spaces): "
        "only for a caller who reads the whole record in clear, else null with a FORBIDDEN "
        "error naming the categories withheld."
    )
    async def canonical_payload(self, info: Info) -> str | None:
        readable = (await self.view(info)).payload
        if not readable.complete:
            withheld = readable.withheld | ({Category.PERSONAL} if readable.masked else frozenset())
            raise ContentForbidden("canonicalPayload", frozenset(withheld), readable.undeclared)
        return self.row.payload

    @classmethod
    def from_row(cls, row: StoredDeclaration) -> Declaration:
        """From the stored row."""
        return cls(row=row)


@strawberry.type(description="The outcome of declaring one record.")
class DeclarePayload:
    declaration: Declaration | None
    duplicate: bool = strawberry.field(
        description="True when this content (or idempotency key) was declared before: "
        "the original declaration is returned."
    )
    warnings: list[str]
    errors: list[DeclarationError]

    @classmethod
    def of(cls, result: ItemResult) -> DeclarePayload:
        """From the service's per-record result."""
        return cls(
            declaration=Declaration.from_row(result.declaration) if result.declaration else None,
            duplicate=result.duplicate,
            warnings=list(result.warnings),
            errors=[DeclarationError.of(i) for i in result.errors],
        )


@strawberry.type(description="Per-record outcomes of a batch, in input order.")
class DeclareBatchPayload:
    results: list[DeclarePayload]
    accepted: int
    rejected: int
    committed: bool = strawberry.field(
        description="False when an atomic batch was refused as a whole (nothing stored)."
    )
    batch_id: str | None


@strawberry.type
class ChainProblem:
    index: int
    kind: ProblemKindEnum
    detail: str


@strawberry.type(description="The result of recomputing the hash chain over a range.")
class ChainVerification:
    ok: bool
    from_index: int
    to_index: int
    checked: int
    pending: int = strawberry.field(
        description="Declarations not yet integrated into the log, so not yet chained."
    )
    problems: list[ChainProblem]

    @classmethod
    def of(cls, report: ChainReport) -> ChainVerification:
        """From the chain report."""
        return cls(
            ok=report.ok,
            from_index=report.from_index,
            to_index=report.to_index,
            checked=report.checked,
            pending=report.pending,
            problems=[
                ChainProblem(index=p.index, kind=p.kind, detail=p.detail) for p in report.problems
            ],
        )
