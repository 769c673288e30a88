"""Offline verification of the hub's log: what a bank runs holding only the JWKS and a
checkpoint. Imports nothing from the server (only `hub.log.merkle`, `hub.log.note`,
`hub.log.entry`, which are pure), so it can be copied out and used alone.

    keys = log_keys(jwks)                                  # GET /.well-known/jwks.json
    head = open_head(checkpoint_text, keys)                # GET /log/checkpoint
    entry = check_inclusion(proof, head, declaration_id=..., payload=...)
                                                           # GET /log/proof/inclusion?id=..
    check_consistency(old_head, head, hashes)              # GET /log/proof/consistency
    check_witnessed(head, witness_keys(doc), policy)       # GET /log/witnesses and
                                                           # /log/checkpoint/witnessed
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hub.log import merkle
from hub.log.entry import Entry
from hub.log.note import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    Note,
    NoteError,
    Signer,
    Verifier,
    cosigners,
    open_note,
)
from hub.log.policy import WitnessPolicy

PROMISE_LINE = "inclusion-promise/v1"
ROTATION_LINE = "key-rotation/v1"


class VerificationError(ValueError):
    """The checkpoint, proof, entry or promise does not hold."""


def jwk(verifier: Verifier) -> dict[str, str]:
    """A log key as an OKP JWK; its kid is `name+keyid`, what its note signatures carry."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64.urlsafe_b64encode(verifier.public).rstrip(b"=").decode(),
        "use": "sig",
        "alg": "EdDSA",
        "kid": f"{verifier.name}+{verifier.key_id:08x}",
    }


