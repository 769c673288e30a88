"""Which documents the compiled path runs: one query operation, one supported root field,
plain fields with aliases (no fragments, no directives); their merged selections.

A document is prepared once per (text, operation name) and kept; `None` (fall back to
strawberry) is kept too, so an unsupported document costs one dictionary lookup.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
    parse,
)

# The root fields the compiled path runs (Query field names).
ROOT_FIELDS = frozenset({"orders", "order"})
_ids = itertools.count()


class Unsupported(Exception):
    """The compiled path does not run this; strawberry does."""


@dataclass(frozen=True, eq=False)
class Selection:
    """One response key of a selection set: the field, its first node (arguments), and
    the merged sub-selections of every node with that key (as graphql-core merges them)."""

    key: str
    name: str
    node: FieldNode
    children: tuple[Selection, ...] | None
    # A process-unique number: plans are cached by it (selections live as long as their
    # prepared document, which is cached for good).
    id: int
    # Every node with this key: an error on the field names each one's location.
    nodes: tuple[FieldNode, ...] = ()


@dataclass(frozen=True, eq=False)
class Prepared:
    """A document the compiled path runs."""

    document: DocumentNode
    operation: OperationDefinitionNode
    root: Selection


def merge(selection_sets: Iterable[SelectionSetNode]) -> tuple[Selection, ...]:
    """The fields of selection sets by response key, in first-seen order; raises
    Unsupported for fragments and directives."""
    grouped: OrderedDict[str, list[FieldNode]] = OrderedDict()
    for selection_set in selection_sets:
        for node in selection_set.selections:
            if not isinstance(node, FieldNode):
                raise Unsupported("fragments")
            if node.directives:
                raise Unsupported("directives")
            key = node.alias.value if node.alias else node.name.value
            grouped.setdefault(key, []).append(node)
    merged = []
    for key, nodes in grouped.items():
        sets = [n.selection_set for n in nodes if n.selection_set is not None]
        children = merge(sets) if sets else None
        merged.append(
            Selection(key, nodes[0].name.value, nodes[0], children, next(_ids), tuple(nodes))
        )
    return tuple(merged)


def _prepare(query: str, operation_name: str | None) -> Prepared | None:
    try:
        # With locations (unlike the shared parser cache): errors name them.
        document = parse(query)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    if operation.directives or any(v.directives for v in operation.variable_definitions or ()):
        return None
    try:
        roots = merge([operation.selection_set])
    except Unsupported:
        return None
    if len(roots) != 1 or roots[0].name not in ROOT_FIELDS or roots[0].children is None:
        return None
    return Prepared(document=document, operation=operation, root=roots[0])


class PreparedDocuments:
    """Prepared documents by (text, operation name); small documents only, like the parser
    cache they build on (a huge text is never kept as a key)."""

    MAX_CHARS = 16 * 1024

    def __init__(self, *, accept: Callable[[str, Prepared], bool], size: int = 512) -> None:
        self._accept = accept  # the static validation: a document it refuses falls back
        self._size = size
        self._cache: OrderedDict[tuple[str, str | None], Prepared | None] = OrderedDict()

    def get(self, query: str, operation_name: str | None) -> Prepared | None:
        """The prepared document, or None when strawberry must run it."""
        if len(query) > self.MAX_CHARS:
            return None
        key = (query, operation_name)
        try:
            prepared = self._cache[key]
        except KeyError:
            prepared = _prepare(query, operation_name)
            if prepared is not None and not self._accept(query, prepared):
                prepared = None
            self._cache[key] = prepared
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
            return prepared
        self._cache.move_to_end(key)
        return prepared
