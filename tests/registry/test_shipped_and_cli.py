"""The shipped standards publish in one command, and the registry CLI works end to end."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.applications import Starlette

from hub.db import unit_of_work
from hub.paths import STANDARDS_DIR
from hub.standards import service
from hub.standards.shipped import load_shipped, publish_shipped
from tests.foundation.test_cli import hub

SHIPPED_IDS = {
    "cbec.common",
    "cbec.enterprise",
    "cbec.order",
    "cbec.payment",
    "cbec.receipt",
    "cbec.waybill",
    "cbec.logistics-status",
    "cbec.inventory",
    "cbec.inventory-status",
    # CEB 2022-05 messages 1.0.0 never modelled (2.0.0 only).
    "cbec.inventory-cancel",
    "cbec.inventory-return",
    "cbec.arrival",
    "cbec.departure",
    "cbec.summary-apply",
    "cbec.summary-result",
    "cbec.tax-bill",
}


def test_shipped_standards_are_ordered_with_referenced_ones_first() -> None:
    order = [s.standard_id for s in load_shipped()]
    assert set(order) == SHIPPED_IDS
    assert order.index("cbec.common") < order.index("cbec.order")
    assert all(s.title and s.owner for s in load_shipped())


async def test_publish_shipped_brings_a_fresh_database_to_all_published_idempotently(
    app: Starlette,
) -> None:
    factory = app.state.runtime.session_factory
    async with unit_of_work(factory) as session:
        first = await publish_shipped(session=session, actor="test")
    assert {o.ref.split("@")[0] for o in first} == SHIPPED_IDS
    assert not any(o.duplicate for o in first)
    async with unit_of_work(factory) as session:
        second = await publish_shipped(session=session, actor="test")
        assert all(o.duplicate for o in second)
        resolved = await service.resolve(session=session, ref="cbec.order")
    assert resolved.version.state == "PUBLISHED"


def test_cli_publish_check_deprecate_retire(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    published = hub("standards", "publish", "--shipped", database_url=url, cwd=tmp_path)
    assert published.returncode == 0, published.stderr
    assert "cbec.order@1.0.0: published" in published.stdout

    listed = json.loads(hub("standards", "list", "--json", database_url=url, cwd=tmp_path).stdout)
    assert {row["id"] for row in listed} == SHIPPED_IDS

    order = json.loads((STANDARDS_DIR / "cbec.order" / "1.0.0.json").read_text())
    folder = tmp_path / "cbec.order"
    folder.mkdir()
    compatible = json.loads(json.dumps(order))
    compatible["description"] = order.get("description", "") + " (clarified)"
    (folder / "1.1.0.json").write_text(json.dumps(compatible))
    breaking = json.loads(json.dumps(order))
    breaking["required"] = [*breaking.get("required", []), "brandNewField"]
    breaking.setdefault("properties", {})["brandNewField"] = {
        "type": "string",
        "x-hub-category": "order",
    }
    (folder / "1.2.0.json").write_text(json.dumps(breaking))

    check_ok = hub("standards", "check", str(folder / "1.1.0.json"), database_url=url, cwd=tmp_path)
    assert check_ok.returncode == 0, check_ok.stdout + check_ok.stderr
    assert "compatible" in check_ok.stdout
    check_bad = hub(
        "standards", "check", str(folder / "1.2.0.json"), database_url=url, cwd=tmp_path
    )
    assert check_bad.returncode == 1
    assert "INCOMPATIBLE" in check_bad.stdout

    refused = hub(
        "standards", "publish", str(folder / "1.2.0.json"), database_url=url, cwd=tmp_path
    )
    assert refused.returncode == 2
    assert "INCOMPATIBLE" in refused.stderr
    accepted = hub(
        "standards", "publish", str(folder / "1.1.0.json"), database_url=url, cwd=tmp_path
    )
    assert accepted.returncode == 0, accepted.stderr

    deprecated = hub("standards", "deprecate", "cbec.order@1.0.0", database_url=url, cwd=tmp_path)
    assert deprecated.stdout.strip() == "cbec.order@1.0.0: DEPRECATED"
    retired = hub(
        "standards",
        "retire",
        "cbec.order@1.0.0",
        "--successor",
        "1.1.0",
        database_url=url,
        cwd=tmp_path,
    )
    assert retired.stdout.strip() == "cbec.order@1.0.0: RETIRED"
    shown = hub("standards", "show", "cbec.order@1.0.0", database_url=url, cwd=tmp_path)
    assert shown.returncode == 2
    assert "cbec.order@1.1.0" in shown.stderr
    newest = json.loads(
        hub("standards", "show", "cbec.order", database_url=url, cwd=tmp_path).stdout
    )
    assert newest["version"] == "1.1.0"
