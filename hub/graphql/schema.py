"""Schema assembly: each domain contributes query and mutation classes, combined here."""

from __future__ import annotations

from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from hub.config import Settings
from hub.graphql.access.audit import AccessLogQuery
from hub.graphql.access.consents import ConsentsMutation, ConsentsQuery
from hub.graphql.credit.schema import CreditMutation, CreditQuery
from hub.graphql.declarations.schema import DeclarationsMutation, DeclarationsQuery
from hub.graphql.errors import HubMaskErrors
from hub.graphql.events import EventsSubscription
from hub.graphql.federation import HubSchema
from hub.graphql.limits import ExtensionFactory, schema_extensions
from hub.graphql.log import LogQuery
from hub.graphql.me import MeQuery
from hub.graphql.scalars import SCALARS
from hub.graphql.standards.schema import StandardsMutation, StandardsQuery
from hub.graphql.stats.schema import StatsQuery
from hub.graphql.trade.nodes import NodeQuery
from hub.graphql.trade.schema import ENTITY_TYPES, TradeQuery
from hub.graphql.trusted.schema import TrustedDocumentsMutation, TrustedDocumentsQuery
from hub.graphql.webhooks import WebhooksMutation, WebhooksQuery

# The explicit list of what the API is made of; a new domain adds its classes here.
QUERIES: tuple[type, ...] = (
    MeQuery,
    StandardsQuery,
    DeclarationsQuery,
    TradeQuery,
    NodeQuery,
    ConsentsQuery,
    AccessLogQuery,
    StatsQuery,
    TrustedDocumentsQuery,
    LogQuery,
    WebhooksQuery,
    CreditQuery,
)
MUTATIONS: tuple[type, ...] = (
    StandardsMutation,
    DeclarationsMutation,
    ConsentsMutation,
    TrustedDocumentsMutation,
    WebhooksMutation,
    CreditMutation,
)


SUBSCRIPTIONS: tuple[type, ...] = (EventsSubscription,)


def build_schema(settings: Settings | None = None) -> HubSchema:
    """Builds the federation v2 schema from the domains' query and mutation classes."""
    query = merge_types("Query", QUERIES)
    mutation = merge_types("Mutation", MUTATIONS) if MUTATIONS else None
    # The limits and production switches run before execution; masking runs on the result.
    extensions: list[ExtensionFactory] = [
        *schema_extensions(settings or Settings()),
        HubMaskErrors,
    ]
    return HubSchema(
        query=query,
        mutation=mutation,
        subscription=merge_types("Subscription", SUBSCRIPTIONS),
        types=ENTITY_TYPES,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALARS),
    )


def print_sdl() -> str:
    """The schema in SDL, as `hub schema` prints it."""
    return build_schema().as_str()
