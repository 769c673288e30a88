"""Schema compatibility: may a new version of a data standard follow the previous ones?

BACKWARD means the new schema accepts every record the old one accepted (readers on the new
version can read old data); FORWARD means the old schema accepts every record the new one
accepts (readers on the old version can read new data); FULL means both. The `_Walker` below
compares two schemas structurally; the per-keyword rules and the `Change` vocabulary live in
`hub.standards.compatibility_rules`. Flags are only set when proven, so "compatible" can be
trusted; what the checker cannot decide is reported as incompatible, with the reason.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any

from hub.standards.compatibility_rules import (
    IN_PLACE,
    Change,
    ChangeKind,
    Resolve,
    SchemaNode,
    accepted_types,
    allowed_values,
    asserts,
    canon,
    change,
    describe,
    effect,
    false_changes,
    flat_changes,
    governing,
    is_false,
    lookup,
    matches,
    property_message,
    scope,
    target_id,
    unevaluated_changes,
)

__all__ = [
    "Change",
    "ChangeKind",
    "CompatibilityMode",
    "CompatibilityReport",
    "check_against_history",
    "check_compatibility",
    "diff_schemas",
]


class CompatibilityMode(enum.StrEnum):
    """Which previous versions a new version must stay compatible with, and in which direction."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        """True when every previous version counts, not only the latest."""
        return self.name.endswith("_TRANSITIVE")

    @property
    def needs_backward(self) -> bool:
        return self.name.startswith(("BACKWARD", "FULL"))

    @property
    def needs_forward(self) -> bool:
        return self.name.startswith(("FORWARD", "FULL"))

    def allows(self, change: Change) -> bool:
        """True when the change is acceptable under this mode."""
        return (change.backward or not self.needs_backward) and (
            change.forward or not self.needs_forward
        )


@dataclass(frozen=True)
class CompatibilityReport:
    """Every change between the compared versions and the verdict under one mode."""

    mode: CompatibilityMode
    changes: tuple[Change, ...] = ()

    @property
    def incompatible_changes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not self.mode.allows(c))

    @property
    def compatible(self) -> bool:
        return not self.incompatible_changes

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, each change with its verdict under the mode."""
        return {
            "mode": str(self.mode),
            "compatible": self.compatible,
            "changes": [
                {
                    "pointer": c.pointer,
                    "kind": str(c.kind),
                    "backward": c.backward,
                    "forward": c.forward,
                    "compatible": self.mode.allows(c),
                    "message": c.message,
                    "against": c.against,
                }
                for c in self.changes
            ],
        }


def diff_schemas(
    *, old: Mapping[str, Any] | bool, new: Mapping[str, Any] | bool, resolve: Resolve | None = None
) -> tuple[Change, ...]:
    """Lists every difference between two schemas with its backward and forward effect."""
    key = (canon(old), canon(new))
    remembered = _remembered.get(key)
    if remembered is not None and all(
        _resolved_text(resolve, uri) == text for uri, text in remembered[0]
    ):
        return remembered[1]
    recording = _RecordingResolve(resolve)
    found = _Walker(recording).diff(SchemaNode(old, old), SchemaNode(new, new))
    changes = tuple(dict.fromkeys(found))  # a $def reached through two refs reports once
    _remembered[key] = (tuple(recording.seen.items()), changes)
    if len(_remembered) > _REMEMBERED_PAIRS:
        _remembered.popitem(last=False)
    return changes


# The comparison is a pure function of the two schemas and of the documents their $refs
# reach, and a deep one (a few hundred milliseconds for the customs order). The same pairs
# come back on every check, publish and demo load, so the last results are kept, each with
# the text of every document it resolved: a hit is used only when each of those documents
# still resolves to the same text. (Oldest first out: no reordering, so concurrent callers
# in threads cannot trip over each other.)
_REMEMBERED_PAIRS = 256
_remembered: OrderedDict[
    tuple[str, str], tuple[tuple[tuple[str, str | None], ...], tuple[Change, ...]]
] = OrderedDict()


def _resolved_text(resolve: Resolve | None, uri: str) -> str | None:
    if resolve is None:
        return None
    try:
        return canon(resolve(uri))
    except LookupError:
        return None


class _RecordingResolve:
    """A resolver that notes the canonical text of every document it hands out."""

    def __init__(self, resolve: Resolve | None) -> None:
        self._resolve = resolve
        self.seen: dict[str, str | None] = {}

    def __call__(self, uri: str) -> Any:
        try:
            if self._resolve is None:
                raise LookupError(uri)
            document = self._resolve(uri)
        except LookupError:
            self.seen[uri] = None
            raise
        self.seen[uri] = canon(document)
        return document


