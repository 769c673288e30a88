"""Registry service: standards, versions, their lifecycle, and resolution for declarations.

Functions are keyword-only and never commit: the caller's unit of work owns the transaction.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urljoin

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from hub.canonical import canonical_json, content_hash
from hub.declarations.models import Declaration
from hub.events import outbox
from hub.events.kinds import EventKind
from hub.standards import patterns
from hub.standards.categories import FieldCategories, category_changes, read_categories
from hub.standards.compatibility import (
    CompatibilityMode,
    CompatibilityReport,
    check_against_history,
)
from hub.standards.errors import StandardErrorCode, StandardsError, StandardsErrors
from hub.standards.models import Standard, StandardVersion, VersionState
from hub.standards.refs import ref_targets
from hub.standards.validation import (
    INTERNAL_BASE,
    CompiledValidator,
    SchemaCompileError,
    ValidationIssue,
    check_schema,
    compile_validator,
    schema_uri,
)
from hub.standards.versions import SemVer, check_standard_id, parse_ref, parse_version

# States whose content is fixed and may be referenced or validated against.
FIXED_STATES = (VersionState.PUBLISHED, VersionState.DEPRECATED, VersionState.RETIRED)
REFERENCEABLE_STATES = (VersionState.PUBLISHED, VersionState.DEPRECATED)
_MAX_SCHEMA_BYTES = 512 * 1024
T = TypeVar("T")
# How many of the newest stored records a compatibility check re-validates, and how many
# refused ones it shows.
SAMPLE_SIZE = 500
SAMPLE_EXAMPLES = 5


@dataclass(frozen=True)
class PublishResult:
    """A published version; `duplicate` when identical content was already published."""

    version: StandardVersion
    duplicate: bool
    report: CompatibilityReport | None


@dataclass(frozen=True)
class SampleRejection:
    """A stored record the candidate schema would refuse, with the first reasons."""

    declaration_id: str
    standard: str
    issues: tuple[ValidationIssue, ...]


@dataclass(frozen=True)
class DataSample:
    """Stored records re-validated against a candidate: how many it would refuse."""

    sampled: int
    rejected: int
    examples: tuple[SampleRejection, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the stored change report."""
        return {
            "sampled": self.sampled,
            "rejected": self.rejected,
            "examples": [
                {
                    "declarationId": e.declaration_id,
                    "standard": e.standard,
                    "issues": [
                        {"path": i.path, "keyword": i.keyword, "message": i.message}
                        for i in e.issues
                    ],
                }
                for e in self.examples
            ],
        }


@dataclass(frozen=True)
class CompatibilityCheck:
    """The report of a candidate schema against the versions it must stay compatible with."""

    standard: Standard
    version: SemVer
    against: tuple[str, ...]
    report: CompatibilityReport
    data_sample: DataSample | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report as stored with a published version."""
        data = {**self.report.to_dict(), "against": list(self.against)}
        if self.data_sample is not None:
            data["dataSample"] = self.data_sample.to_dict()
        return data


@dataclass(frozen=True)
class Resolved:
    """The version a declaration will be validated against, with any warnings."""

    version: StandardVersion
    warnings: tuple[str, ...] = field(default=())


def _now() -> datetime:
    return datetime.now(UTC)


def _mode(standard: Standard) -> CompatibilityMode:
    return CompatibilityMode(standard.compatibility)


async def create_standard(
    *,
    session: AsyncSession,
    standard_id: str,
    title: str,
    owner: str,
    description: str = "",
    compatibility: str = CompatibilityMode.BACKWARD.value,
    actor: str,
) -> Standard:
    """Creates a standard; refuses an id that exists already."""
    check_standard_id(standard_id)
    try:
        mode = CompatibilityMode(compatibility)
    except ValueError as exc:
        modes = ", ".join(m.value for m in CompatibilityMode)
        raise StandardsError(
            StandardErrorCode.INVALID_INPUT,
            f"compatibility {compatibility!r} is not one of {modes}",
            "/compatibility",
        ) from exc
    if not title.strip() or not owner.strip():
        raise StandardsError(
            StandardErrorCode.INVALID_INPUT, "a standard needs a title and an owning department"
        )
    if await session.get(Standard, standard_id) is not None:
        raise StandardsError(
            StandardErrorCode.STANDARD_EXISTS, f"standard {standard_id!r} exists already"
        )
    standard = Standard(
        id=standard_id,
        title=title.strip(),
        description=description,
        owner=owner.strip(),
        compatibility=mode.value,
        created_at=_now(),
        created_by=actor,
    )
    session.add(standard)
    await session.flush()
    return standard


async def get_standard(*, session: AsyncSession, standard_id: str) -> Standard:
    """Gets a standard by id or raises UNKNOWN_STANDARD."""
    standard = await session.get(Standard, standard_id)
    if standard is None:
        raise StandardsError(
            StandardErrorCode.UNKNOWN_STANDARD, f"there is no standard {standard_id!r}"
        )
    return standard


async def list_standards(*, session: AsyncSession) -> list[Standard]:
    """Lists every standard by id."""
    return list(await session.scalars(select(Standard).order_by(Standard.id)))


async def list_versions(
    *, session: AsyncSession, standard_id: str, include_drafts: bool = True
) -> list[StandardVersion]:
    """Lists a standard's versions, oldest first."""
    query = select(StandardVersion).where(StandardVersion.standard_id == standard_id)
    if not include_drafts:
        query = query.where(StandardVersion.state != VersionState.DRAFT.value)
    query = query.order_by(StandardVersion.major, StandardVersion.minor, StandardVersion.patch)
    return list(await session.scalars(query))


