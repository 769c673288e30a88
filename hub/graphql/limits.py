"""Query limits, checked before anything executes, and the production-only switches.

Each refusal is a GraphQL error with its own `extensions.code`; a refused document never
reaches a resolver, so nothing is read, written or logged as an access. The token count
runs before parsing (a huge document costs nothing to refuse); depth, aliases, directives,
root fields and cost are one validation rule that walks the document once, expanding
fragments with memoisation so that fragment "bombs" cost a walk of their text.

`declareBatch` over its maximum is deliberately not refused here: the design gives
caller-fixable mutation errors in the payload (BATCH_TOO_LARGE per record, from the
service), and the body-size limit already bounds how many inputs can be coerced.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from graphql.error import GraphQLSyntaxError
from graphql.language import Lexer, Source, TokenKind
from graphql.language.visitor import BREAK
from strawberry.extensions import AddValidationRules, SchemaExtension

from hub.config import Settings
from hub.graphql.errors import HideSuggestions
from hub.graphql.pagination import DEFAULT_FIRST, MAX_FIRST

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
TOO_MANY_DIRECTIVES = "TOO_MANY_DIRECTIVES"
TOO_MANY_ROOT_FIELDS = "TOO_MANY_ROOT_FIELDS"
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"


@dataclass(frozen=True)
class QueryLimits:
    """The configured maxima (see Settings: HUB_MAX_*)."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    max_directives: int
    max_root_fields: int
    max_cost: int

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        """The limits configured in `settings`."""
        return cls(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_directives=settings.max_directives,
            max_root_fields=settings.max_root_fields,
            max_cost=settings.max_query_cost,
        )


def limit_error(code: str, message: str, nodes: list[Node] | None = None) -> GraphQLError:
    """A refusal the caller can fix by sending a smaller document."""
    return GraphQLError(message, nodes=nodes, extensions={"code": code})


# --- tokens -----------------------------------------------------------------------------


