"""The hub's subgraph composes with a second subgraph under Apollo's composition rules."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent


def _install() -> None:
    if (HERE / "node_modules" / "@apollo" / "composition").exists():
        return
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent"],
        cwd=HERE,
        check=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def node_ready() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the federation composition test")
    _install()


async def test_the_hub_subgraph_composes_with_a_bank_subgraph(
    node_ready: None, http: httpx.AsyncClient, get_token: object, tmp_path: Path
) -> None:
    token = await get_token(scopes="customs:read")  # type: ignore[operator]
    response = await http.post(
        "/graphql",
        json={"query": "{ _service { sdl } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    sdl = response.json()["data"]["_service"]["sdl"]
    assert '@key(fields: "ebpCode orderNo")' in sdl
    assert "@requiresScopes" in sdl
    hub_file = tmp_path / "hub.graphql"
    hub_file.write_text(sdl)
    result = subprocess.run(
        [
            "node",
            str(HERE / "compose.mjs"),
            f"hub={hub_file}",
            f"bank={HERE / 'bank_credit.graphql'}",
        ],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "COMPOSED 2 subgraphs" in result.stdout


def test_composition_fails_on_a_conflicting_subgraph(node_ready: None, tmp_path: Path) -> None:
    # The check must be able to fail: a subgraph redefining Enterprise.code as Int conflicts.
    conflicting = tmp_path / "conflict.graphql"
    conflicting.write_text(
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n'
        'type Enterprise @key(fields: "code") { code: Int! }\n'
        "type Query { x: Int }\n"
    )
    result = subprocess.run(
        [
            "node",
            str(HERE / "compose.mjs"),
            f"a={HERE / 'bank_credit.graphql'}",
            f"b={conflicting}",
        ],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "ERROR" in result.stderr