async def get_version(*, session: AsyncSession, standard_id: str, version: str) -> StandardVersion:
    """Gets one version or raises UNKNOWN_VERSION."""
    row = await session.scalar(
        select(StandardVersion).where(
            StandardVersion.standard_id == standard_id, StandardVersion.version == version
        )
    )
    if row is None:
        raise StandardsError(
            StandardErrorCode.UNKNOWN_VERSION, f"{standard_id} has no version {version!r}"
        )
    return row


def _check_schema_document(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise StandardsError(
            StandardErrorCode.INVALID_SCHEMA, "a standard's schema must be a JSON object", ""
        )
    if len(canonical_json(schema)) > _MAX_SCHEMA_BYTES:
        raise StandardsError(StandardErrorCode.INVALID_SCHEMA, "the schema is larger than 512 KiB")
    unsupported = [
        StandardsError(StandardErrorCode.UNSUPPORTED_PATTERN, patterns.refusal(p, reason), at)
        for at, p in patterns.find_patterns(schema)
        if (reason := patterns.check(p)) is not None
    ]
    if unsupported:
        raise StandardsErrors(unsupported)
    issues = check_schema(schema)
    if issues:
        raise StandardsErrors(
            [
                StandardsError(StandardErrorCode.INVALID_SCHEMA, issue.message, issue.path)
                for issue in issues
            ]
        )
    if "$id" in schema:
        raise StandardsError(
            StandardErrorCode.INVALID_SCHEMA,
            "leave out $id: the registry assigns /standards/<id>/<version>",
            "/$id",
        )
    return schema


async def _referenceable(session: AsyncSession) -> dict[str, dict[str, Any]]:
    rows = await session.execute(
        select(StandardVersion.standard_id, StandardVersion.version, StandardVersion.schema).where(
            StandardVersion.state.in_([s.value for s in REFERENCEABLE_STATES])
        )
    )
    return {schema_uri(sid, version): schema for sid, version, schema in rows}


async def _check_refs(
    *, session: AsyncSession, schema: dict[str, Any], uri: str
) -> dict[str, dict[str, Any]]:
    """Every $ref must land on a published version in the registry; returns the registry."""
    available = await _referenceable(session)
    errors: list[StandardsError] = []
    for target in ref_targets(schema=schema, uri=uri):
        if target.document == uri:
            continue
        if not target.document.startswith(INTERNAL_BASE + "/"):
            errors.append(
                StandardsError(
                    StandardErrorCode.REMOTE_REF,
                    f"$ref {target.ref!r} points outside the registry; references are never "
                    "fetched: use /standards/<id>/<version>#/...",
                    target.pointer,
                )
            )
        elif target.document not in available:
            errors.append(
                StandardsError(
                    StandardErrorCode.UNRESOLVED_REF,
                    f"$ref {target.ref!r} names no published standard version",
                    target.pointer,
                )
            )
    if errors:
        raise StandardsErrors(errors)
    return available


async def _check_categories(
    *,
    session: AsyncSession,
    standard_id: str,
    schema: dict[str, Any],
    uri: str,
    resources: Mapping[str, dict[str, Any]],
) -> FieldCategories:
    """Every property carries a known data category, the same in every version."""
    tree, issues = read_categories(schema=schema, uri=uri, resources=resources)
    if not issues:
        for row in await list_versions(
            session=session, standard_id=standard_id, include_drafts=False
        ):
            row_uri = schema_uri(standard_id, row.version)
            if row_uri == uri:
                continue
            old, _ = read_categories(schema=row.schema, uri=row_uri, resources=resources)
            issues += category_changes(old=old, new=tree, against=row.ref)
    if issues:
        raise StandardsErrors(
            [StandardsError(StandardErrorCode(i.code.value), i.message, i.pointer) for i in issues]
        )
    return tree


def _resolver(resources: Mapping[str, dict[str, Any]]) -> Any:
    def resolve(ref: str) -> dict[str, Any]:
        uri = urljoin(INTERNAL_BASE + "/", ref) if not ref.startswith("http") else ref
        return resources[uri.split("#", 1)[0]]

    return resolve


async def _history(
    *, session: AsyncSession, standard: Standard, version: SemVer
) -> list[StandardVersion]:
    """The fixed versions of the same major line below `version`, oldest first."""
    rows = await list_versions(session=session, standard_id=standard.id, include_drafts=False)
    return [
        r for r in rows if r.major == version.major and SemVer(r.major, r.minor, r.patch) < version
    ]


async def check_compatibility(
    *, session: AsyncSession, standard_id: str, version: str, schema: Any
) -> CompatibilityCheck:
    """Checks a candidate schema (never saved) against the versions it must be compatible with."""
    standard = await get_standard(session=session, standard_id=standard_id)
    semver = parse_version(version)
    schema = _check_schema_document(schema)
    uri = schema_uri(standard_id, str(semver))
    resources = await _check_refs(session=session, schema=schema, uri=uri)
    await _check_categories(
        session=session, standard_id=standard_id, schema=schema, uri=uri, resources=resources
    )
    history = await _history(session=session, standard=standard, version=semver)
    mode = _mode(standard)
    if semver.minor == 0 and semver.patch == 0:
        # A new major line may break; the report still lists the changes against the last
        # version of the previous major, for information.
        rows = await list_versions(session=session, standard_id=standard_id, include_drafts=False)
        earlier = [r for r in rows if r.major < semver.major]
        history = earlier[-1:]
        mode = CompatibilityMode.NONE
    elif not mode.transitive:
        history = history[-1:]
    report = check_against_history(
        history=[(r.version, r.schema) for r in history],
        new=schema,
        mode=mode,
        resolve=_resolver(resources),
    )
    sample = await sample_stored_records(
        session=session,
        standard_id=standard_id,
        schema=schema,
        uri=uri,
        resources=resources,
    )
    return CompatibilityCheck(
        standard=standard,
        version=semver,
        against=tuple(r.version for r in history),
        report=report,
        data_sample=sample,
    )


async def sample_stored_records(
    *,
    session: AsyncSession,
    standard_id: str,
    schema: dict[str, Any],
    uri: str,
    resources: Mapping[str, dict[str, Any]],
    size: int = SAMPLE_SIZE,
) -> DataSample:
    """Re-validates the newest stored records of a standard against a candidate schema."""
    rows = (
        await session.execute(
            select(
                Declaration.id,
                Declaration.standard_version,
                Declaration.payload,
            )
            .where(Declaration.standard_id == standard_id)
            .order_by(Declaration.chain_index.desc())
            .limit(size)
        )
    ).all()
    if not rows:
        return DataSample(sampled=0, rejected=0, examples=())
    try:
        validator = compile_validator(schema=schema, uri=uri, resources=resources)
    except SchemaCompileError as exc:
        raise StandardsError(StandardErrorCode.INVALID_SCHEMA, str(exc)) from exc
    rejected = 0
    examples: list[SampleRejection] = []
    for declaration_id, version, payload in rows:
        record = json.loads(payload)
        if validator.is_valid(record):
            continue
        rejected += 1
        if len(examples) < SAMPLE_EXAMPLES:
            examples.append(
                SampleRejection(
                    declaration_id=declaration_id,
                    standard=f"{standard_id}@{version}",
                    issues=tuple(_without_values(i) for i in validator.errors(record, limit=3)),
                )
            )
    return DataSample(sampled=len(rows), rejected=rejected, examples=tuple(examples))


# Messages of these keywords name no value of the record, only its field names.
_VALUE_FREE_KEYWORDS = frozenset({"required", "additionalProperties"})


def _without_values(issue: ValidationIssue) -> ValidationIssue:
    """A sampled record's issue without the stored value the message would quote.

    Sample examples are stored in the version's change report, which every token reads:
    they must not carry values of records (personal data, amounts) that the reader could
    not read in the graph."""
    if issue.keyword in _VALUE_FREE_KEYWORDS:
        return issue
    return ValidationIssue(
        issue.path, issue.keyword, f"the stored value fails `{issue.keyword}` (value not shown)"
    )


async def publish_version(
    *,
    session: AsyncSession,
    standard_id: str,
    version: str,
    schema: Any | None = None,
    actor: str,
) -> PublishResult:
    """Publishes a version (from the given schema or the saved draft) after every check."""
    standard = await get_standard(session=session, standard_id=standard_id)
    semver = parse_version(version)
    existing = await session.scalar(
        select(StandardVersion).where(
            StandardVersion.standard_id == standard_id, StandardVersion.version == str(semver)
        )
    )
    if schema is None:
        if existing is None or existing.state != VersionState.DRAFT.value:
            raise StandardsError(
                StandardErrorCode.INVALID_INPUT,
                f"no schema given and {standard_id}@{semver} is not a saved draft",
                "/schema",
            )
        schema = existing.schema
    schema = _check_schema_document(schema)
    digest = content_hash(schema)
    if existing is not None and existing.state != VersionState.DRAFT.value:
        if existing.content_hash == digest:
            return PublishResult(version=existing, duplicate=True, report=None)
        raise StandardsError(
            StandardErrorCode.VERSION_EXISTS,
            f"{standard_id}@{semver} is published with different content "
            f"(sha256 {existing.content_hash[:12]}…); publish a new version instead",
        )
    check = await check_compatibility(
        session=session, standard_id=standard_id, version=str(semver), schema=schema
    )
    if not check.report.compatible:
        mode = check.report.mode.value
        raise StandardsErrors(
            [
                StandardsError(
                    StandardErrorCode.INCOMPATIBLE,
                    f"not {mode} compatible with {change.against or 'the previous version'}: "
                    f"{change.message}",
                    change.pointer,
                )
                for change in check.report.incompatible_changes
            ]
        )
    now = _now()
    row = existing or StandardVersion(
        standard_id=standard.id,
        version=str(semver),
        major=semver.major,
        minor=semver.minor,
        patch=semver.patch,
        created_at=now,
        created_by=actor,
    )
    row.schema = schema
    row.content_hash = digest
    row.state = VersionState.PUBLISHED.value
    row.published_at = now
    row.change_report = check.to_dict()
    if existing is None:
        session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise StandardsError(
            StandardErrorCode.VERSION_EXISTS,
            f"{standard_id}@{semver} was published concurrently; read it and retry if needed",
        ) from exc
    await outbox.standard_changed(
        session=session, version=row, kind=EventKind.STANDARD_PUBLISHED, now=now
    )
    return PublishResult(version=row, duplicate=False, report=check.report)


async def save_draft(
    *, session: AsyncSession, standard_id: str, version: str, schema: Any, actor: str
) -> StandardVersion:
    """Saves or replaces a draft version; published versions cannot be edited."""
    await get_standard(session=session, standard_id=standard_id)
    semver = parse_version(version)
    schema = _check_schema_document(schema)
    existing = await session.scalar(
        select(StandardVersion).where(
            StandardVersion.standard_id == standard_id, StandardVersion.version == str(semver)
        )
    )
    if existing is not None and existing.state != VersionState.DRAFT.value:
        raise StandardsError(
            StandardErrorCode.IMMUTABLE_VERSION,
            f"{standard_id}@{semver} is {existing.state}; its content can no longer change",
        )
    row = existing or StandardVersion(
        standard_id=standard_id,
        version=str(semver),
        major=semver.major,
        minor=semver.minor,
        patch=semver.patch,
        created_at=_now(),
        created_by=actor,
        state=VersionState.DRAFT.value,
    )
    row.schema = schema
    row.content_hash = content_hash(schema)
    if existing is None:
        session.add(row)
    await session.flush()
    return row


async def deprecate_version(
    *, session: AsyncSession, standard_id: str, version: str
) -> StandardVersion:
    """PUBLISHED → DEPRECATED: still accepted, with a warning."""
    row = await get_version(session=session, standard_id=standard_id, version=version)
    if row.state != VersionState.PUBLISHED.value:
        raise StandardsError(
            StandardErrorCode.ILLEGAL_TRANSITION,
            f"{row.ref} is {row.state}; only a PUBLISHED version can be deprecated",
        )
    row.state = VersionState.DEPRECATED.value
    row.deprecated_at = _now()
    await session.flush()
    await outbox.standard_changed(
        session=session, version=row, kind=EventKind.STANDARD_DEPRECATED, now=row.deprecated_at
    )
    return row


async def retire_version(
    *, session: AsyncSession, standard_id: str, version: str, successor: str
) -> StandardVersion:
    """PUBLISHED/DEPRECATED → RETIRED, naming the published version that replaces it."""
    row = await get_version(session=session, standard_id=standard_id, version=version)
    if row.state not in (VersionState.PUBLISHED.value, VersionState.DEPRECATED.value):
        raise StandardsError(
            StandardErrorCode.ILLEGAL_TRANSITION,
            f"{row.ref} is {row.state}; only a PUBLISHED or DEPRECATED version can be retired",
        )
    parse_version(successor)
    if successor == version:
        raise StandardsError(
            StandardErrorCode.INVALID_SUCCESSOR, "a version cannot succeed itself", "/successor"
        )
    try:
        next_row = await get_version(session=session, standard_id=standard_id, version=successor)
    except StandardsError as exc:
        raise StandardsError(
            StandardErrorCode.INVALID_SUCCESSOR, exc.message, "/successor"
        ) from exc
    if next_row.state != VersionState.PUBLISHED.value:
        raise StandardsError(
            StandardErrorCode.INVALID_SUCCESSOR,
            f"the successor {next_row.ref} is {next_row.state}, not PUBLISHED",
            "/successor",
        )
    row.state = VersionState.RETIRED.value
    row.retired_at = _now()
    row.successor = successor
    await session.flush()
    await outbox.standard_changed(
        session=session, version=row, kind=EventKind.STANDARD_RETIRED, now=row.retired_at
    )
    return row


async def resolve(*, session: AsyncSession, ref: str, with_schema: bool = True) -> Resolved:
    """Resolves `id` (newest published of the oldest major line still published) or
    `id@x.y.z` to the version to validate against.

    `with_schema=False` leaves the schema unloaded (the intake validates through the
    ValidatorCache, which loads a schema once per process)."""
    parsed = parse_ref(ref)
    query = select(StandardVersion).where(StandardVersion.standard_id == parsed.standard_id)
    if not with_schema:
        query = query.options(defer(StandardVersion.schema), defer(StandardVersion.change_report))
    if parsed.version is not None:
        query = query.where(StandardVersion.version == str(parsed.version))
    query = query.order_by(StandardVersion.major, StandardVersion.minor, StandardVersion.patch)
    rows = list(await session.scalars(query))
    if not rows:
        # One query serves the common case; only a miss asks whether the standard exists.
        await get_standard(session=session, standard_id=parsed.standard_id)
        if parsed.version is not None:
            raise StandardsError(
                StandardErrorCode.UNKNOWN_VERSION,
                f"{parsed.standard_id} has no version {parsed.version}",
            )
    if parsed.version is None:
        published = [r for r in rows if r.state == VersionState.PUBLISHED.value]
        if not published:
            raise StandardsError(
                StandardErrorCode.NOT_PUBLISHED,
                f"{parsed.standard_id} has no published version",
            )
        # A new major never captures bare references: `id` stays on the oldest major line
        # that still has a published (not deprecated) version, so publishing 2.0.0 breaks
        # no client declaring `cbec.order`; deprecating the 1.x line moves them on.
        current = min(r.major for r in published)
        return Resolved(version=[r for r in published if r.major == current][-1])
    row = rows[0]
    if row.state == VersionState.DRAFT.value:
        raise StandardsError(
            StandardErrorCode.NOT_PUBLISHED, f"{row.ref} is a draft and accepts no records"
        )
    if row.state == VersionState.RETIRED.value:
        raise StandardsError(
            StandardErrorCode.RETIRED,
            f"{row.ref} is retired; declare against {row.standard_id}@{row.successor}",
        )
    if row.state == VersionState.DEPRECATED.value:
        return Resolved(
            version=row,
            warnings=(f"{row.ref} is deprecated; move to a newer version of {row.standard_id}",),
        )
    return Resolved(version=row)


class ValidatorCache:
    """Compiled validators by (uri, content hash): published content never changes.

    Validation itself runs on a small thread pool, never on the event loop: the error
    messages of a 1,000-record invalid batch take the reference validator a second or two
    of CPU, and on the loop that second would stall every other request of the process.
    The pool is bounded, so concurrent batches queue for it instead of multiplying threads.
    """

    def __init__(self, *, threads: int = 2) -> None:
        self._compiled: dict[tuple[str, str], CompiledValidator] = {}
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="validate")

    async def get(self, *, session: AsyncSession, version: StandardVersion) -> CompiledValidator:
        """The compiled validator of a fixed version (compiled once per process)."""
        uri = schema_uri(version.standard_id, version.version)
        key = (uri, version.content_hash)
        compiled = self._compiled.get(key)
        if compiled is None:
            resources = await _referenceable(session)
            # Read the schema by key: the version row may have been loaded without it.
            schema = await session.scalar(
                select(StandardVersion.schema).where(StandardVersion.pk == version.pk)
            )
            if schema is None:
                raise LookupError(f"{key}: version row without a schema")
            compiled = compile_validator(schema=schema, uri=uri, resources=resources)
            self._compiled[key] = compiled
        return compiled

    async def run(self, work: Callable[..., T], /, *args: Any) -> T:
        """Runs CPU-bound validation work on the validation threads and awaits its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work, *args)

    def close(self) -> None:
        """Stops the validation threads (at shutdown)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


