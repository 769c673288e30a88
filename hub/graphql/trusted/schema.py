"""Registering and listing trusted documents (scope `documents:write`)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from hub.auth.scopes import Scope
from hub.documents import service
from hub.documents.models import TrustedDocument as DocumentRow
from hub.graphql.context import Info

_WRITE = f"Requires the scope `{Scope.DOCUMENTS_WRITE.value}`."


@strawberry.enum(description="Why documents were not registered.")
class TrustedDocumentErrorCode(Enum):
    INVALID_DOCUMENT = "INVALID_DOCUMENT"
    NO_OPERATION = "NO_OPERATION"
    ID_MISMATCH = "ID_MISMATCH"
    INVALID_MANIFEST = "INVALID_MANIFEST"
    TOO_LARGE = "TOO_LARGE"
    TOO_MANY = "TOO_MANY"


@strawberry.type
class TrustedDocumentError:
    code: TrustedDocumentErrorCode
    path: str = strawberry.field(description="JSON pointer of the document in the input.")
    message: str


@strawberry.type(description="A registered GraphQL document, run by sending its `documentId`.")
class TrustedDocument:
    id: str = strawberry.field(description="`sha256:` + the hex SHA-256 of the exact text.")
    body: str
    operation_names: list[str]
    label: str | None
    registered_at: datetime
    registered_by: str = strawberry.field(description="Client id of the registrar, or `cli`.")

    @classmethod
    def of(cls, row: DocumentRow) -> TrustedDocument:
        """From its table row."""
        return cls(
            id=row.id,
            body=row.body,
            operation_names=row.operation_names.split(),
            label=row.label,
            registered_at=row.registered_at,
            registered_by=row.registered_by,
        )


@strawberry.input
class TrustedDocumentInput:
    body: str = strawberry.field(description="The document's text, exactly as clients hash it.")
    id: str | None = strawberry.field(
        default=None, description="The id the client computed; refused unless it matches."
    )
    label: str | None = None


@strawberry.type
class RegisterTrustedDocumentsPayload:
    documents: list[TrustedDocument]
    duplicates: list[str] = strawberry.field(description="Ids that were registered before.")
    errors: list[TrustedDocumentError]


@strawberry.type
class TrustedDocumentsQuery:
    @strawberry.field(description=f"Every registered trusted document, newest first. {_WRITE}")
    async def trusted_documents(self, info: Info) -> list[TrustedDocument]:
        info.context.require(Scope.DOCUMENTS_WRITE)
        rows = await service.list_documents(session=info.context.read_session)
        return [TrustedDocument.of(r) for r in rows]


@strawberry.type
class TrustedDocumentsMutation:
    @strawberry.mutation(
        description="Registers documents (all or none; known ones again are no-ops), after "
        f"checking that each parses and validates against this schema. {_WRITE}"
    )
    async def register_trusted_documents(
        self, info: Info, documents: list[TrustedDocumentInput]
    ) -> RegisterTrustedDocumentsPayload:
        info.context.require(Scope.DOCUMENTS_WRITE)
        candidates = [
            service.DocumentCandidate(body=d.body, claimed_id=d.id, label=d.label)
            for d in documents
        ]
        try:
            async with info.context.transaction() as session:
                registered = await service.register(
                    session=session,
                    candidates=candidates,
                    validate=service.schema_validator(info.schema),
                    registered_by=info.context.principal.client_id,
                )
        except service.DocumentsRefused as refused:
            return RegisterTrustedDocumentsPayload(
                documents=[],
                duplicates=[],
                errors=[
                    TrustedDocumentError(
                        code=TrustedDocumentErrorCode(r.code.value), path=r.path, message=r.message
                    )
                    for r in refused.refusals
                ],
            )
        return RegisterTrustedDocumentsPayload(
            documents=[TrustedDocument.of(r.document) for r in registered],
            duplicates=[r.document.id for r in registered if r.duplicate],
            errors=[],
        )
