"""Plans: for a selection on a type under one grant shape, what each response key is.

The category check and the mask of every `guarded` field are decided here, once per
(selection, type, grant shape), not per field per row. A field the grant forbids is a
FORBIDDEN step: null and the error strawberry's guard would raise there. Values come from
the types' own
resolvers (`hub.graphql.trade.types`) and are serialised by the schema's own scalar and
enum types, so the two paths cannot disagree on a value.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
)
from strawberry.federation import Schema
from strawberry.types.field import StrawberryField

from hub.access.policy import Category, Grant
from hub.graphql.compiled.document import Selection, Unsupported
from hub.graphql.trade.fields import CategoryGuard

# Async fields the compiled path resolves (through their own resolvers, batched by the
# request's loaders): an order's linked documents. Every other async field falls back.
ASYNC_FIELDS = frozenset(
    {("Order", "payment"), ("Order", "receipt"), ("Order", "waybill"), ("Order", "inventory")}
)
GrantShape = tuple[frozenset[Any], bool, frozenset[str] | None] | None


class Kind(Enum):
    """How a step produces its value."""

    LEAF = "leaf"  # a scalar or enum (or a list of them)
    OBJECT = "object"  # an object (or a list of them), planned in turn
    ASYNC_OBJECT = "async"  # an object its async resolver loads (see ASYNC_FIELDS)
    TYPENAME = "typename"
    FORBIDDEN = "forbidden"  # null and a FORBIDDEN error, where strawberry writes it
    ASYNC_FORBIDDEN = "async forbidden"  # the same for an async field: after the sync ones


@dataclass(frozen=True)
class Step:
    """One response key of a planned selection."""

    key: str
    kind: Kind
    get: Callable[..., Any]  # source → value (ASYNC_OBJECT: (source, info) → awaitable)
    nullable: bool
    is_list: bool
    item_nullable: bool
    serialize: Callable[[Any], Any] | None  # leaves
    child: Selection | None  # objects
    child_type: str | None
    # A value of exactly this type is its own serialisation (String: a str, Boolean: a
    # bool, as graphql-core's serialisers return them), so the walk skips the call.
    same: type | None = None
    # FORBIDDEN steps: the exception strawberry's guard raises, and the field's nodes.
    refusal: Category | None = None
    nodes: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Plan:
    """The steps of one selection on one type under one grant shape."""

    steps: tuple[Step, ...]


def grant_shape(grant: Grant | None) -> GrantShape:
    """What of a grant a plan depends on (not the consent it came from)."""
    if grant is None:
        return None
    return (grant.categories, grant.personal_in_clear, grant.personal)


def _unwrap(type_: GraphQLOutputType) -> tuple[bool, bool, bool, Any]:
    """(nullable, is_list, item_nullable, named type) of a field's type."""
    nullable = not isinstance(type_, GraphQLNonNull)
    inner: Any = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        item: Any = inner.of_type
        item_nullable = not isinstance(item, GraphQLNonNull)
        item = item.of_type if isinstance(item, GraphQLNonNull) else item
        if isinstance(item, GraphQLList):
            raise Unsupported("lists of lists")
        return nullable, True, item_nullable, item
    return nullable, False, True, inner


def _same(named: Any) -> type | None:
    if named is GraphQLString:
        return str
    if named is GraphQLBoolean:
        return bool
    return None


def _leaf_serializer(named: Any) -> Callable[[Any], Any]:
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return named.serialize
    raise Unsupported(f"type {named}")


def _guard(field: StrawberryField) -> CategoryGuard | None:
    if field.permission_classes:
        raise Unsupported("permission classes")
    guards = []
    for extension in field.extensions:
        # Exactly the per-field guard: ListGuard decides from the parent node's lists.
        if type(extension) is not CategoryGuard:
            raise Unsupported(f"field extension {type(extension).__name__}")
        guards.append(extension)
    if len(guards) > 1:
        raise Unsupported("several guards")
    return guards[0] if guards else None


def _getter(type_name: str, field: StrawberryField) -> tuple[Callable[..., Any], bool]:
    """The function computing a field's value from its source, and whether it is async."""
    resolver = field.base_resolver
    if resolver is None:
        return operator.attrgetter(field.python_name), False
    if resolver.arguments or resolver.root_parameter is not None:
        raise Unsupported("resolver arguments")
    if resolver.self_parameter is None:
        raise Unsupported("resolver without self")
    func: Callable[..., Any] = resolver.wrapped_func  # type: ignore[assignment]  # a plain function here
    if resolver.is_async:
        if (type_name, field.python_name) not in ASYNC_FIELDS or resolver.info_parameter is None:
            raise Unsupported(f"async field {type_name}.{field.python_name}")
        info_name = resolver.info_parameter.name
        return (lambda source, info: func(source, **{info_name: info})), True
    if resolver.info_parameter is not None:
        raise Unsupported("resolver needs info")
    return func, False


