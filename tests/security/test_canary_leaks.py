"""The leak test that cannot be tuned to: canaries in every field, every reader, every root field.

1. Seed: an import order with its payment, waybill, milestone, inventory and customs
   release, an export order with its receipt, waybill and inventory, and two enterprise
   filings, all declared through the real intake by their real declarants. Every property
   the standards annotate (`x-hub-category`, walked from the category trees, so a new
   property is covered without touching this file) gets a distinct canary value of its
   category where the schema admits one (`QKORD0012`, `90012.37`, `+(86) 900012`); only
   identity fields (keys, parties and link fields, which several records share by design)
   and values a schema pins down (enums, codes, dates, integers) keep their sample value.
2. Read: for every principal kind (each department with and without pii:read, a bank with
   each single-category consent, each party role, a stranger, a supervisor, a registry
   admin), every root query field of the schema (walked from the SDL: a root field this
   file cannot build a query for fails the test) with a full selection of every field
   below it, once plain and once per value of every filter field and group-by dimension.
3. Assert: no response body holds a canary of a category the principal may not read of
   that record, by this file's own table of who reads what (DESIGN.md, Access and
   Authority), never by the hub's. Personal canaries may appear only masked (only customs
   with pii:read reads them in clear). A declarant may read back what it declared itself.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)

from hub import migrate
from hub.access.authority import RECORD_TYPES
from hub.access.policy import Category
from hub.app import create_app
from hub.auth import clients
from hub.config import Settings
from hub.db import unit_of_work
from hub.graphql.node import global_id
from hub.graphql.schema import build_schema
from hub.standards.categories import shipped_categories
from hub.standards.shipped import publish_shipped
from tests.builders.parties import (
    AGENT,
    CARRIER,
    DECLARE,
    GUARANTOR,
    OWNER,
    PAYER_INSTITUTION,
    PLATFORM,
    SELLER,
    STANDARD_OF,
    STRANGER,
    export_set,
    import_set,
)
from tests.conftest import blocking
from tests.standards.samples import sample, shipped_validator
from tests.support import TEST_ISSUER

C = Category
ALL_BUT_PERSONAL = frozenset(c for c in Category if c is not Category.PERSONAL)

# -- the test's own table of who reads what (DESIGN.md), independent of hub.access ----------

DEPARTMENTS: dict[str, frozenset[Category]] = {
    "customs:read": ALL_BUT_PERSONAL,
    "tax:read": frozenset(
        {C.REGISTRATION, C.CREDIT, C.ORDER, C.GOODS, C.PAYMENT, C.CLEARANCE} | {C.TAX}
    ),
    "forex:read": frozenset({C.REGISTRATION, C.CREDIT, C.ORDER, C.PAYMENT, C.CLEARANCE}),
    "market:read": frozenset({C.REGISTRATION, C.CREDIT, C.GOODS}),
}
# Party roles of an order's group of documents → what the role reads of the group.
ROLE_READS: dict[str, frozenset[Category]] = {
    "platform": ALL_BUT_PERSONAL,
    "seller": ALL_BUT_PERSONAL,
    "payment": frozenset({C.REGISTRATION, C.ORDER, C.PAYMENT}),  # header and payment
    "carrier": frozenset({C.REGISTRATION, C.LOGISTICS}),  # consignee only masked
    "broker": frozenset({C.REGISTRATION, C.CLEARANCE, C.TAX}),
    "guarantor": frozenset({C.REGISTRATION, C.CLEARANCE, C.TAX}),
    "owner": frozenset({C.REGISTRATION, C.GOODS, C.CLEARANCE, C.TAX}),
}
ROLE_FIELDS = {
    "ebpCode": "platform",
    "ebcCode": "seller",
    "payCode": "payment",
    "logisticsCode": "carrier",
    "agentCode": "broker",
    "assureCode": "guarantor",
    "ownerCode": "owner",
}
CONSENTABLE = (C.REGISTRATION, C.CREDIT, C.ORDER, C.PAYMENT, C.LOGISTICS, C.CLEARANCE)
CONSENTING = SELLER  # the seller of both orders consents each bank to one category


@dataclass(frozen=True)
class Principal:
    """One kind of caller: a reader client (scopes) or an enterprise's declare client."""

    name: str
    scopes: str = "declare"
    enterprise: str | None = None
    consent: Category | None = None  # a bank's one consented category


