"""What the log answers: checkpoints, inclusion and consistency proofs (HTTP and GraphQL)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.log import store, tiles
from hub.log.models import LogCheckpoint, LogCosignature, LogWitness
from hub.log.note import COSIGNATURE_V1, NoteError, Verifier, cosignature_time, cosigners, parse
from hub.log.policy import WitnessPolicy


class LogErrorCode(StrEnum):
    """Why the log refused a request."""

    NO_CHECKPOINT = "NO_CHECKPOINT"  # nothing signed yet
    NOT_FOUND = "NOT_FOUND"  # no such declaration, or not yours to read
    PENDING = "PENDING"  # queued, not yet integrated: retry shortly
    BAD_SIZE = "BAD_SIZE"  # a size the tree does not have (yet)
    BAD_REQUEST = "BAD_REQUEST"  # a malformed parameter
    NOT_A_WITNESS = "NOT_A_WITNESS"  # the client has no registered witness key
    BAD_COSIGNATURE = "BAD_COSIGNATURE"  # the line is not the witness's valid cosignature
    NOT_WITNESSED = "NOT_WITNESSED"  # no checkpoint satisfies the witness policy (yet)
    NO_TILE = "NO_TILE"  # the tree has no such tile (yet, or at that width)


_STATUS = {
    LogErrorCode.NO_CHECKPOINT: 404,
    LogErrorCode.NOT_FOUND: 404,
    LogErrorCode.PENDING: 409,
    LogErrorCode.BAD_SIZE: 400,
    LogErrorCode.BAD_REQUEST: 400,
    LogErrorCode.NOT_A_WITNESS: 403,
    LogErrorCode.BAD_COSIGNATURE: 400,
    LogErrorCode.NOT_WITNESSED: 404,
    LogErrorCode.NO_TILE: 404,
}

# A cosignature dated further ahead than this is refused (clocks differ a little).
MAX_CLOCK_SKEW = timedelta(minutes=5)


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


async def register_witness(
    *, session: AsyncSession, client_id: str, vkey: str, now: datetime
) -> LogWitness:
    """Registers (or re-keys) a witness: its client and its cosignature verifier key."""
    try:
        verifier = Verifier.parse(vkey)
    except NoteError as exc:
        raise LogError(LogErrorCode.BAD_REQUEST, f"vkey: {exc}") from exc
    if verifier.sig_type != COSIGNATURE_V1:
        raise LogError(LogErrorCode.BAD_REQUEST, "a witness key is a cosignature/v1 key (0x04)")
    row = await session.get(LogWitness, verifier.name)
    if row is None:
        row = LogWitness(name=verifier.name, vkey=verifier.vkey, client_id=client_id)
        row.created_at = now
        session.add(row)
    else:
        row.vkey, row.client_id = verifier.vkey, client_id
    await session.flush()
    return row


async def witness_keys(*, session: AsyncSession) -> list[Verifier]:
    """Every registered witness's cosignature key."""
    rows = await session.scalars(select(LogWitness.vkey).order_by(LogWitness.name))
    return [Verifier.parse(v) for v in rows]


async def accept_cosignature(
    *, session: AsyncSession, client_id: str, size: int, line: str, now: datetime
) -> str:
    """Verifies a witness's cosignature on the checkpoint of `size` and stores it; returns
    the witness's name. The witness is the one registered for the calling client."""
    witness = await session.scalar(select(LogWitness).where(LogWitness.client_id == client_id))
    if witness is None:
        raise LogError(LogErrorCode.NOT_A_WITNESS, "this client is not a registered witness")
    stored = await store.checkpoint_at(db=session, size=size)
    if stored is None:
        raise LogError(LogErrorCode.BAD_SIZE, f"the log has no checkpoint of size {size}")
    if not line.endswith("\n") or line.count("\n") != 1:
        raise LogError(LogErrorCode.BAD_COSIGNATURE, "a cosignature is one signature line")
    verifier = Verifier.parse(witness.vkey)
    try:
        note = parse(stored.note + line)
        signature = note.signatures[-1]
        if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
            raise NoteError(f"the line is not signed by the key of witness {verifier.name}")
        if verifier not in cosigners(note, [verifier]):
            raise NoteError("the cosignature does not verify")
        timestamp = cosignature_time(signature)
    except NoteError as exc:
        raise LogError(LogErrorCode.BAD_COSIGNATURE, str(exc)) from exc
    if timestamp > (now + MAX_CLOCK_SKEW).timestamp():
        raise LogError(LogErrorCode.BAD_COSIGNATURE, "the cosignature is dated in the future")
    await session.execute(
        delete(LogCosignature).where(
            LogCosignature.witness == verifier.name, LogCosignature.size == size
        )
    )
    session.add(
        LogCosignature(
            witness=verifier.name, size=size, line=line, cosigned_at=timestamp, received_at=now
        )
    )
    await session.flush()
    return verifier.name


