"""Running a prepared document: checks as strawberry makes them, then the planned walk.

`CompiledExecution.run` answers None whenever strawberry must run the request instead
(see the package docstring); otherwise the response's `data` and the context whose
access recorder holds what was returned (the endpoint writes its access event exactly
as for strawberry's result).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLObjectType,
    Undefined,
    specified_rules,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.federation import Schema
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.arguments import convert_arguments

from hub.access.policy import Category, Grant
from hub.config import Settings
from hub.graphql.compiled.document import Prepared, PreparedDocuments, Selection, Unsupported
from hub.graphql.compiled.plan import Kind, Planner, Step, _unwrap
from hub.graphql.context import Context
from hub.graphql.limits import NoIntrospection, QueryLimits, exceeds_token_limit, limits_rule
from hub.graphql.trade.fields import CategoryForbidden

# A grant allowing every field: plans under it fail only for what the walk cannot run.
EVERYTHING = Grant(frozenset(Category), personal_in_clear=True)
Path = tuple[str | int, ...]


@dataclass
class Walk:
    """What a walk collects besides the data: async fields to resolve, errors."""

    pending: list[tuple[dict[str, Any], Step, Any, Path]] = field(default_factory=list)
    errors: list[GraphQLError] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """A compiled answer: the response's data, its FORBIDDEN errors, and the context that
    produced them."""

    context: Context
    data: dict[str, Any]
    errors: list[GraphQLError]


def _forbidden(step: Step, path: Path) -> GraphQLError:
    """The error graphql-core makes of the guard's CategoryForbidden at this field."""
    assert step.refusal is not None
    refusal = CategoryForbidden(step.refusal)
    return GraphQLError(
        str(refusal), nodes=list(step.nodes), path=list(path), original_error=refusal
    )


def _leaf(step: Step, value: Any) -> Any:
    if value is None:
        if not step.nullable:
            raise Unsupported("null in a non-null field")  # strawberry's error to write
        return None
    serialize = step.serialize
    assert serialize is not None
    if step.is_list:
        return [_serialized(serialize, v, step.item_nullable) for v in _items(value)]
    return _serialized(serialize, value, True)


def _serialized(serialize: Callable[[Any], Any], value: Any, nullable: bool) -> Any:
    if value is None:
        if not nullable:
            raise Unsupported("null in a non-null list item")
        return None
    serialized = serialize(value)
    if serialized is Undefined or serialized is None:
        raise Unsupported("a value the scalar does not serialise")
    return serialized


def _items(value: Any) -> Iterable[Any]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise Unsupported("a list field that is not a list")
    return value


