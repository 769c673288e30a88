"""Data categories in the standards: the `x-hub-category` annotation on every property.

A standard says of each property which data category it belongs to (one of
`hub.access.policy.Category`): `"buyerName": {"$ref": "...", "x-hub-category": "personal"}`.
The graph's field categories, the filtering of raw payloads, the statistics' dimensions and
exports all read them from here, so the category of a field is written once, in its
standard. JSON Schema 2020-12 ignores unknown keywords: the annotation changes no
validation, and the meta-schema accepts it.

Where an annotation goes (`read_categories` enforces it; publishing refuses the rest):
- every property under `properties` of an object schema, at the root, inside nested
  objects and array items, and inside `$defs` objects (also those of a document that
  validates no record itself, such as cbec.common), and every `additionalProperties` /
  `patternProperties` / `unevaluatedProperties` subschema (they declare the category of
  the properties they admit);
- a container property carries the category of the container (an order's `items`: goods);
  the array's item schema inherits it and each line property carries its own;
- the subschemas of `allOf`/`anyOf`/`oneOf`/`then`/`else`/`dependentSchemas` refine the
  properties declared beside them: a property they only constrain inherits its category (an
  annotation there must repeat it), a property they introduce must be annotated;
- `if`, `not`, `contains` and `propertyNames` are conditions and declare no data;
- nowhere else: an annotation on a `$defs` entry, an item schema or the root is refused,
  because the category belongs to the property (the same `money` definition is `order` on
  `goodsValue` and `tax` on `taxTotal`).

The result is a tree of `FieldCategories` that follows `$ref`s (inside the document and
into other published standards) and recursion.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from hub.access.policy import Category
from hub.paths import STANDARDS_DIR

__all__ = [
    "CATEGORY_KEYWORD",
    "CategoryIssue",
    "CategoryIssueCode",
    "FieldCategories",
    "category_changes",
    "read_categories",
    "shipped_categories",
    "shipped_category",
]

CATEGORY_KEYWORD = "x-hub-category"
_INTERNAL_BASE = "https://hub.invalid/standards"
_VALUES = ", ".join(c.value for c in Category)
# Subschemas that refine the instance in place (they may add properties, which then need
# an annotation, or constrain declared ones, which inherit theirs).
_REFINING_LISTS = ("allOf", "anyOf", "oneOf")
_REFINING_ONE = ("then", "else")
# Other-name declarations: they admit properties whose names the schema does not list.
_OTHERS = ("additionalProperties", "unevaluatedProperties")


class CategoryIssueCode(StrEnum):
    """Why a schema's category annotations are refused (StandardErrorCode has the same)."""

    UNANNOTATED_PROPERTY = "UNANNOTATED_PROPERTY"
    UNKNOWN_CATEGORY = "UNKNOWN_CATEGORY"
    CATEGORY_CONFLICT = "CATEGORY_CONFLICT"
    MISPLACED_CATEGORY = "MISPLACED_CATEGORY"
    CATEGORY_CHANGED = "CATEGORY_CHANGED"


@dataclass(frozen=True)
class CategoryIssue:
    """One refused annotation: code, plain message, JSON pointer into the schema."""

    code: CategoryIssueCode
    message: str
    pointer: str


@dataclass
class _Shape:
    """The children of an instance location; shared by the levels of a recursive schema."""

    properties: dict[str, FieldCategories] = field(default_factory=dict)
    others: FieldCategories | None = None
    items: FieldCategories | None = None


