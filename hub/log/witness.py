"""A witness's side of cosigning: check a new checkpoint against the last one it cosigned.
Pure, no server imports (a department runs it with `hub log witness`).

A witness remembers the last checkpoint it cosigned (size, root, the log's key). It
cosigns a new checkpoint only when the log's signature verifies and the new tree provably
extends the remembered one: a smaller size is a rollback, the same size with another root
is a fork, a larger size needs a valid RFC 9162 consistency proof from the remembered size
(a rewritten leaf or a forked history fails it). Once the departments cosign, an operator
who rewrites history can no longer show one consistent log to everyone.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from typing import Any

from hub.log.note import COSIGNATURE_V1, Signer, Verifier
from hub.log.verify import (
    Head,
    VerificationError,
    check_consistency,
    follow_rotations,
    open_head,
)


@dataclass(frozen=True)
class WitnessState:
    """What the witness keeps between runs: the log's key and the last cosigned head."""

    log_key: str  # the log's signed-note verifier key (vkey)
    size: int = 0
    root: bytes = b""
    checkpoint: str = ""  # the cosigned note, as served
    # Log keys it trusted before a rotation (they verify `checkpoint`, never a new one).
    retired_keys: tuple[str, ...] = ()

    def to_json(self) -> str:
        """The state file's text."""
        return json.dumps(
            {
                "logKey": self.log_key,
                "size": self.size,
                "root": base64.b64encode(self.root).decode(),
                "checkpoint": self.checkpoint,
                "retiredKeys": list(self.retired_keys),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> WitnessState:
        """Reads a state file; ValueError when it is not one."""
        try:
            value: Any = json.loads(text)
            return cls(
                str(value["logKey"]),
                int(value["size"]),
                base64.b64decode(value["root"], validate=True),
                str(value["checkpoint"]),
                tuple(str(k) for k in value.get("retiredKeys", [])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a witness state file: {exc}") from exc


def open_checkpoint(state: WitnessState, text: str | bytes) -> Head:
    """The served checkpoint, verified against the log key the witness pinned."""
    return open_head(text, [Verifier.parse(state.log_key)])


def follow_rotation(state: WitnessState, rotations: list[str]) -> WitnessState:
    """The state with its log key moved along rotation notes, each signed by the key before
    (GET /log/keys); unchanged when none applies. The tree is still checked as ever: a new
    key never excuses a checkpoint that does not extend the cosigned one."""
    chain = follow_rotations(Verifier.parse(state.log_key), rotations)
    if len(chain) == 1:
        return state
    retired = (*state.retired_keys, *(k.vkey for k in chain[:-1]))
    return replace(state, log_key=chain[-1].vkey, retired_keys=retired)


def _previous(state: WitnessState) -> Head:
    """The cosigned checkpoint, signed by the key of its day."""
    keys = [Verifier.parse(k) for k in (state.log_key, *state.retired_keys)]
    return open_head(state.checkpoint, keys)


def needs_proof(state: WitnessState, head: Head) -> bool:
    """True when the witness must see a consistency proof before it cosigns `head`."""
    return 0 < state.size < head.size


def review(state: WitnessState, head: Head, proof: list[str] | None) -> WitnessState:
    """Checks that `head` extends the remembered checkpoint (VerificationError otherwise)
    and returns the state to keep once `head` is cosigned."""
    if head.size < state.size:
        raise VerificationError(
            f"rollback: the log shows size {head.size}, the witness cosigned {state.size}"
        )
    if head.size == state.size and head.root != state.root and state.size > 0:
        raise VerificationError(f"fork: another root at size {head.size} than the one cosigned")
    if needs_proof(state, head):
        if proof is None:
            raise VerificationError("a consistency proof is needed")
        previous = _previous(state)
        if (previous.size, previous.root) != (state.size, state.root):
            raise VerificationError("the witness state is inconsistent with its checkpoint")
        check_consistency(previous, head, proof)
    return replace(state, size=head.size, root=head.root, checkpoint=_signed_part(head))


def _signed_part(head: Head) -> str:
    # The log's own signature lines only: cosignatures of others are not the witness's.
    lines = [s.line for s in head.note.signatures if s.name == head.signed_by.name]
    return head.note.text + "\n" + "".join(lines)


def cosign(head: Head, signer: Signer, *, timestamp: int) -> str:
    """The witness's tlog-cosignature/v1 line on the checkpoint."""
    return signer.cosign_line(head.note.text, timestamp)


def witness_vkey(signer: Signer) -> str:
    """The verifier key the hub registers for this witness (type 0x04, cosignature/v1)."""
    return signer.verifier(COSIGNATURE_V1).vkey
