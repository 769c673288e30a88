"""What the log answers: checkpoints, inclusion and consistency proofs (HTTP and GraphQL)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.log import store
from hub.log.models import LogCosignature


class LogErrorCode(StrEnum):
    """Why the log refused a request."""

    NO_CHECKPOINT = "NO_CHECKPOINT"  # nothing signed yet
    NOT_FOUND = "NOT_FOUND"  # no such declaration, or not yours to read
    PENDING = "PENDING"  # queued, not yet integrated: retry shortly
    BAD_SIZE = "BAD_SIZE"  # a size the tree does not have (yet)
    BAD_REQUEST = "BAD_REQUEST"  # a malformed parameter


_STATUS = {
    LogErrorCode.NO_CHECKPOINT: 404,
    LogErrorCode.NOT_FOUND: 404,
    LogErrorCode.PENDING: 409,
    LogErrorCode.BAD_SIZE: 400,
    LogErrorCode.BAD_REQUEST: 400,
}


class LogError(Exception):
    """A coded refusal."""

    def __init__(self, code: LogErrorCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        """The HTTP status that goes with the code."""
        return _STATUS[self.code]


@dataclass(frozen=True)
class InclusionProof:
    """A declaration's leaf and the hashes that lead from it to the root at `tree_size`."""

    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    entry: bytes
    hashes: list[bytes]

    def as_json(self) -> dict[str, object]:
        """The documented JSON shape (hex hashes, base64 entry)."""
        return {
            "leafIndex": self.leaf_index,
            "treeSize": self.tree_size,
            "leafHash": self.leaf_hash.hex(),
            "entry": base64.b64encode(self.entry).decode(),
            "hashes": [h.hex() for h in self.hashes],
        }


async def checkpoint(*, session: AsyncSession) -> str:
    """The newest signed checkpoint with the witnesses' cosignatures on it."""
    latest = await store.latest_checkpoint(db=session)
    if latest is None:
        raise LogError(LogErrorCode.NO_CHECKPOINT, "the log has not signed a checkpoint yet")
    return await with_cosignatures(session=session, size=latest.size, note=latest.note)


async def with_cosignatures(*, session: AsyncSession, size: int, note: str) -> str:
    """A checkpoint note with the stored cosignature lines appended."""
    lines = await session.scalars(
        select(LogCosignature.line)
        .where(LogCosignature.size == size)
        .order_by(LogCosignature.witness)
    )
    return note + "".join(lines)


async def _size(*, session: AsyncSession, size: int | None) -> int:
    latest = await store.latest_checkpoint(db=session)
    if latest is None:
        raise LogError(LogErrorCode.NO_CHECKPOINT, "the log has not signed a checkpoint yet")
    if size is None:
        return latest.size
    if not 0 <= size <= latest.size:
        raise LogError(
            LogErrorCode.BAD_SIZE,
            f"size {size} is outside 0..{latest.size} (the newest checkpoint)",
        )
    return size


async def inclusion(
    *, session: AsyncSession, declaration_id: str, size: int | None = None
) -> InclusionProof:
    """The inclusion proof of an integrated declaration (the caller checked read access)."""
    entry = await store.entry_of(db=session, declaration_id=declaration_id)
    if entry is None:
        raise LogError(LogErrorCode.NOT_FOUND, "no such declaration in the log")
    if entry.leaf_index is None:
        raise LogError(LogErrorCode.PENDING, "the declaration is queued; it is integrated soon")
    tree_size = await _size(session=session, size=size)
    if entry.leaf_index >= tree_size:
        if size is None:
            raise LogError(LogErrorCode.PENDING, "the newest checkpoint predates this entry")
        raise LogError(
            LogErrorCode.BAD_SIZE,
            f"leaf {entry.leaf_index} is not in a tree of size {tree_size}",
        )
    hashes = await store.inclusion_hashes(db=session, leaf_index=entry.leaf_index, size=tree_size)
    return InclusionProof(
        entry.leaf_index, tree_size, bytes(entry.leaf_hash), bytes(entry.entry), hashes
    )


async def consistency(*, session: AsyncSession, old: int, new: int) -> list[bytes]:
    """PROOF(old, new) between two sizes the log has signed up to."""
    await _size(session=session, size=new)
    if not 0 <= old <= new:
        raise LogError(LogErrorCode.BAD_SIZE, f"from ({old}) must be within 0..to ({new})")
    return await store.consistency_hashes(db=session, old=old, new=new)