def check_compatibility(
    *,
    old: Mapping[str, Any] | bool,
    new: Mapping[str, Any] | bool,
    mode: CompatibilityMode,
    resolve: Resolve | None = None,
) -> CompatibilityReport:
    """Checks whether `new` may follow `old` under `mode`."""
    mode = CompatibilityMode(mode)
    return CompatibilityReport(mode, diff_schemas(old=old, new=new, resolve=resolve))


def check_against_history(
    *,
    history: Sequence[tuple[str, Mapping[str, Any] | bool]],
    new: Mapping[str, Any] | bool,
    mode: CompatibilityMode,
    resolve: Resolve | None = None,
) -> CompatibilityReport:
    """Checks a candidate against the previous (label, schema) versions, oldest first."""
    mode = CompatibilityMode(mode)
    previous = history if mode.transitive else history[-1:]
    changes: list[Change] = []
    for label, old in previous:
        found = diff_schemas(old=old, new=new, resolve=resolve)
        changes += [replace(c, against=label) for c in found]
    return CompatibilityReport(mode, tuple(changes))


_TARGETS_COMPARED = "the schemas it stands for are compared and any difference is listed"


class _Walker:
    """Compares two schemas keyword group by keyword group, recursing into subschemas."""

    def __init__(self, resolve: Resolve | None) -> None:
        self._resolve = resolve
        self._documents: dict[str, Any] = {}
        self._active: set[tuple[Any, ...]] = set()  # $ref pairs being compared (cycle guard)

    def diff(self, old: SchemaNode, new: SchemaNode) -> list[Change]:
        if old.root is new.root and old.uri == new.uri and old.pointer == new.pointer:
            return []
        if is_false(old.schema) or is_false(new.schema):
            return false_changes(old, new)
        old, new = _as_dict(old), _as_dict(new)
        text = canon(old.schema)
        if text == canon(new.schema) and '"$ref"' not in text and '"$dynamicRef"' not in text:
            return []
        changes = unevaluated_changes(old, new)
        if "$ref" in old.d or "$ref" in new.d:
            return changes + self._refs(old, new)
        changes += flat_changes(old, new)
        changes += scope(self._arrays(old, new), old, new, ("array",))
        changes += scope(self._objects(old, new), old, new, ("object",))
        return (
            changes + self._compositions(old, new) + self._negation(old, new) + self._if(old, new)
        )

    def subset(self, a: SchemaNode, b: SchemaNode) -> bool:
        """True when every instance valid under `a` is provably valid under `b`."""
        return all(c.backward for c in self.diff(a, b))

    def _conj_subset(
        self, sources: list[SchemaNode] | None, targets: list[SchemaNode] | None
    ) -> bool:
        # all(sources) ⊆ all(targets) holds when each target is implied by one source.
        if sources is None or targets is None:
            return False
        return all(any(self.subset(s, t) for s in sources) for t in targets)

    def _sub_schema(
        self, kind: ChangeKind, old: SchemaNode, new: SchemaNode, what: str
    ) -> list[Change]:
        # Two real subschemas are walked for detailed changes; a `true`/`false`/absent one
        # is summarised as one change of `kind`.
        if isinstance(old.schema, dict) and isinstance(new.schema, dict):
            return self.diff(old, new)
        if canon(old.schema) == canon(new.schema):
            return []
        backward, forward = self.subset(old, new), self.subset(new, old)
        if kind is ChangeKind.ADDITIONAL_PROPERTIES_CHANGED and backward != forward:
            kind = ChangeKind[f"ADDITIONAL_PROPERTIES_{'WIDENED' if backward else 'NARROWED'}"]
        what = f"{what}: {describe(old)} before, {describe(new)} now"
        return [change(kind, old, new, backward, forward, what)]

    # -- $ref --------------------------------------------------------------------------

    def _refs(self, old: SchemaNode, new: SchemaNode) -> list[Change]:
        ref_o, ref_n = old.d.get("$ref"), new.d.get("$ref")
        rest_o, rest_n = old.without("$ref"), new.without("$ref")
        id_o = target_id(old) if ref_o is not None else None
        id_n = target_id(new) if ref_n is not None else None
        if id_o is not None and id_o == id_n and id_o[0] is not None:
            return self.diff(rest_o, rest_n)  # the same published schema, which is immutable
        target_o = self._deref(old) if ref_o is not None else None
        target_n = self._deref(new) if ref_n is not None else None
        if (ref_o is not None and target_o is None) or (ref_n is not None and target_n is None):
            missing = ref_o if ref_o is not None and target_o is None else ref_n
            message = (
                f"$ref {missing!r} cannot be resolved, so the schemas cannot be compared; "
                "treated as incompatible both ways"
            )
            at = (new if ref_n is not None else old).child("$ref").location
            return [Change(at, ChangeKind.REF_UNRESOLVED, False, False, message)]
        changes: list[Change] = []
        if ref_o is not None and ref_n is not None and ref_o != ref_n:
            what = f"$ref changed from {ref_o!r} to {ref_n!r}; {_TARGETS_COMPARED}"
            at = new.child("$ref").location
            changes.append(Change(at, ChangeKind.REF_CHANGED, True, True, what))
        if (ref_o is None or not asserts(rest_o.schema)) and (
            ref_n is None or not asserts(rest_n.schema)
        ):
            # A $ref with nothing but annotations beside it is its target: compare inline.
            if ref_o is None or ref_n is None:
                kind = ChangeKind.REF_ADDED if ref_n is not None else ChangeKind.REF_REMOVED
                site = (new if ref_n is not None else old).child("$ref")
                verb = "replaces the inline schema" if ref_n is not None else "replaced inline"
                what = f"$ref {ref_n or ref_o!r} {verb}; {_TARGETS_COMPARED}"
                changes.append(Change(site.location, kind, True, True, what))
            else:
                changes += flat_changes(rest_o, rest_n)  # annotations beside the refs
            return changes + self._follow(target_o or old, target_n or new)
        # $ref beside assertions is one more conjunct: compare the rest and the targets apart.
        changes += self.diff(rest_o, rest_n)
        if target_o is not None and target_n is not None:
            changes += self._follow(target_o, target_n)
        elif target_n is not None:
            backward = self.subset(old, target_n)
            what = f"$ref {ref_n!r} added beside other keywords, one more constraint"
            changes.append(
                change(ChangeKind.REF_ADDED, old, new.child("$ref"), backward, True, what)
            )
        elif target_o is not None:
            forward = self.subset(new, target_o)
            what = f"$ref {ref_o!r} removed from beside other keywords, one constraint fewer"
            changes.append(
                change(ChangeKind.REF_REMOVED, old.child("$ref"), new, True, forward, what)
            )
        return changes

    def _follow(self, old: SchemaNode, new: SchemaNode) -> list[Change]:
        key = (id(old.root), old.pointer, id(new.root), new.pointer)
        if key in self._active:
            # A recursive schema meets this pair again: assume it included while proving it
            # (instances are finite, so a real difference shows up at some finite depth).
            return []
        self._active.add(key)
        try:
            return self.diff(old, new)
        finally:
            self._active.discard(key)

    def _deref(self, node: SchemaNode) -> SchemaNode | None:
        uri, fragment = target_id(node)
        root = node.root if uri is None or uri == node.uri else self._document(uri)
        found = None if root is None else lookup(root, fragment)
        return None if found is None else SchemaNode(found[0], root, uri, found[1])

    def _document(self, uri: str) -> Any:
        # Cached, so that a cycle through another document meets the same objects again.
        if uri not in self._documents:
            if self._resolve is None:
                return None
            try:
                self._documents[uri] = self._resolve(uri)
            except LookupError:
                return None
        return self._documents[uri]

    # -- arrays and objects ------------------------------------------------------------

    def _arrays(self, old: SchemaNode, new: SchemaNode) -> list[Change]:
        count_o, count_n = len(old.d.get("prefixItems", [])), len(new.d.get("prefixItems", []))
        rest_o, rest_n = _fallback(old, "items"), _fallback(new, "items")
        changes: list[Change] = []
        for i in range(max(count_o, count_n)):
            a = old.child("prefixItems", i) if i < count_o else rest_o
            b = new.child("prefixItems", i) if i < count_n else rest_n
            if i < count_o and i < count_n:
                changes += self.diff(a, b)
            else:
                changes += self._sub_schema(ChangeKind.PREFIX_ITEMS_CHANGED, a, b, f"item {i}")
        changes += self._sub_schema(ChangeKind.ITEMS_CHANGED, rest_o, rest_n, "items")
        return changes + self._contains(old, new)

    def _contains(self, old: SchemaNode, new: SchemaNode) -> list[Change]:
        if "contains" not in old.d and "contains" not in new.d:
            return []
        same = all(
            canon(old.d.get(k)) == canon(new.d.get(k)) for k in ("minContains", "maxContains")
        )
        inner = self.diff(old.child("contains"), new.child("contains"))
        if same and "contains" in old.d and "contains" in new.d and not inner:
            return []

        def fits(a: SchemaNode, b: SchemaNode) -> bool:
            # Every array meeting a's contains-constraint meets b's.
            if "contains" not in b.d:
                return True
            min_b, max_b = b.d.get("minContains", 1), b.d.get("maxContains")
            if "contains" not in a.d:
                return min_b == 0 and max_b is None
            min_a, max_a = a.d.get("minContains", 1), a.d.get("maxContains")
            if not self.subset(a.child("contains"), b.child("contains")):
                return False
            equal = self.subset(b.child("contains"), a.child("contains"))
            return min_b <= min_a and (
                max_b is None or (equal and max_a is not None and max_a <= max_b)
            )

        what = "contains/minContains/maxContains changed"
        at_o, at_n = old.child("contains"), new.child("contains")
        return [
            change(ChangeKind.CONTAINS_CHANGED, at_o, at_n, fits(old, new), fits(new, old), what)
        ]

    def _objects(self, old: SchemaNode, new: SchemaNode) -> list[Change]:
        extra_o, extra_n = (
            _fallback(old, "additionalProperties"),
            _fallback(new, "additionalProperties"),
        )
        props_o, props_n = old.d.get("properties", {}), new.d.get("properties", {})
        changes: list[Change] = []
        for name in dict.fromkeys([*props_o, *props_n]):
            if name in props_o and name in props_n:
                changes += self.diff(old.child("properties", name), new.child("properties", name))
            else:
                changes.append(self._property(old, new, extra_o, extra_n, name))
        changes += self._patterns(old, new, extra_o, extra_n)
        kind = ChangeKind.ADDITIONAL_PROPERTIES_CHANGED
        changes += self._sub_schema(kind, extra_o, extra_n, "properties not listed")
        kind = ChangeKind.PROPERTY_NAMES_CHANGED
        at_o, at_n = old.child("propertyNames"), new.child("propertyNames")
        changes += self._sub_schema(kind, at_o, at_n, "propertyNames")
        schemas_o, schemas_n = old.d.get("dependentSchemas", {}), new.d.get("dependentSchemas", {})
        for name in dict.fromkeys([*schemas_o, *schemas_n]):
            at_o, at_n = old.child("dependentSchemas", name), new.child("dependentSchemas", name)
            kind, what = (
                ChangeKind.DEPENDENT_SCHEMAS_CHANGED,
                f"schema applied when '{name}' is present",
            )
            changes += self._sub_schema(kind, at_o, at_n, what)
        return changes

    def _property(
        self, old: SchemaNode, new: SchemaNode, extra_o: SchemaNode, extra_n: SchemaNode, name: str
    ) -> Change:
        """A property listed on one side only, compared with what governs it on the other."""
        governing_o, governing_n = governing(old, extra_o, name), governing(new, extra_n, name)
        backward = self._conj_subset(governing_o, governing_n)
        forward = self._conj_subset(governing_n, governing_o)
        added = name in new.d.get("properties", {})
        side, other = (new, governing_o) if added else (old, governing_n)
        closed = other is not None and all(is_false(g.schema) for g in other)
        required = name in side.d.get("required", [])
        message = property_message(
            name, added=added, required=required, closed=closed, backward=backward, forward=forward
        )
        kind = ChangeKind.PROPERTY_ADDED if added else ChangeKind.PROPERTY_REMOVED
        return Change(side.child("properties", name).location, kind, backward, forward, message)

    def _patterns(
        self, old: SchemaNode, new: SchemaNode, extra_o: SchemaNode, extra_n: SchemaNode
    ) -> list[Change]:
        patterns_o = old.d.get("patternProperties", {})
        patterns_n = new.d.get("patternProperties", {})
        changes: list[Change] = []
        for pattern in dict.fromkeys([*patterns_o, *patterns_n]):
            if pattern in patterns_o and pattern in patterns_n:
                at_o, at_n = (
                    old.child("patternProperties", pattern),
                    new.child("patternProperties", pattern),
                )
                changes += self.diff(at_o, at_n)
                continue
            added = pattern in patterns_n
            side, other, other_extra = (new, old, extra_o) if added else (old, new, extra_n)
            target = side.child("patternProperties", pattern)
            # On the other side a member matching the pattern was governed by one of its
            # patterns, its additionalProperties or, when listed, its property.
            sources = [other_extra] + [
                other.child("patternProperties", p) for p in other.d.get("patternProperties", {})
            ]
            named = [n for n in other.d.get("properties", {}) if matches(pattern, n) is not False]
            into = all(self.subset(s, target) for s in sources) and all(
                self._conj_subset(governing(other, other_extra, n), [target]) for n in named
            )
            out_of = self.subset(target, other_extra)
            backward, forward = (into, out_of) if added else (out_of, into)
            message = f"patternProperties {pattern!r} {'added' if added else 'removed'}: "
            message += effect(backward, forward)
            kind = ChangeKind.PATTERN_PROPERTIES_CHANGED
            changes.append(Change(target.location, kind, backward, forward, message))
        return changes

    # -- composition, negation, conditionals -------------------------------------------

    def _compositions(self, old: SchemaNode, new: SchemaNode) -> list[Change]:
        changes: list[Change] = []
        for keyword in ("allOf", "anyOf", "oneOf"):
            if keyword in old.d or keyword in new.d:
                changes += self._branches(keyword, old, new)
        return changes

    def _branches(self, keyword: str, old: SchemaNode, new: SchemaNode) -> list[Change]:
        branches_o = [old.child(keyword, i) for i in range(len(old.d.get(keyword, [])))]
        branches_n = [new.child(keyword, i) for i in range(len(new.d.get(keyword, [])))]
        if keyword not in old.d or keyword not in new.d:
            return [self._composition_toggled(keyword, old, new, branches_o, branches_n)]
        pairs, removed, added = _pair(branches_o, branches_n)
        changes: list[Change] = []
        for a, b in pairs:
            changes += self.diff(a, b)
        for b in added:
            if keyword == "allOf":  # one more conjunct: implied by an old one?
                backward, forward = any(self.subset(a, b) for a in branches_o), True
            else:  # one more alternative: already covered by an old one?
                backward, forward = True, any(self.subset(b, a) for a in branches_o)
            what = f"{keyword} branch added: {effect(backward, forward)}"
            changes.append(
                Change(b.location, ChangeKind.COMPOSITION_CHANGED, backward, forward, what)
            )
        for a in removed:
            if keyword == "allOf":
                backward, forward = True, any(self.subset(b, a) for b in branches_n)
            else:
                backward, forward = any(self.subset(a, b) for b in branches_n), True
            what = f"{keyword} branch removed: {effect(backward, forward)}"
            changes.append(
                Change(a.location, ChangeKind.COMPOSITION_CHANGED, backward, forward, what)
            )
        if keyword != "oneOf":
            return changes
        # oneOf is anyOf when its branches cannot overlap. Otherwise a widened or added
        # branch may make an instance match two branches, which oneOf rejects.
        keep_backward, keep_forward = self._disjoint_all(branches_n), self._disjoint_all(branches_o)
        note = "; but the oneOf branches may overlap, and an instance matching two is rejected"
        return [
            c
            if (c.backward <= keep_backward and c.forward <= keep_forward)
            else replace(
                c,
                backward=c.backward and keep_backward,
                forward=c.forward and keep_forward,
                message=c.message + note,
            )
            for c in changes
        ]

    def _composition_toggled(
        self,
        keyword: str,
        old: SchemaNode,
        new: SchemaNode,
        branches_o: list[SchemaNode],
        branches_n: list[SchemaNode],
    ) -> Change:
        """allOf/anyOf/oneOf on one side only: an extra conjunct on that side."""
        added = keyword in new.d
        # The side without the keyword must fit into the branches (all for allOf, one of
        # them otherwise; for oneOf only if the branches cannot overlap).
        other, branches = (old, branches_n) if added else (new, branches_o)
        fits = [self.subset(other, b) for b in branches]
        if keyword == "allOf":
            ok = all(fits)
        else:
            ok = any(fits) and (keyword == "anyOf" or self._disjoint_all(branches))
        backward, forward = (ok, True) if added else (True, ok)
        what = f"{keyword} {'added' if added else 'removed'}: {effect(backward, forward)}"
        at = (new if added else old).child(keyword).location
        return Change(at, ChangeKind.COMPOSITION_CHANGED, backward, forward, what)

    def _disjoint_all(self, branches: list[SchemaNode]) -> bool:
        return all(self._disjoint(a, b) for a, b in combinations(branches, 2))

    def _disjoint(self, a: SchemaNode, b: SchemaNode, depth: int = 0) -> bool:
        """True when provably no instance is valid under both (types, values, discriminator)."""
        a, b = self._inline(a), self._inline(b)
        shared = accepted_types(a.schema) & accepted_types(b.schema)
        values_a, values_b = allowed_values(a.schema), allowed_values(b.schema)
        if not shared or (
            values_a is not None and values_b is not None and not values_a.keys() & values_b.keys()
        ):
            return True
        if shared != {"object"} or depth > 3:
            return False
        # Only objects on both sides: a property both require with disjoint schemas splits them.
        common = set(a.d.get("required", [])) & set(b.d.get("required", []))
        return any(
            self._disjoint(a.child("properties", n), b.child("properties", n), depth + 1)
            for n in common
            if n in a.d.get("properties", {}) and n in b.d.get("properties", {})
        )

    def _inline(self, node: SchemaNode) -> SchemaNode:
        if "$ref" in node.d and not asserts(node.without("$ref").schema):
            return self._deref(node) or node
        return node

    def _negation(self, old: SchemaNode, new: SchemaNode) -> list[Change]:
        not_o, not_n = old.child("not"), new.child("not")
        if not not_o.present and not not_n.present:
            return []
        if not_o.present and not_n.present:
            # not(A) ⊆ not(B) exactly when B ⊆ A: the flags of the inner changes swap.
            return [
                replace(
                    c,
                    backward=c.forward,
                    forward=c.backward,
                    message=f"inside 'not', which swaps backward and forward: {c.message}",
                )
                for c in self.diff(not_o, not_n)
            ]
        backward = not not_n.present or is_false(not_n.schema)
        forward = not not_o.present or is_false(not_o.schema)
        what = "'not' " + ("added" if not_n.present else "removed")
        return [change(ChangeKind.NOT_CHANGED, not_o, not_n, backward, forward, what)]

    def _if(self, old: SchemaNode, new: SchemaNode) -> list[Change]:
        if_o, if_n = old.child("if"), new.child("if")
        if not if_o.present and not if_n.present:
            return []  # then/else without if are ignored by validators

        def branches(side: SchemaNode, has_if: bool) -> tuple[SchemaNode, SchemaNode]:
            # No `if` equals the other side's `if` with branches that accept anything.
            if has_if:
                return side.child("then"), side.child("else")
            return side.absent("then"), side.absent("else")

        then_o, else_o = branches(old, if_o.present)
        then_n, else_n = branches(new, if_n.present)
        if_o, if_n = (if_o if if_o.present else if_n), (if_n if if_n.present else if_o)
        condition = self.diff(if_o, if_n)
        if all(c.backward and c.forward for c in condition):
            return condition + self.diff(then_o, then_n) + self.diff(else_o, else_n)
        # The condition changed: an old instance passes one old branch and must pass
        # whichever new branch applies to it, so compare every old branch with every new one.
        olds, news = (then_o, else_o), (then_n, else_n)
        backward = all(self.subset(a, b) for a in olds for b in news)
        forward = all(self.subset(b, a) for a in olds for b in news)
        what = "the 'if' condition changed"
        return [change(ChangeKind.CONDITIONAL_CHANGED, if_o, if_n, backward, forward, what)]


