"""The operation type and name are read from a GraphQL document without parsing it fully."""

from __future__ import annotations

import pytest

from hub.observability.operations import Operation, describe, top_level_operations


@pytest.mark.parametrize(
    ("document", "name", "expected"),
    [
        ("{ me { clientId } }", None, Operation("query", None)),
        ("query { me { clientId } }", None, Operation("query", None)),
        ("query Me { me { clientId } }", None, Operation("query", "Me")),
        ("mutation Go($x: Int = 1) { declare(x: $x) { id } }", None, Operation("mutation", "Go")),
        ("query @cached { me { name } }", None, Operation("query", None)),
        ("query Named @cached(ttl: 3) { me { name } }", None, Operation("query", "Named")),
        ("query A { a } mutation B { b }", "B", Operation("mutation", "B")),
        ("query A { a } mutation B { b }", None, Operation(None, None)),
        ("query A { a }", "Missing", Operation(None, "Missing")),
        ("fragment F on Me { name } query Q { me { ...F } }", None, Operation("query", "Q")),
        (
            '# mutation Fake { x }\nquery Real { f(s: "mutation X {") }',
            None,
            Operation("query", "Real"),
        ),
        ('query T { f(s: """a "quoted" { block""") }', None, Operation("query", "T")),
        ("{ query mutation subscription }", None, Operation("query", None)),
        ("query V($i: In = {a: 1}) { f(i: $i) }", None, Operation("query", "V")),
    ],
)
def test_operation_is_described_from_the_document(
    document: str, name: str | None, expected: Operation
) -> None:
    assert describe(document, name) == expected


def test_a_field_called_mutation_inside_a_selection_is_not_an_operation() -> None:
    assert top_level_operations("query Q { mutation { subscription } }") == [
        Operation("query", "Q")
    ]


def test_an_oversized_document_is_not_scanned() -> None:
    huge = "query Big { " + "a " * 60_000 + "}"
    assert describe(huge, None) == Operation(None, None)
    assert describe(huge, "Big") == Operation(None, "Big")