@dataclass(eq=False)
class FieldCategories:
    """The category of one instance location and of everything below it.

    `category` is None only at the root (a record is no property). `properties` holds the
    declared names, `others` the category of names admitted by `additionalProperties` /
    `patternProperties`, `items` the elements of an array (same category as the array).
    """

    category: Category | None
    shape: _Shape = field(default_factory=_Shape)

    @property
    def properties(self) -> dict[str, FieldCategories]:
        """Declared property names → their categories."""
        return self.shape.properties

    @property
    def items(self) -> FieldCategories | None:
        """The elements of an array at this location."""
        return self.shape.items

    @property
    def others(self) -> FieldCategories | None:
        """Properties admitted without being listed by name."""
        return self.shape.others

    def child(self, name: str) -> FieldCategories | None:
        """The node of a property (declared, or admitted as another name), or None."""
        return self.shape.properties.get(name) or self.shape.others

    def at(self, path: str) -> Category | None:
        """The category at a JSON pointer into an instance (`/items/0/price`), or None."""
        node: FieldCategories | None = self
        for raw in path.split("/")[1:] if path else []:
            if node is None:
                return None
            token = raw.replace("~1", "/").replace("~0", "~")
            if node.shape.items is not None and (token.isdigit() or token == "*"):
                node = node.shape.items
            else:
                node = node.child(token)
        return None if node is None else node.category

    def leaves(self, prefix: str = "") -> Iterator[tuple[str, Category]]:
        """(pointer, category) of every declared location below, arrays as `*`, once each."""
        seen: set[int] = set()
        yield from self._leaves(prefix, seen)

    def _leaves(self, prefix: str, seen: set[int]) -> Iterator[tuple[str, Category]]:
        if id(self.shape) in seen:
            return  # a recursive schema: the level above listed these already
        seen.add(id(self.shape))
        for name, node in self.shape.properties.items():
            pointer = f"{prefix}/{name.replace('~', '~0').replace('/', '~1')}"
            if node.category is not None:
                yield pointer, node.category
            yield from node._leaves(pointer, seen)
        if self.shape.others is not None and self.shape.others.category is not None:
            yield f"{prefix}/+", self.shape.others.category
            yield from self.shape.others._leaves(f"{prefix}/+", seen)
        if self.shape.items is not None:
            yield from self.shape.items._leaves(f"{prefix}/*", seen)

    def categories(self) -> frozenset[Category]:
        """Every category used below this location."""
        return frozenset(category for _pointer, category in self.leaves())


