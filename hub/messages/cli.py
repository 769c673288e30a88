"""`hub messages import FILE... --as ENTERPRISE`: back-loads archived CEB messages through
the same intake as `POST /messages`, one transaction per file, with a progress line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

CLI_CLIENT = "hub-cli:messages-import"


def cmd_messages_import(args: argparse.Namespace, settings: object) -> int:
    """Declares each file's records as the enterprise; exit 1 if any file or record failed."""
    from hub.db import create_engine, create_session_factory
    from hub.declarations.service import Declarant
    from hub.messages import service
    from hub.messages.errors import MessageRefused
    from hub.standards.service import ValidatorCache

    declarant = Declarant(client_id=CLI_CLIENT, enterprise_code=args.enterprise)

    async def main() -> int:
        engine = create_engine(settings)  # type: ignore[arg-type]
        validators = ValidatorCache(threads=settings.validation_threads)  # type: ignore[attr-defined]
        failed = 0
        totals = {"accepted": 0, "duplicate": 0, "refused": 0}
        try:
            for number, name in enumerate(args.files, start=1):
                path = Path(name)
                try:
                    async with create_session_factory(engine)() as session, session.begin():
                        outcome = await service.import_message(
                            session=session,
                            declarant=declarant,
                            body=path.read_bytes(),
                            validators=validators,
                            rules=settings.rules,  # type: ignore[attr-defined]
                        )
                except (MessageRefused, OSError) as exc:
                    failed += 1
                    print(f"[{number}/{len(args.files)}] {path}: refused: {exc}", file=sys.stderr)
                    continue
                new = sum(1 for r in outcome.results if r.accepted and not r.duplicate)
                dup = sum(1 for r in outcome.results if r.duplicate)
                bad = sum(1 for r in outcome.results if not r.accepted)
                totals["accepted"] += new
                totals["duplicate"] += dup
                totals["refused"] += bad
                failed += 1 if bad else 0
                print(
                    f"[{number}/{len(args.files)}] {path}: {outcome.message_type} "
                    f"{new} accepted, {dup} duplicate, {bad} refused",
                    file=sys.stderr,
                )
                for result in outcome.results:
                    for error in result.errors:
                        print(f"  {error['code']} {error['path']}: {error['message']}")
        finally:
            validators.close()
            await engine.dispose()
        print(
            f"{len(args.files)} file(s): {totals['accepted']} accepted, "
            f"{totals['duplicate']} duplicate, {totals['refused']} refused"
        )
        return 1 if failed else 0

    return asyncio.run(main())
