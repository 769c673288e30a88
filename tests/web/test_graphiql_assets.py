"""The GraphiQL page and /graphiql/assets/: the hub's own origin only, nothing outside the
installed packages, a clear page while they are missing, nothing in production."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hub.app import create_app
from hub.config import Settings
from hub.web import assets, graphiql
from hub.web.assets import (
    WEB_DIR,
    GraphiQLAssets,
    InstallFailed,
    install,
    install_command,
    pinned_versions,
)
from tests.support import TEST_ISSUER

BROWSER = {"Accept": "text/html,application/xhtml+xml"}
ROOT = Path(__file__).resolve().parents[2]


async def raw_get(app: Starlette, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET `path` exactly as written (no client-side '..' normalisation, as an attacker sends)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"hub.test")],
        "client": ("127.0.0.1", 50000),
        "server": ("hub.test", 80),
        "state": {},
    }
    sent: list[dict[str, Any]] = []
    requested, done = asyncio.Event(), asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not requested.is_set():
            requested.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # the client goes away once the response is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], headers, body


async def test_the_page_loads_every_asset_from_the_hub_with_a_strict_csp(
    graphiql_installed: GraphiQLAssets, http: httpx.AsyncClient
) -> None:
    response = await http.get("/graphql", headers=BROWSER)
    assert response.status_code == 200
    page = response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'none'"
    # No script inline (the CSP would refuse it) and no URL of another origin, anywhere.
    assert re.findall(r"<script[^>]*>([^<]*)</script>", page) == ["", "", "", ""]
    assert "http://" not in page and "https://" not in page and "//" not in page
    own = (WEB_DIR / "static" / "graphiql-page.js").read_text()
    assert "http://" not in own and "https://" not in own
    assert "window.localStorage" not in own and "shouldPersistHeaders: false" in own
    assert graphiql.DEMO_CREDENTIALS in page
    # The sign-in form cannot leak the secret into a URL: POST, and no form action at all.
    assert '<form id="hub-signin" method="post"' in page and "form-action 'none'" in csp
    # Every asset the page names is served, with the right type and nosniff.
    sources = re.findall(r'(?:src|href)="(graphiql/assets/[^"?]+)', page)
    assert len(sources) == 6
    for source in sources:
        served = await http.get(f"/{source}")
        assert served.status_code == 200, source
        assert served.headers["x-content-type-options"] == "nosniff"
        expected = "text/css" if source.endswith(".css") else "text/javascript"
        assert served.headers["content-type"].startswith(expected), source


TRAVERSALS = [
    "/graphiql/assets/../../pyproject.toml",
    "/graphiql/assets/graphiql/../../../../pyproject.toml",
    "/graphiql/assets/graphiql/../../../../hub/config.py",
    "/graphiql/assets/hub/../assets.py",
    "/graphiql/assets/hub/../../../pyproject.toml",
    "/graphiql/assets/graphiql/..%2f..%2f..%2f..%2fpyproject.toml",
    # .js files that exist, but outside the named package:
    "/graphiql/assets/graphiql/../graphql/index.js",
    "/graphiql/assets/react/../../node_modules/graphql/index.js",
    "/graphiql/assets/hub/../node_modules/graphql/index.js",
    "/graphiql/assets/graphiql/package.json",  # inside, but not a served kind of file
    "/graphiql/assets/graphql/index.js",  # installed, but not a served package
    "/graphiql/assets/.bin/graphiql.min.js",
    "/graphiql/assets/graphiql//etc/passwd",
    "/graphiql/assets/graphiql/nothing-here.js",
    "/graphiql/assets/hub/",
]


async def test_the_assets_route_serves_nothing_outside_the_packages(
    graphiql_installed: GraphiQLAssets, app: Starlette
) -> None:
    for path in TRAVERSALS:
        status, headers, body = await raw_get(app, path)
        assert status == 404, (path, body[:200])
        assert b"[project]" not in body and b"root:" not in body
        assert headers["content-type"].startswith("application/json")


async def test_a_symbolic_link_out_of_a_package_is_not_followed(
    app: Starlette, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.js"
    outside.write_text("secret")
    package = tmp_path / "node_modules" / "graphiql"
    package.mkdir(parents=True)
    (package / "inside.js").write_text("inside")
    (package / "escape.js").symlink_to(outside)
    app.state.graphiql_assets = GraphiQLAssets(node_modules=tmp_path / "node_modules")
    assert (await raw_get(app, "/graphiql/assets/graphiql/inside.js"))[0] == 200
    status, _, body = await raw_get(app, "/graphiql/assets/graphiql/escape.js")
    assert status == 404 and b"secret" not in body


async def test_without_the_assets_the_page_names_the_install_command(
    app: Starlette, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    app.state.graphiql_assets = GraphiQLAssets(node_modules=tmp_path / "not-installed")
    response = await http.get("/graphql", headers=BROWSER)
    assert response.status_code == 200
    assert "are not installed" in response.text
    assert " ".join(install_command(WEB_DIR)) in response.text
    assert f"graphiql@{pinned_versions()['graphiql']}" in response.text
    assert "<script" not in response.text
    missing = await http.get("/graphiql/assets/graphiql/graphiql.min.js")
    assert missing.status_code == 404
    # The API itself does not depend on them.
    api = await http.post("/graphql", json={"query": "{ __typename }"})
    assert api.status_code == 401


async def test_an_outdated_install_counts_as_missing(tmp_path: Path) -> None:
    for name in ("graphiql", "react", "react-dom"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "package.json").write_text('{"version": "0.0.1"}')
    missing = GraphiQLAssets(node_modules=tmp_path).missing()
    assert f"graphiql@{pinned_versions()['graphiql']} (installed: 0.0.1)" in missing


async def test_production_serves_neither_the_page_nor_its_assets(
    graphiql_installed: GraphiQLAssets, settings: Settings
) -> None:
    application = create_app(dataclasses.replace(settings, env="production"))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
            page = await client.get("/graphql", headers=BROWSER)
            asset = await client.get("/graphiql/assets/graphiql/graphiql.min.js")
    assert page.status_code == 401 and "graphiql" not in page.text.lower()
    assert asset.status_code == 404


def test_the_committed_files_pin_exact_versions_and_ship_no_bundle() -> None:
    for name, version in pinned_versions().items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), (name, version)
    assert (WEB_DIR / "package-lock.json").is_file()
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "node_modules/" in ignored


def test_installing_without_npm_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copyfile(WEB_DIR / "package.json", tmp_path / "package.json")
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm on it
    with pytest.raises(InstallFailed, match="npm is not installed") as failed:
        install(web_dir=tmp_path)
    assert f"npm ci --prefix {tmp_path}" in str(failed.value)
    assert assets.main(web_dir=tmp_path) == 1
    assert "GraphiQL assets: npm is not installed" in capsys.readouterr().err
