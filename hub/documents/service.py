"""Registering and looking up trusted documents; functions never commit.

A document's id is `sha256:` + the hex SHA-256 of its UTF-8 text, exactly as sent: the
prefixed form of the GraphQL-over-HTTP persisted-documents appendix. Registration checks
that the text parses and validates against the hub's schema, so a registered document can
always run (until a schema change removes what it asks for).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, parse
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.documents.models import TrustedDocument

PREFIX = "sha256:"
MAX_DOCUMENT_CHARS = 100_000
MAX_PER_CALL = 1_000
_HEX = re.compile(r"[0-9a-f]{64}")

# Checks a document against the schema: the messages of every validation error.
Validate = Callable[[str], list[str]]


class DocumentErrorCode(StrEnum):
    """Why a document was not registered or could not be used."""

    INVALID_DOCUMENT = "INVALID_DOCUMENT"  # does not parse or validate
    NO_OPERATION = "NO_OPERATION"
    ID_MISMATCH = "ID_MISMATCH"  # a manifest's id is not the hash of its text
    INVALID_MANIFEST = "INVALID_MANIFEST"
    TOO_LARGE = "TOO_LARGE"
    TOO_MANY = "TOO_MANY"


@dataclass(frozen=True)
class DocumentRefusal:
    """One refusal: a code, a plain message and the JSON pointer of the document."""

    code: DocumentErrorCode
    message: str
    path: str


class DocumentsRefused(Exception):
    """Nothing was registered: every problem of the submission at once."""

    def __init__(self, refusals: Sequence[DocumentRefusal]):
        super().__init__("; ".join(f"{r.path}: {r.message}" for r in refusals))
        self.refusals = list(refusals)


@dataclass(frozen=True)
class DocumentCandidate:
    """A document as submitted: its text, an optional claimed id and a label."""

    body: str
    claimed_id: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Registered:
    """A registered document; `duplicate` when it was registered before."""

    document: TrustedDocument
    duplicate: bool


def document_id(body: str) -> str:
    """The id of a document text: `sha256:<hex>`."""
    return PREFIX + hashlib.sha256(body.encode("utf-8")).hexdigest()


def normalise_id(raw: str) -> str | None:
    """`sha256:<hex>` for an id given as that or as bare hex; None when it is neither."""
    value = raw.strip()
    hex_part = value[len(PREFIX) :] if value.startswith(PREFIX) else value
    return PREFIX + hex_part if _HEX.fullmatch(hex_part) else None


def _operation_names(body: str) -> list[str] | str:
    try:
        document = parse(body, no_location=True)
    except GraphQLError as exc:
        return f"does not parse: {exc.message}"
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        return "holds no operation"
    return [op.name.value if op.name else "" for op in operations]


def check(
    candidates: Sequence[DocumentCandidate], *, validate: Validate
) -> list[tuple[str, DocumentCandidate, list[str]]]:
    """(id, candidate, operation names) for each candidate; raises with every refusal."""
    if len(candidates) > MAX_PER_CALL:
        raise DocumentsRefused(
            [
                DocumentRefusal(
                    DocumentErrorCode.TOO_MANY,
                    f"at most {MAX_PER_CALL} documents per registration",
                    "",
                )
            ]
        )
    refusals: list[DocumentRefusal] = []
    checked = []
    for index, candidate in enumerate(candidates):
        path = f"/{index}"
        if len(candidate.body) > MAX_DOCUMENT_CHARS:
            refusals.append(
                DocumentRefusal(
                    DocumentErrorCode.TOO_LARGE,
                    f"a document has at most {MAX_DOCUMENT_CHARS:,} characters",
                    path,
                )
            )
            continue
        names = _operation_names(candidate.body)
        if isinstance(names, str):
            code = (
                DocumentErrorCode.NO_OPERATION
                if names == "holds no operation"
                else DocumentErrorCode.INVALID_DOCUMENT
            )
            refusals.append(DocumentRefusal(code, f"the document {names}", path))
            continue
        problems = validate(candidate.body)
        if problems:
            refusals.extend(
                DocumentRefusal(DocumentErrorCode.INVALID_DOCUMENT, problem, path)
                for problem in problems
            )
            continue
        actual = document_id(candidate.body)
        if candidate.claimed_id is not None and normalise_id(candidate.claimed_id) != actual:
            refusals.append(
                DocumentRefusal(
                    DocumentErrorCode.ID_MISMATCH,
                    f"id {candidate.claimed_id!r} is not the SHA-256 of the document's text "
                    f"({actual})",
                    path,
                )
            )
            continue
        checked.append((actual, candidate, names))
    if refusals:
        raise DocumentsRefused(refusals)
    return checked


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def register(
    *,
    session: AsyncSession,
    candidates: Sequence[DocumentCandidate],
    validate: Validate,
    registered_by: str,
) -> list[Registered]:
    """Registers documents (all or none); registering a known document again is a no-op."""
    checked = check(candidates, validate=validate)
    ids = [identifier for identifier, _, _ in checked]
    known = {
        row.id: row
        for row in await session.scalars(select(TrustedDocument).where(TrustedDocument.id.in_(ids)))
    }
    now = datetime.now(UTC)
    new_rows = {}
    for identifier, candidate, names in checked:
        if identifier in known or identifier in new_rows:
            continue
        new_rows[identifier] = {
            "id": identifier,
            "body": candidate.body,
            "operation_names": " ".join(n for n in names if n),
            "label": (candidate.label or "").strip()[:200] or None,
            "registered_at": now,
            "registered_by": registered_by,
        }
    if new_rows:
        # Another process may register the same text meanwhile: the id is the key, so the
        # database keeps one row and both callers see it.
        statement = _insert(session)(TrustedDocument).on_conflict_do_nothing(index_elements=["id"])
        await session.execute(statement, list(new_rows.values()))
    rows = {
        row.id: row
        for row in await session.scalars(select(TrustedDocument).where(TrustedDocument.id.in_(ids)))
    }
    return [Registered(rows[i], duplicate=i in known) for i in dict.fromkeys(ids)]


async def get_body(*, session: AsyncSession, identifier: str) -> str | None:
    """The text of a registered document, or None."""
    return await session.scalar(
        select(TrustedDocument.body).where(TrustedDocument.id == identifier)
    )


async def list_documents(*, session: AsyncSession) -> list[TrustedDocument]:
    """Every registered document, newest first."""
    return list(
        await session.scalars(
            select(TrustedDocument).order_by(
                TrustedDocument.registered_at.desc(), TrustedDocument.id
            )
        )
    )


def read_manifest(text: str) -> list[DocumentCandidate]:
    """Candidates from a manifest file, in either common format.

    - GraphQL Code Generator's `persisted-documents.json` (and GraphQL Mesh/Yoga's):
      `{"<hash>": "<document>", ...}`;
    - Apollo's persisted-query manifest: `{"format": "apollo-persisted-query-manifest",
      "version": 1, "operations": [{"id": ..., "name": ..., "body": ...}, ...]}`.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DocumentsRefused(
            [DocumentRefusal(DocumentErrorCode.INVALID_MANIFEST, f"not JSON: {exc}", "")]
        ) from exc
    if isinstance(data, dict) and data.get("format") == "apollo-persisted-query-manifest":
        operations = data.get("operations")
        if not isinstance(operations, list) or not all(
            isinstance(op, dict) and isinstance(op.get("body"), str) for op in operations
        ):
            raise DocumentsRefused(
                [
                    DocumentRefusal(
                        DocumentErrorCode.INVALID_MANIFEST,
                        "`operations` must be a list of objects with a string `body`",
                        "/operations",
                    )
                ]
            )
        return [
            DocumentCandidate(
                body=op["body"],
                claimed_id=str(op["id"]) if op.get("id") is not None else None,
                label=str(op["name"]) if op.get("name") else None,
            )
            for op in operations
        ]
    if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
        return [DocumentCandidate(body=body, claimed_id=key) for key, body in data.items()]
    raise DocumentsRefused(
        [
            DocumentRefusal(
                DocumentErrorCode.INVALID_MANIFEST,
                'expected {"<sha256>": "<document>", ...} or an Apollo persisted-query manifest',
                "",
            )
        ]
    )


def schema_validator(schema: Any) -> Validate:
    """A Validate for a strawberry schema (its GraphQL validation rules, no execution)."""
    from graphql import validate as graphql_validate

    graphql_schema = schema._schema

    def run(body: str) -> list[str]:
        document = parse(body)
        return [error.message for error in graphql_validate(graphql_schema, document)]

    return run
