"""GraphiQL in headless Chromium against a real `hub serve`: offline, signed in, in session.

The browser loads /graphql from a hub subprocess; the test reads Chromium's network log
(CDP, through chromedriver) to show that no request leaves the hub's origin, signs in
through the panel with a client made for the test (a wrong secret first), runs a query,
opens the docs, waits for the token's renewal and signs out. Screenshots go to
$HUB_TEST_ARTIFACTS (or the test's tmp directory), printed in the output.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.auth import clients
from hub.config import Settings
from hub.db import create_engine, create_session_factory, unit_of_work
from hub.web.assets import GraphiQLAssets
from tests.conftest import blocking

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
TOKEN_TTL_SECONDS = 6  # short, so that the test sees the panel renew the token
STORAGE_KEY = "hub-graphiql-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class ServedHub:
    base: str
    client_id: str
    client_secret: str


def _wait_until_serving(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"hub serve exited: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("hub serve did not start within 30 s")


async def _create_client(database_url: str) -> tuple[str, str]:
    """A real OAuth2 client, made the way `hub clients create` makes one."""
    engine = create_engine(Settings(database_url=database_url))
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            created = await clients.create(
                session=session, name="GraphiQL tester", scopes="customs:read"
            )
    finally:
        await engine.dispose()
    return created.client_id, created.client_secret


@pytest.fixture(scope="module")
def served_hub(
    graphiql_installed: GraphiQLAssets,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServedHub]:
    """`hub serve` on a migrated SQLite file (the suite's template) with one client in it."""
    directory = tmp_path_factory.mktemp("graphiql-hub")
    database = directory / "served.db"
    shutil.copyfile(sqlite_template, database)
    database_url = f"sqlite+aiosqlite:///{database}"
    client_id, client_secret = blocking(asyncio.run, _create_client(database_url))
    port = _free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": database_url,
        "HUB_ISSUER": f"http://127.0.0.1:{port}",
        "HUB_ENV": "development",
        "HUB_TOKEN_TTL": str(TOKEN_TTL_SECONDS),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--port", str(port)],
        env=env,
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base, process)
        yield ServedHub(base, client_id, client_secret)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: $HUB_TEST_ARTIFACTS, else a pytest tmp directory."""
    configured = os.environ.get("HUB_TEST_ARTIFACTS")
    directory = Path(configured) / "graphiql" if configured else tmp_path_factory.mktemp("shots")
    directory.mkdir(parents=True, exist_ok=True)
    print(f"\nGraphiQL screenshots: {directory}")
    return directory


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through chromedriver, with its network log switched on."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        message = (
            "the GraphiQL browser test needs Debian's chromium and chromium-driver "
            "(apt-get install chromium chromium-driver; .ci/run installs them)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,900",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def _requested_urls(driver: Any) -> list[str]:
    """Every URL the page asked for since the last call (CDP Network.requestWillBeSent)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _wait(condition: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = condition()
        except Exception as error:  # the element may not exist yet
            last = error
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")


def test_graphiql_signs_in_queries_and_loads_the_docs_offline(
    served_hub: ServedHub, browser: Any, artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By

    def element(css: str) -> Any:
        return browser.find_element(By.CSS_SELECTOR, css)

    def status() -> str:
        return str(element("#hub-signin-status").text)

    def storage(kind: str) -> dict[str, str]:
        script = f"return Object.fromEntries(Object.entries(window.{kind}));"
        return dict(browser.execute_script(script))

    def shot(name: str) -> None:
        path = artifacts / f"{name}.png"
        browser.save_screenshot(str(path))
        print(f"screenshot: {path}")

    def run_query() -> str:
        element(".graphiql-execute-button").click()
        return str(
            _wait(
                lambda: (
                    served_hub.client_id in element(".graphiql-response").text
                    and element(".graphiql-response").text
                ),
                "the query's result",
            )
        )

    browser.get(f"{served_hub.base}/graphql")
    _wait(lambda: element(".graphiql-container"), "GraphiQL to render")
    # Before sign-in: the panel says how, naming the demo credentials file.
    assert "hub-demo-clients.json" in status() and "Not signed in" in status()
    assert "hub-demo-clients.json" in element(".graphiql-query-editor").text
    shot("1-signed-out")

    # A wrong secret: a clear error in the panel, no token kept.
    element("#hub-client-id").send_keys(served_hub.client_id)
    element("#hub-client-secret").send_keys("not-the-secret")
    element("#hub-signin-button").click()
    _wait(lambda: "Sign-in failed" in status(), "the sign-in error")
    assert "HTTP 401" in status()
    assert "hub-error" in element("#hub-signin-status").get_attribute("class")
    assert STORAGE_KEY not in storage("sessionStorage")
    shot("2-wrong-secret")

    # The right secret: a token in sessionStorage, the secret in no URL and no storage.
    element("#hub-client-secret").clear()
    element("#hub-client-secret").send_keys(served_hub.client_secret)
    element("#hub-signin-button").click()
    _wait(lambda: element("#hub-signed-in").is_displayed(), "sign-in")
    assert served_hub.client_id in element("#hub-signed-in").text
    token = json.loads(storage("sessionStorage")[STORAGE_KEY])
    first_token = token["access_token"]
    assert token["expires_in"] == TOKEN_TTL_SECONDS
    assert element("#hub-client-secret").get_attribute("value") == ""
    for kind in ("sessionStorage", "localStorage"):
        assert served_hub.client_secret not in json.dumps(storage(kind)), kind
    assert first_token not in json.dumps(storage("localStorage"))

    result = run_query()
    assert '"name": "GraphiQL tester"' in result and '"customs:read"' in result
    shot("3-query-result")

    # The docs explorer shows the schema (introspection ran with the token).
    element('[aria-label="Show Documentation Explorer"]').click()
    docs = _wait(
        lambda: (
            "Query" in element(".graphiql-doc-explorer").text
            and element(".graphiql-doc-explorer").text
        ),
        "the docs explorer",
    )
    assert "Root Types" in docs or "query:" in docs
    shot("4-docs")

    # Renewed before expiry: a new token, and the next query works with it.
    renewed = _wait(
        lambda: (
            (t := json.loads(storage("sessionStorage")[STORAGE_KEY])["access_token"]) != first_token
            and t
        ),
        "the token's renewal",
        timeout=TOKEN_TTL_SECONDS + 3,
    )
    time.sleep(max(0.0, token["expires_at"] / 1000 - time.time()) + 0.2)  # first one expired
    run_query()
    assert renewed not in json.dumps(storage("localStorage"))

    # Sign out: the token is gone from the tab and revoked at the hub.
    element("#hub-signout-button").click()
    _wait(lambda: "Signed out" in status(), "sign-out")
    assert STORAGE_KEY not in storage("sessionStorage")
    _wait(
        lambda: (
            httpx.post(
                f"{served_hub.base}/graphql",
                json={"query": "{ me { clientId } }"},
                headers={"Authorization": f"Bearer {renewed}"},
            ).status_code
            == 401
        ),
        "the revocation",
    )
    shot("5-signed-out-again")

    # Everything the page asked for was on the hub's origin (or inline data: fonts).
    urls = _requested_urls(browser)
    assert urls, "the network log is empty"
    foreign = [
        u for u in urls if not u.startswith(served_hub.base + "/") and not u.startswith("data:")
    ]
    assert foreign == [], foreign
    assert all(served_hub.client_secret not in u for u in urls)
    assert served_hub.client_secret not in browser.current_url
    assert any(u.endswith("/oauth/token") for u in urls)
    # Nothing the Content-Security-Policy refused, no script error.
    problems = [
        e["message"]
        for e in browser.get_log("browser")
        if e["level"] == "SEVERE" and "401" not in e["message"]
    ]
    assert problems == [], problems


def test_the_served_hub_refuses_a_raw_path_traversal(served_hub: ServedHub) -> None:
    """Over real HTTP, with the '..' sent as written (http.client does not normalise it)."""
    host, port = served_hub.base.removeprefix("http://").split(":")
    for path in (
        "/graphiql/assets/../../pyproject.toml",
        "/graphiql/assets/graphiql/../../../../pyproject.toml",
        "/graphiql/assets/graphiql/%2e%2e/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        "/graphiql/assets/graphiql/../graphql/index.js",
    ):
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        assert response.status == 404, (path, body[:200])
        assert b"[project]" not in body
