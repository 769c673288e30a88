"""Semantic versions of standards: parsing, ordering, and what kind of step a version is."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.standards.errors import StandardErrorCode, StandardsError

_SEMVER = re.compile(r"^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$")
_STANDARD_ID = re.compile(r"^[a-z][a-z0-9-]{0,40}(\.[a-z][a-z0-9-]{0,40}){1,4}$")


@dataclass(frozen=True, order=True)
class SemVer:
    """MAJOR.MINOR.PATCH (no pre-release tags: a standard is either published or a draft)."""

    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def parse_version(text: str) -> SemVer:
    """Parses `1.2.3`, refusing anything else with INVALID_VERSION."""
    match = _SEMVER.match(text or "")
    if not match:
        raise StandardsError(
            StandardErrorCode.INVALID_VERSION,
            f"version {text!r} is not MAJOR.MINOR.PATCH (e.g. 1.0.0)",
        )
    return SemVer(int(match[1]), int(match[2]), int(match[3]))


def check_standard_id(standard_id: str) -> str:
    """Checks an id like `cbec.order` (dotted lower-case words)."""
    if not _STANDARD_ID.match(standard_id or ""):
        raise StandardsError(
            StandardErrorCode.INVALID_STANDARD_ID,
            f"standard id {standard_id!r} must be dotted lower-case words, e.g. cbec.order",
        )
    return standard_id


@dataclass(frozen=True)
class StandardRef:
    """What a declaration names: `cbec.order` (newest published) or `cbec.order@1.2.0`."""

    standard_id: str
    version: SemVer | None


def parse_ref(text: str) -> StandardRef:
    """Parses `id` or `id@x.y.z`."""
    standard_id, at, version = (text or "").partition("@")
    check_standard_id(standard_id)
    return StandardRef(standard_id, parse_version(version) if at else None)
