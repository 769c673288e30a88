"""`hub log witness`: a department's witness loop (once), its key, and its registration.

    hub log witness --keygen customs --key customs.key        # the department: a new key
    hub log witness --register CLIENT_ID --vkey VKEY          # the operator: on the hub
    HUB_WITNESS_SECRET=... hub log witness --as CLIENT_ID --key customs.key \\
        --state customs.state --hub https://hub.example       # the department: cosign once

The loop fetches the checkpoint, checks it against the last one this witness cosigned
(hub/log/witness.py: rollback, fork, consistency proof), and only then posts its
cosignature; the state file moves forward only after the hub accepted it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from hub.log import verify, witness
from hub.log.note import NoteError, Signer
from hub.log.witness import WitnessState


def add_parser(log: argparse._SubParsersAction) -> None:
    """Adds `hub log witness` to `hub log`."""
    command = log.add_parser("witness", help="cosign the log's checkpoint as a witness")
    mode = command.add_mutually_exclusive_group(required=True)
    mode.add_argument("--as", dest="client", metavar="CLIENT_ID", help="cosign once")
    mode.add_argument("--keygen", metavar="NAME", help="make a witness key, print its vkey")
    mode.add_argument(
        "--register", metavar="CLIENT_ID", help="register a witness client's --vkey (operator)"
    )
    command.add_argument("--vkey", help="the witness's verifier key (with --register)")
    command.add_argument("--key", type=Path, help="the witness key file")
    command.add_argument("--state", type=Path, help="the witness's state file")
    command.add_argument("--hub", help="the hub's base URL (default: HUB_ISSUER)")
    command.add_argument("--log-key", help="the log's vkey to trust on the first run")
    command.set_defaults(func=cmd_log_witness)


def write_key(path: Path, signer: Signer) -> None:
    """Saves a witness key (name and seed), readable by its owner only."""
    document = {"name": signer.name, "seed": base64.b64encode(signer.seed).decode()}
    path.touch(mode=0o600, exist_ok=False)
    path.write_text(json.dumps(document))


def read_key(path: Path) -> Signer:
    """Loads a witness key file."""
    document = json.loads(path.read_text())
    return Signer.from_seed(document["name"], base64.b64decode(document["seed"]))


@dataclass(frozen=True)
class Outcome:
    """What one run did: cosigned (and at which size), or refused and why."""

    cosigned: bool
    size: int
    detail: str


async def witness_once(
    *,
    http: httpx.AsyncClient,
    client_id: str,
    secret: str,
    signer: Signer,
    state: WitnessState | None,
    log_key: str | None = None,
    now: float | None = None,
) -> tuple[Outcome, WitnessState | None]:
    """One round: verify the newest checkpoint against `state`, cosign, post; returns the
    outcome and the state to keep (unchanged unless the hub accepted the cosignature)."""
    token = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "witness"},
        auth=(client_id, secret),
    )
    if token.status_code != 200:
        return Outcome(False, 0, f"token refused: {token.status_code} {token.text}"), state
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    served = await http.get("/log/checkpoint")
    if served.status_code != 200:
        return Outcome(False, 0, f"no checkpoint: {served.status_code}"), state
    try:
        current = state or await _first_state(http, served.text, log_key)
        try:
            head = witness.open_checkpoint(current, served.text)
        except verify.VerificationError:
            # Perhaps the log rotated its key: follow the notes the pinned key signed.
            document = (await http.get("/log/keys")).json()
            listed = document.get("keys") if isinstance(document, dict) else None
            rotations = [
                k["rotation"]
                for k in (listed if isinstance(listed, list) else [])
                if isinstance(k, dict) and isinstance(k.get("rotation"), str)
            ]
            current = witness.follow_rotation(current, rotations)
            head = witness.open_checkpoint(current, served.text)
        proof = None
        if witness.needs_proof(current, head):
            answer = await http.get(
                "/log/proof/consistency", params={"from": current.size, "to": head.size}
            )
            proof = answer.json().get("hashes") if answer.status_code == 200 else None
        kept = witness.review(current, head, proof)
    except (verify.VerificationError, NoteError, ValueError) as exc:
        return Outcome(False, 0, f"REFUSED: {exc}"), state
    line = witness.cosign(head, signer, timestamp=int(now if now is not None else time.time()))
    posted = await http.post(
        "/log/cosign", json={"size": head.size, "cosignature": line}, headers=bearer
    )
    if posted.status_code != 200:
        return Outcome(False, head.size, f"the hub refused: {posted.text}"), state
    return Outcome(True, head.size, f"cosigned size {head.size} as {signer.name}"), kept


async def _first_state(http: httpx.AsyncClient, text: str, log_key: str | None) -> WitnessState:
    """Trust on first use: the log key given, or the JWKS key that signed the checkpoint."""
    if log_key:
        return WitnessState(log_key)
    jwks = (await http.get("/.well-known/jwks.json")).json()
    head = verify.open_head(text, verify.log_keys(jwks))
    return WitnessState(head.signed_by.vkey)


def cmd_log_witness(args: argparse.Namespace) -> int:
    """`hub log witness`: --keygen, --register or --as (one round)."""
    if args.keygen:
        if args.key is None:
            print("give --key FILE to write the new key to")
            return 2
        signer = Signer.generate(args.keygen)
        write_key(args.key, signer)
        print(witness.witness_vkey(signer))
        return 0
    if args.register:
        return _register(args)
    return _run(args)


def _register(args: argparse.Namespace) -> int:
    from hub.cli import _settings, ensure_schema_current
    from hub.db import create_engine, create_session_factory, unit_of_work
    from hub.log import service

    if not args.vkey:
        print("give --vkey (the witness's `hub log witness --keygen` output)")
        return 2
    settings = _settings()
    ensure_schema_current(settings)

    async def main() -> str:
        engine = create_engine(settings)
        try:
            async with unit_of_work(create_session_factory(engine)) as session:
                row = await service.register_witness(
                    session=session, client_id=args.register, vkey=args.vkey, now=datetime.now(UTC)
                )
                return row.name
        finally:
            await engine.dispose()

    try:
        name = asyncio.run(main())
    except service.LogError as exc:
        print(f"refused: {exc.message}")
        return 2
    print(f"witness {name} registered for client {args.register}")
    return 0


def _run(args: argparse.Namespace) -> int:
    secret = os.environ.get("HUB_WITNESS_SECRET")
    if not secret or args.key is None or args.state is None:
        print("give --key and --state, and the client secret in HUB_WITNESS_SECRET")
        return 2
    base = args.hub or os.environ.get("HUB_ISSUER", "http://127.0.0.1:8000")
    state = WitnessState.from_json(args.state.read_text()) if args.state.exists() else None

    async def main() -> tuple[Outcome, WitnessState | None]:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            return await witness_once(
                http=http,
                client_id=args.client,
                secret=secret,
                signer=read_key(args.key),
                state=state,
                log_key=args.log_key,
            )

    outcome, kept = asyncio.run(main())
    if outcome.cosigned and kept is not None:
        temporary = args.state.with_suffix(".tmp")
        temporary.write_text(kept.to_json())
        temporary.replace(args.state)
    print(outcome.detail)
    return 0 if outcome.cosigned else 1
