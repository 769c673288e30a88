"""`hub risk ...`: rule sets (draft, publish, list) and `hub risk run` (schedule, dry run)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
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
    from hub.credit.cli import add_document_commands
    from hub.credit.documents import DocumentKind
    from hub.risk import ruleset

    add_document_commands(
        risk,
        kind=DocumentKind.RULE_SET,
        noun="rule set",
        shipped=ruleset.DEFAULT_RULE_SET,
        check=ruleset.problems,
    )


def cmd_risk_run(args: argparse.Namespace) -> int:
    from hub.cli import CommandError
    from hub.credit.cli import run_refusing
    from hub.risk import evaluation

    async def work(session: Any) -> Any:
        return await evaluation.run(
            session=session,
            now=datetime.now(UTC),
            as_of=args.as_of,
            version=args.version,
            dry_run=args.dry_run,
        )

    result = run_refusing(work)
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