def _from_jwk(key: Any) -> Verifier | None:
    if not isinstance(key, dict) or key.get("kty") != "OKP" or key.get("crv") != "Ed25519":
        return None
    kid, x = key.get("kid"), key.get("x")
    if not isinstance(kid, str) or not isinstance(x, str):
        return None
    name, _, key_id = kid.rpartition("+")
    try:
        verifier = Verifier(name, ED25519, base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
    except (NoteError, binascii.Error, ValueError):
        return None
    return verifier if f"{verifier.key_id:08x}" == key_id else None


def log_keys(jwks: Any) -> list[Verifier]:
    """The log keys (Ed25519 note keys) a JWKS document publishes."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    found = [v for v in map(_from_jwk, keys if isinstance(keys, list) else []) if v]
    if not found:
        raise VerificationError("the JWKS holds no log key (OKP Ed25519 with a name+id kid)")
    return found


@dataclass(frozen=True)
class Head:
    """A verified checkpoint: who signed it and what it says."""

    checkpoint: Checkpoint
    note: Note
    signed_by: Verifier

    @property
    def size(self) -> int:
        """The tree size."""
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        """The root hash."""
        return self.checkpoint.root


def open_head(text: str | bytes, keys: list[Verifier], *, origin: str | None = None) -> Head:
    """Verifies a signed checkpoint against the log keys; the origin must be the key's name
    (or `origin` when given)."""
    try:
        note, signed_by = open_note(text, keys)
        checkpoint = Checkpoint.parse_text(note.text)
    except NoteError as exc:
        raise VerificationError(f"checkpoint: {exc}") from exc
    expected = origin or signed_by[0].name
    if checkpoint.origin != expected:
        raise VerificationError(f"the checkpoint is from {checkpoint.origin!r}, not {expected!r}")
    return Head(checkpoint, note, signed_by[0])


def _hex(value: Any, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != merkle.HASH_SIZE:
        raise VerificationError(f"{what} is not a hex SHA-256 hash")
    return raw


def check_inclusion(
    proof: dict[str, Any],
    head: Head,
    *,
    declaration_id: str | None = None,
    payload: bytes | None = None,
) -> Entry:
    """Checks an inclusion proof (the JSON of /log/proof/inclusion) against a verified head.

    With `declaration_id`, the entry must be that declaration's; with `payload` (the stored
    canonical payload), its SHA-256 must be the entry's content hash. Returns the entry.
    """
    try:
        index, size = int(proof["leafIndex"]), int(proof["treeSize"])
        data = base64.b64decode(proof["entry"], validate=True)
        hashes = [_hex(h, "a proof hash") for h in proof["hashes"]]
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise VerificationError(f"the proof is malformed: {exc}") from exc
    leaf = merkle.leaf_hash(data)
    if leaf != _hex(proof.get("leafHash"), "leafHash"):
        raise VerificationError("leafHash is not the hash of the entry")
    if size != head.size:
        raise VerificationError(f"the proof is for size {size}, the checkpoint for {head.size}")
    try:
        merkle.verify_inclusion(index, size, leaf, hashes, head.root)
    except merkle.ProofError as exc:
        raise VerificationError(f"inclusion: {exc}") from exc
    try:
        entry = Entry.decode(data)
    except ValueError as exc:
        raise VerificationError(f"entry: {exc}") from exc
    if declaration_id is not None and entry.declaration_id != declaration_id:
        raise VerificationError(f"the entry is declaration {entry.declaration_id}")
    if payload is not None and hashlib.sha256(payload).hexdigest() != entry.content_hash:
        raise VerificationError("the payload does not match the entry's content hash")
    return entry


def check_consistency(old: Head, new: Head, hashes: list[str]) -> None:
    """Checks that `new` extends `old` (the JSON `hashes` of /log/proof/consistency)."""
    if old.checkpoint.origin != new.checkpoint.origin:
        raise VerificationError("the two checkpoints are of different logs")
    try:
        merkle.verify_consistency(
            old.size, new.size, old.root, new.root, [_hex(h, "a proof hash") for h in hashes]
        )
    except merkle.ProofError as exc:
        raise VerificationError(f"consistency: {exc}") from exc


def promise_text(origin: str, leaf: bytes, deadline: datetime) -> str:
    """The text of an inclusion promise: the log will integrate this leaf by `deadline`."""
    stamp = deadline.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{origin}\n{PROMISE_LINE}\n{base64.b64encode(leaf).decode()}\n{stamp}\n"


def sign_promise(signer: Signer, leaf: bytes, deadline: datetime) -> str:
    """A signed inclusion promise (a signed note; it can never parse as a checkpoint)."""
    text = promise_text(signer.name, leaf, deadline)
    return text + "\n" + signer.sign_line(text)


def check_promise(note: str, keys: list[Verifier], *, entry: bytes) -> datetime:
    """Verifies a promise for these entry bytes; returns the deadline it promises."""
    try:
        opened, signed_by = open_note(note, keys)
    except NoteError as exc:
        raise VerificationError(f"promise: {exc}") from exc
    lines = opened.text.split("\n")
    if len(lines) != 5 or lines[1] != PROMISE_LINE or lines[0] != signed_by[0].name:
        raise VerificationError("not an inclusion promise of this log")
    if lines[2] != base64.b64encode(merkle.leaf_hash(entry)).decode():
        raise VerificationError("the promise is for another entry")
    try:
        return datetime.strptime(lines[3], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise VerificationError("the promise's deadline is not a UTC time") from exc


def rotation_text(old: Verifier, new: Verifier) -> str:
    """The text of a key rotation: the log `old.name` now signs with `new`."""
    return f"{old.name}\n{ROTATION_LINE}\n{new.vkey}\n"


def sign_rotation(old: Signer, new: Signer) -> str:
    """A rotation note signed by the retiring key (it vouches) and the new key (it holds
    its private half); it can never parse as a checkpoint or a promise."""
    text = rotation_text(old.verifier(), new.verifier())
    return text + "\n" + old.sign_line(text) + new.sign_line(text)


def check_rotation(note: str, old: Verifier) -> Verifier:
    """The key a rotation note signed by `old` hands the log to (VerificationError if the
    note is not one, or `old` or the new key did not sign it)."""
    try:
        opened, _ = open_note(note, [old])
        lines = opened.text.split("\n")
        if len(lines) != 4 or lines[0] != old.name or lines[1] != ROTATION_LINE:
            raise VerificationError("not a key rotation of this log")
        new = Verifier.parse(lines[2])
        if new.name != old.name or new.sig_type != ED25519 or new == old:
            raise VerificationError("a rotation names a new Ed25519 key of the same log")
        open_note(note, [new])
    except NoteError as exc:
        raise VerificationError(f"rotation: {exc}") from exc
    return new


def follow_rotations(pinned: Verifier, notes: list[str]) -> list[Verifier]:
    """The keys reached from `pinned` through rotation notes, each signed by the one before
    (`pinned` first): what a witness or bank that pinned an old key may trust now."""
    chain, seen = [pinned], {pinned}
    while True:
        for note in notes:
            try:
                new = check_rotation(note, chain[-1])
            except VerificationError:
                continue
            if new not in seen:
                chain.append(new)
                seen.add(new)
                break
        else:
            return chain


def witness_keys(document: Any) -> tuple[list[Verifier], WitnessPolicy | None]:
    """The witnesses' cosignature keys and the policy from the JSON of /log/witnesses (a
    bank keeps its own copy: a hub that changed them would be noticed)."""
    try:
        keys = [Verifier.parse(w["vkey"]) for w in document["witnesses"]]
        policy = document.get("policy")
        return keys, WitnessPolicy.parse(policy) if policy else None
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"the witness list is malformed: {exc}") from exc


def check_witnessed(head: Head, witnesses: list[Verifier], policy: WitnessPolicy) -> list[str]:
    """The policy's witnesses whose cosignatures on the checkpoint verify; raises unless
    they reach the policy's quorum."""
    keys = [w for w in witnesses if w.sig_type == COSIGNATURE_V1 and w.name in policy.witnesses]
    try:
        names = [v.name for v in cosigners(head.note, keys)]
    except NoteError as exc:
        raise VerificationError(f"cosignature: {exc}") from exc
    if not policy.satisfied_by(names):
        raise VerificationError(
            f"cosigned by {', '.join(names) or 'no witness'}; the policy is {policy.text()}"
        )
    return names
