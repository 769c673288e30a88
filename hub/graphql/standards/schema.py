"""Queries and mutations of the data-standard registry."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.scalars import JSON

from hub.auth.scopes import Scope
from hub.graphql.context import Info
from hub.graphql.standards.types import (
    CompatibilityReport,
    Standard,
    StandardError,
    StandardVersion,
    errors_of,
    report_from_dict,
)
from hub.standards import service
from hub.standards.compatibility import CompatibilityMode
from hub.standards.errors import StandardsError, StandardsErrors
from hub.standards.models import StandardVersion as VersionRow

_WRITE = f"Requires the scope `{Scope.STANDARDS_WRITE.value}`."


def _base_url(info: Info) -> str:
    return info.context.runtime.settings.issuer


@strawberry.type
class StandardsQuery:
    @strawberry.field(description="Every data standard with its versions.")
    async def standards(self, info: Info) -> list[Standard]:
        session = info.context.read_session
        rows = await service.list_standards(session=session)
        versions: dict[str, list[VersionRow]] = defaultdict(list)
        for version in await session.scalars(
            select(VersionRow).order_by(VersionRow.major, VersionRow.minor, VersionRow.patch)
        ):
            versions[version.standard_id].append(version)
        base = _base_url(info)
        return [Standard.from_row(r, versions[r.id], base_url=base) for r in rows]

    @strawberry.field(description="One data standard by id, e.g. `cbec.order`.")
    async def standard(self, info: Info, id: str) -> Standard | None:
        session = info.context.read_session
        try:
            row = await service.get_standard(session=session, standard_id=id)
        except StandardsError:
            return None
        versions = await service.list_versions(session=session, standard_id=id)
        return Standard.from_row(row, versions, base_url=_base_url(info))


@strawberry.input
class CreateStandardInput:
    id: str = strawberry.field(description="Dotted lower-case id, e.g. `cbec.order`.")
    title: str
    owner: str = strawberry.field(description="The owning department.")
    description: str = ""
    compatibility: CompatibilityMode = CompatibilityMode.BACKWARD


@strawberry.input
class PublishStandardVersionInput:
    standard_id: str
    version: str = strawberry.field(description="Semver MAJOR.MINOR.PATCH.")
    schema: JSON | None = strawberry.field(
        default=None, description="The JSON Schema; leave out to publish the saved draft."
    )


@strawberry.input
class StandardVersionInput:
    standard_id: str
    version: str
    schema: JSON


@strawberry.type
class CreateStandardPayload:
    standard: Standard | None
    errors: list[StandardError]


@strawberry.type
class StandardVersionPayload:
    version: StandardVersion | None
    errors: list[StandardError]


@strawberry.type
class PublishStandardVersionPayload:
    version: StandardVersion | None
    duplicate: bool = strawberry.field(
        description="True when identical content was already published under this version."
    )
    report: CompatibilityReport | None
    errors: list[StandardError]


@strawberry.type
class CheckCompatibilityPayload:
    report: CompatibilityReport | None
    errors: list[StandardError]


T = TypeVar("T")


async def _registry_action(
    info: Info, work: Callable[[AsyncSession], Awaitable[T]]
) -> T | list[StandardError]:
    """Runs one registry action as the mutation's unit of work; refusals become typed errors
    (caught outside the transaction, so it rolls back)."""
    info.context.require(Scope.STANDARDS_WRITE)
    try:
        async with info.context.transaction() as session:
            return await work(session)
    except (StandardsError, StandardsErrors) as exc:
        return errors_of(exc)


@strawberry.type
class StandardsMutation:
    @strawberry.mutation(description=f"Creates a data standard. {_WRITE}")
    async def create_standard(
        self, info: Info, input: CreateStandardInput
    ) -> CreateStandardPayload:
        row = await _registry_action(
            info,
            lambda session: service.create_standard(
                session=session,
                standard_id=input.id,
                title=input.title,
                owner=input.owner,
                description=input.description,
                compatibility=CompatibilityMode(input.compatibility).value,
                actor=info.context.principal.client_id,
            ),
        )
        if isinstance(row, list):
            return CreateStandardPayload(standard=None, errors=row)
        return CreateStandardPayload(
            standard=Standard.from_row(row, [], base_url=_base_url(info)), errors=[]
        )

    @strawberry.mutation(
        description="Publishes a version after meta-schema, $ref and compatibility checks; "
        f"identical content again is idempotent. {_WRITE}"
    )
    async def publish_standard_version(
        self, info: Info, input: PublishStandardVersionInput
    ) -> PublishStandardVersionPayload:
        result = await _registry_action(
            info,
            lambda session: service.publish_version(
                session=session,
                standard_id=input.standard_id,
                version=input.version,
                schema=input.schema,
                actor=info.context.principal.client_id,
            ),
        )
        if isinstance(result, list):
            return PublishStandardVersionPayload(
                version=None, duplicate=False, report=None, errors=result
            )
        report = result.version.change_report
        return PublishStandardVersionPayload(
            version=StandardVersion.from_row(result.version, base_url=_base_url(info)),
            duplicate=result.duplicate,
            report=report_from_dict(report, report.get("against", [])) if report else None,
            errors=[],
        )

    @strawberry.mutation(description=f"Saves or replaces a DRAFT version. {_WRITE}")
    async def save_standard_draft(
        self, info: Info, input: StandardVersionInput
    ) -> StandardVersionPayload:
        row = await _registry_action(
            info,
            lambda session: service.save_draft(
                session=session,
                standard_id=input.standard_id,
                version=input.version,
                schema=input.schema,
                actor=info.context.principal.client_id,
            ),
        )
        if isinstance(row, list):
            return StandardVersionPayload(version=None, errors=row)
        return StandardVersionPayload(
            version=StandardVersion.from_row(row, base_url=_base_url(info)), errors=[]
        )

    @strawberry.mutation(
        description="Reports every change of a candidate schema against the versions it must "
        f"stay compatible with, without publishing. {_WRITE}"
    )
    async def check_compatibility(
        self, info: Info, input: StandardVersionInput
    ) -> CheckCompatibilityPayload:
        check = await _registry_action(
            info,
            lambda session: service.check_compatibility(
                session=session,
                standard_id=input.standard_id,
                version=input.version,
                schema=input.schema,
            ),
        )
        if isinstance(check, list):
            return CheckCompatibilityPayload(report=None, errors=check)
        data: dict[str, Any] = check.to_dict()
        return CheckCompatibilityPayload(
            report=report_from_dict(data, list(check.against)), errors=[]
        )

    @strawberry.mutation(description=f"PUBLISHED → DEPRECATED. {_WRITE}")
    async def deprecate_standard_version(
        self, info: Info, standard_id: str, version: str
    ) -> StandardVersionPayload:
        row = await _registry_action(
            info,
            lambda session: service.deprecate_version(
                session=session, standard_id=standard_id, version=version
            ),
        )
        if isinstance(row, list):
            return StandardVersionPayload(version=None, errors=row)
        return StandardVersionPayload(
            version=StandardVersion.from_row(row, base_url=_base_url(info)), errors=[]
        )

    @strawberry.mutation(description=f"→ RETIRED, naming the successor version. {_WRITE}")
    async def retire_standard_version(
        self, info: Info, standard_id: str, version: str, successor: str
    ) -> StandardVersionPayload:
        row = await _registry_action(
            info,
            lambda session: service.retire_version(
                session=session, standard_id=standard_id, version=version, successor=successor
            ),
        )
        if isinstance(row, list):
            return StandardVersionPayload(version=None, errors=row)
        return StandardVersionPayload(
            version=StandardVersion.from_row(row, base_url=_base_url(info)), errors=[]
        )
