"""The `accessLog` query: who read which enterprises' data, when, and why."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from hub.access import audit_log
from hub.auth.scopes import Scope
from hub.graphql.context import BadInput, Forbidden, Info
from hub.graphql.pagination import Connection, connection, decode_cursor, page_size

_CURSOR = "accessEvent"


@strawberry.enum(description="The kind of GraphQL operation that returned the data.")
class AccessOperationType(Enum):
    QUERY = "query"
    MUTATION = "mutation"
    SUBSCRIPTION = "subscription"


@strawberry.type(
    name="AccessEvent",
    description="One operation that returned graph data: who, what, about whom, when, why.",
)
class AccessEventType:
    id: strawberry.ID
    occurred_at: datetime = strawberry.field(description="When the operation started (UTC).")
    client_id: str | None = strawberry.field(
        description="The OAuth2 client that read (null in a confidential read's subject view "
        "until its disclosure date)."
    )
    client_issuer: str | None = strawberry.field(
        description="The external identity provider that vouched for the client; null: a "
        "client of this hub. A client is identified by both (issuer, client id)."
    )
    client_name: str | None
    department: str = strawberry.field(
        description="customs, tax, forex, market, bank, supervisor, registry, enterprise or other."
    )
    caller_enterprise: str | None = strawberry.field(
        description="The enterprise the reading client is bound to, if any."
    )
    operation_type: AccessOperationType
    operation_name: str | None
    document_hash: str | None = strawberry.field(
        description="SHA-256 (hex) of the query document (withheld like `clientId`)."
    )
    document_id: str | None = strawberry.field(
        description="The trusted document's id (`sha256:...`) when the request sent "
        "`documentId` instead of the document text."
    )
    purpose: str | None = strawberry.field(
        description="The `Hub-Purpose` request header: trimmed, cut to 500 characters."
    )
    consent_ids: list[str] = strawberry.field(description="Bank consents the read relied on.")
    enterprises: list[str] = strawberry.field(
        description="Enterprises whose data was returned: every one a returned record names "
        "in any role (platform, seller, payment institution, carrier, broker, guarantor, owner)."
    )
    records: list[str] = strawberry.field(
        description="Record keys `standardId:key` returned (at most 500 are kept); an "
        "enterprise sees the records naming it in any role."
    )
    record_count: int = strawberry.field(description="How many distinct records were returned.")
    partial: bool = strawberry.field(
        description="True when this view leaves out other enterprises' part of the event "
        "(an enterprise sees only its own enterprise, records, consents and their count)."
    )
    confidential: bool = strawberry.field(
        description="A department marked the read confidential (`Hub-Confidential` with a "
        "legal basis, `Hub-Disclose-After` a date). Until that date the subject enterprise "
        "sees only that a confidential read by `department` happened, and when."
    )
    confidential_basis: str | None = strawberry.field(
        description="The legal basis the department stated (after the disclosure date, or "
        "for audit:read)."
    )
    disclose_after: date | None = strawberry.field(
        description="The day from which the subjects see the read in full."
    )
    withheld: bool = strawberry.field(
        description="True while a confidential read's details are withheld from this reader."
    )

    @classmethod
    def of(cls, event: audit_log.AccessEventRead) -> AccessEventType:
        """From the service's view of an event."""
        return cls(
            id=strawberry.ID(str(event.id)),
            occurred_at=event.occurred_at,
            client_id=event.client_id,
            client_issuer=event.client_issuer,
            client_name=event.client_name,
            department=event.department,
            caller_enterprise=event.caller_enterprise,
            operation_type=AccessOperationType(event.operation_type),
            operation_name=event.operation_name,
            document_hash=event.document_hash,
            document_id=event.document_id,
            purpose=event.purpose,
            consent_ids=event.consent_ids,
            enterprises=event.enterprises,
            records=event.records,
            record_count=event.record_count,
            partial=event.partial,
            confidential=event.confidential,
            confidential_basis=event.confidential_basis,
            disclose_after=event.disclose_after,
            withheld=event.withheld,
        )


@strawberry.input(description="Every condition given must hold.")
class AccessLogFilter:
    client_id: str | None = strawberry.field(
        default=None,
        description="Events of this client: of this hub, or of `clientIssuer` when given.",
    )
    client_issuer: str | None = strawberry.field(
        default=None, description="Events of clients of this external identity provider."
    )
    department: str | None = None
    enterprise: str | None = strawberry.field(
        default=None,
        description="Events that returned this enterprise's data. For an enterprise reader "
        "it can only narrow its own view further.",
    )
    operation_name: str | None = None
    occurred_from: datetime | None = strawberry.field(default=None, description="Inclusive.")
    occurred_to: datetime | None = strawberry.field(default=None, description="Exclusive.")

    def to_service(self) -> audit_log.AccessLogFilter:
        """The service's filter; BAD_USER_INPUT for a time without a UTC offset."""
        for name, moment in (
            ("occurredFrom", self.occurred_from),
            ("occurredTo", self.occurred_to),
        ):
            # A bare local time is ambiguous (the pilot zone runs on +08:00, the log on UTC).
            if moment is not None and moment.tzinfo is None:
                raise BadInput(f"{name} needs a UTC offset, e.g. 2026-03-15T08:00:00+08:00")
        return audit_log.AccessLogFilter(
            client_id=self.client_id,
            client_issuer=self.client_issuer,
            department=self.department,
            enterprise=self.enterprise,
            operation_name=self.operation_name,
            occurred_from=self.occurred_from,
            occurred_to=self.occurred_to,
        )


@strawberry.type
class AccessLogQuery:
    @strawberry.field(
        description="The access log, newest first. With `audit:read`: every event. An "
        "enterprise client: the events that returned its own enterprise's data."
    )
    async def access_log(
        self,
        info: Info,
        filter: AccessLogFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[AccessEventType]:
        principal = info.context.principal
        if principal.has(Scope.AUDIT_READ):
            subject = None
        elif principal.enterprise_code:
            subject = principal.enterprise_code
        else:
            raise Forbidden(
                f"the access log needs the scope '{Scope.AUDIT_READ.value}' or a client bound "
                "to an enterprise"
            )
        size = page_size(first)
        before_id = decode_cursor(_CURSOR, after)
        session = info.context.read_session
        # Reading the log is not a read of trade records: it touches nothing, so it writes
        # no access event of its own.
        rows = await audit_log.list_events(
            session=session,
            filter=(filter.to_service() if filter else audit_log.AccessLogFilter()),
            subject=subject,
            before_id=before_id,
            limit=size + 1,
        )
        views = await audit_log.view_for(session=session, events=rows, enterprise=subject)
        return connection(
            [AccessEventType.of(v) for v in views], [v.id for v in views], _CURSOR, size
        )