PRINCIPALS: tuple[Principal, ...] = (
    *(Principal(s.split(":")[0], s) for s in DEPARTMENTS),
    *(Principal(f"{s.split(':')[0]}+pii", f"{s} pii:read") for s in DEPARTMENTS),
    *(Principal(f"bank:{c.value}", "finance:read", consent=c) for c in CONSENTABLE),
    Principal("platform", enterprise=PLATFORM),
    Principal("seller", enterprise=SELLER),
    Principal("payment institution", enterprise=PAYER_INSTITUTION),
    Principal("carrier", enterprise=CARRIER),
    Principal("broker", enterprise=AGENT),
    Principal("guarantor", enterprise=GUARANTOR),
    Principal("owner", enterprise=OWNER),
    Principal("stranger", enterprise=STRANGER),
    Principal("supervisor", "audit:read"),
    Principal("registry admin", "standards:write documents:write"),
)


@dataclass(frozen=True)
class Canary:
    """A value planted in one field of one record."""

    value: str
    category: Category
    group: str  # "import", "export" (an order's documents) or "filing:<code>"
    standard: str
    pointer: str


@dataclass
class Seeded:
    """What was planted, and where a reader can find it."""

    canaries: list[Canary] = field(default_factory=list)
    # group → enterprise code → roles it plays in the group
    roles: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    # group → enterprise codes that declared one of its records
    declarants: dict[str, set[str]] = field(default_factory=dict)
    orders: list[tuple[str, str]] = field(default_factory=list)
    declaration_ids: list[str] = field(default_factory=list)
    record_keys: list[str] = field(default_factory=list)


def readable(who: Principal, canary: Canary) -> bool:
    """May `who` see this canary in clear? (The test's own rule, from DESIGN.md.)"""
    if canary.category is C.PERSONAL:
        return "customs:read" in who.scopes and "pii:read" in who.scopes
    for scope, categories in DEPARTMENTS.items():
        if scope in who.scopes.split() and canary.category in categories:
            return True
    if who.consent is not None:
        if canary.group.startswith("filing:"):
            return (
                canary.group == f"filing:{CONSENTING}"
                and canary.category is who.consent
                and (who.consent in (C.REGISTRATION, C.CREDIT))
            )
        return canary.category is who.consent
    if who.enterprise is None:
        return False
    if canary.group == f"filing:{who.enterprise}":
        return True
    if canary.group.startswith("filing:"):
        return False
    if who.enterprise in SEEDED_DECLARANTS.get((canary.group, canary.standard), set()):
        return True  # it declared this record: it reads back what it sent
    roles = SEEDED_ROLES.get(canary.group, {}).get(who.enterprise, set())
    return any(canary.category in ROLE_READS[role] for role in roles)


SEEDED_ROLES: dict[str, dict[str, set[str]]] = {}
SEEDED_DECLARANTS: dict[tuple[str, str], set[str]] = {}


# -- planting canaries ---------------------------------------------------------------------

_TAGS = {c: c.value[:3].upper() for c in Category}
_counter = itertools.count(1)


def identity_fields(standard_id: str) -> set[str]:
    """Fields that name a record or its links: shared between records by design."""
    fields: set[str] = {"appType", "appTime"}
    for rtype in RECORD_TYPES.values():
        own = rtype.standard_id == standard_id
        if own:
            fields |= set(rtype.key_fields) | {p.field for p in rtype.parties}
            fields |= set(rtype.order_fields or ())
        for link in rtype.links:
            pairs = (*link.join, *link.agree)
            if own:
                fields |= {mine for mine, _ in pairs}
            if link.target == standard_id:
                fields |= {theirs for _, theirs in pairs}
    return fields


def _candidates(category: Category) -> Iterator[str]:
    n = next(_counter)
    yield f"QK{_TAGS[category]}{n:04d}"
    yield f"9{n:04d}.{list(Category).index(category)}7"
    yield f"+(86) 9{n:05d}"


def _locations(document: Any, pointer: str) -> list[tuple[Any, str]]:
    """(parent object, key) of every place a category pointer (`/items/*/qty`) names."""
    parents: list[Any] = [document]
    tokens = pointer.split("/")[1:]
    for token in tokens[:-1]:
        following: list[Any] = []
        for parent in parents:
            if token == "*" and isinstance(parent, list):
                following += parent
            elif isinstance(parent, dict) and token in parent:
                following.append(parent[token])
        parents = following
    return [(p, tokens[-1]) for p in parents if isinstance(p, dict)]