class CompiledExecution:
    """The compiled path of one schema (process-wide: documents and plans are cached)."""

    def __init__(self, *, schema: Schema, settings: Settings) -> None:
        self.schema = schema
        self.planner = Planner(schema)
        self.limits = QueryLimits.from_settings(settings)
        rules: list[Any] = [
            *specified_rules,
            MaybeNullValidationRule,
            OneOfInputValidationRule,
        ]
        if settings.is_production:
            rules.append(NoIntrospection)
        self._rules = tuple(rules)
        self.documents = PreparedDocuments(accept=self._statically_valid)

    def _statically_valid(self, query: str, prepared: Prepared) -> bool:
        """True when strawberry would find nothing wrong with the document before
        execution, whatever the variables (the limits, which read them, run per request)."""
        if exceeds_token_limit(query, self.limits.max_tokens):
            return False
        return not validate(self.schema._schema, prepared.document, self._rules)

    async def run(
        self,
        *,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        make_context: Callable[[], Context],
    ) -> Outcome | None:
        """The compiled answer, or None when strawberry must answer instead."""
        try:
            return await self._run(
                query=query,
                operation_name=operation_name,
                variables=variables,
                make_context=make_context,
            )
        except Exception:
            # Whatever went wrong here, strawberry meets it too and answers it its way.
            return None

    async def _run(
        self,
        *,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        make_context: Callable[[], Context],
    ) -> Outcome | None:
        prepared = self.documents.get(query, operation_name)
        if prepared is None:
            return None
        schema = self.schema._schema
        if validate(schema, prepared.document, [limits_rule(self.limits, variables or {})]):
            return None
        coerced = get_variable_values(
            schema, prepared.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            return None  # strawberry reports the coercion errors
        root = prepared.root
        query_type = schema.query_type
        assert query_type is not None
        graphql_field = query_type.fields[root.name]
        root_field = self.planner.strawberry_fields(query_type.name)[root.name]
        try:
            raw = get_argument_values(graphql_field, root.node, coerced)
        except GraphQLError:
            return None
        kwargs = convert_arguments(
            raw,
            root_field.arguments,
            scalar_registry=self.schema.schema_converter.scalar_registry,
            config=self.schema.config,
        )
        resolver = root_field.base_resolver
        assert resolver is not None and resolver.info_parameter is not None
        nullable, is_list, _, named = _unwrap(graphql_field.type)
        assert isinstance(named, GraphQLObjectType) and not is_list
        try:
            # Every field exists and has a resolver the walk can call (whatever the grant).
            self.planner.check(root, named.name, EVERYTHING)
        except Unsupported:
            return None
        context = make_context()
        # Resolvers read only `info.context` (the trade graph's resolvers and loaders).
        info = SimpleNamespace(context=context)
        try:
            viewer = await context.viewer()
            if viewer.department and not viewer.consents and not viewer.enterprise:
                # A department's grant is the same on every record: a forbidden field is
                # known before any row is read.
                uniform = viewer.grant_for_order(ebp_code="", ebc_code="", app_time="")
                assert uniform is not None
                self.planner.check(root, named.name, uniform)
            value = await resolver.wrapped_func(  # type: ignore[operator]  # a plain function
                None, **{resolver.info_parameter.name: info}, **kwargs
            )
            if value is None:
                if not nullable:
                    raise Unsupported("null root")
                return Outcome(context=context, data={root.key: None}, errors=[])
            walk = Walk()
            data = {root.key: self._object(root, named.name, value, (root.key,), walk)}
            await self._resolve_pending(walk, info)
        except Exception:
            # A refused argument, a forbidden field, a database error: strawberry answers,
            # on a fresh context (this one's access record is discarded unread).
            await context.close()
            return None
        return Outcome(context=context, data=data, errors=walk.errors)

    def _object(
        self, selection: Selection, type_name: str, source: Any, path: Path, walk: Walk
    ) -> Any:
        plan = self.planner.plan(selection, type_name, getattr(source, "grant", None))
        out: dict[str, Any] = {}
        for step in plan.steps:
            kind = step.kind
            if kind is Kind.LEAF:
                value = step.get(source)
                out[step.key] = (
                    value if value is not None and type(value) is step.same else _leaf(step, value)
                )
            elif kind is Kind.OBJECT:
                out[step.key] = self._objects(step, step.get(source), (*path, step.key), walk)
            elif kind is Kind.ASYNC_OBJECT or kind is Kind.ASYNC_FORBIDDEN:
                out[step.key] = None  # keeps the key's place; filled in below
                walk.pending.append((out, step, source, (*path, step.key)))
            elif kind is Kind.FORBIDDEN:
                out[step.key] = None
                walk.errors.append(_forbidden(step, (*path, step.key)))
            else:
                out[step.key] = step.get(source)
        return out

    def _objects(self, step: Step, value: Any, path: Path, walk: Walk) -> Any:
        if value is None:
            if not step.nullable:
                raise Unsupported("null in a non-null field")
            return None
        assert step.child is not None and step.child_type is not None
        if not step.is_list:
            return self._object(step.child, step.child_type, value, path, walk)
        completed: list[Any] = []
        for index, item in enumerate(_items(value)):
            if item is None:
                if not step.item_nullable:
                    raise Unsupported("null in a non-null list item")
                completed.append(None)
            else:
                completed.append(
                    self._object(step.child, step.child_type, item, (*path, index), walk)
                )
        return completed

    async def _resolve_pending(self, walk: Walk, info: Any) -> None:
        """Runs the linked documents' resolvers together, so that their loaders batch
        (one statement per kind), and fills in their values. As in graphql-core, these
        run after every synchronous field, in the order the walk met them: a forbidden
        one's error is written at its place in that order."""
        pending, walk.pending = walk.pending, []
        if not pending:
            return
        calls = []
        for _, step, source, path in pending:
            if step.kind is Kind.ASYNC_FORBIDDEN:
                walk.errors.append(_forbidden(step, path))
            else:
                calls.append(step.get(source, info))
        values = iter(await asyncio.gather(*calls))
        refusing: set[str] = set()
        for out, step, _, path in pending:
            if step.kind is Kind.ASYNC_OBJECT:
                before = len(walk.errors)
                out[step.key] = self._objects(step, next(values), path, walk)
                if len(walk.errors) > before:
                    refusing.add(step.key)
        if len(refusing) > 1:
            # Errors inside documents of two kinds: graphql-core writes them in the order
            # its loaders resolve, which this walk does not promise to follow.
            raise Unsupported("forbidden fields inside two kinds of linked documents")
        if walk.pending:
            raise Unsupported("async fields below async fields")