class _Reader:
    """Walks one schema (and what its refs reach), building the tree and noting issues."""

    def __init__(self, *, schema: Mapping[str, Any], uri: str, resources: Mapping[str, Any]):
        self.uri = uri
        self.docs: dict[str, Any] = {**resources, uri: schema}
        self.issues: dict[tuple[str, str], CategoryIssue] = {}
        # (document, pointer) of the $refs being expanded → the node they were expanded at.
        self.expanding: dict[tuple[str, str], FieldCategories] = {}

    # -- issues ------------------------------------------------------------------------

    def note(
        self, code: CategoryIssueCode, message: str, doc: str, pointer: str, site: str
    ) -> None:
        """Records an issue; one in another document is reported at this schema's $ref."""
        if doc != self.uri:
            message = f"{doc.removeprefix(_INTERNAL_BASE)}#{pointer}: {message}"
            pointer = site
        self.issues.setdefault((code.value, pointer), CategoryIssue(code, message, pointer))

    # -- walking -----------------------------------------------------------------------

    def annotation(self, schema: Any, doc: str, pointer: str, site: str) -> Category | None:
        """The category a property schema carries (None if absent or not a category)."""
        if not isinstance(schema, dict) or CATEGORY_KEYWORD not in schema:
            return None
        value = schema[CATEGORY_KEYWORD]
        try:
            return Category(value)
        except ValueError:
            self.note(
                CategoryIssueCode.UNKNOWN_CATEGORY,
                f"{CATEGORY_KEYWORD} {json.dumps(value, ensure_ascii=False)[:60]} is not a "
                f"data category; use one of {_VALUES}",
                doc,
                f"{pointer}/{CATEGORY_KEYWORD}",
                site,
            )
            return None

    def declare(
        self,
        parent: FieldCategories,
        name: str | None,
        schema: Any,
        *,
        refining: bool,
        doc: str,
        pointer: str,
        site: str,
    ) -> None:
        """One property (name) or other-names subschema (None) of the parent location."""
        if schema is False:
            return  # a property that must not occur carries no data
        existing = parent.shape.properties.get(name) if name is not None else parent.shape.others
        category = self.annotation(schema, doc, pointer, site)
        what = f"property {name!r}" if name is not None else "the properties it admits"
        has_value = isinstance(schema, dict) and CATEGORY_KEYWORD in schema
        if existing is not None and category is not None and existing.category != category:
            self.note(
                CategoryIssueCode.CATEGORY_CONFLICT,
                f"{what} is {category.value} here but "
                f"{existing.category.value if existing.category else 'unannotated'} where "
                "it is declared; a property has one category",
                doc,
                f"{pointer}/{CATEGORY_KEYWORD}",
                site,
            )
        if category is None and not has_value and (existing is None or not refining):
            self.note(
                CategoryIssueCode.UNANNOTATED_PROPERTY,
                f"{what} carries no {CATEGORY_KEYWORD}; annotate it with one of {_VALUES}",
                doc,
                pointer,
                site,
            )
        node = existing
        if node is None:
            node = FieldCategories(category)
            if name is not None:
                parent.shape.properties[name] = node
            else:
                parent.shape.others = node
        elif node.category is None and category is not None:
            node.category = category
        self.apply(
            schema,
            node,
            refining=refining and existing is not None,
            doc=doc,
            pointer=pointer,
            site=site,
            annotated=True,
        )

    def apply(
        self,
        schema: Any,
        node: FieldCategories,
        *,
        refining: bool,
        doc: str,
        pointer: str,
        site: str,
        annotated: bool = False,
    ) -> None:
        """Merges what `schema` says about the instance location `node` stands for."""
        if not isinstance(schema, dict):
            return
        if doc == self.uri:
            site = pointer
        if not annotated and CATEGORY_KEYWORD in schema:
            self.note(
                CategoryIssueCode.MISPLACED_CATEGORY,
                f"{CATEGORY_KEYWORD} belongs on the property that uses this schema, not here",
                doc,
                f"{pointer}/{CATEGORY_KEYWORD}",
                site,
            )
        properties = schema.get("properties")
        if isinstance(properties, dict):
            for name, sub in properties.items():
                where = f"{pointer}/properties/{_escape(name)}"
                self.declare(node, name, sub, refining=refining, doc=doc, pointer=where, site=site)
        patterns = schema.get("patternProperties")
        if isinstance(patterns, dict):
            for key, sub in patterns.items():
                where = f"{pointer}/patternProperties/{_escape(key)}"
                self.declare(node, None, sub, refining=refining, doc=doc, pointer=where, site=site)
        for keyword in _OTHERS:
            sub = schema.get(keyword)
            if isinstance(sub, dict):
                where = f"{pointer}/{keyword}"
                self.declare(node, None, sub, refining=refining, doc=doc, pointer=where, site=site)
        self.elements(schema, node, refining=refining, doc=doc, pointer=pointer, site=site)
        ref = schema.get("$ref")
        if isinstance(ref, str):
            self.follow(ref, node, refining=refining, doc=doc, pointer=pointer, site=site)
        for keyword in _REFINING_LISTS:
            subs = schema.get(keyword)
            if isinstance(subs, list):
                for index, sub in enumerate(subs):
                    where = f"{pointer}/{keyword}/{index}"
                    self.apply(sub, node, refining=True, doc=doc, pointer=where, site=site)
        for keyword in _REFINING_ONE:
            where = f"{pointer}/{keyword}"
            self.apply(schema.get(keyword), node, refining=True, doc=doc, pointer=where, site=site)
        dependent = schema.get("dependentSchemas")
        if isinstance(dependent, dict):
            for key, sub in dependent.items():
                where = f"{pointer}/dependentSchemas/{_escape(key)}"
                self.apply(sub, node, refining=True, doc=doc, pointer=where, site=site)

    def elements(
        self,
        schema: Mapping[str, Any],
        node: FieldCategories,
        *,
        refining: bool,
        doc: str,
        pointer: str,
        site: str,
    ) -> None:
        """Array elements inherit the array's category; their properties carry their own."""
        subs: list[tuple[str, Any]] = []
        if isinstance(schema.get("items"), dict):
            subs.append((f"{pointer}/items", schema["items"]))
        if isinstance(schema.get("unevaluatedItems"), dict):
            subs.append((f"{pointer}/unevaluatedItems", schema["unevaluatedItems"]))
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):
            subs += [(f"{pointer}/prefixItems/{i}", s) for i, s in enumerate(prefix)]
        for where, sub in subs:
            if node.shape.items is None:
                node.shape.items = FieldCategories(node.category)
            self.apply(sub, node.shape.items, refining=refining, doc=doc, pointer=where, site=site)

    def follow(
        self,
        ref: str,
        node: FieldCategories,
        *,
        refining: bool,
        doc: str,
        pointer: str,
        site: str,
    ) -> None:
        """Applies a `$ref` target to the same location (recursion shares the shape)."""
        target_doc, fragment = urldefrag(urljoin(doc, ref))
        document = self.docs.get(target_doc)
        target = _resolve(document, fragment) if document is not None else None
        if target is None:
            return  # unresolved refs are refused by the ref check, with their own code
        key = (target_doc, fragment)
        ancestor = self.expanding.get(key)
        if ancestor is not None:
            # Recursion: this level has the shape of the level that started the expansion.
            for name, child in node.shape.properties.items():
                ancestor.shape.properties.setdefault(name, child)
            node.shape = ancestor.shape
            return
        self.expanding[key] = node
        try:
            self.apply(
                target,
                node,
                refining=refining,
                doc=target_doc,
                pointer=fragment,
                site=f"{pointer}/$ref" if doc == self.uri else site,
            )
        finally:
            del self.expanding[key]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _resolve(document: Any, fragment: str) -> Any:
    if fragment == "":
        return document
    if not fragment.startswith("/"):
        return None  # plain-name anchors are not used by standards
    node = document
    for raw in unquote(fragment).split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def read_categories(
    *, schema: Mapping[str, Any], uri: str, resources: Mapping[str, Any]
) -> tuple[FieldCategories, list[CategoryIssue]]:
    """The category tree of a schema (base `uri`) and every annotation problem in it.

    `resources` are the published documents its `$ref`s may reach (internal URIs). The
    `$defs` of the schema are checked too, also those no property uses."""
    reader = _Reader(schema=schema, uri=uri, resources=resources)
    root = FieldCategories(None)
    reader.apply(schema, root, refining=False, doc=uri, pointer="", site="")
    for keyword in ("$defs", "definitions"):
        defs = schema.get(keyword)
        if isinstance(defs, dict):
            for name, sub in defs.items():
                where = f"/{keyword}/{_escape(name)}"
                reader.expanding[(uri, where)] = scratch = FieldCategories(None)
                reader.apply(sub, scratch, refining=False, doc=uri, pointer=where, site=where)
                del reader.expanding[(uri, where)]
    return root, list(reader.issues.values())


