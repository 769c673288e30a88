"""Trusted documents: registered by `documents:write`, run by `documentId`, logged by id."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hub.app import create_app
from hub.config import Settings
from hub.db import unit_of_work
from hub.standards.shipped import publish_shipped
from tests.foundation.test_cli import hub
from tests.standards.samples import PLATFORM, sample
from tests.support import TEST_ISSUER

Token = Callable[..., Awaitable[str]]

DECLARATIONS = "query RecentDeclarations { declarations(first: 5) { edges { node { id } } } }"
ME = "query Me { me { name } }"
REGISTER = """mutation($documents: [TrustedDocumentInput!]!) {
  registerTrustedDocuments(documents: $documents) {
    documents { id operationNames label registeredBy }
    duplicates
    errors { code path message }
  }
}"""


def doc_id(body: str) -> str:
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


async def _post(http: httpx.AsyncClient, token: str, body: dict[str, Any]) -> httpx.Response:
    return await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})


async def _register(
    http: httpx.AsyncClient, token: str, documents: list[dict[str, Any]]
) -> dict[str, Any]:
    response = await _post(http, token, {"query": REGISTER, "variables": {"documents": documents}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_registered_document_runs_by_its_id_and_the_access_log_names_it(
    app: Starlette, http: httpx.AsyncClient, get_token: Token
) -> None:
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await publish_shipped(session=session, actor="test")
    declarer = await get_token(scopes="declare", enterprise=PLATFORM)
    declared = await _post(
        http,
        declarer,
        {
            "query": 'mutation($p: JSON!) { declare(input: {standard: "cbec.order", '
            "payload: $p}) { errors { code } } }",
            "variables": {"p": sample("cbec.order", "import-9610")},
        },
    )
    assert declared.json()["data"]["declare"]["errors"] == []
    registrar = await get_token(scopes="documents:write", name="Customs IT")
    result = await _register(http, registrar, [{"body": DECLARATIONS, "label": "recent"}])
    [document] = result["data"]["registerTrustedDocuments"]["documents"]
    assert document["id"] == doc_id(DECLARATIONS)
    assert document["operationNames"] == ["RecentDeclarations"]

    customs = await get_token(scopes="customs:read")
    by_id = await _post(http, customs, {"documentId": doc_id(DECLARATIONS)})
    assert by_id.status_code == 200, by_id.text
    assert len(by_id.json()["data"]["declarations"]["edges"]) == 1
    by_get = await http.get(
        "/graphql",
        params={"documentId": doc_id(DECLARATIONS)},
        headers={"Authorization": f"Bearer {customs}"},
    )
    assert by_get.json() == by_id.json()

    supervisor = await get_token(scopes="audit:read")
    log = await _post(
        http,
        supervisor,
        {
            "query": "{ accessLog(first: 5) { edges { node { "
            "operationName documentId documentHash } } } }"
        },
    )
    events = [e["node"] for e in log.json()["data"]["accessLog"]["edges"]]
    assert events[0] == {
        "operationName": "RecentDeclarations",
        "documentId": doc_id(DECLARATIONS),
        "documentHash": doc_id(DECLARATIONS).removeprefix("sha256:"),
    }
    # An ad-hoc query of the same text is logged without a document id.
    await _post(http, customs, {"query": DECLARATIONS})
    log = await _post(
        http, supervisor, {"query": "{ accessLog(first: 1) { edges { node { documentId } } } }"}
    )
    assert log.json()["data"]["accessLog"]["edges"][0]["node"]["documentId"] is None


async def test_registering_needs_the_documents_write_scope(
    http: httpx.AsyncClient, get_token: Token
) -> None:
    reader = await get_token(scopes="customs:read standards:write")
    body = await _register(http, reader, [{"body": ME}])
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    listed = await _post(http, reader, {"query": "{ trustedDocuments { id } }"})
    assert listed.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_one_bad_document_registers_none_and_each_problem_is_coded(
    http: httpx.AsyncClient, get_token: Token
) -> None:
    registrar = await get_token(scopes="documents:write")
    result = await _register(
        http,
        registrar,
        [
            {"body": ME},
            {"body": "{ me { noSuchField } }"},
            {"body": "query {"},
            {"body": "fragment F on Me { name }"},
            {"body": ME + " ", "id": doc_id(ME)},
        ],
    )
    payload = result["data"]["registerTrustedDocuments"]
    assert payload["documents"] == []
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [
        ("INVALID_DOCUMENT", "/1"),
        ("INVALID_DOCUMENT", "/2"),
        ("NO_OPERATION", "/3"),
        ("ID_MISMATCH", "/4"),
    ]
    listed = await _post(http, registrar, {"query": "{ trustedDocuments { id } }"})
    assert listed.json()["data"]["trustedDocuments"] == []


async def test_registering_again_is_a_no_op_reported_as_duplicate(
    http: httpx.AsyncClient, get_token: Token
) -> None:
    registrar = await get_token(scopes="documents:write")
    await _register(http, registrar, [{"body": ME}])
    again = await _register(http, registrar, [{"body": ME}, {"body": ME}])
    payload = again["data"]["registerTrustedDocuments"]
    assert payload["duplicates"] == [doc_id(ME)]
    assert [d["id"] for d in payload["documents"]] == [doc_id(ME)]


@pytest.fixture
async def strict_http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A hub with HUB_TRUSTED_DOCUMENTS=required on the test database."""
    app = create_app(dataclasses.replace(settings, trusted_documents="required"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
            yield client


async def test_required_mode_refuses_ad_hoc_documents_and_runs_registered_ones(
    http: httpx.AsyncClient, strict_http: httpx.AsyncClient, get_token: Token
) -> None:
    registrar = await get_token(scopes="documents:write")
    await _register(http, registrar, [{"body": ME}])
    token = await get_token(scopes="customs:read", name="Customs")
    ad_hoc = await _post(strict_http, token, {"query": ME})
    assert ad_hoc.status_code == 400
    assert ad_hoc.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
    trusted = await _post(strict_http, token, {"documentId": doc_id(ME)})
    assert trusted.json() == {"data": {"me": {"name": "Customs"}}}
    bare_hex = await _post(strict_http, token, {"documentId": doc_id(ME)[7:]})
    assert bare_hex.json() == trusted.json()
    # Registering is an ad-hoc mutation too, so under `required` it goes through the CLI
    # or a hub in optional mode (the registry admin's).
    refused = await _post(
        strict_http, registrar, {"query": REGISTER, "variables": {"documents": []}}
    )
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"documentId": "sha256:" + "0" * 64}, "PERSISTED_DOCUMENT_NOT_FOUND"),
        ({"documentId": "md5:abc"}, "BAD_REQUEST"),
        ({"documentId": 42}, "BAD_REQUEST"),
        ({"documentId": doc_id(ME), "query": ME}, "BAD_REQUEST"),
    ],
)
async def test_unknown_malformed_or_doubled_document_ids_are_400(
    http: httpx.AsyncClient, get_token: Token, body: dict[str, Any], code: str
) -> None:
    token = await get_token(scopes="customs:read")
    response = await _post(http, token, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == code


def test_the_cli_registers_graphql_files_and_both_manifest_formats(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'docs.db'}"
    (tmp_path / "me.graphql").write_text(ME, encoding="utf-8")
    codegen = {doc_id(DECLARATIONS)[7:]: DECLARATIONS}
    (tmp_path / "persisted-documents.json").write_text(json.dumps(codegen), encoding="utf-8")
    first = hub(
        "documents", "register", "me.graphql", "--manifest", "persisted-documents.json",
        database_url=url, cwd=tmp_path,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert f"{doc_id(ME)}  registered  Me" in first.stdout
    assert f"{doc_id(DECLARATIONS)}  registered  RecentDeclarations" in first.stdout
    apollo = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": doc_id(ME)[7:], "name": "Me", "type": "query", "body": ME}],
    }
    (tmp_path / "apollo.json").write_text(json.dumps(apollo), encoding="utf-8")
    again = hub(
        "documents", "register", "--manifest", "apollo.json", database_url=url, cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert f"{doc_id(ME)}  already registered" in again.stdout
    listed = json.loads(hub("documents", "list", "--json", database_url=url, cwd=tmp_path).stdout)
    assert {d["id"] for d in listed} == {doc_id(ME), doc_id(DECLARATIONS)}
    assert {d["registered_by"] for d in listed} == {"cli"}


def test_the_cli_refuses_an_invalid_document_naming_its_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'docs.db'}"
    (tmp_path / "bad.graphql").write_text("{ me { secret } }", encoding="utf-8")
    result = hub("documents", "register", "bad.graphql", database_url=url, cwd=tmp_path)
    assert result.returncode == 2
    assert "INVALID_DOCUMENT bad.graphql" in result.stderr
    assert "Traceback" not in result.stderr