def plant(standard_id: str, record: dict[str, Any], group: str) -> list[Canary]:
    """Puts a canary into every annotated field of the record the schema admits one in."""
    validator = shipped_validator(standard_id)
    assert validator.is_valid(record), validator.errors(record)
    keep = identity_fields(standard_id)
    planted = []
    for pointer, category in shipped_categories(standard_id).leaves():
        if "+" in pointer or pointer.split("/")[1] in keep:
            continue
        for parent, key in _locations(record, pointer):
            if isinstance(parent.get(key), (dict, list)):
                continue  # a container: its leaves get their own canaries
            before = parent.get(key, _ABSENT)
            for value in _candidates(category):
                parent[key] = value
                if validator.is_valid(record):
                    planted.append(Canary(value, category, group, standard_id, pointer))
                    break
            else:
                if before is _ABSENT:
                    del parent[key]
                else:
                    parent[key] = before
    return planted


_ABSENT = object()


# -- the seeded hub, once per database -----------------------------------------------------


@dataclass
class Hub:
    http: httpx.AsyncClient
    settings: Settings
    seeded: Seeded
    tokens: dict[str, str] = field(default_factory=dict)
    client_ids: dict[str, str] = field(default_factory=dict)

    async def token(self, key: str, *, scopes: str, enterprise: str | None = None) -> str:
        """A token from the token endpoint for a client created once per key."""
        if key not in self.tokens:
            async with unit_of_work(self.session_factory) as session:
                created = await clients.create(
                    session=session, name=f"canary {key}", scopes=scopes, enterprise_code=enterprise
                )
            response = await self.http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(created.client_id, created.client_secret),
            )
            assert response.status_code == 200, response.text
            self.tokens[key] = response.json()["access_token"]
            self.client_ids[key] = created.client_id
        return self.tokens[key]

    async def post(
        self, token: str, query: str, variables: dict[str, Any] | None = None
    ) -> tuple[int, str]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        return response.status_code, response.text

    session_factory: Any = None


async def seed(hub: Hub) -> None:
    """Declares every record, canaried, as its real declarant; banks get their consents."""
    seeded = hub.seeded
    groups = {"import": import_set("XZ-CANARY-0001"), "export": export_set("EX-CANARY-0001")}
    milestone = sample("cbec.logistics-status", "arrival")
    milestone["logisticsNo"] = groups["import"]["waybill"]["logisticsNo"]
    groups["import"]["milestone"] = milestone
    declarant_of = {
        "order": PLATFORM,
        "payment": PAYER_INSTITUTION,
        "receipt": PAYER_INSTITUTION,
        "waybill": CARRIER,
        "milestone": CARRIER,
        "inventory": AGENT,
        "status": AGENT,
    }
    filings = []
    for code, customs_code in ((PLATFORM, "3203960ABC"), (SELLER, "3203960ABD")):
        filing = sample("cbec.enterprise", "enterprise") | {
            "code": code,
            "customsCode": customs_code,
        }
        seeded.canaries += plant("cbec.enterprise", filing, f"filing:{code}")
        filings.append((code, filing))
    for group, docs in groups.items():
        roles: dict[str, set[str]] = {}
        for kind, record in docs.items():
            for name, role in ROLE_FIELDS.items():
                if record.get(name):
                    roles.setdefault(str(record[name]), set()).add(role)
            seeded.canaries += plant(STANDARD_OF[kind], record, group)
            SEEDED_DECLARANTS.setdefault((group, STANDARD_OF[kind]), set()).add(declarant_of[kind])
        SEEDED_ROLES[group] = roles
        seeded.orders.append((docs["order"]["ebpCode"], docs["order"]["orderNo"]))
    for code, filing in filings:
        seeded.declaration_ids.append(await _declare(hub, "cbec.enterprise", filing, code))
    for docs in groups.values():
        for kind, record in docs.items():
            declarant = declarant_of[kind]
            seeded.declaration_ids.append(await _declare(hub, STANDARD_OF[kind], record, declarant))
            rtype = RECORD_TYPES[STANDARD_OF[kind]]
            seeded.record_keys.append(rtype.key(record))
    for principal in PRINCIPALS:
        if principal.consent is not None:
            await _consent(hub, principal)


async def _declare(hub: Hub, standard: str, payload: dict[str, Any], code: str) -> str:
    token = await hub.token(code, scopes="declare", enterprise=code)
    variables = {"input": {"standard": standard, "payload": payload}}
    status, text = await hub.post(token, DECLARE, variables)
    body = json.loads(text)
    assert status == 200 and body["data"]["declare"]["errors"] == [], (standard, body)
    return str(body["data"]["declare"]["declaration"]["id"])


