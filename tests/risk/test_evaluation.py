"""Rule sets evaluated on intake and on schedule, replayed as a dry run over history; the
rule set is versioned (DRAFT → PUBLISHED → RETIRED) and every hit names rule id@version."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette

from hub.credit import documents
from hub.credit.documents import DocumentKind
from hub.credit.errors import CreditRefused
from hub.db import unit_of_work
from hub.events.sequencer import EventSequencer
from hub.risk import evaluation, ruleset
from hub.risk.models import RiskAlert
from tests.builders.credit import CreditDesk
from tests.builders.parties import Actors
from tests.builders.retail import PLATFORM, RetailHub, retail_hub, retail_order
from tests.foundation.test_cli import hub
from tests.trade.test_quota import counting

__all__ = ["retail_hub"]


async def _publish(app: Starlette, version: str = "1.0.0", body: Any = None) -> None:
    async with unit_of_work(app.state.runtime.session_factory) as session:
        now = datetime.now(UTC)
        await documents.save_draft(
            session=session,
            kind=DocumentKind.RULE_SET,
            version=version,
            body=body or ruleset.DEFAULT_RULE_SET,
            check=ruleset.problems,
            now=now,
        )
        await documents.publish(
            session=session, kind=DocumentKind.RULE_SET, version=version, now=now
        )


async def _split(retail_hub: RetailHub, count: int, value: int = 1900) -> list[str]:
    refs = []
    for i in range(count):
        # One buyer, one platform, an hour apart: each under the limit, together over it.
        docs = retail_order(f"SPLIT-{i}", value, app_time=f"20250610{9 + i:02d}0000")
        await retail_hub.order_with_inventory(docs, as_=PLATFORM)
        refs.append(f"cbec.order:{PLATFORM}|SPLIT-{i}")
    return refs


async def _follow_the_log(app: Starlette) -> None:
    """One round of the events sequencer with the followers the hub wires: the risk rules
    see what was declared since their cursor (the suite runs no sequencer of its own)."""
    runtime = app.state.runtime
    sequencer = EventSequencer(
        session_factory=runtime.session_factory,
        interval=0.2,
        batch=10_000,
        retention=timedelta(days=1),
        followers=runtime.events.followers,
    )
    await sequencer.round()
    await sequencer.stop()


async def _alerts(app: Starlette, *, follow: bool = True) -> list[RiskAlert]:
    if follow:
        await _follow_the_log(app)
    async with app.state.runtime.session_factory() as session:
        return list(await session.scalars(select(RiskAlert).order_by(RiskAlert.id)))


async def test_split_orders_raise_an_alert_on_intake(
    app: Starlette, hub_actors: Actors, retail_hub: RetailHub
) -> None:
    await _publish(app)
    refs = await _split(retail_hub, 2)
    assert [a.rule_id for a in await _alerts(app)] == []  # two orders: just below

    refs += await _split_more(retail_hub)
    # Declaring does not run the rules (they read the enterprise's history: off the write
    # path); the log's follower does, once the events are sequenced.
    assert await _alerts(app, follow=False) == []

    [alert] = [a for a in await _alerts(app) if a.rule_id == "split-orders"]
    assert (alert.rule_version, alert.enterprise_code, alert.severity) == (
        "1.0.0",
        PLATFORM,
        "MEDIUM",
    )
    assert alert.evidence == refs
    desk = CreditDesk(hub_actors)
    [seen] = await desk.alerts(scopes="customs:read", ruleId="split-orders")
    assert seen["rule"] == "split-orders@1.0.0"
    assert seen["evidence"] == refs
    # The follower's cursor moved with the alert: another round raises nothing again.
    assert [a.id for a in await _alerts(app)] == [alert.id]


async def _split_more(retail_hub: RetailHub) -> list[str]:
    docs = retail_order("SPLIT-2", 1900, app_time="20250610110000")
    await retail_hub.order_with_inventory(docs, as_=PLATFORM)
    return [f"cbec.order:{PLATFORM}|SPLIT-2"]


async def _statements_of_one_order(
    app: Starlette, retail_hub: RetailHub, order_no: str
) -> list[str]:
    docs = retail_order(order_no, 300, app_time="20250612090000")
    await retail_hub.token(PLATFORM)  # the token endpoint's statements are not the order's
    with counting(app.state.runtime.engine) as statements:
        await retail_hub.declare("cbec.order", docs["order"], as_=PLATFORM)
    return statements


async def test_a_published_rule_set_adds_nothing_to_the_declaring_transaction(
    app: Starlette, hub_actors: Actors, retail_hub: RetailHub
) -> None:
    """The rules read the platform's history; a declaration's cost must not (issue 11: an
    arrival costs O(its own records)). With or without a rule set in force, one order
    costs the same statements; the rules run when the log is followed."""
    await _split(retail_hub, 3)  # history, and every cache warm
    without = await _statements_of_one_order(app, retail_hub, "COST-1")
    await _publish(app)
    with_rules = await _statements_of_one_order(app, retail_hub, "COST-2")

    assert len(with_rules) == len(without)
    assert not any("risk_documents" in s or "risk_alerts" in s for s in with_rules)
    assert "split-orders" in {a.rule_id for a in await _alerts(app)}  # the rules did run


async def test_without_a_published_rule_set_intake_raises_nothing(
    app: Starlette, hub_actors: Actors, retail_hub: RetailHub
) -> None:
    await _split(retail_hub, 3)

    assert await _alerts(app) == []


async def test_a_dry_run_replays_history_without_storing(
    app: Starlette, hub_actors: Actors, retail_hub: RetailHub
) -> None:
    await _split(retail_hub, 3)
    factory = app.state.runtime.session_factory
    async with unit_of_work(factory) as session:
        await documents.save_draft(
            session=session,
            kind=DocumentKind.RULE_SET,
            version="2.0.0-draft",
            body=ruleset.DEFAULT_RULE_SET,
            check=ruleset.problems,
            now=datetime.now(UTC),
        )
    async with unit_of_work(factory) as session:
        replay = await evaluation.run(
            session=session,
            now=datetime.now(UTC),
            as_of=datetime(2025, 6, 11),
            version="2.0.0-draft",
            dry_run=True,
        )
    assert replay is not None
    assert replay.by_rule().get("split-orders") == 1
    assert replay.raised == len(replay.hits)  # none raised before: every hit would be new
    assert await _alerts(app) == []  # a dry run stores nothing

    async with unit_of_work(factory) as session:
        await documents.publish(
            session=session,
            kind=DocumentKind.RULE_SET,
            version="2.0.0-draft",
            now=datetime.now(UTC),
        )
        first = await evaluation.run(
            session=session, now=datetime.now(UTC), as_of=datetime(2025, 6, 11)
        )
    async with unit_of_work(factory) as session:
        again = await evaluation.run(
            session=session, now=datetime.now(UTC), as_of=datetime(2025, 6, 11)
        )
    assert first is not None and again is not None
    assert first.raised == len(first.hits) and first.raised >= 1
    assert again.raised == 0  # the same hits raise no second alert
    assert {a.rule_version for a in await _alerts(app)} == {"2.0.0-draft"}


async def test_publishing_retires_the_version_in_force(app: Starlette) -> None:
    await _publish(app, "1.0.0")
    await _publish(app, "1.1.0")

    async with app.state.runtime.session_factory() as session:
        states = {
            r.version: r.state
            for r in await documents.versions(session=session, kind=DocumentKind.RULE_SET)
        }
    assert states == {"1.0.0": "RETIRED", "1.1.0": "PUBLISHED"}


async def test_a_published_rule_set_cannot_be_redrafted(app: Starlette) -> None:
    await _publish(app, "1.0.0")
    async with unit_of_work(app.state.runtime.session_factory) as session:
        try:
            await documents.save_draft(
                session=session,
                kind=DocumentKind.RULE_SET,
                version="1.0.0",
                body=ruleset.DEFAULT_RULE_SET,
                check=ruleset.problems,
                now=datetime.now(UTC),
            )
        except CreditRefused as exc:
            assert [r.code.value for r in exc.refusals] == ["VERSION_EXISTS"]
        else:
            raise AssertionError("a published version was changed")


def test_hub_risk_cli_drafts_publishes_and_runs(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    assert hub("db", "upgrade", database_url=url, cwd=tmp_path).returncode == 0
    refused = hub("risk", "run", database_url=url, cwd=tmp_path)
    assert refused.returncode != 0 and "hub risk publish" in refused.stderr

    assert "DRAFT" in hub("risk", "draft", "1.0.0", database_url=url, cwd=tmp_path).stdout
    dry = hub(
        "risk", "run", "--dry-run", "--version", "1.0.0", "--json", database_url=url, cwd=tmp_path
    )
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["version"] == "1.0.0"
    assert "PUBLISHED" in hub("risk", "publish", "1.0.0", database_url=url, cwd=tmp_path).stdout
    run = hub("risk", "run", database_url=url, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "rule set 1.0.0: 0 hits" in run.stdout
    listed = hub("risk", "list", database_url=url, cwd=tmp_path).stdout
    assert listed.split() == ["1.0.0", "PUBLISHED"]


async def test_an_inventory_changed_after_release_raises_an_alert(
    app: Starlette, hub_actors: Actors, retail_hub: RetailHub
) -> None:
    await _publish(app)
    docs = retail_order("REL-1", 300, app_time="20250610090000")
    await retail_hub.order_with_inventory(docs, as_=PLATFORM)
    await retail_hub.receipt(docs, 800, "20250610120000", as_=docs["inventory"]["agentCode"])
    assert [a.rule_id for a in await _alerts(app)] == []

    changed = docs["inventory"] | {"appType": "2", "grossWeight": "9.9"}
    await retail_hub.declare("cbec.inventory", changed, as_=changed["agentCode"])

    [alert] = [a for a in await _alerts(app) if a.rule_id == "changed-after-release"]
    assert alert.enterprise_code == docs["order"]["ebcCode"]
    assert len(alert.evidence) == 2
    assert all(ref.startswith("declaration:") for ref in alert.evidence)


def test_credit_and_risk_commands_bring_a_fresh_embedded_database_up_to_date(
    tmp_path: Path,
) -> None:
    """Like every command, they migrate an embedded database first: no traceback from a
    missing table on a fresh checkout."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    listed = hub("credit", "model", "list", database_url=url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr
    run = hub("risk", "run", database_url=url, cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "hub risk publish" in run.stderr