def category_changes(
    *, old: FieldCategories, new: FieldCategories, against: str
) -> list[CategoryIssue]:
    """Properties whose category differs between two versions of one standard.

    A property keeps its category across every version: the graph's field categories (and
    the SDL's @requiresScopes) are fixed per property, and a record read under one version
    must not become readable to others under the next."""
    before = dict(old.leaves())
    issues = []
    for pointer, category in new.leaves():
        previous = before.get(pointer)
        if previous is not None and previous != category:
            issues.append(
                CategoryIssue(
                    CategoryIssueCode.CATEGORY_CHANGED,
                    f"property {pointer} is {category.value} here but {previous.value} in "
                    f"{against}; a property keeps its category in every version",
                    pointer,
                )
            )
    return issues


# -- the shipped standards: the categories the graph's fields are declared with ------------


def _internal_uri(standard_id: str, version: str) -> str:
    return f"{_INTERNAL_BASE}/{standard_id}/{version}"


@lru_cache(maxsize=4)
def _shipped(root: Path) -> dict[str, FieldCategories]:
    files = sorted(p for p in root.glob("*/*.json") if p.name != "standard.json")
    documents = {
        _internal_uri(p.parent.name, p.stem): json.loads(p.read_text(encoding="utf-8"))
        for p in files
    }
    trees: dict[str, FieldCategories] = {}
    for path in files:
        uri = _internal_uri(path.parent.name, path.stem)
        tree, issues = read_categories(schema=documents[uri], uri=uri, resources=documents)
        if issues:
            details = "; ".join(f"{i.pointer}: {i.message}" for i in issues[:5])
            raise RuntimeError(f"shipped standard {path} has bad category annotations: {details}")
        standard_id = path.parent.name
        if standard_id in trees:
            drift = category_changes(old=trees[standard_id], new=tree, against="another version")
            if drift:
                raise RuntimeError(f"shipped standard {path}: {drift[0].message}")
            _merge(trees[standard_id], tree)
        else:
            trees[standard_id] = tree
    return trees


def _merge(into: FieldCategories, other: FieldCategories) -> None:
    for name, node in other.properties.items():
        if name in into.properties:
            if into.properties[name].shape is not node.shape:
                _merge(into.properties[name], node)
        else:
            into.properties[name] = node
    if other.items is not None:
        if into.items is None:
            into.shape.items = other.items
        elif into.items.shape is not other.items.shape:
            _merge(into.items, other.items)


def shipped_categories(standard_id: str, root: Path = STANDARDS_DIR) -> FieldCategories:
    """The category tree of a shipped standard, over all its shipped versions."""
    try:
        return _shipped(root)[standard_id]
    except KeyError:
        raise LookupError(f"{standard_id} is not a shipped standard") from None


def shipped_category(standard_id: str, path: str) -> Category:
    """The category a shipped standard gives a property (`/goodsValue`, `/items/*/price`)."""
    category = shipped_categories(standard_id).at(path)
    if category is None:
        raise LookupError(f"{standard_id} declares no property {path}")
    return category