async def witnessed_checkpoint(*, session: AsyncSession, policy: WitnessPolicy) -> str:
    """The newest checkpoint that `policy`'s quorum of witnesses cosigned, with every
    cosignature on it."""
    counted = (
        select(LogCosignature.size)
        .where(LogCosignature.witness.in_(policy.witnesses))
        .group_by(LogCosignature.size)
        .having(func.count() >= policy.quorum)
        .order_by(LogCosignature.size.desc())
        .limit(1)
    )
    size = await session.scalar(counted)
    stored = None if size is None else await store.checkpoint_at(db=session, size=size)
    if stored is None:
        raise LogError(
            LogErrorCode.NOT_WITNESSED, f"no checkpoint is cosigned by {policy.text()} yet"
        )
    return await with_cosignatures(session=session, size=stored.size, note=stored.note)


async def prune_checkpoints(
    *,
    db: store.Executor,
    now: datetime,
    grace: timedelta,
    keep: timedelta,
    since: datetime | None = None,
) -> int:
    """Thins the checkpoints older than `grace` (and, given `since`, newer than the last
    pass): keeps the first of each `keep` period, the newest and every cosigned one;
    returns how many were deleted. Proofs need only the stored nodes, and a witness or a
    bank asking for a size the log no longer has a note for gets the nearest kept one."""
    table = LogCheckpoint.__table__
    cutoff = now - grace
    query = select(table.c.size, table.c.created_at).where(table.c.created_at < cutoff)
    if since is not None:
        query = query.where(table.c.created_at >= since - keep)
    rows = (await db.execute(query.order_by(table.c.size))).all()
    if not rows:
        return 0
    newest = await db.scalar(select(func.max(table.c.size)))
    cosigned = set(
        await db.scalars(
            select(LogCosignature.size)
            .where(LogCosignature.size.between(rows[0].size, rows[-1].size))
            .distinct()
        )
    )
    period = keep.total_seconds()
    firsts: set[int] = set()
    doomed = []
    for size, created in rows:
        bucket = int(_aware(created).timestamp() // period)
        if bucket not in firsts:
            firsts.add(bucket)  # sizes grow with time: the first of its period stays
        elif size != newest and size not in cosigned:
            doomed.append(size)
    for start in range(0, len(doomed), 500):
        chunk = doomed[start : start + 500]
        await db.execute(delete(table).where(table.c.size.in_(chunk)))
    return len(doomed)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def tile(*, session: AsyncSession, tile: tiles.Tile) -> bytes:
    """A tile's hashes or an entry bundle's entries, exactly `tile.width` of them (stored
    nodes and entries never change, so the answer never does either)."""
    if tile.entries:
        found = await store.entries_from(db=session, first=tile.first, count=tile.width)
        data = tiles.bundle(found)
    else:
        found = await store.level_hashes(
            db=session, level=tiles.HEIGHT * tile.level, first=tile.first, count=tile.width
        )
        data = b"".join(found)
    if len(found) != tile.width:
        raise LogError(LogErrorCode.NO_TILE, f"the log has no {tile.path()} yet")
    return data
