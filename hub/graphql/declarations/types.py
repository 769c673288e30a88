"""GraphQL types of the declaration store."""

from __future__ import annotations

import json
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from hub.declarations.chain import ChainReport
from hub.declarations.chain import ProblemKind as ProblemKindEnum
from hub.declarations.errors import DeclarationErrorCode as DeclarationErrorCodeEnum
from hub.declarations.errors import DeclarationIssue
from hub.declarations.models import StoredDeclaration
from hub.declarations.service import ItemResult

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


@strawberry.type(description="An accepted record with its provenance and chain link.")
class Declaration:
    id: strawberry.ID
    chain_index: int
    standard: str = strawberry.field(description="`id@version` it was validated against.")
    standard_id: str
    standard_version: str
    record_key: str
    app_type: str
    declarant: str = strawberry.field(description="The declaring enterprise.")
    client_id: str = strawberry.field(description="The submitting OAuth2 client.")
    received_at: datetime
    content_hash: str = strawberry.field(description="SHA-256 of the canonical payload.")
    prev_hash: str
    chain_hash: str
    supersedes: str | None = strawberry.field(
        description="The earlier declaration of the same record this one changes or cancels."
    )
    batch_id: str | None
    idempotency_key: str | None
    payload: JSON
    canonical_payload: str = strawberry.field(
        description="The exact bytes that were hashed (UTF-8 JSON, sorted keys, no spaces)."
    )

    @classmethod
    def from_row(cls, row: StoredDeclaration) -> Declaration:
        """From the stored row."""
        return cls(
            id=strawberry.ID(row.id),
            chain_index=row.chain_index,
            standard=row.standard_ref,
            standard_id=row.standard_id,
            standard_version=row.standard_version,
            record_key=row.record_key,
            app_type=row.app_type,
            declarant=row.declarant,
            client_id=row.client_id,
            received_at=row.received_at,
            content_hash=row.content_hash,
            prev_hash=row.prev_hash,
            chain_hash=row.chain_hash,
            supersedes=row.supersedes,
            batch_id=row.batch_id,
            idempotency_key=row.idempotency_key,
            payload=json.loads(row.payload),
            canonical_payload=row.payload,
        )


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
    problems: list[ChainProblem]

    @classmethod
    def of(cls, report: ChainReport) -> ChainVerification:
        """From the chain report."""
        return cls(
            ok=report.ok,
            from_index=report.from_index,
            to_index=report.to_index,
            checked=report.checked,
            problems=[
                ChainProblem(index=p.index, kind=p.kind, detail=p.detail) for p in report.problems
            ],
        )
