"""Relay's own compiler accepts `@connection` and `@refetchable` documents over the SDL
`hub schema` prints, and the refetch and pagination queries it generates run on the hub.

relay-compiler (pinned in package.json, installed into the gitignored node_modules on
first use) checks what Relay needs of a server: the Node interface with `id: ID!`,
`node(id: ID!): Node`, connections with first/after and last/before, and a PageInfo with
all four fields.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders.parties import PLATFORM, STRANGER, Actors, hub_actors, import_set

__all__ = ["hub_actors"]

HERE = Path(__file__).parent
COMPILER = HERE / "node_modules" / ".bin" / "relay-compiler"


def _install() -> None:
    if COMPILER.exists():
        return
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent"],
        cwd=HERE,
        check=True,
        timeout=300,
    )


def _printed_schema() -> str:
    """The SDL as the `hub schema` command prints it."""
    result = subprocess.run(
        [sys.executable, "-m", "hub.cli", "schema"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def _compile(workdir: Path, sdl: str) -> subprocess.CompletedProcess[str]:
    """Runs relay-compiler over the committed client documents against `sdl`."""
    shutil.copytree(HERE / "src", workdir / "src")
    (workdir / "__generated__").mkdir()
    (workdir / "schema.graphql").write_text(sdl)
    config = {
        "src": "./src",
        "schema": "./schema.graphql",
        "language": "javascript",
        "artifactDirectory": "./__generated__",
    }
    (workdir / "relay.config.json").write_text(json.dumps(config))
    return subprocess.run([str(COMPILER)], cwd=workdir, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def schema_sdl() -> str:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the Relay compiler test")
    _install()
    return _printed_schema()


@pytest.fixture(scope="module")
def generated(schema_sdl: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compiler's artifacts for the hub's schema."""
    workdir = tmp_path_factory.mktemp("relay")
    result = _compile(workdir, schema_sdl)
    assert result.returncode == 0, result.stdout + result.stderr
    return workdir / "__generated__"


def _operation_text(generated: Path, name: str) -> str:
    """The query text relay-compiler wrote into an operation's artifact."""
    source = (generated / f"{name}.graphql.js").read_text()
    match = re.search(r'"text": ("(?:[^"\\]|\\.)*")', source)
    assert match is not None, source[:400]
    text: str = json.loads(match.group(1))
    return text


def test_relay_compiles_connections_and_refetchable_fragments(generated: Path) -> None:
    for name in (
        "OrderRefetchQuery",
        "OrdersPaginationQuery",
        "RecentOrdersPaginationQuery",
        "EnterpriseOrdersPaginationQuery",
        "ordersPageQuery",
    ):
        assert (generated / f"{name}.graphql.js").exists(), name
    assert "node(id: $id)" in _operation_text(generated, "OrderRefetchQuery")
    assert "hasPreviousPage" in _operation_text(generated, "RecentOrdersPaginationQuery")


def test_the_compiler_refuses_a_schema_without_what_relay_needs(
    schema_sdl: str, tmp_path: Path
) -> None:
    # The check can fail: without startCursor the connections are not Relay connections.
    crippled = re.sub(r"\n  startCursor: String", "", schema_sdl)
    assert crippled != schema_sdl
    result = _compile(tmp_path, crippled)
    assert result.returncode != 0
    assert "startCursor" in result.stdout + result.stderr


async def test_the_generated_refetch_and_pagination_queries_run_on_the_hub(
    generated: Path, hub_actors: Actors
) -> None:
    for number in ("XZ-RELAY-0001", "XZ-RELAY-0002"):
        await hub_actors.file_all(import_set(number))
    token = await hub_actors.enterprise(PLATFORM)
    page = await hub_actors.post(
        _operation_text(generated, "OrdersPaginationQuery"), token=token, variables={"count": 1}
    )
    body = page.json()
    assert "errors" not in body, body
    connection = body["data"]["orders"]
    [edge] = connection["edges"]
    assert edge["node"]["orderNo"] == "XZ-RELAY-0001"
    assert connection["pageInfo"]["hasNextPage"] is True
    # Relay's next page, from the end cursor.
    after = connection["pageInfo"]["endCursor"]
    body = (
        await hub_actors.post(
            _operation_text(generated, "OrdersPaginationQuery"),
            token=token,
            variables={"count": 1, "cursor": after},
        )
    ).json()
    assert [e["node"]["orderNo"] for e in body["data"]["orders"]["edges"]] == ["XZ-RELAY-0002"]
    # Relay's refetch of one order, by the id it normalised it under.
    body = (
        await hub_actors.post(
            _operation_text(generated, "OrderRefetchQuery"),
            token=token,
            variables={"id": edge["node"]["id"]},
        )
    ).json()
    assert "errors" not in body, body
    node = body["data"]["node"]
    assert node["__typename"] == "Order"
    assert node["orderNo"] == "XZ-RELAY-0001"
    assert node["payment"]["amountPaid"]
    # A stranger's refetch of the same id: null, as `order(...)` answers it.
    stranger = await hub_actors.enterprise(STRANGER)
    body = (
        await hub_actors.post(
            _operation_text(generated, "OrderRefetchQuery"),
            token=stranger,
            variables={"id": edge["node"]["id"]},
        )
    ).json()
    assert body == {"data": {"node": None}}
