"""Query limits, checked before anything executes, and the production-only switches.

Each refusal is a GraphQL error with its own `extensions.code`; a refused document never
reaches a resolver, so nothing is read, written or logged as an access. The token count
runs before parsing (a huge document costs nothing to refuse); depth, aliases, directives,
root fields and cost are one validation rule that walks the document once, expanding
fragments with memoisation so that fragment "bombs" cost a walk of their text.

Cost is computed from resolved values (variables coerced as the executor will coerce
them, their defaults when omitted, argument defaults), so `first: $n` costs what it will
fetch however `$n` is spelled. Every list argument, and every list inside an input
object, has a maximum length in `LIST_CAPS` (LIST_TOO_LONG); a test walks the schema so
that a new list argument cannot ship without one. `declareBatch` over its 1,000 records is
refused here too: coercing (and answering) 100,000 tiny inputs that fit in the body limit
would cost seconds before the service could say BATCH_TOO_LARGE.
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
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    Node,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    ValidationContext,
    ValidationRule,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    is_input_type,
)
from graphql.error import GraphQLSyntaxError
from graphql.language import Lexer, Source, TokenKind
from graphql.language.visitor import BREAK
from graphql.utilities import coerce_input_value, type_from_ast, value_from_ast
from strawberry.extensions import AddValidationRules, SchemaExtension

from hub.access.policy import Category
from hub.config import Settings
from hub.declarations.service import MAX_BATCH
from hub.documents.service import MAX_PER_CALL as MAX_DOCUMENTS
from hub.events.kinds import EventKind
from hub.graphql.errors import HideSuggestions
from hub.graphql.node import MAX_NODES
from hub.graphql.pagination import DEFAULT_FIRST, MAX_FIRST
from hub.stats.service import Dimension

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
TOO_MANY_DIRECTIVES = "TOO_MANY_DIRECTIVES"
TOO_MANY_ROOT_FIELDS = "TOO_MANY_ROOT_FIELDS"
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
LIST_TOO_LONG = "LIST_TOO_LONG"

# The most entities one `_entities` call resolves: a page, as for every connection.
MAX_ENTITIES = MAX_FIRST
# Maximum length of every list argument (`Type.field(argument)`) and list field of an
# input object (`InputType.field`). A list that is not here gets DEFAULT_LIST_CAP, and
# tests/security/test_f05_cost_limits.py fails until it is added.
LIST_CAPS: dict[str, int] = {
    "Query._entities(representations)": MAX_ENTITIES,
    "Query.statistics(groupBy)": len(Dimension),
    "Query.nodes(ids)": MAX_NODES,
    "Mutation.declareBatch(inputs)": MAX_BATCH,
    "Mutation.registerTrustedDocuments(documents)": MAX_DOCUMENTS,
    # Event kinds: each kind at most once is all a caller can mean.
    "Subscription.events(kinds)": len(EventKind),
    "RegisterWebhookInput.kinds": len(EventKind),
    "GrantConsentInput.categories": len(Category),
}
DEFAULT_LIST_CAP = 100


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
class _VariableValues(Mapping[str, Any]):
    """An operation's variables as the executor will see them: coerced, defaults applied.

    Cost is computed from these, not from the request's raw JSON: `first: $n` with `$n`
    omitted (its default applies) or sent as `500.0` (an Int once coerced) must cost what
    it fetches. Values are coerced on demand, only for the arguments the limits read.
    """

    schema: GraphQLSchema
    definitions: Mapping[str, VariableDefinitionNode]
    raw: Mapping[str, Any]
    _coerced: dict[str, Any] = field(default_factory=dict)

    def _value(self, name: str) -> Any:
        if name not in self._coerced:
            self._coerced[name] = self._coerce(name)
        return self._coerced[name]

    def _coerce(self, name: str) -> Any:
        definition = self.definitions.get(name)
        if definition is None:
            return Undefined
        type_ = type_from_ast(self.schema, definition.type)
        if type_ is None or not is_input_type(type_):
            return Undefined
        if name in self.raw:
            # Undefined when it does not coerce: the executor refuses it before any resolver.
            return coerce_input_value(self.raw[name], type_)
        if definition.default_value is not None:
            return value_from_ast(definition.default_value, type_)
        return Undefined

    def source(self, name: str) -> tuple[bool, Any]:
        """(True, raw JSON) when the request sent the variable, else (False, default AST)."""
        if name in self.raw:
            return True, self.raw[name]
        definition = self.definitions.get(name)
        return False, definition.default_value if definition is not None else None

    def __getitem__(self, name: str) -> Any:
        value = self._value(name)
        if value is Undefined:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.definitions)

    def __len__(self) -> int:
        return len(self.definitions)


@dataclass
class _Walker:
    """Measures one operation's selection sets against the schema; fragments once each."""

    context: ValidationContext
    variables: _VariableValues
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
        if definition is not None:
            self._check_lists(node, parent, definition)
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
        multiplier = self._result_size(node, definition)
        return own + _Shape(
            depth=1 + inner.depth,
            aliases=inner.aliases,
            directives=inner.directives,
            cost=1 + multiplier * inner.cost,
        )

    def _result_size(self, node: FieldNode, definition: GraphQLField | None) -> int:
        """How many objects the field can return, each costing what its selection costs."""
        if definition is None:
            return 1
        if node.name.value == "_entities":
            # One entity per representation, whatever the selection.
            return max(self._list_length(node, "representations"), 1)
        if "first" not in definition.args:
            return 1
        value = self._argument(node, definition, "first")
        if not isinstance(value, int) or isinstance(value, bool):
            return DEFAULT_FIRST  # what the resolvers fetch when `first` is null
        return min(max(value, 0), MAX_FIRST)

    def _argument(self, node: FieldNode, definition: GraphQLField, name: str) -> Any:
        """The argument's value as the resolver will receive it (None when unknown)."""
        argument = definition.args[name]
        for arg in node.arguments or ():
            if arg.name.value == name:
                # A lazy mapping (variables resolve on lookup; a missing one is Undefined):
                # graphql-core only looks names up, which its dict annotation understates.
                value = value_from_ast(arg.value, argument.type, self.variables)  # type: ignore[arg-type]
                return None if value is Undefined else value
        return None if argument.default_value is Undefined else argument.default_value

    def _list_length(self, node: FieldNode, name: str) -> int:
        for arg in node.arguments or ():
            if arg.name.value == name:
                return _length(arg.value, self.variables)
        return 0

    # -- list caps ---------------------------------------------------------------------

    def _check_lists(
        self, node: FieldNode, parent: GraphQLNamedType | None, definition: GraphQLField
    ) -> None:
        for arg in node.arguments or ():
            argument = definition.args.get(arg.name.value)
            if argument is None or parent is None:
                continue  # validation reports unknown arguments
            key = f"{parent.name}.{node.name.value}({arg.name.value})"
            self._check_node(arg.value, argument.type, key, node)

    def _check_node(self, value: ValueNode, type_: Any, key: str, node: FieldNode) -> None:
        if isinstance(value, VariableNode):
            sent, source = self.variables.source(value.name.value)
            if sent:
                self._check_raw(source, type_, key, node)
            elif source is not None:
                self._check_node(source, type_, key, node)
            return
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            items = list(value.values) if isinstance(value, ListValueNode) else [value]
            if self._cap(key, len(items), node):
                for item in items:
                    self._check_node(item, type_.of_type, key, node)
        elif isinstance(type_, GraphQLInputObjectType) and isinstance(value, ObjectValueNode):
            for member in value.fields:
                field_def = type_.fields.get(member.name.value)
                if field_def is not None:
                    member_key = f"{type_.name}.{member.name.value}"
                    self._check_node(member.value, field_def.type, member_key, node)

    def _check_raw(self, value: Any, type_: Any, key: str, node: FieldNode) -> None:
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            items = value if isinstance(value, list) else [value]
            if self._cap(key, len(items), node):
                for item in items:
                    self._check_raw(item, type_.of_type, key, node)
        elif isinstance(type_, GraphQLInputObjectType) and isinstance(value, dict):
            for name, member in value.items():
                field_def = type_.fields.get(name)
                if field_def is not None:
                    self._check_raw(member, field_def.type, f"{type_.name}.{name}", node)

    def _cap(self, key: str, length: int, node: FieldNode) -> bool:
        """Reports a list over its cap; True when it is within (and worth walking into)."""
        cap = LIST_CAPS.get(key, DEFAULT_LIST_CAP)
        if length <= cap:
            return True
        self.errors.append(
            limit_error(
                LIST_TOO_LONG,
                f"{key} holds {length} items; at most {cap} are allowed",
                [node],
            )
        )
        return False


def _length(value: ValueNode, variables: _VariableValues) -> int:
    """The number of items a list argument holds (a single value counts as one)."""
    if isinstance(value, VariableNode):
        sent, source = variables.source(value.name.value)
        if sent:
            return len(source) if isinstance(source, list) else int(source is not None)
        return 0 if source is None else _length(source, variables)
    if isinstance(value, ListValueNode):
        return len(value.values)
    return 0 if isinstance(value, NullValueNode) else 1


def _check_operation(
    walker: _Walker, operation: OperationDefinitionNode, limits: QueryLimits
) -> None:
    errors_before = len(walker.errors)
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
    if len(walker.errors) > errors_before:
        return  # a list over its cap: its cost would be a guess, and it is refused anyway
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
            for definition in node.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                # One walker per operation: its variables (and their defaults) are its own,
                # so a fragment's measure cannot be shared between operations.
                values = _VariableValues(
                    schema=self.context.schema,
                    definitions={
                        v.variable.name.value: v for v in definition.variable_definitions or ()
                    },
                    raw=variables,
                )
                walker = _Walker(context=self.context, variables=values, fragments=fragments)
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