class CategoryCache:
    """Category trees of fixed versions, read once per process: their content never changes."""

    def __init__(self) -> None:
        self._trees: dict[tuple[str, str], FieldCategories] = {}

    async def get(
        self, *, session: AsyncSession, standard_id: str, version: str
    ) -> FieldCategories | None:
        """The category tree of a version (None if the registry has no fixed such version)."""
        key = (standard_id, version)
        tree = self._trees.get(key)
        if tree is not None:
            return tree
        schema = await session.scalar(
            select(StandardVersion.schema).where(
                StandardVersion.standard_id == standard_id,
                StandardVersion.version == version,
                StandardVersion.state.in_([s.value for s in FIXED_STATES]),
            )
        )
        if schema is None:
            return None
        resources = await _referenceable(session)
        # A version published before annotations existed reads as unannotated: its fields
        # are withheld from every reader who may not read every category in clear.
        tree, _issues = read_categories(
            schema=schema, uri=schema_uri(standard_id, version), resources=resources
        )
        self._trees[key] = tree
        return tree


def public_schema(*, version: StandardVersion, base_url: str) -> dict[str, Any]:
    """The schema as served over HTTP: `$id` is its public URL, refs stay path-relative."""
    return {
        "$id": f"{base_url}/standards/{version.standard_id}/{version.version}",
        **version.schema,
    }