def _as_dict(node: SchemaNode) -> SchemaNode:
    return replace(node, schema={}) if node.schema is True else node


def _fallback(node: SchemaNode, keyword: str) -> SchemaNode:
    """additionalProperties/items, or the unevaluated* keyword that acts as it here."""
    unevaluated = "unevaluatedItems" if keyword == "items" else "unevaluatedProperties"
    # Without in-place subschemas, unevaluated* sees exactly the members `keyword` would.
    if keyword not in node.d and unevaluated in node.d and not IN_PLACE & set(node.d):
        return node.child(unevaluated)
    return node.child(keyword)


def _pair(
    old: list[SchemaNode], new: list[SchemaNode]
) -> tuple[list[tuple[SchemaNode, SchemaNode]], list[SchemaNode], list[SchemaNode]]:
    """Matches branches: identical ones first, then by position if the rest agree in number."""
    pairs, removed, remaining = [], [], list(new)
    for a in old:
        twin = next((b for b in remaining if canon(b.schema) == canon(a.schema)), None)
        if twin is None:
            removed.append(a)
        else:
            pairs.append((a, twin))
            remaining.remove(twin)
    if len(removed) == len(remaining):
        return pairs + list(zip(removed, remaining, strict=True)), [], []
    return pairs, removed, remaining
