"""The verifiable log over GraphQL: checkpoint, inclusion and consistency proofs, promises."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import strawberry
from graphql import GraphQLError

from hub.declarations.models import Declaration as DeclarationRow
from hub.declarations.models import StoredDeclaration
from hub.graphql.context import Info
from hub.graphql.declarations.schema import may_read_declaration, touch_declarations
from hub.log import merkle, service
from hub.log.entry import of_declaration
from hub.log.service import LogError, LogErrorCode
from hub.log.verify import sign_promise

# Codes the caller can act on; the error masking lets NOT_FOUND and BAD_USER_INPUT through.
_VISIBLE = {
    LogErrorCode.NO_CHECKPOINT: "NOT_FOUND",
    LogErrorCode.NOT_FOUND: "NOT_FOUND",
    LogErrorCode.PENDING: "NOT_FOUND",
    LogErrorCode.BAD_SIZE: "BAD_USER_INPUT",
    LogErrorCode.BAD_REQUEST: "BAD_USER_INPUT",
    LogErrorCode.NOT_A_WITNESS: "FORBIDDEN",
    LogErrorCode.BAD_COSIGNATURE: "BAD_USER_INPUT",
    LogErrorCode.NOT_WITNESSED: "NOT_FOUND",
}


def _graphql_error(error: LogError) -> GraphQLError:
    return GraphQLError(
        error.message, extensions={"code": _VISIBLE[error.code], "logCode": error.code.value}
    )


@strawberry.type(description="RFC 9162 inclusion proof of one declaration's log entry.")
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: str = strawberry.field(description="SHA-256(0x00 || entry), hex.")
    entry: str = strawberry.field(description="Base64 of the exact bytes hashed into the leaf.")
    hashes: list[str] = strawberry.field(description="Hex, in RFC 9162 order (leaf side first).")


@strawberry.type(description="RFC 9162 consistency proof between two tree sizes.")
class ConsistencyProof:
    hashes: list[str]


def promise_for(info: Info, row: StoredDeclaration) -> str:
    """The signed promise that the declaration's entry is integrated within the MMD."""
    log = info.context.runtime.log
    if log is None or log.signer is None:
        raise GraphQLError("the log is not running", extensions={"code": "NOT_FOUND"})
    data = of_declaration(
        declaration_id=row.id,
        content_hash=row.content_hash,
        standard_ref=row.standard_ref,
        declarant=row.declarant,
        client_id=row.client_id,
        received_at=row.received_at,
    ).encode()
    mmd = timedelta(seconds=log.settings.log_max_merge_delay_seconds)
    return sign_promise(log.signer, merkle.leaf_hash(data), row.received_at + mmd)


@strawberry.type
class LogQuery:
    @strawberry.field(description="The newest signed checkpoint (C2SP tlog-checkpoint note).")
    async def log_checkpoint(self, info: Info) -> str:
        try:
            return await service.checkpoint(session=info.context.read_session)
        except LogError as error:
            raise _graphql_error(error) from None

    @strawberry.field(
        description="Inclusion proof of a declaration you may read (as `declaration(id)`), "
        "at the newest checkpoint or at `size`."
    )
    async def inclusion_proof(
        self, info: Info, id: strawberry.ID, size: int | None = None
    ) -> InclusionProof:
        session = info.context.read_session
        row = await session.get(DeclarationRow, str(id))
        try:
            if row is None or not may_read_declaration(info.context.principal, row.declarant):
                raise LogError(LogErrorCode.NOT_FOUND, "no such declaration in the log")
            proof = await service.inclusion(session=session, declaration_id=str(id), size=size)
        except LogError as error:
            raise _graphql_error(error) from None
        # A proof shows the declaration's provenance (its entry): a read, logged like one.
        touch_declarations(info.context.audit, [row])
        body = proof.as_json()
        return InclusionProof(
            leaf_index=proof.leaf_index,
            tree_size=proof.tree_size,
            leaf_hash=str(body["leafHash"]),
            entry=str(body["entry"]),
            hashes=[h.hex() for h in proof.hashes],
        )

    @strawberry.field(description="Consistency proof that tree `to` extends tree `from`.")
    async def consistency_proof(
        self, info: Info, from_: Annotated[int, strawberry.argument(name="from")], to: int
    ) -> ConsistencyProof:
        try:
            hashes = await service.consistency(session=info.context.read_session, old=from_, new=to)
        except LogError as error:
            raise _graphql_error(error) from None
        return ConsistencyProof(hashes=[h.hex() for h in hashes])

    @strawberry.field(
        description="The log's signed promise to integrate a declaration you may read within "
        "the maximum merge delay (a signed note, like a CT SCT)."
    )
    async def inclusion_promise(self, info: Info, id: strawberry.ID) -> str:
        row = await info.context.read_session.get(DeclarationRow, str(id))
        if row is None or not may_read_declaration(info.context.principal, row.declarant):
            raise GraphQLError("no such declaration", extensions={"code": "NOT_FOUND"})
        return promise_for(info, row)
