"""Finding and resolving `$ref`s in standards without ever touching the network."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urldefrag, urljoin

from hub import canonical

__all__ = [
    "Closure",
    "RefTarget",
    "UnresolvableReference",
    "canonical_json",
    "find_refs",
    "inline_refs",
    "ref_closure",
    "ref_targets",
]

_REF_KEYWORDS = ("$ref", "$dynamicRef")
# Keywords whose values are data, not subschemas: a "$ref" key inside them is not a reference.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})


class UnresolvableReference(ValueError):
    """A `$ref` points at something that is not a published standard."""


@dataclass(frozen=True, slots=True)
class RefTarget:
    """One reference: where it is written and which document it resolves to."""

    pointer: str
    ref: str
    document: str


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _walk(node: object, pointer: str, base: str) -> Iterator[tuple[str, str, str, dict]]:
    """Yield (pointer, base, keyword, subschema) for every schema object, tracking `$id`."""
    if isinstance(node, dict):
        node_id = node.get("$id")
        if isinstance(node_id, str):
            base = urljoin(base, node_id)
        yield pointer, base, "", node
        for key, value in node.items():
            if key in _DATA_KEYWORDS:
                continue
            yield from _walk(value, f"{pointer}/{_escape(str(key))}", base)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{index}", base)


def find_refs(schema: object) -> list[str]:
    """List every `$ref` and `$dynamicRef` value written anywhere in a schema."""
    found: list[str] = []
    for _pointer, _base, _kw, node in _walk(schema, "", ""):
        for keyword in _REF_KEYWORDS:
            value = node.get(keyword)
            if isinstance(value, str):
                found.append(value)
    return found


def ref_targets(*, schema: object, uri: str) -> list[RefTarget]:
    """Resolve every reference in a schema (whose base is `uri`) to its target document."""
    targets: list[RefTarget] = []
    for pointer, base, _kw, node in _walk(schema, "", uri):
        for keyword in _REF_KEYWORDS:
            value = node.get(keyword)
            if isinstance(value, str):
                document, _fragment = urldefrag(urljoin(base, value))
                targets.append(RefTarget(f"{pointer}/{keyword}", value, document))
    return targets


def _embedded_ids(schema: object, uri: str) -> set[str]:
    ids = {uri}
    for _pointer, base, _kw, _node in _walk(schema, "", uri):
        ids.add(urldefrag(base)[0])
    return ids


def canonical_json(value: object) -> str:
    """The canonical JSON text of a value (the one definition lives in hub.canonical)."""
    return canonical.canonical_json(value).decode("utf-8")


@lru_cache(maxsize=1024)
def _document_refs(doc_uri: str, text: str) -> tuple[frozenset[str], tuple[RefTarget, ...]]:
    # Keyed by the canonical text: the same document is walked once, however often it is
    # compiled or referenced.
    doc = json.loads(text)
    return frozenset(_embedded_ids(doc, doc_uri)), tuple(ref_targets(schema=doc, uri=doc_uri))


@dataclass(frozen=True, slots=True)
class Closure:
    """The documents a schema reaches through its refs, and a fingerprint of all of them."""

    documents: dict[str, object]
    fingerprint: str


def ref_closure(*, schema: object, uri: str, resources: Mapping[str, object]) -> Closure:
    """Collect the resources a schema reaches through its refs; raise for any unknown target."""
    reached: dict[str, object] = {}
    digest = hashlib.sha256()
    pending: list[tuple[str, object]] = [(uri, schema)]
    while pending:
        doc_uri, doc = pending.pop()
        text = canonical_json(doc)
        digest.update(f"{doc_uri}\n{text}\n".encode())
        local, targets = _document_refs(doc_uri, text)
        for target in targets:
            if target.document in local or target.document in reached or target.document == uri:
                continue
            if target.document not in resources:
                raise UnresolvableReference(
                    f"$ref {target.ref!r} at {doc_uri}#{target.pointer} resolves to "
                    f"{target.document}, which is not a published standard; references may "
                    "only point to /standards/<id>/<version> and are never fetched"
                )
            reached[target.document] = resources[target.document]
            pending.append((target.document, resources[target.document]))
    return Closure(documents=reached, fingerprint=digest.hexdigest())


class _CannotInline(Exception):
    pass


# Keywords whose meaning depends on where a subschema sits: their presence stops inlining.
_POSITIONAL_KEYWORDS = frozenset({"$id", "$dynamicRef", "$dynamicAnchor", "$recursiveRef"})
_INLINE_NODE_LIMIT = 200_000


def inline_refs(
    *, schema: dict[str, object], uri: str, documents: Mapping[str, object]
) -> dict[str, object] | None:
    """Return a copy of the schema with every `$ref` replaced by its target, or None.

    The reference `jsonschema` engine spends most of its time resolving refs through
    `referencing`; an inlined copy validates identically and several times faster. A ref
    with sibling keywords becomes `allOf: [target]` next to them (merging would lose one of
    two same-named constraints). Anything that cannot be inlined exactly — recursion, anchors,
    nested `$id`, `$dynamicRef` — makes this return None and the caller keeps the refs.
    """
    docs = {**documents, uri: schema}
    budget = [_INLINE_NODE_LIMIT]
    try:
        inlined = _inline(schema, uri, docs, (), budget)
    except _CannotInline:
        return None
    return inlined if isinstance(inlined, dict) else None


def _inline(
    node: object,
    base: str,
    docs: Mapping[str, object],
    stack: tuple[tuple[str, str], ...],
    budget: list[int],
) -> object:
    budget[0] -= 1
    if budget[0] < 0:
        raise _CannotInline
    if isinstance(node, list):
        return [_inline(value, base, docs, stack, budget) for value in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, object] = {}
    for key, value in node.items():
        if key in _DATA_KEYWORDS:
            out[key] = value
        elif key in _POSITIONAL_KEYWORDS:
            raise _CannotInline
        elif key != "$ref":
            out[key] = _inline(value, base, docs, stack, budget)
    if "$ref" not in node:
        return out
    ref = node["$ref"]
    if not isinstance(ref, str):
        raise _CannotInline
    document, fragment = urldefrag(urljoin(base, ref))
    if document not in docs or (document, fragment) in stack:
        raise _CannotInline
    target = _inline(
        _resolve_pointer(docs[document], fragment),
        document,
        docs,
        (*stack, (document, fragment)),
        budget,
    )
    if isinstance(target, dict):
        # A whole document's `$schema`/`$defs` mean nothing once it sits inside another one.
        target = {k: v for k, v in target.items() if k not in ("$schema", "$defs")}
    if not out:
        return target
    existing = out.get("allOf", [])
    if not isinstance(existing, list):
        raise _CannotInline
    return {**out, "allOf": [target, *existing]}


def _resolve_pointer(document: object, fragment: str) -> object:
    if fragment == "":
        return document
    if not fragment.startswith("/"):
        raise _CannotInline  # a plain-name anchor
    node = document
    for raw in unquote(fragment).split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise _CannotInline
    return node
