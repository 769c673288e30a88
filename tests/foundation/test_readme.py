"""The README runs as written: every shell and GraphQL block against one fresh hub.

A fresh SQLite database is migrated (`hub db upgrade`, as `make run` does) and loaded by the
README's own demo block; a real `hub serve` process then serves it on a free port. Every
other block runs in README order against it: shell blocks in bash (`set -euo pipefail`,
with `.venv/bin` and the examples in the working directory, the variables and functions
earlier blocks defined, and `127.0.0.1:8000` pointed at the test's port), GraphQL blocks
over HTTP as the principal `GRAPHQL_RUNS` names. A block the test cannot run must be in
`NOT_RUN` with the reason; a new block that is in neither fails the test.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.graphql.node import global_id

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DEMO_BLOCK = ".venv/bin/hub demo "
DEMO_LINE = r"^(\.venv/bin/hub demo\b.*?)(\s+#.*)?$"
SERVED = "127.0.0.1:8000"

# Blocks that cannot run here, by their first line, with the reason.
NOT_RUN: dict[str, str] = {
    "make run    # serves the hub": "serves forever and `make test` runs the suite this test is"
    " part of; the test does what `make run` does (db upgrade, demo, serve) step by step",
    "export HUB_DATABASE_URL=postgresql+asyncpg://hub@db.example/hub": "production set-up: "
    "a PostgreSQL server of your own and a server that runs until stopped "
    "(tests/foundation/test_serve_process.py serves for real)",
    "curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/xml'": "posts "
    "your own CEB XML files (CEB311.xml, archive/*.xml); tests/customs/ post real messages",
    "hub log verify --jwks jwks.json": "a synopsis with placeholders (ID, [--payload]); "
    "tests/log/ run `hub log verify` on real proofs",
    ".venv/bin/python benchmarks/bench_log.py": "benchmarks, minutes long",
    ".venv/bin/python benchmarks/load.py": "a load test, minutes long",
    "npm ci --prefix hub/web --no-audit --no-fund": "installs GraphiQL's bundles from the npm "
    "registry into the checkout (not the test's copy); tests/web/ install them with the same "
    "`npm ci` through hub.web.assets and load the page in Chromium",
}

# Shell blocks whose output must show something particular, by first line.
SHELL_EXPECTS: dict[str, tuple[str, ...]] = {
    "DECLARE='mutation($input: DeclareInput!)": ('"status":"MATCHED"',),
    "declare_file examples/export/order.json": ('"status":"MATCHED"',),
    "hub_token() {": ('"scopes":["customs:read","pii:read"]',),
    "CREATED=$(.venv/bin/hub clients create": ("Seller ERP",),
    "BANK=$(jq -r": ('"status":"ACTIVE"', '"orderNo":"PY2024I90000001"'),
}


@dataclass(frozen=True)
class Block:
    """One fenced block of the README."""

    lang: str
    text: str
    line: int

    @property
    def first(self) -> str:
        return next(line.strip() for line in self.text.splitlines() if line.strip())


def readme_blocks() -> list[Block]:
    """Every fenced block, in order."""
    blocks: list[Block] = []
    lines = README.read_text(encoding="utf-8").splitlines()
    inside: tuple[str, int, list[str]] | None = None
    for number, line in enumerate(lines, start=1):
        fence = line.strip()
        if fence.startswith("```"):
            if inside is None:
                inside = (fence[3:].strip(), number, [])
            else:
                lang, start, body = inside
                blocks.append(Block(lang, "\n".join(body), start))
                inside = None
        elif inside is not None:
            inside[2].append(line)
    assert inside is None, f"README.md: the block at line {inside[1]} is never closed"
    return blocks


def _listed(block: Block, table: dict[str, Any]) -> str | None:
    return next((key for key in table if block.first.startswith(key)), None)


# -- the hub the README talks to ------------------------------------------------------------


@dataclass
class Hub:
    """The working directory, environment and served URL the blocks run against."""

    work: Path
    env: dict[str, str]
    base: str
    port: int
    # The variables earlier blocks assigned, carried into the next ones.
    names: set[str] = field(default_factory=set)
    seconds: dict[int, float] = field(default_factory=dict)

    def credentials(self) -> list[dict[str, Any]]:
        document = json.loads((self.work / "hub-demo-clients.json").read_text())
        return list(document["clients"])

    def token(self, who: str) -> str:
        """A token of the demo client named `who` or bound to enterprise `who`."""
        client = next(c for c in self.credentials() if who in (c["name"], c.get("enterprise_code")))
        response = httpx.post(
            f"{self.base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client["client_id"], client["client_secret"]),
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def client_id(self, name: str) -> str:
        return str(next(c["client_id"] for c in self.credentials() if c["name"] == name))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run(command: list[str], hub_env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, env=hub_env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    work = tmp_path_factory.mktemp("readme")
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "hub").exists(), f"the `hub` console script is not in {bin_dir}"
    (work / ".venv").mkdir()
    (work / ".venv" / "bin").symlink_to(bin_dir)
    for name in ("examples", "standards", "benchmarks"):
        (work / name).symlink_to(ROOT / name)
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            pytest.fail(f"the README's examples use {tool}: install it (apt-get install {tool})")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "PROMETHEUS_"))}
    env.update(
        HUB_DATABASE_URL=f"sqlite+aiosqlite:///{work / 'hub.db'}",
        HUB_ISSUER=f"http://127.0.0.1:{port}",
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
    )
    upgraded = _run([str(bin_dir / "hub"), "db", "upgrade"], env, work)
    assert upgraded.returncode == 0, upgraded.stderr
    hub = Hub(work=work, env=env, base=f"http://127.0.0.1:{port}", port=port)
    demo = [b for b in readme_blocks() if b.lang == "sh" and b.first.startswith(DEMO_BLOCK)]
    assert len(demo) == 1, "the README's demo block (`.venv/bin/hub demo ...`) is missing"
    # The demo block as written, with fewer orders: its 2,000 take half a minute, and
    # tests/demo/ check them; the README's examples need only some of each kind.
    smaller = re.sub(DEMO_LINE, r"\1 --orders 300", demo[0].text, flags=re.MULTILINE)
    _run_shell(hub, Block(demo[0].lang, smaller, demo[0].line))
    process = subprocess.Popen(
        [str(bin_dir / "hub"), "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_serving(hub.base, process)
        yield hub
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"hub serve exited: {stderr}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("hub serve did not start within 60 s")


# -- shell blocks ---------------------------------------------------------------------------

# Every NAME= in a block (over-matching `grant_type=` does no harm: `declare -p` of a name
# never set prints nothing). Bash's read-only variables cannot be restored.
ASSIGNED = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=")
READ_ONLY = {"BASHOPTS", "BASH_VERSINFO", "EUID", "PPID", "SHELLOPTS", "UID"}


def _run_shell(hub: Hub, block: Block) -> str:
    """Runs a shell block in bash with what earlier blocks defined; returns its stdout."""
    state = hub.work / ".readme-state.sh"
    state.touch()
    hub.names.update(set(ASSIGNED.findall(block.text)) - READ_ONLY)
    text = block.text.replace(SERVED, f"127.0.0.1:{hub.port}")
    saved = " ".join(shlex.quote(n) for n in sorted(hub.names))
    script = (
        f"set -euo pipefail\nsource {shlex.quote(str(state))}\n{text}\n"
        f'{{ declare -f; for name in {saved}; do declare -p "$name" 2>/dev/null || true; done; }}'
        f" > {shlex.quote(str(state))}.new\nmv {shlex.quote(str(state))}.new "
        f"{shlex.quote(str(state))}\n"
    )
    started = time.perf_counter()
    result = _run(["bash", "-c", script], hub.env, hub.work)
    hub.seconds[block.line] = time.perf_counter() - started
    where = f"README.md line {block.line} ({block.first!r})"
    assert result.returncode == 0, f"{where} failed ({result.returncode}):\n{result.stderr}"
    assert "Traceback" not in result.stderr, f"{where}:\n{result.stderr}"
    for line in result.stdout.splitlines():
        _check_json_line(line, where)
    for expected in SHELL_EXPECTS.get(_listed(block, SHELL_EXPECTS) or "", ()):
        assert expected in result.stdout, f"{where}: no {expected} in\n{result.stdout}"
    return result.stdout


def _check_json_line(line: str, where: str) -> None:
    """A JSON answer on its own line may not report an error, nor a refused record."""
    if not line.startswith("{"):
        return
    try:
        answer = json.loads(line)
    except ValueError:
        return
    assert not answer.get("errors"), f"{where}: {line}"
    assert "error" not in answer, f"{where}: {line}"
    refused = re.findall(r'"errors":\[\{[^]]*\]', line)
    assert not refused, f"{where}: a record was refused: {refused}"


# -- GraphQL blocks -------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphQLRun:
    """Who runs a GraphQL block, with which variables, and what the answer must hold."""

    principal: str
    variables: Callable[[Hub], dict[str, Any]] = lambda hub: {}
    expect: tuple[str, ...] = ()


def _example(path: str) -> dict[str, Any]:
    return dict(json.loads((ROOT / "examples" / path).read_text(encoding="utf-8")))


IMPORT_ORDER = _example("import/order.json")["payload"]
PLATFORM = IMPORT_ORDER["ebpCode"]
CUSTOMS = "Customs (demo)"

GRAPHQL_RUNS: dict[str, GraphQLRun] = {
    "mutation($p: JSON!)": GraphQLRun(
        PLATFORM, lambda hub: {"p": IMPORT_ORDER}, expect=('"chainIndex"',)
    ),
    "query ($ebp: String!, $no: String!)": GraphQLRun(
        CUSTOMS,
        lambda hub: {"ebp": PLATFORM, "no": IMPORT_ORDER["orderNo"]},
        expect=('"taxComputed"',),
    ),
    '{ orders(first: 5, filter: {direction: "E"})': GraphQLRun(
        CUSTOMS, expect=('"status": "MATCHED"',)
    ),
    "mutation($bank: String!)": GraphQLRun(
        PLATFORM,
        lambda hub: {"bank": hub.client_id("Demo bank")},
        expect=('"status": "ACTIVE"',),
    ),
    "{ accessLog(filter:": GraphQLRun(PLATFORM, expect=('"operationName"',)),
    "subscription {": GraphQLRun(CUSTOMS, expect=('"cursor"',)),
    "mutation {": GraphQLRun(CUSTOMS, expect=('"secret": "whsec_',)),
    "query ($id: ID!)": GraphQLRun(
        CUSTOMS,
        lambda hub: {"id": global_id("Order", PLATFORM, IMPORT_ORDER["orderNo"])},
        expect=('"__typename": "Order"', '"amountPaid"'),
    ),
    "{": GraphQLRun(CUSTOMS, expect=('"orderCount"',)),
}
# Bare "{" is ambiguous: the statistics and credit queries both begin so; told apart by body.
GRAPHQL_BY_BODY: dict[str, GraphQLRun] = {
    "statistics(groupBy": GraphQLRun(CUSTOMS, expect=('"orderCount"', '"band"')),
    "creditStatistics": GraphQLRun(CUSTOMS, expect=('"evaluation"', '"byClass"')),
    "orders(last: 10)": GraphQLRun(CUSTOMS, expect=('"hasPreviousPage"', '"startCursor"')),
}


def _graphql_run(block: Block) -> GraphQLRun | None:
    if block.first == "{":
        return next((run for key, run in GRAPHQL_BY_BODY.items() if key in block.text), None)
    key = _listed(block, GRAPHQL_RUNS)
    return GRAPHQL_RUNS[key] if key else None


def _run_graphql(hub: Hub, block: Block, run: GraphQLRun) -> None:
    where = f"README.md line {block.line} ({block.first!r})"
    headers = {"Authorization": f"Bearer {hub.token(run.principal)}"}
    body = {"query": block.text, "variables": run.variables(hub)}
    if block.first.startswith("subscription"):
        text = _first_sse_event(hub, body, headers, where)
    else:
        response = httpx.post(f"{hub.base}/graphql", json=body, headers=headers, timeout=60)
        assert response.status_code == 200, f"{where}: {response.status_code} {response.text}"
        answer = response.json()
        assert not answer.get("errors"), f"{where}: {answer['errors']}"
        text = json.dumps(answer, ensure_ascii=False)
    assert '"errors": [{' not in text, f"{where}: a record was refused: {text[:2000]}"
    for expected in run.expect:
        assert expected in text, f"{where}: no {expected} in {text[:2000]}"


def _first_sse_event(hub: Hub, body: dict[str, Any], headers: dict[str, str], where: str) -> str:
    """The first `next` event of a subscription over GraphQL-over-SSE."""
    headers = {**headers, "Accept": "text/event-stream"}
    with httpx.stream(
        "POST", f"{hub.base}/graphql", json=body, headers=headers, timeout=30
    ) as response:
        assert response.status_code == 200, f"{where}: {response.status_code} {response.read()!r}"
        event = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "next":
                answer = json.loads(line.split(":", 1)[1])
                assert not answer.get("errors"), f"{where}: {answer['errors']}"
                return json.dumps(answer, ensure_ascii=False)
    raise AssertionError(f"{where}: the subscription ended without an event")


# -- the tests ------------------------------------------------------------------------------

RUNNABLE = {"sh", "graphql"}
NOT_EXECUTED = {"python", "json", ""}  # code to read, log lines and printed output


def test_every_block_is_run_or_listed_with_a_reason() -> None:
    known = RUNNABLE | NOT_EXECUTED
    unknown = [f"line {b.line}: ```{b.lang}" for b in readme_blocks() if b.lang not in known]
    assert unknown == [], "blocks in a language the test neither runs nor knows as output"
    unrunnable = [
        f"line {b.line}: {b.first}"
        for b in readme_blocks()
        if b.lang == "graphql" and _graphql_run(b) is None and _listed(b, NOT_RUN) is None
    ]
    assert unrunnable == [], "GraphQL blocks without a principal in GRAPHQL_RUNS or NOT_RUN"
    blocks = readme_blocks()
    stale = [key for key in NOT_RUN if not any(b.first.startswith(key) for b in blocks)]
    stale += [key for key in SHELL_EXPECTS if not any(b.first.startswith(key) for b in blocks)]
    assert stale == [], "NOT_RUN / SHELL_EXPECTS name blocks the README no longer has"


def test_every_shell_and_graphql_block_runs_against_a_fresh_hub(hub: Hub) -> None:
    ran = 0
    for block in readme_blocks():
        if block.lang not in RUNNABLE or _listed(block, NOT_RUN) is not None:
            continue
        if block.lang == "sh":
            if not block.first.startswith(DEMO_BLOCK):  # it made this hub
                _run_shell(hub, block)
        else:
            run = _graphql_run(block)
            assert run is not None, f"README.md line {block.line}: add it to GRAPHQL_RUNS"
            _run_graphql(hub, block, run)
        ran += 1
    slowest = sorted(hub.seconds.items(), key=lambda item: -item[1])[:8]
    print("slowest blocks (README line: seconds):", ", ".join(f"{n}: {s:.1f}" for n, s in slowest))
    assert ran >= 20
