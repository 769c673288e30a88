"""GraphQL types of the data-standard registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from hub.standards.compatibility import CompatibilityMode as CompatibilityModeEnum
from hub.standards.errors import StandardErrorCode as StandardErrorCodeEnum
from hub.standards.errors import StandardsError, StandardsErrors
from hub.standards.models import Standard as StandardRow
from hub.standards.models import StandardVersion as VersionRow
from hub.standards.models import VersionState as VersionStateEnum

# The domain enums are exposed as they are: one definition of each code list.
strawberry.enum(
    CompatibilityModeEnum,
    name="CompatibilityMode",
    description="How new versions of a standard must relate to earlier ones.",
)
strawberry.enum(
    VersionStateEnum, name="VersionState", description="DRAFT → PUBLISHED → DEPRECATED → RETIRED."
)
strawberry.enum(
    StandardErrorCodeEnum,
    name="StandardErrorCode",
    description="Why the registry refused a request.",
)


@strawberry.type(description="A refusal the caller can fix: code, where, and why.")
class StandardError:
    code: StandardErrorCodeEnum
    path: str | None
    message: str


def errors_of(exc: StandardsError | StandardsErrors) -> list[StandardError]:
    """Turns service refusals into typed GraphQL errors."""
    items = exc.errors if isinstance(exc, StandardsErrors) else [exc]
    return [
        StandardError(
            code=e.code,
            path=e.path,
            message=e.message,
        )
        for e in items
    ]


@strawberry.type(description="One difference between two versions of a schema.")
class SchemaChange:
    pointer: str
    kind: str
    compatible: bool = strawberry.field(description="Compatible under the standard's mode.")
    backward: bool = strawberry.field(
        description="Records valid under the old version stay valid under the new one."
    )
    forward: bool = strawberry.field(
        description="Records valid under the new version are valid under the old one."
    )
    message: str
    against: str | None = strawberry.field(description="The earlier version compared with.")


@strawberry.type(description="Why the candidate schema refuses a stored record.")
class SampleIssue:
    path: str
    keyword: str
    message: str


@strawberry.type(description="A stored record the candidate schema would refuse.")
class SampleRejection:
    declaration_id: str
    standard: str
    issues: list[SampleIssue]


@strawberry.type(
    description="The newest stored records of the standard re-validated against the candidate."
)
class DataSample:
    sampled: int
    rejected: int
    examples: list[SampleRejection]


@strawberry.type(description="Every change of a candidate schema and the verdict.")
class CompatibilityReport:
    mode: CompatibilityModeEnum
    compatible: bool
    checked_against: list[str]
    changes: list[SchemaChange]
    data_sample: DataSample | None = strawberry.field(
        description="How many stored records the candidate would refuse, with examples."
    )


def _sample(data: dict[str, Any] | None) -> DataSample | None:
    if data is None:
        return None
    return DataSample(
        sampled=data["sampled"],
        rejected=data["rejected"],
        examples=[
            SampleRejection(
                declaration_id=e["declarationId"],
                standard=e["standard"],
                issues=[SampleIssue(**i) for i in e["issues"]],
            )
            for e in data["examples"]
        ],
    )


def report_from_dict(data: dict[str, Any], against: list[str]) -> CompatibilityReport:
    """Builds the GraphQL report from a stored or fresh report dictionary."""
    mode = CompatibilityModeEnum(data["mode"])
    return CompatibilityReport(
        mode=mode,
        compatible=bool(data["compatible"]),
        checked_against=against,
        changes=[
            SchemaChange(
                pointer=c["pointer"],
                kind=c["kind"],
                compatible=bool(c.get("compatible", True)),
                backward=bool(c["backward"]),
                forward=bool(c["forward"]),
                message=c["message"],
                against=c.get("against"),
            )
            for c in data.get("changes", [])
        ],
        data_sample=_sample(data.get("dataSample")),
    )


@strawberry.type(description="One semver version of a data standard.")
class StandardVersion:
    standard_id: str
    version: str
    state: VersionStateEnum
    schema: JSON = strawberry.field(description="The JSON Schema (2020-12) of this version.")
    content_hash: str = strawberry.field(description="SHA-256 of the canonical schema JSON.")
    published_at: datetime | None
    deprecated_at: datetime | None
    retired_at: datetime | None
    successor: str | None = strawberry.field(description="The version replacing a retired one.")
    url: str = strawberry.field(description="Where the raw schema is served.")
    change_report: CompatibilityReport | None = strawberry.field(
        description="The compatibility report made when this version was published."
    )

    @classmethod
    def from_row(cls, row: VersionRow, *, base_url: str) -> StandardVersion:
        """Builds the GraphQL type from a table row."""
        report = row.change_report
        return cls(
            standard_id=row.standard_id,
            version=row.version,
            state=VersionStateEnum(row.state),
            schema=cast(JSON, row.schema),
            content_hash=row.content_hash,
            published_at=row.published_at,
            deprecated_at=row.deprecated_at,
            retired_at=row.retired_at,
            successor=row.successor,
            url=f"{base_url}/standards/{row.standard_id}/{row.version}",
            change_report=report_from_dict(report, report.get("against", [])) if report else None,
        )


@strawberry.type(description="A data standard: every record the hub accepts follows one.")
class Standard:
    id: str
    title: str
    description: str
    owner: str = strawberry.field(description="The owning department.")
    compatibility: CompatibilityModeEnum
    versions: list[StandardVersion]

    @strawberry.field(description="The newest PUBLISHED version.")
    def latest(self) -> StandardVersion | None:
        published = [v for v in self.versions if v.state == VersionStateEnum.PUBLISHED]
        return published[-1] if published else None

    @classmethod
    def from_row(cls, row: StandardRow, versions: list[VersionRow], *, base_url: str) -> Standard:
        """Builds the GraphQL type from rows."""
        return cls(
            id=row.id,
            title=row.title,
            description=row.description,
            owner=row.owner,
            compatibility=CompatibilityModeEnum(row.compatibility),
            versions=[StandardVersion.from_row(v, base_url=base_url) for v in versions],
        )
