"""`hub risk ...`: rule sets (draft, publish, list) and `hub risk run` (schedule, dry run)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Adds `hub risk ...` to the hub's command line."""
    risk = sub.add_parser("risk", help="risk rule sets and their evaluation").add_subparsers(
        dest="risk", required=True
    )
    run = risk.add_parser(
        "run", help="evaluate the published rule set over the whole graph and raise alerts"
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="store nothing: print what the rule set would raise (replay over history)",
    )
    run.add_argument(
        "--version", help="evaluate this rule-set version (e.g. a draft) instead of the published"
    )
    run.add_argument(
        "--as-of",
        type=datetime.fromisoformat,
        help="evaluate as on this day (YYYY-MM-DD): 'after N days' counts to it (default now)",
    )
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    run.set_defaults(func=cmd_risk_run)
    draft = risk.add_parser("draft", help="save a rule set FILE (JSON) as a DRAFT version")
    draft.add_argument("version", help="the version to save, e.g. 1.1.0")
    draft.add_argument(
        "file", type=Path, nargs="?", help="the rule set (JSON); default: the shipped one"
    )
    draft.set_defaults(func=cmd_risk_draft)
    publish = risk.add_parser("publish", help="publish a DRAFT rule set (retires the current)")
    publish.add_argument("version", help="the DRAFT version to publish")
    publish.set_defaults(func=cmd_risk_publish)
    risk.add_parser("list", help="list rule-set versions and their state").set_defaults(
        func=cmd_risk_list
    )


def cmd_risk_run(args: argparse.Namespace) -> int:
    from hub.cli import CommandError, _run_with_session
    from hub.risk import evaluation

    async def work(session: Any) -> Any:
        return await evaluation.run(
            session=session,
            now=datetime.now(UTC),
            as_of=args.as_of,
            version=args.version,
            dry_run=args.dry_run,
        )

    result = _run_with_session(work)
    if result is None:
        raise CommandError(
            "no rule set to run: `hub risk draft 1.0.0 && hub risk publish 1.0.0` publishes "
            "the shipped one"
        )
    if args.json:
        print(
            json.dumps(
                {
                    "version": result.version,
                    "dryRun": args.dry_run,
                    "hits": len(result.hits),
                    "raised": result.raised,
                    "byRule": result.by_rule(),
                    "alerts": [
                        {
                            "rule": f"{h.rule_id}@{h.rule_version}",
                            "enterprise": h.enterprise_code,
                            "severity": h.severity,
                            "evidence": list(h.evidence),
                        }
                        for h in result.hits
                    ],
                },
                indent=2,
            )
        )
        return 0
    verb = "would raise" if args.dry_run else "raised"
    print(f"rule set {result.version}: {len(result.hits)} hits; {verb} {result.raised} new alerts")
    for rule, count in sorted(result.by_rule().items()):
        print(f"  {rule}: {count}")
    return 0


def cmd_risk_draft(args: argparse.Namespace) -> int:
    from hub.cli import CommandError, _run_with_session
    from hub.credit import documents
    from hub.credit.errors import CreditRefused
    from hub.risk import ruleset

    body = ruleset.DEFAULT_RULE_SET
    if args.file is not None:
        try:
            body = json.loads(args.file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"{args.file}: {exc}") from exc

    async def work(session: Any) -> Any:
        return await documents.save_draft(
            session=session,
            kind=documents.DocumentKind.RULE_SET,
            version=args.version,
            body=body,
            check=ruleset.problems,
            now=datetime.now(UTC),
        )

    try:
        row = _run_with_session(work)
    except CreditRefused as exc:
        raise CommandError(str(exc)) from exc
    print(f"rule set {row.version}: {row.state}")
    return 0


def cmd_risk_publish(args: argparse.Namespace) -> int:
    from hub.cli import CommandError, _run_with_session
    from hub.credit import documents
    from hub.credit.errors import CreditRefused

    async def work(session: Any) -> Any:
        return await documents.publish(
            session=session,
            kind=documents.DocumentKind.RULE_SET,
            version=args.version,
            now=datetime.now(UTC),
        )

    try:
        row = _run_with_session(work)
    except CreditRefused as exc:
        raise CommandError(str(exc)) from exc
    print(f"rule set {row.version}: {row.state}")
    return 0


def cmd_risk_list(args: argparse.Namespace) -> int:
    from hub.cli import _run_with_session
    from hub.credit import documents

    async def work(session: Any) -> list[tuple[str, str]]:
        rows = await documents.versions(session=session, kind=documents.DocumentKind.RULE_SET)
        return [(r.version, r.state) for r in rows]

    for version, state in _run_with_session(work):
        print(f"{version}\t{state}")
    return 0
