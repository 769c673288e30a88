"""Loads the synthetic demo data set into a hub database, the way real clients would.

`load_demo` publishes the shipped standards, creates one OAuth2 client per department and
one `declare` client per generated enterprise, then declares every generated record through
`declare_batch`, under the standard version it was generated in (`cbec.order@2.0.0`), as the
client of the enterprise the authority table (`hub.access.authority`) lets create it: the
platform sends orders, the payment firm payments and receipts, the carrier waybills,
statuses and arrival / departure lists, the customs broker (`agentCode`, the declaring
enterprise) inventories, cancellations, returns and summary applications, and relays what
customs answers it (receipts 622/604, tax bills 816, summary results 792: the hub has no
customs enterprise; customs' own systems read, they do not declare).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import clients as client_service
from hub.db import unit_of_work
from hub.declarations.models import Declaration
from hub.declarations.service import Declarant, DeclareItem, declare_batch
from hub.demo import generator
from hub.demo.generator import DemoDataSet, Record
from hub.runtime import Runtime
from hub.standards.shipped import publish_shipped
from hub.trade.models import Order

BATCH_SIZE = 500
ACTOR = "demo"

# The payload field naming the enterprise that sends records of each standard (by standard
# id): a role the authority table lets create the record.
DECLARANT_FIELD: dict[str, str] = {
    "cbec.enterprise": "code",
    "cbec.order": "ebpCode",
    "cbec.payment": "payCode",
    "cbec.receipt": "payCode",
    "cbec.waybill": "logisticsCode",
    "cbec.logistics-status": "logisticsCode",
    "cbec.arrival": "logisticsCode",
    "cbec.departure": "logisticsCode",
    "cbec.inventory": "agentCode",
    "cbec.inventory-status": "agentCode",
    "cbec.inventory-cancel": "agentCode",
    "cbec.inventory-return": "agentCode",
    "cbec.tax-bill": "agentCode",
    "cbec.summary-apply": "agentCode",
    "cbec.summary-result": "agentCode",
}

# (name, scopes) of the readers: the four departments, a bank, a registry admin, a supervisor.
DEPARTMENT_CLIENTS: tuple[tuple[str, str], ...] = (
    ("Customs (demo)", "customs:read pii:read"),
    ("Tax bureau (demo)", "tax:read"),
    ("Forex administration (demo)", "forex:read"),
    ("Market supervision (demo)", "market:read"),
    ("Demo bank", "finance:read"),
    ("Standards registry admin (demo)", "standards:write"),
    ("Supervisor (demo)", "audit:read"),
)

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoClient:
    """An OAuth2 client the demo created, with its one-time secret."""

    name: str
    scopes: str
    client_id: str
    client_secret: str
    enterprise_code: str | None = None
    # The bound enterprise's name and roles, so a reader of the credentials file knows
    # which client declares what (platform: orders; payment: payments; carrier: waybills).
    enterprise_name: str | None = None
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoBatch:
    """Records one enterprise declares in one call (and one transaction)."""

    declarant: str
    records: list[Record]


@dataclass
class StandardCounts:
    """What happened to the records of one standard."""

    accepted: int = 0
    duplicates: int = 0  # accepted, but already stored (a re-run of the same seed)
    rejected: int = 0


@dataclass
class DemoSummary:
    """The outcome of a demo load."""

    orders: int
    seed: int
    records: int
    seconds: float
    clients: list[DemoClient]
    by_standard: dict[str, StandardCounts]
    match_status: dict[str, int]
    # The first few refusals, so a rejected record can be diagnosed without a debugger.
    sample_errors: list[str] = field(default_factory=list)
    # Risk alerts raised by the shipped rule set over the demo, by rule id.
    alerts: dict[str, int] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        """Records stored (new or duplicates)."""
        return sum(c.accepted for c in self.by_standard.values())

    @property
    def rejected(self) -> int:
        """Records refused."""
        return sum(c.rejected for c in self.by_standard.values())


def declarant_of(*, standard: str, payload: dict[str, Any]) -> str:
    """The enterprise code that naturally declares this record (`standard`: an id or an
    `id@version` reference)."""
    return str(payload[DECLARANT_FIELD[generator.standard_id(standard)]])


def plan_batches(*, data: DemoDataSet, size: int = BATCH_SIZE) -> list[DemoBatch]:
    """Groups the records into per-declarant batches: enterprise filings first, then records
    in arrival order, each declarant's records kept in order so changes follow originals;
    a change (appType 2) also follows everything that arrived before it, whoever sent it
    (a change after customs released the goods is declared after the release)."""
    batches = [
        DemoBatch(declarant_of(standard=standard, payload=payload), [(standard, payload)])
        for standard, payload in data.enterprises
    ]
    pending: dict[str, list[Record]] = {}
    for standard, payload in data.records:
        code = declarant_of(standard=standard, payload=payload)
        if payload.get("appType") == "2":
            batches.extend(DemoBatch(c, queue) for c, queue in pending.items() if queue)
            pending = {}
        queue = pending.setdefault(code, [])
        queue.append((standard, payload))
        if len(queue) == size:
            batches.append(DemoBatch(code, queue))
            pending[code] = []
    batches.extend(DemoBatch(code, queue) for code, queue in pending.items() if queue)
    return batches


async def has_declarations(*, session: AsyncSession) -> bool:
    """Whether the database holds any declaration."""
    return await session.scalar(select(Declaration.id).limit(1)) is not None


async def create_clients(
    *,
    session: AsyncSession,
    enterprises: Iterable[tuple[str, str, Sequence[str]]],
    known: Sequence[DemoClient] = (),
) -> list[DemoClient]:
    """Ensures the department clients and one `declare` client per (code, name, roles)
    enterprise exist, without piling up clients on a re-run.

    A demo client is found again by its name and enterprise. Its secret from `known` (the
    previous credentials file) is kept when it still matches; otherwise the client gets a
    new secret, since stored secrets are hashes and cannot be shown again.
    """
    wanted: list[tuple[str, str, str | None, str | None, tuple[str, ...]]] = [
        (name, scopes, None, None, ()) for name, scopes in DEPARTMENT_CLIENTS
    ]
    wanted.extend((name, "declare", code, name, tuple(roles)) for code, name, roles in enterprises)
    existing = {
        (c.name, c.enterprise_code): c
        for c in await client_service.list_all(session=session)
        if c.disabled_at is None
    }
    secrets_known = {c.client_id: c.client_secret for c in known}
    created: list[DemoClient] = []
    for name, scopes, code, enterprise_name, roles in wanted:
        row = existing.get((name, code))
        if row is None:
            credentials = await client_service.create(
                session=session, name=name, scopes=scopes, enterprise_code=code
            )
            client_id, secret = credentials.client_id, credentials.client_secret
            scopes = " ".join(s.value for s in credentials.scopes)
        else:
            client_id = row.client_id
            secret = secrets_known.get(client_id, "")
            if not secret or not client_service.secret_matches(
                secret=secret, secret_hash=row.secret_hash
            ):
                secret = await client_service.reset_secret(session=session, client_id=client_id)
            scopes = row.scopes
        created.append(
            DemoClient(
                name=name,
                scopes=scopes,
                client_id=client_id,
                client_secret=secret,
                enterprise_code=code,
                enterprise_name=enterprise_name,
                roles=roles,
            )
        )
    return created


async def prepare_demo(
    *, runtime: Runtime, data: DemoDataSet, known: Sequence[DemoClient] = ()
) -> list[DemoClient]:
    """Publishes the shipped standards and ensures the demo clients, in one transaction."""
    enterprises = [
        (payload["code"], payload["name"], tuple(payload.get("roles", ())))
        for _, payload in data.enterprises
    ]
    async with unit_of_work(runtime.session_factory) as session:
        await publish_shipped(session=session, actor=ACTOR)
        return await create_clients(session=session, enterprises=enterprises, known=known)


async def declare_demo(
    *,
    runtime: Runtime,
    data: DemoDataSet,
    clients: Sequence[DemoClient],
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, StandardCounts], list[str]]:
    """Declares every record as its natural declarant's client, one transaction per batch;
    returns the counts per standard and the first few refusals."""
    client_of = {c.enterprise_code: c.client_id for c in clients if c.enterprise_code}
    counts: dict[str, StandardCounts] = {}
    errors: list[str] = []
    total = len(data.enterprises) + len(data.records)
    done = 0
    for batch in plan_batches(data=data):
        declarant = Declarant(client_id=client_of[batch.declarant], enterprise_code=batch.declarant)
        items = [DeclareItem(standard, payload) for standard, payload in batch.records]
        async with unit_of_work(runtime.session_factory) as session:
            outcome = await declare_batch(
                session=session,
                declarant=declarant,
                items=items,
                atomic=False,
                validators=runtime.validators,
                rules=runtime.rules,
            )
        for item, result in zip(items, outcome.results, strict=True):
            tally = counts.setdefault(item.standard, StandardCounts())
            if result.errors:
                tally.rejected += 1
                if len(errors) < 5:
                    first = result.errors[0]
                    errors.append(f"{item.standard} by {batch.declarant}: {first.message}")
            elif result.duplicate:
                tally.duplicates += 1
                tally.accepted += 1
            else:
                tally.accepted += 1
        done += len(items)
        if progress is not None:
            progress(done, total)
    return dict(sorted(counts.items())), errors


async def orders_by_match_status(*, session: AsyncSession) -> dict[str, int]:
    """The number of orders in each match status."""
    rows = await session.execute(
        select(Order.match_status, func.count()).group_by(Order.match_status)
    )
    return {status: count for status, count in sorted(rows.all())}


async def load_demo(
    *,
    runtime: Runtime,
    orders: int,
    seed: int,
    progress: ProgressCallback | None = None,
    on_clients: Callable[[list[DemoClient]], None] | None = None,
    known: Sequence[DemoClient] = (),
) -> DemoSummary:
    """Generates the data set, creates standards and clients, declares everything; calls
    `on_clients` as soon as the clients exist so their secrets survive a failed load."""
    started = time.perf_counter()
    data = generator.generate(orders=orders, seed=seed)
    created = await prepare_demo(runtime=runtime, data=data, known=known)
    if on_clients is not None:
        on_clients(created)
    by_standard, errors = await declare_demo(
        runtime=runtime, data=data, clients=created, progress=progress
    )
    if runtime.log is not None:
        # Into the verifiable log now, so the demo's chain and proofs are there at once.
        await runtime.log.integrate_pending(session_factory=runtime.session_factory)
    async with runtime.session_factory() as session:
        statuses = await orders_by_match_status(session=session)
    alerts: dict[str, int] = {}
    if data.risk:  # a data set large enough to hold the planted risk scenarios
        await record_demo_ratings(runtime=runtime, data=data)
        alerts = await raise_risk_alerts(runtime=runtime, data=data)
    return DemoSummary(
        orders=orders,
        seed=seed,
        records=len(data.enterprises) + len(data.records),
        seconds=time.perf_counter() - started,
        clients=created,
        by_standard=by_standard,
        match_status=statuses,
        sample_errors=errors,
        alerts=alerts,
    )


# Departments' ratings the demo records (cast key, department, value, basis): the gifts
# seller of the planted risk scenarios is graded D by tax (dishonest: joint action raises
# alerts for the other departments) and listed for abnormal operation by market supervision,
# which takes its credit class below A; customs has certified the textile exporter.
DEMO_RATINGS: tuple[tuple[str, str, str, str], ...] = (
    ("ebc_gifts", "tax", "D", "invoices issued without real transactions (demo)"),
    ("ebc_gifts", "market", "ABNORMAL_OPERATION", "annual report not filed (demo)"),
    ("ebc_textile", "customs", "ADVANCED_CERTIFIED", "AEO advanced certification (demo)"),
)
DEMO_RATING_DAYS = 365


async def record_demo_ratings(*, runtime: Runtime, data: DemoDataSet) -> int:
    """Records DEMO_RATINGS, valid from today for a year, for the enterprises of the data set
    that a department has not rated yet (a re-run adds none); returns how many it recorded."""
    from hub.access.policy import Department
    from hub.credit import ratings
    from hub.credit.models import CreditRating

    codes = generator.cast_codes()
    present = {payload["code"] for _, payload in data.enterprises}
    now = datetime.now(UTC)
    recorded = 0
    async with unit_of_work(runtime.session_factory) as session:
        for key, department, value, basis in DEMO_RATINGS:
            code = codes[key]
            if code not in present:
                continue
            rated = await session.scalar(
                select(func.count())
                .select_from(CreditRating)
                .where(CreditRating.enterprise_code == code, CreditRating.department == department)
            )
            if rated:
                continue
            await ratings.record(
                session=session,
                department=Department(department),
                rating=ratings.RatingCreate(
                    enterprise_code=code,
                    value=value,
                    rated_on=now.date(),
                    valid_until=now.date() + timedelta(days=DEMO_RATING_DAYS),
                    basis=basis,
                ),
                recorded_by=ACTOR,
                now=now,
            )
            recorded += 1
    return recorded


async def raise_risk_alerts(*, runtime: Runtime, data: DemoDataSet) -> dict[str, int]:
    """Publishes the shipped risk rule set (unless one is in force) and runs it over the demo
    as of the end of its year, so a fresh hub shows alerts; returns the hits by rule."""
    from hub.credit import documents
    from hub.credit.documents import DocumentKind
    from hub.risk import evaluation, ruleset

    now = datetime.now(UTC)
    async with unit_of_work(runtime.session_factory) as session:
        kind, version = DocumentKind.RULE_SET, ruleset.DEFAULT_VERSION
        # A rule set in force, or a draft 1.0.0 of the operator's own, is left alone.
        if (
            await documents.in_force(session=session, kind=kind) is None
            and await documents.get(session=session, kind=kind, version=version) is None
        ):
            body, check = ruleset.DEFAULT_RULE_SET, ruleset.problems
            await documents.save_draft(
                session=session, kind=kind, version=version, body=body, check=check, now=now
            )
            await documents.publish(session=session, kind=kind, version=version, now=now)
        result = await evaluation.run(session=session, now=now, as_of=data.as_of)
    return {} if result is None else result.by_rule()


def write_credentials(*, path: Path, clients: Sequence[DemoClient], issuer: str) -> None:
    """Writes the clients' credentials as JSON, readable by the owner only (mode 0600)."""
    document = {
        "token_endpoint": f"{issuer}/oauth/token",
        "clients": [asdict(c) for c in clients],
    }
    path = path.resolve()
    # Written to a private temporary file and renamed over the target: the secrets are never
    # readable by others, not even for a moment, and a crash leaves no half-written file.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_credentials(*, path: Path) -> list[DemoClient]:
    """Reads a credentials file written by `write_credentials`."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return [
        DemoClient(**{**entry, "roles": tuple(entry.get("roles", ()))})
        for entry in document["clients"]
    ]