class Planner:
    """Plans of one schema, cached by (selection, type, grant shape)."""

    def __init__(self, schema: Schema) -> None:
        self._schema = schema
        self._plans: dict[tuple[int, str, GrantShape], Plan] = {}
        self._fields: dict[str, dict[str, StrawberryField]] = {}

    def strawberry_fields(self, type_name: str) -> dict[str, StrawberryField]:
        """A type's strawberry fields by GraphQL name."""
        fields = self._fields.get(type_name)
        if fields is None:
            definition = getattr(
                self._schema.schema_converter.type_map.get(type_name), "definition", None
            )
            if definition is None or not hasattr(definition, "fields"):
                raise Unsupported(f"type {type_name}")
            converter = self._schema.config.name_converter
            fields = {converter.get_graphql_name(f): f for f in definition.fields}
            self._fields[type_name] = fields
        return fields

    def plan(self, selections: Selection, type_name: str, grant: Grant | None) -> Plan:
        """The plan of `selections`' children on `type_name` under `grant`."""
        key = (selections.id, type_name, grant_shape(grant))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._build(selections, type_name, grant)
            if len(self._plans) > 4096:  # many documents × grant shapes: start afresh
                self._plans.clear()
            self._plans[key] = plan
        return plan

    def check(self, selections: Selection, type_name: str, grant: Grant) -> None:
        """Plans the whole tree under `grant` (raises Unsupported for what it cannot run),
        before any row is read: a document that would fall back costs no statement."""
        for step in self.plan(selections, type_name, grant).steps:
            if step.child is not None and step.child_type is not None:
                self.check(step.child, step.child_type, grant)

    def _build(self, selections: Selection, type_name: str, grant: Grant | None) -> Plan:
        graphql_type = self._schema._schema.type_map.get(type_name)
        if not isinstance(graphql_type, GraphQLObjectType):
            raise Unsupported(f"type {type_name}")
        fields = self.strawberry_fields(type_name)
        steps = []
        for selection in selections.children or ():
            if selection.node.arguments:
                raise Unsupported("arguments below the root")
            if selection.name == "__typename":
                steps.append(
                    Step(
                        selection.key,
                        Kind.TYPENAME,
                        lambda _s, n=type_name: n,
                        False,
                        False,
                        False,
                        None,
                        None,
                        None,
                    )
                )
                continue
            field = fields.get(selection.name)
            graphql_field = graphql_type.fields.get(selection.name)
            if field is None or graphql_field is None or graphql_field.args:
                raise Unsupported(f"field {type_name}.{selection.name}")
            steps.append(self._step(type_name, selection, field, graphql_field.type, grant))
        return Plan(tuple(steps))

    def _step(
        self,
        type_name: str,
        selection: Selection,
        field: StrawberryField,
        type_: GraphQLOutputType,
        grant: Grant | None,
    ) -> Step:
        guard = _guard(field)
        get, is_async = _getter(type_name, field)
        if guard is not None:
            if grant is None:
                raise Unsupported("a guarded field on a node without a grant")
            if not guard.allows(grant):
                if not isinstance(type_, GraphQLNonNull):
                    # strawberry's guard raises before the resolver runs: null, an error.
                    return Step(
                        selection.key,
                        Kind.ASYNC_FORBIDDEN if is_async else Kind.FORBIDDEN,
                        get,
                        True,
                        False,
                        True,
                        None,
                        None,
                        None,
                        refusal=guard.category,
                        nodes=selection.nodes,
                    )
                raise Unsupported("forbidden non-null field")
            if guard.masks(grant):
                if is_async:
                    raise Unsupported("masked async field")
                raw = get
                get = lambda source, _g=grant, _f=guard.finish, _r=raw: _f(_g, _r(source))  # noqa: E731
        nullable, is_list, item_nullable, named = _unwrap(type_)
        if isinstance(named, GraphQLObjectType):
            if selection.children is None:
                raise Unsupported("object without selection")
            if is_async and is_list:
                raise Unsupported("async list")
            kind = Kind.ASYNC_OBJECT if is_async else Kind.OBJECT
            return Step(
                selection.key,
                kind,
                get,
                nullable,
                is_list,
                item_nullable,
                None,
                selection,
                named.name,
            )
        if is_async or selection.children is not None:
            raise Unsupported("async leaf")
        return Step(
            selection.key,
            Kind.LEAF,
            get,
            nullable,
            is_list,
            item_nullable,
            _leaf_serializer(named),
            None,
            None,
            None if is_list else _same(named),
        )
