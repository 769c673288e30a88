"""`hub log verify`: offline, from files a bank holds; or `--full`, over the database."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from hub.log import verify, witness_cli


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Adds `hub log verify` to the hub's command line."""
    log = sub.add_parser("log", help="the verifiable declaration log").add_subparsers(
        dest="log", required=True
    )
    check = log.add_parser(
        "verify",
        help="check a declaration offline (--jwks, --checkpoint, --proof) or the whole log",
    )
    check.add_argument("--jwks", type=Path, help="the hub's JWKS (/.well-known/jwks.json)")
    check.add_argument("--checkpoint", type=Path, help="a checkpoint (/log/checkpoint)")
    check.add_argument("--proof", type=Path, help="an inclusion proof (/log/proof/inclusion)")
    check.add_argument("--id", help="the declaration the proof must be for")
    check.add_argument("--payload", type=Path, help="its canonical payload (checks the hash)")
    check.add_argument(
        "--full", action="store_true", help="recompute the whole log from the database"
    )
    check.add_argument(
        "--witnesses",
        type=Path,
        help="the witness list and policy (/log/witnesses): the checkpoint must satisfy it",
    )
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.set_defaults(func=cmd_log_verify)
    witness_cli.add_parser(log)
    keys = log.add_parser("keys", help="the log's checkpoint signing keys").add_subparsers(
        dest="keys", required=True
    )
    rotate = keys.add_parser(
        "rotate", help="retire the signing key and make a new one (the old stays published)"
    )
    rotate.add_argument("--json", action="store_true", help="print the new key as JSON")
    rotate.set_defaults(func=cmd_log_keys_rotate)
    listing = keys.add_parser("list", help="every log key, oldest first, and whether retired")
    listing.add_argument("--json", action="store_true", help="print the keys as JSON")
    listing.set_defaults(func=cmd_log_keys_list)


def _keys_command(action: str) -> list[dict[str, object]]:
    from datetime import UTC, datetime

    from hub.cli import _settings, ensure_schema_current
    from hub.db import create_engine, create_session_factory, unit_of_work
    from hub.log import keys

    settings = _settings()
    ensure_schema_current(settings)
    origin = settings.log_origin or keys.origin_for(settings.issuer)

    async def main() -> list[dict[str, object]]:
        engine = create_engine(settings)
        try:
            async with unit_of_work(create_session_factory(engine)) as session:
                if action == "rotate":
                    await keys.rotate(session=session, origin=origin, now=datetime.now(UTC))
                return [k.as_json() for k in await keys.published(session=session)]
        finally:
            await engine.dispose()

    return asyncio.run(main())


def cmd_log_keys_rotate(args: argparse.Namespace) -> int:
    """`hub log keys rotate`: a new signing key; running hubs sign with it within seconds."""
    found = _keys_command("rotate")
    new = found[-1]
    if args.json:
        print(json.dumps(new))
    else:
        print(f"now signing with {new['vkey']}")
        print(f"{sum(1 for k in found if k['retiredAt'])} retired key(s) stay published")
    return 0


def cmd_log_keys_list(args: argparse.Namespace) -> int:
    """`hub log keys list`: the log's keys, oldest first."""
    found = _keys_command("list")
    if args.json:
        print(json.dumps(found))
        return 0
    for k in found:
        state = f"retired {k['retiredAt']}" if k["retiredAt"] else "active"
        print(f"{k['vkey']}  created {k['createdAt']}  {state}")
    return 0


def _offline(args: argparse.Namespace) -> int:
    try:
        keys = verify.log_keys(json.loads(args.jwks.read_text()))
        head = verify.open_head(args.checkpoint.read_bytes(), keys)
        cosigned: list[str] = []
        if args.witnesses is not None:
            witnesses, policy = verify.witness_keys(json.loads(args.witnesses.read_text()))
            if policy is None:
                raise verify.VerificationError("the witness list names no policy")
            cosigned = verify.check_witnessed(head, witnesses, policy)
        entry = None
        if args.proof is not None:
            entry = verify.check_inclusion(
                json.loads(args.proof.read_text()),
                head,
                declaration_id=args.id,
                payload=args.payload.read_bytes() if args.payload else None,
            )
    except (OSError, ValueError) as exc:  # VerificationError is a ValueError
        print(json.dumps({"ok": False, "error": str(exc)}) if args.json else f"FAILED: {exc}")
        return 1
    result: dict[str, object] = {"ok": True, "origin": head.checkpoint.origin, "size": head.size}
    if args.witnesses is not None:
        result["witnesses"] = cosigned
    if entry is not None:
        result |= {"declaration": entry.declaration_id, "declarant": entry.declarant}
    if args.json:
        print(json.dumps(result))
    elif entry is None:
        print(f"checkpoint OK: {head.checkpoint.origin} at size {head.size:,}")
        if cosigned:
            print(f"witnessed by {', '.join(cosigned)}")
    else:
        print(
            f"OK: declaration {entry.declaration_id} is in {head.checkpoint.origin} "
            f"at size {head.size:,}"
        )
    return 0


def cmd_log_verify(args: argparse.Namespace) -> int:
    """Offline check of a proof and checkpoint, or (--full) of the stored log; exit 1 on a
    problem."""
    if not args.full:
        if args.jwks is None or args.checkpoint is None:
            print("give --jwks and --checkpoint (and --proof), or --full")
            return 2
        return _offline(args)
    from hub.cli import _settings, ensure_schema_current
    from hub.db import create_engine, create_session_factory
    from hub.demo.progress import terminal_progress
    from hub.log.audit import LogReport, check_full

    settings = _settings()
    ensure_schema_current(settings)

    async def main() -> LogReport:
        engine = create_engine(settings)
        progress = terminal_progress(label="verifying log")
        try:
            async with create_session_factory(engine)() as session:
                return await check_full(session=session, progress=progress)
        finally:
            progress.close()
            await engine.dispose()

    report = asyncio.run(main())
    if args.json:
        print(json.dumps({"ok": report.ok, "size": report.size, "problems": report.problems}))
    elif report.ok:
        print(
            f"log OK: {report.checked_entries:,} entries, {report.checked_nodes:,} nodes, "
            f"{report.checked_checkpoints:,} checkpoints"
        )
    else:
        print(f"log FAILED: {len(report.problems)} problem(s)")
        for problem in report.problems:
            print(f"  {problem}")
    return 0 if report.ok else 1
