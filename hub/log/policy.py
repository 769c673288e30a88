"""The witness policy: how many of which witnesses must cosign a checkpoint. Pure.

Written `K of NAME,NAME,...` (HUB_LOG_WITNESS_POLICY, e.g. `2 of customs,tax,forex`): a
checkpoint is *witnessed* once K of the named witnesses cosigned it. The names are the
witnesses' signed-note key names (hub/log/models.py LogWitness). Banks apply the same
policy offline (hub/log/verify.py `check_witnessed`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_POLICY = re.compile(r"^\s*(\d+)\s+of\s+(.+?)\s*$")
_NAME = re.compile(r"^[^\s+,]+$")  # a signed-note key name: no spaces or '+' (nor ',')


@dataclass(frozen=True)
class WitnessPolicy:
    """K of these witnesses must cosign."""

    quorum: int
    witnesses: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> WitnessPolicy:
        """Reads `K of a,b,c`; ValueError when it is malformed or K is out of 1..len."""
        match = _POLICY.match(text)
        if match is None:
            raise ValueError(f"{text!r}: expected 'K of NAME,NAME,...'")
        names = tuple(n.strip() for n in match.group(2).split(","))
        if not all(_NAME.match(n) for n in names) or len(set(names)) != len(names):
            raise ValueError(f"{text!r}: witness names are distinct, without spaces or '+'")
        quorum = int(match.group(1))
        if not 1 <= quorum <= len(names):
            raise ValueError(f"{text!r}: K must be between 1 and {len(names)}")
        return cls(quorum, names)

    def text(self) -> str:
        """The policy as written."""
        return f"{self.quorum} of {','.join(self.witnesses)}"

    def satisfied_by(self, cosigners: Iterable[str]) -> bool:
        """True when at least K of the policy's witnesses are among the cosigners."""
        return len(set(cosigners) & set(self.witnesses)) >= self.quorum
