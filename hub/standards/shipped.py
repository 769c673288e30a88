"""The standards shipped in `standards/<id>/`: read them and publish them in one go."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.paths import STANDARDS_DIR
from hub.standards import service
from hub.standards.errors import StandardsError
from hub.standards.refs import find_refs
from hub.standards.versions import parse_version

METADATA_FILE = "standard.json"


@dataclass(frozen=True)
class ShippedVersion:
    """One version file of a shipped standard."""

    standard_id: str
    version: str
    schema: dict[str, Any]
    path: Path


@dataclass(frozen=True)
class ShippedStandard:
    """A shipped standard's metadata (`standard.json`) and version files."""

    standard_id: str
    title: str
    owner: str
    description: str
    compatibility: str
    versions: tuple[ShippedVersion, ...]


def read_version_file(path: Path) -> ShippedVersion:
    """Reads `standards/<id>/<version>.json`; the id and version come from the path."""
    version = path.stem
    parse_version(version)
    schema = json.loads(path.read_text(encoding="utf-8"))
    return ShippedVersion(path.parent.name, version, schema, path)


def load_shipped(root: Path = STANDARDS_DIR) -> list[ShippedStandard]:
    """Reads every shipped standard, ordered so that referenced standards come first."""
    found: list[ShippedStandard] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        meta = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
        files = sorted(
            (p for p in folder.glob("*.json") if p.name != METADATA_FILE),
            key=lambda p: parse_version(p.stem),
        )
        found.append(
            ShippedStandard(
                standard_id=folder.name,
                title=meta["title"],
                owner=meta["owner"],
                description=meta.get("description", ""),
                compatibility=meta.get("compatibility", "BACKWARD"),
                versions=tuple(read_version_file(p) for p in files),
            )
        )
    return _dependency_order(found)


def _dependency_order(standards: list[ShippedStandard]) -> list[ShippedStandard]:
    by_id = {s.standard_id: s for s in standards}
    ordered: list[ShippedStandard] = []
    seen: set[str] = set()

    def visit(standard: ShippedStandard, stack: tuple[str, ...]) -> None:
        if standard.standard_id in seen:
            return
        if standard.standard_id in stack:
            raise ValueError(f"shipped standards reference each other in a cycle: {stack}")
        for version in standard.versions:
            for ref in find_refs(version.schema):
                parts = ref.split("#", 1)[0].strip("/").split("/")
                if len(parts) >= 2 and parts[0] == "standards" and parts[1] in by_id:
                    visit(by_id[parts[1]], (*stack, standard.standard_id))
        seen.add(standard.standard_id)
        ordered.append(standard)

    for standard in standards:
        visit(standard, ())
    return ordered


@dataclass(frozen=True)
class PublishOutcome:
    """What publishing one shipped version did."""

    ref: str
    duplicate: bool


async def publish_shipped(
    *, session: AsyncSession, actor: str, root: Path = STANDARDS_DIR
) -> list[PublishOutcome]:
    """Creates missing shipped standards and publishes every shipped version (idempotent)."""
    outcomes: list[PublishOutcome] = []
    for shipped in load_shipped(root):
        try:
            await service.get_standard(session=session, standard_id=shipped.standard_id)
        except StandardsError:
            await service.create_standard(
                session=session,
                standard_id=shipped.standard_id,
                title=shipped.title,
                owner=shipped.owner,
                description=shipped.description,
                compatibility=shipped.compatibility,
                actor=actor,
            )
        for version in shipped.versions:
            result = await service.publish_version(
                session=session,
                standard_id=shipped.standard_id,
                version=version.version,
                schema=version.schema,
                actor=actor,
            )
            outcomes.append(PublishOutcome(result.version.ref, result.duplicate))
    return outcomes
