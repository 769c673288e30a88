"""Bank consents in GraphQL: the `consents` query, `grantConsent` and `revokeConsent`."""

from __future__ import annotations

from datetime import UTC, date, datetime

import strawberry

from hub.access import consents as service
from hub.access.consents import ConsentErrorCode, ConsentStatus
from hub.access.models import Consent as ConsentRow
from hub.access.policy import CONSENTABLE_CATEGORIES, Category
from hub.auth.scopes import Scope
from hub.graphql.context import Forbidden, Info

# The domain enums are exposed as they are: one definition of each code list.
strawberry.enum(
    Category, name="DataCategory", description="The data category a graph field belongs to."
)
strawberry.enum(
    ConsentStatus,
    name="ConsentStatus",
    description="ACTIVE, REVOKED, or EXPIRED (derived from expiresAt when read).",
)
strawberry.enum(
    ConsentErrorCode, name="ConsentErrorCode", description="Why a consent request was refused."
)

_GRANTABLE = ", ".join(c.name for c in Category if c in CONSENTABLE_CATEGORIES)
_ENTERPRISE = f"Requires the scope `{Scope.DECLARE.value}` (a client bound to an enterprise)."


@strawberry.type(description="An enterprise's consent that a bank reads some of its data.")
class Consent:
    id: strawberry.ID
    enterprise: str = strawberry.field(description="The granting enterprise's code.")
    bank: str = strawberry.field(description="The bank's OAuth2 client id.")
    bank_name: str | None = strawberry.field(description="The bank client's name.")
    categories: list[Category]
    purpose: str
    data_from: date = strawberry.field(description="First record date covered (inclusive).")
    data_to: date = strawberry.field(description="Last record date covered (inclusive).")
    expires_at: datetime
    status: ConsentStatus = strawberry.field(description="Computed when read.")
    created_at: datetime
    revoked_at: datetime | None
    jws: str = strawberry.field(
        description="The consent signed by the hub (a JWT, `typ: consent+jwt`); verify it "
        "with the keys at /.well-known/jwks.json. It does not reflect a later revocation."
    )

    @classmethod
    def from_row(cls, row: ConsentRow, *, bank_name: str | None, at: datetime) -> Consent:
        """The GraphQL view of a stored consent, with its status at `at`."""
        return cls(
            id=strawberry.ID(row.id),
            enterprise=row.enterprise_code,
            bank=row.bank_client_id,
            bank_name=bank_name,
            categories=[c for c in Category if c.value in row.categories],
            purpose=row.purpose,
            data_from=row.data_from,
            data_to=row.data_to,
            expires_at=row.expires_at,
            status=service.effective_status(row, at),
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            jws=row.jws,
        )


@strawberry.type(description="A consent refusal the caller can fix: code, input field, why.")
class ConsentError:
    code: ConsentErrorCode
    path: str | None
    message: str


@strawberry.type
class ConsentPayload:
    consent: Consent | None
    errors: list[ConsentError]


def _errors_of(exc: service.ConsentError) -> list[ConsentError]:
    return [ConsentError(code=p.code, path=p.path, message=p.message) for p in exc.problems]


@strawberry.input(description="A consent to grant to a bank.")
class GrantConsentInput:
    bank: str = strawberry.field(description="The bank's OAuth2 client id.")
    categories: list[Category] = strawberry.field(description=f"Any of {_GRANTABLE}.")
    purpose: str = strawberry.field(description="Why the bank reads the data (≤ 500 chars).")
    data_from: date = strawberry.field(description="First record date covered (inclusive).")
    data_to: date = strawberry.field(description="Last record date covered (inclusive).")
    expires_at: datetime = strawberry.field(description="With a UTC offset; in the future.")


@strawberry.type
class ConsentsQuery:
    @strawberry.field(
        description="Consents the caller may see: an enterprise those it granted, a bank "
        f"(`{Scope.FINANCE_READ.value}`) those granted to it, `{Scope.AUDIT_READ.value}` all. "
        "Newest first."
    )
    async def consents(self, info: Info) -> list[Consent]:
        principal = info.context.principal
        if not (
            principal.enterprise_code
            or principal.has(Scope.FINANCE_READ)
            or principal.has(Scope.AUDIT_READ)
        ):
            raise Forbidden(
                "consents are visible to enterprises, banks (finance:read) and supervisors "
                "(audit:read)"
            )
        session = info.context.read_session
        rows = await service.list_for(session=session, principal=principal)
        names = await service.bank_names(
            session=session, client_ids=[r.bank_client_id for r in rows]
        )
        now = datetime.now(UTC)
        for row in rows:
            # A consent is the enterprise's record: each read of it is logged (a bank or a
            # supervisor listing it shows in the enterprise's own log).
            info.context.audit.touch(
                enterprises=(row.enterprise_code,), records=(f"consent:{row.id}",)
            )
        return [Consent.from_row(r, bank_name=names.get(r.bank_client_id), at=now) for r in rows]


@strawberry.type
class ConsentsMutation:
    @strawberry.mutation(
        description="Grants a bank a consent for the caller's enterprise; the hub signs it. "
        + _ENTERPRISE
    )
    async def grant_consent(self, info: Info, input: GrantConsentInput) -> ConsentPayload:
        info.context.require(Scope.DECLARE)
        principal = info.context.principal
        runtime = info.context.runtime
        try:
            async with info.context.transaction() as session:
                row = await service.grant(
                    session=session,
                    enterprise_code=principal.enterprise_code,
                    granted_by=principal.client_id,
                    bank_client_id=input.bank,
                    categories=[c.value for c in input.categories],
                    purpose=input.purpose,
                    data_from=input.data_from,
                    data_to=input.data_to,
                    expires_at=input.expires_at,
                    keys=runtime.keys,
                    issuer=runtime.settings.issuer,
                    granted_by_issuer=principal.issuer_key,
                )
                names = await service.bank_names(session=session, client_ids=[row.bank_client_id])
        except service.ConsentError as exc:
            return ConsentPayload(consent=None, errors=_errors_of(exc))
        consent = Consent.from_row(
            row, bank_name=names.get(row.bank_client_id), at=datetime.now(UTC)
        )
        return ConsentPayload(consent=consent, errors=[])

    @strawberry.mutation(
        description="Revokes one of the caller's enterprise's consents, at once. " + _ENTERPRISE
    )
    async def revoke_consent(self, info: Info, id: strawberry.ID) -> ConsentPayload:
        info.context.require(Scope.DECLARE)
        try:
            async with info.context.transaction() as session:
                row = await service.revoke(
                    session=session,
                    consent_id=str(id),
                    enterprise_code=info.context.principal.enterprise_code,
                )
                names = await service.bank_names(session=session, client_ids=[row.bank_client_id])
        except service.ConsentError as exc:
            return ConsentPayload(consent=None, errors=_errors_of(exc))
        consent = Consent.from_row(
            row, bank_name=names.get(row.bank_client_id), at=datetime.now(UTC)
        )
        return ConsentPayload(consent=consent, errors=[])
