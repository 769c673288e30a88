"""Per-request DataLoaders, named <Target>By<Key>Loader: one query per kind per request."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from hub.declarations.models import Declaration

RecordRef = tuple[str, str]  # (standard_id, record_key)


class ProvenanceByRecordLoader(DataLoader[RecordRef, list[Declaration]]):
    """Declarations of records, oldest first, batched over (standard_id, record_key)."""

    def __init__(self, session: Callable[[], AsyncSession]):
        super().__init__(load_fn=self._load)
        self._session = session

    async def _load(self, keys: Sequence[RecordRef]) -> list[list[Declaration]]:
        found: dict[RecordRef, list[Declaration]] = defaultdict(list)
        rows = await self._session().scalars(
            select(Declaration)
            .where(tuple_(Declaration.standard_id, Declaration.record_key).in_(list(set(keys))))
            .order_by(Declaration.chain_index)
        )
        for row in rows:
            found[(row.standard_id, row.record_key)].append(row)
        return [found[k] for k in keys]


@dataclass
class Loaders:
    """The request's loaders; built lazily by the context."""

    provenance_by_record: ProvenanceByRecordLoader

    @classmethod
    def create(cls, session: Callable[[], AsyncSession]) -> Loaders:
        """Fresh loaders for one request."""
        return cls(provenance_by_record=ProvenanceByRecordLoader(session))
