"""`hub credit model ...`: scoring models (draft, preview, publish, list)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Adds `hub credit ...` to the hub's command line."""
    from hub.credit import documents, model

    credit = sub.add_parser("credit", help="credit evaluation").add_subparsers(
        dest="credit", required=True
    )
    models = credit.add_parser("model", help="versioned scoring models").add_subparsers(
        dest="model", required=True
    )
    add_document_commands(
        models,
        kind=documents.DocumentKind.SCORING_MODEL,
        noun="scoring model",
        shipped=model.SHIPPED_MODEL,
        check=model.problems,
    )
    preview = models.add_parser(
        "preview", help="how many enterprises a DRAFT would move to another class"
    )
    preview.add_argument("version", help="the DRAFT version to compare with the model in force")
    preview.add_argument("--json", action="store_true", help="print the preview as JSON")
    preview.set_defaults(func=cmd_model_preview)


def add_document_commands(
    commands: argparse._SubParsersAction,
    *,
    kind: Any,
    noun: str,
    shipped: dict[str, Any],
    check: Callable[[dict[str, Any]], list[str]],
) -> None:
    """`draft`, `publish` and `list` for one kind of versioned credit document (scoring
    models here, rule sets in `hub risk`): one lifecycle, hub/credit/documents.py."""
    draft = commands.add_parser("draft", help=f"save a {noun} FILE (JSON) as a DRAFT version")
    draft.add_argument("version", help="the version to save, e.g. 1.1.0")
    draft.add_argument(
        "file", type=Path, nargs="?", help=f"the {noun} (JSON); default: the shipped one"
    )
    draft.set_defaults(func=_draft, kind=kind, noun=noun, shipped=shipped, check=check)
    publish = commands.add_parser("publish", help=f"publish a DRAFT {noun} (retires the current)")
    publish.add_argument("version", help="the DRAFT version to publish")
    publish.set_defaults(func=_publish, kind=kind, noun=noun)
    commands.add_parser("list", help=f"list {noun} versions and their state").set_defaults(
        func=_list, kind=kind
    )


def run_refusing(work: Any) -> Any:
    """Runs a credit or risk command's unit of work on a current schema (as every command
    does); a refusal becomes the command's error message."""
    from hub.cli import CommandError, _run_with_session, _settings, ensure_schema_current
    from hub.credit.errors import CreditRefused

    ensure_schema_current(_settings())
    try:
        return _run_with_session(work)
    except CreditRefused as exc:
        raise CommandError(str(exc)) from exc


def _draft(args: argparse.Namespace) -> int:
    from hub.cli import CommandError
    from hub.credit import documents

    body = args.shipped
    if args.file is not None:
        try:
            body = json.loads(args.file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"{args.file}: {exc}") from exc

    async def work(session: Any) -> Any:
        return await documents.save_draft(
            session=session,
            kind=args.kind,
            version=args.version,
            body=body,
            check=args.check,
            now=datetime.now(UTC),
        )

    row = run_refusing(work)
    print(f"{args.noun} {row.version}: {row.state}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from hub.credit import documents

    async def work(session: Any) -> Any:
        return await documents.publish(
            session=session, kind=args.kind, version=args.version, now=datetime.now(UTC)
        )

    row = run_refusing(work)
    print(f"{args.noun} {row.version}: {row.state}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from hub.credit import documents

    async def work(session: Any) -> list[tuple[str, str]]:
        rows = await documents.versions(session=session, kind=args.kind)
        return [(r.version, r.state) for r in rows]

    for version, state in run_refusing(work):
        print(f"{version}\t{state}")
    return 0


def cmd_model_preview(args: argparse.Namespace) -> int:
    from hub.credit import evaluation

    async def work(session: Any) -> Any:
        return await evaluation.preview(session=session, version=args.version)

    result = run_refusing(work)
    moves = {f"{a}->{b}": n for (a, b), n in sorted(result.moves.items())}
    if args.json:
        print(
            json.dumps(
                {
                    "current": result.current_version,
                    "candidate": result.candidate_version,
                    "enterprises": result.enterprises,
                    "changed": result.changed,
                    "moves": moves,
                }
            )
        )
        return 0
    print(
        f"{result.candidate_version} against {result.current_version}: {result.changed} of "
        f"{result.enterprises} enterprises change class"
    )
    for move, count in moves.items():
        print(f"  {move}: {count}")
    return 0
