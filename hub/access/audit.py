"""What one request read: collected by resolvers, written as one access event."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_RECORDS_PER_EVENT = 500


@dataclass
class AccessRecorder:
    """Per-request collector of the enterprises, records and consents an operation touched."""

    enterprises: set[str] = field(default_factory=set)
    records: list[str] = field(default_factory=list)
    record_count: int = 0
    consent_ids: set[str] = field(default_factory=set)
    _seen: set[str] = field(default_factory=set, repr=False)

    def touch(
        self,
        *,
        enterprises: Iterable[str] = (),
        records: Iterable[str] = (),
        consent_id: str | None = None,
    ) -> None:
        """Notes that graph data of these enterprises/records was returned to the caller."""
        self.enterprises.update(e for e in enterprises if e)
        for record in records:
            if record in self._seen:
                continue
            self._seen.add(record)
            self.record_count += 1
            if len(self.records) < MAX_RECORDS_PER_EVENT:
                self.records.append(record)
        if consent_id:
            self.consent_ids.add(consent_id)

    @property
    def touched(self) -> bool:
        """True when the operation returned any graph data."""
        return bool(self.enterprises or self.record_count)