def exceeds_token_limit(query: str, max_tokens: int) -> bool:
    """True when `query` has more than `max_tokens` lexical tokens (stops counting there)."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            count += 1
            if count > max_tokens:
                return True
    except GraphQLSyntaxError:
        return False  # the parser reports the syntax error itself
    return False


class TokenLimit(SchemaExtension):
    """Refuses documents with too many tokens before the parser builds anything."""

    def __init__(self, *, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query
        if query and exceeds_token_limit(query, self.max_tokens):
            # Raised (not returned): strawberry turns it into the operation's only error.
            raise limit_error(
                TOO_MANY_TOKENS, f"the document has more than {self.max_tokens} tokens"
            )
        yield


# --- depth, aliases, directives, root fields, cost --------------------------


@dataclass(frozen=True)
class _Shape:
    """What a selection set amounts to once its fragments are expanded."""

    fields: int = 0  # fields directly in the set (the root fields, for an operation)
    depth: int = 0  # fields on the longest path down
    aliases: int = 0
    directives: int = 0
    cost: int = 0

    def __add__(self, other: _Shape) -> _Shape:
        return _Shape(
            fields=self.fields + other.fields,
            depth=max(self.depth, other.depth),
            aliases=self.aliases + other.aliases,
            directives=self.directives + other.directives,
            cost=self.cost + other.cost,
        )


@dataclass
class _Walker:
    """Measures selection sets against the schema; fragments are measured once each."""

    context: ValidationContext
    variables: Mapping[str, Any]
    fragments: dict[str, FragmentDefinitionNode]
    errors: list[GraphQLError] = field(default_factory=list)
    _measured: dict[str, _Shape] = field(default_factory=dict)
    _in_progress: set[str] = field(default_factory=set)

    def selection_set(self, node: SelectionSetNode, parent: GraphQLNamedType | None) -> _Shape:
        total = _Shape()
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                inner_type = parent
                if selection.type_condition is not None:
                    inner_type = self.context.schema.get_type(selection.type_condition.name.value)
                inner = self.selection_set(selection.selection_set, inner_type)
                total += inner + _Shape(directives=len(selection.directives or ()))
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
                total += _Shape(directives=len(selection.directives or ()))
        return total

    def fragment(self, name: str) -> _Shape:
        if name in self._measured:
            return self._measured[name]
        definition = self.fragments.get(name)
        if definition is None or name in self._in_progress:
            return _Shape()  # unknown or cyclic: validation reports it; count nothing twice
        self._in_progress.add(name)
        parent = self.context.schema.get_type(definition.type_condition.name.value)
        shape = self.selection_set(definition.selection_set, parent)
        shape += _Shape(directives=len(definition.directives or ()))
        self._in_progress.discard(name)
        self._measured[name] = shape
        return shape

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> _Shape:
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(node.name.value)
        inner = _Shape()
        if node.selection_set is not None:
            child = get_named_type(definition.type) if definition is not None else None
            inner = self.selection_set(node.selection_set, child)
        own = _Shape(
            fields=1,
            aliases=1 if node.alias is not None else 0,
            directives=len(node.directives or ()),
        )
        if node.name.value.startswith("__"):
            # Introspection has its own fixed shape (GraphiQL's query is 13 levels deep);
            # production refuses it altogether, so it never counts towards depth or cost.
            return own + _Shape(aliases=inner.aliases, directives=inner.directives)
        multiplier = self._page_size(node, definition)
        return own + _Shape(
            depth=1 + inner.depth,
            aliases=inner.aliases,
            directives=inner.directives,
            cost=1 + multiplier * inner.cost,
        )

    def _page_size(self, node: FieldNode, definition: Any) -> int:
        # A connection returns up to `first` nodes, each costing what its selection costs.
        if definition is None or "first" not in definition.args:
            return 1
        value = self._argument_value(node, "first")
        if not isinstance(value, int) or isinstance(value, bool):
            default = definition.args["first"].default_value
            value = default if isinstance(default, int) else DEFAULT_FIRST
        return min(max(value, 1), MAX_FIRST)

    def _argument_value(self, node: FieldNode, name: str) -> Any:
        for arg in node.arguments or ():
            if arg.name.value != name:
                continue
            if isinstance(arg.value, IntValueNode):
                return int(arg.value.value)
            if isinstance(arg.value, VariableNode):
                return self.variables.get(arg.value.name.value)
        return None


def _check_operation(
    walker: _Walker, operation: OperationDefinitionNode, limits: QueryLimits
) -> None:
    root = walker.context.schema.get_root_type(operation.operation)
    shape = walker.selection_set(operation.selection_set, root)
    directives = shape.directives + len(operation.directives or ())
    directives += sum(len(v.directives or ()) for v in operation.variable_definitions or ())
    name = f"operation '{operation.name.value}'" if operation.name else "the operation"
    checks = (
        (shape.depth, limits.max_depth, QUERY_TOO_DEEP, "is {} levels deep"),
        (shape.aliases, limits.max_aliases, TOO_MANY_ALIASES, "uses {} aliases"),
        (directives, limits.max_directives, TOO_MANY_DIRECTIVES, "uses {} directives"),
        (shape.fields, limits.max_root_fields, TOO_MANY_ROOT_FIELDS, "selects {} root fields"),
        (shape.cost, limits.max_cost, QUERY_TOO_COSTLY, "costs {}"),
    )
    for value, maximum, code, what in checks:
        if value > maximum:
            message = f"{name} {what.format(value)}; at most {maximum} allowed"
            walker.errors.append(limit_error(code, message, [operation]))


def limits_rule(limits: QueryLimits, variables: Mapping[str, Any]) -> type[ValidationRule]:
    """A validation rule enforcing `limits`, reading `first` and list sizes from `variables`."""

    class QueryLimitsRule(ValidationRule):
        def enter_document(self, node: Any, *_: Any) -> object:
            fragments = {
                d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
            }
            walker = _Walker(context=self.context, variables=variables, fragments=fragments)
            for definition in node.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    _check_operation(walker, definition, limits)
            for error in walker.errors:
                self.report_error(error)
            return BREAK

    return QueryLimitsRule


class QueryLimitsExtension(SchemaExtension):
    """Adds the limits rule, built per operation because the cost depends on variables."""

    def __init__(self, *, limits: QueryLimits) -> None:
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        variables = self.execution_context.variables or {}
        rule = limits_rule(self.limits, variables if isinstance(variables, dict) else {})
        self.execution_context.validation_rules = (*self.execution_context.validation_rules, rule)
        yield


# --- production switches ----------------------------------------------------------------


class NoIntrospection(ValidationRule):
    """Refuses `__schema` and `__type` (`__typename` stays: clients rely on it)."""

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.name.value in ("__schema", "__type"):
            self.report_error(
                limit_error(
                    INTROSPECTION_DISABLED, "introspection is disabled on this server", [node]
                )
            )


ExtensionFactory = type[SchemaExtension] | Callable[[], SchemaExtension]


def schema_extensions(settings: Settings) -> list[ExtensionFactory]:
    """The extensions enforcing the limits (and, in production, the switches) of `settings`.

    Factories, not instances: strawberry builds each extension afresh per operation.
    """
    limits = QueryLimits.from_settings(settings)
    extensions: list[ExtensionFactory] = [
        functools.partial(TokenLimit, max_tokens=limits.max_tokens),
        functools.partial(QueryLimitsExtension, limits=limits),
    ]
    if settings.is_production:
        extensions.append(functools.partial(AddValidationRules, [NoIntrospection]))
        extensions.append(HideSuggestions)
    return extensions