async def _consent(hub: Hub, bank: Principal) -> None:
    assert bank.consent is not None
    await hub.token(bank.name, scopes=bank.scopes)
    token = await hub.token(CONSENTING, scopes="declare", enterprise=CONSENTING)
    mutation = """mutation($input: GrantConsentInput!) {
        grantConsent(input: $input) { errors { code message } } }"""
    variables = {
        "input": {
            "bank": hub.client_ids[bank.name],
            "categories": [bank.consent.name],
            "purpose": "canary review",
            "dataFrom": "2024-01-01",
            "dataTo": "2024-12-31",
            "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        }
    }
    status, text = await hub.post(token, mutation, variables)
    assert status == 200 and json.loads(text)["data"]["grantConsent"]["errors"] == [], text


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def hub(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hub]:
    """A hub on a fresh database with every canary declared (once per backend)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("canary") / "hub.db"
        shutil.copyfile(template, path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        make: Callable[[], str] = request.getfixturevalue("fresh_postgres_database")
        url = blocking(make)
        blocking(migrate.upgrade, database_url=url)
    # Query limits raised: full selections of ten aliased fields are large documents, and
    # the limits are not what this test is about (tests/hardening covers them).
    settings = Settings(
        database_url=url,
        issuer=TEST_ISSUER,
        env="test",
        rate_limit_per_second=0,
        max_tokens=1_000_000,
        max_query_cost=100_000_000,
        max_query_depth=30,
        max_aliases=100,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        runtime = application.state.runtime
        async with unit_of_work(runtime.session_factory) as session:
            await publish_shipped(session=session, actor="test")
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
            created = Hub(http=client, settings=settings, seeded=Seeded())
            created.session_factory = runtime.session_factory
            SEEDED_ROLES.clear()
            SEEDED_DECLARANTS.clear()
            await seed(created)
            yield created


# -- queries from the schema ---------------------------------------------------------------

SCHEMA: GraphQLSchema = build_schema()._schema
MAX_DEPTH = 5  # object levels below a root field: enterprise → orders → edges → node → items
FILTERED_DEPTH = 3
NESTED_FIRST = 3


def _literal(value: Any) -> str:
    if isinstance(value, Enum_):
        return value.name
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


@dataclass(frozen=True)
class Enum_:
    """An enum value, written bare in GraphQL."""

    name: str


def _arguments(values: dict[str, Any]) -> str:
    if not values:
        return ""
    return "(" + ", ".join(f"{k}: {_literal(v)}" for k, v in values.items()) + ")"


def selection(type_: Any, depth: int = 0, limit: int = MAX_DEPTH) -> str:
    """Every field below a type, with nested lists cut to a few elements."""
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    if isinstance(named, GraphQLUnionType):
        parts = [f"... on {t.name} {selection(t, depth, limit)}" for t in named.types]
        return "{ __typename " + " ".join(parts) + " }"
    if isinstance(named, GraphQLInterfaceType):  # Node: every type that implements it
        types = SCHEMA.get_possible_types(named)
        parts = [f"... on {t.name} {selection(t, depth, limit)}" for t in types]
        return "{ __typename " + " ".join(parts) + " }"
    assert isinstance(named, GraphQLObjectType), named
    parts = []
    for name, field_ in named.fields.items():
        arguments: dict[str, Any] = {}
        skip = False
        for arg_name, arg in field_.args.items():
            if arg_name == "first":
                arguments["first"] = NESTED_FIRST
            elif isinstance(arg.type, GraphQLNonNull) and arg.default_value is _UNDEFINED:
                if arg_name in NESTED_REQUIRED:
                    arguments[arg_name] = NESTED_REQUIRED[arg_name]
                else:
                    skip = True
        inner = get_named_type(field_.type)
        if skip or (not is_leaf_type(inner) and depth >= limit):
            continue
        parts.append(f"{name}{_arguments(arguments)} {selection(field_.type, depth + 1, limit)}")
    return "{ " + " ".join(parts) + " }" if parts else "{ __typename }"


try:
    from graphql.pyutils import Undefined as _UNDEFINED
except ImportError:  # pragma: no cover
    _UNDEFINED = None
NESTED_REQUIRED: dict[str, Any] = {"version": "1.0.0"}


def _input_values(type_: Any, name: str, seeded: Seeded) -> list[Any]:
    """Values to try for one filter field: every enum value, or values that match data."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLEnumType):
        return [Enum_(v) for v in named.values]
    by_name: dict[str, list[Any]] = {
        "enterprise": [SELLER, PAYER_INSTITUTION, CARRIER],
        "declarant": [PLATFORM, AGENT],
        "recordKey": seeded.record_keys,
        "standardId": [*list(STANDARD_OF.values()), "cbec.enterprise"],
        "monthFrom": ["2024-03"],
        "monthTo": ["2024-03"],
        "tradeMode": ["9610"],
        "riskFlag": ["ANNUAL_LIMIT_EXCEEDED", "TAX_MISMATCH"],
        "role": ["ebp", "ebc"],
        "city": ["徐州市"],
        "division": ["3203"],
        "creditClass": ["GENERAL"],
        "nameContains": ["示例"],
        "customsStatus": [800, 100],
        "occurredFrom": ["2000-01-01T00:00:00+00:00"],
        "occurredTo": ["2100-01-01T00:00:00+00:00"],
    }
    if name in by_name:
        return by_name[name]
    scalar = named.name
    return {
        "Boolean": [True],
        "Int": [1],
        "Date": ["2024-03-15", "2024-03-16"],
        "DateTime": ["2024-03-15T00:00:00+00:00"],
    }.get(scalar, ["QK"])


def variants(
    field_name: str, field_: GraphQLField, seeded: Seeded
) -> list[tuple[dict[str, Any], bool]]:
    """Argument sets for one root field: required ones from the seed (read with the full
    selection), then each filter field and group-by value alone (read with a shallower one:
    a filter decides which records come back, and the full read of the plain list shows
    every field of every record the caller sees)."""
    required: dict[str, list[Any]] = {
        "id": [*seeded.declaration_ids, *STANDARD_OF.values()],
        # Enterprises with documents listed under them (the others are stubs).
        "code": [PLATFORM, SELLER, PAYER_INSTITUTION, CARRIER, AGENT],
        "year": [2024],
        # Tree sizes of the verifiable log's consistency proofs (hashes only, no payloads).
        "from": [1],
        "to": [2],
        "ids": [[]],  # node/nodes get the seeded records' global ids below
        "groupBy": [[Enum_(d)] for d in SCHEMA.get_type("StatisticsDimension").values]  # type: ignore[union-attr]
        + [[], [Enum_(d) for d in SCHEMA.get_type("StatisticsDimension").values]],  # type: ignore[union-attr]
    }
    base: list[dict[str, Any]] = [{}]
    arguments = field_.args
    if {"ebpCode", "orderNo"} <= set(arguments):
        base = [{"ebpCode": e, "orderNo": o} for e, o in seeded.orders]
    for name, arg in arguments.items():
        if name in ("ebpCode", "orderNo", "representations"):
            continue
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is _UNDEFINED:
            if name not in required:
                raise AssertionError(f"root field {field_name}: no value for required {name}")
            base = [b | {name: v} for b in base for v in required[name]]
    if field_name == "standard":
        base = [{"id": s} for s in STANDARD_OF.values()]
    if field_name == "declaration":
        base = [{"id": i} for i in seeded.declaration_ids]
    if field_name in ("node", "nodes"):
        ids = [str(global_id("Order", e, o)) for e, o in seeded.orders]
        ids += [str(global_id("Enterprise", c)) for c in required["code"]]
        base = [{"id": i} for i in ids] if field_name == "node" else [{"ids": ids[:100]}]
    found = list(base)
    if "first" in arguments:
        found = [b | {"first": 20} for b in found]
    full = len(found)
    for name, arg in arguments.items():
        named = get_named_type(arg.type)
        optional = not isinstance(arg.type, GraphQLNonNull)
        if optional and is_leaf_type(named) and name not in ("first", "after", "ebpCode"):
            for value in _input_values(arg.type, name, seeded):
                found.append(found[0] | {name: value})
        if isinstance(named, GraphQLInputObjectType):
            for input_name, input_field in named.fields.items():
                for value in _input_values(input_field.type, input_name, seeded):
                    found.append(found[0] | {name: {input_name: value}})
    return [(v, i < full) for i, v in enumerate(found)]


def root_fields() -> dict[str, GraphQLField]:
    query = SCHEMA.query_type
    assert query is not None
    return dict(query.fields)


def operations(seeded: Seeded) -> Iterator[tuple[str, str, dict[str, Any] | None, list[str]]]:
    """(root field, operation text, variables, aliases) packs of up to 10 variants."""
    for name, field_ in root_fields().items():
        if name == "_entities":
            reps = [{"__typename": "Order", "ebpCode": e, "orderNo": o} for e, o in seeded.orders]
            reps += [{"__typename": "Enterprise", "code": c} for c in (PLATFORM, SELLER)]
            query = (
                f"query($r: [_Any!]!) {{ _entities(representations: $r) {selection(field_.type)} }}"
            )
            yield name, query, {"r": reps}, ["_entities"]
            continue
        body, shallow = selection(field_.type), selection(field_.type, limit=FILTERED_DEPTH)
        texts = [
            f"{name}{_arguments(v)} {body if full else shallow}"
            for v, full in variants(name, field_, seeded)
        ]
        for start in range(0, len(texts), 10):
            pack = texts[start : start + 10]
            aliases = [f"v{start + i}" for i in range(len(pack))]
            query = "{ " + " ".join(f"{a}: {t}" for a, t in zip(aliases, pack, strict=True)) + " }"
            yield name, query, None, aliases


# -- the test ------------------------------------------------------------------------------


@dataclass
class Sweep:
    """What one principal's run over every root field returned."""

    texts: list[str] = field(default_factory=list)
    answered: set[str] = field(default_factory=set)  # root fields that returned data


async def sweep(hub: Hub, who: Principal) -> Sweep:
    """Runs every root field variant as `who`; keeps every response body."""
    token = await hub.token(who.name, scopes=who.scopes, enterprise=who.enterprise)
    result = Sweep()
    for root, query, variables, aliases in operations(hub.seeded):
        status, text = await hub.post(token, query, variables)
        assert status == 200, (root, status, text[:800])
        result.texts.append(text)
        data = json.loads(text).get("data")
        if data is None and len(aliases) > 1:
            # A refused non-null field nulls the whole answer: ask each variant alone.
            for single in _singles(query, aliases):
                status, single_text = await hub.post(token, single)
                assert status == 200, (root, status, single_text[:800])
                result.texts.append(single_text)
                if (json.loads(single_text).get("data") or {}).get("v0") is not None:
                    result.answered.add(root)
        elif any(v is not None for v in (data or {}).values()):
            result.answered.add(root)
    return result


def _singles(query: str, aliases: list[str]) -> Iterator[str]:
    inner = query[2:-2]
    positions = [inner.index(f"{a}: ") for a in aliases] + [len(inner)]
    for i in range(len(aliases)):
        part = inner[positions[i] : positions[i + 1]].strip()
        yield "{ v0: " + part.split(": ", 1)[1] + " }"


@pytest.mark.parametrize(
    "who",
    PRINCIPALS,
    ids=lambda p: p.name,
)
async def test_no_response_holds_a_canary_its_reader_may_not_read(hub: Hub, who: Principal) -> None:
    forbidden = [c for c in hub.seeded.canaries if not readable(who, c)]
    result = await sweep(hub, who)
    leaks = sorted(
        {
            f"{c.group} {c.standard}{c.pointer} ({c.category.value})"
            for c in forbidden
            for t in result.texts
            if c.value in t
        }
    )
    assert not leaks, f"{who.name} read canaries it may not: {leaks}"


async def test_the_sweep_covers_every_category_and_root_field(hub: Hub) -> None:
    """The sweep means something: every category has canaries, every root field returns
    data to someone, and customs with pii:read, who reads everything, finds canaries of
    every category (so a canary that never shows up cannot pass for protection)."""
    by_category = {c: {k.standard for k in hub.seeded.canaries if k.category is c} for c in C}
    # Credit's one annotated property is creditClass, an enum: no value of it can be told
    # from another. Every other category has canaries in some record type.
    assert {c for c, standards in by_category.items() if not standards} == {C.CREDIT}
    assert len(hub.seeded.canaries) >= 80, len(hub.seeded.canaries)
    readers = {p.name: p for p in PRINCIPALS}
    answered: set[str] = set()
    seen: set[Category] = set()
    for name in ("customs+pii", "supervisor", "registry admin"):
        result = await sweep(hub, readers[name])
        answered |= result.answered
        if name == "customs+pii":
            seen = {c.category for c in hub.seeded.canaries for t in result.texts if c.value in t}
    assert set(root_fields()) - answered == set()
    assert seen == set(C) - {C.CREDIT}, set(C) - seen
