"""`hub credit model ...`: scoring models (draft, preview, publish, list)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Adds `hub credit ...` to the hub's command line."""
    credit = sub.add_parser("credit", help="credit evaluation").add_subparsers(
        dest="credit", required=True
    )
    models = credit.add_parser("model", help="versioned scoring models").add_subparsers(
        dest="model", required=True
    )
    draft = models.add_parser("draft", help="save a scoring model FILE (JSON) as a DRAFT")
    draft.add_argument("version", help="the version to save, e.g. 1.1.0")
    draft.add_argument(
        "file", type=Path, nargs="?", help="the model (JSON); default: the shipped one"
    )
    draft.set_defaults(func=cmd_model_draft)
    preview = models.add_parser(
        "preview", help="how many enterprises a DRAFT would move to another class"
    )
    preview.add_argument("version", help="the DRAFT version to compare with the model in force")
    preview.add_argument("--json", action="store_true", help="print the preview as JSON")
    preview.set_defaults(func=cmd_model_preview)
    publish = models.add_parser("publish", help="publish a DRAFT model (retires the current)")
    publish.add_argument("version", help="the DRAFT version to publish")
    publish.set_defaults(func=cmd_model_publish)
    models.add_parser("list", help="list scoring-model versions and their state").set_defaults(
        func=cmd_model_list
    )


def _refusing(work: Any) -> Any:
    from hub.cli import CommandError, _run_with_session
    from hub.credit.errors import CreditRefused

    try:
        return _run_with_session(work)
    except CreditRefused as exc:
        raise CommandError(str(exc)) from exc


def cmd_model_draft(args: argparse.Namespace) -> int:
    from hub.cli import CommandError
    from hub.credit import documents, model

    body = model.SHIPPED_MODEL
    if args.file is not None:
        try:
            body = json.loads(args.file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"{args.file}: {exc}") from exc

    async def work(session: Any) -> Any:
        return await documents.save_draft(
            session=session,
            kind=documents.DocumentKind.SCORING_MODEL,
            version=args.version,
            body=body,
            check=model.problems,
            now=datetime.now(UTC),
        )

    row = _refusing(work)
    print(f"scoring model {row.version}: {row.state}")
    return 0


def cmd_model_preview(args: argparse.Namespace) -> int:
    from hub.credit import evaluation

    async def work(session: Any) -> Any:
        return await evaluation.preview(session=session, version=args.version)

    result = _refusing(work)
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


def cmd_model_publish(args: argparse.Namespace) -> int:
    from hub.credit import documents

    async def work(session: Any) -> Any:
        return await documents.publish(
            session=session,
            kind=documents.DocumentKind.SCORING_MODEL,
            version=args.version,
            now=datetime.now(UTC),
        )

    row = _refusing(work)
    print(f"scoring model {row.version}: {row.state}")
    return 0


def cmd_model_list(args: argparse.Namespace) -> int:
    from hub.credit import documents

    async def work(session: Any) -> list[tuple[str, str]]:
        rows = await documents.versions(session=session, kind=documents.DocumentKind.SCORING_MODEL)
        return [(r.version, r.state) for r in rows]

    for version, state in _refusing(work):
        print(f"{version}\t{state}")
    return 0
