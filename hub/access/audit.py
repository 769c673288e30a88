"""What one request read: collected by resolvers, written as one access event."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_RECORDS_PER_EVENT = 500


@dataclass
class SubjectPart:
    """One enterprise's part of an event: the records naming it that were returned."""

    records: list[str] = field(default_factory=list)
    record_count: int = 0


@dataclass
class AccessRecorder:
    """Per-request collector of the enterprises, records and consents an operation touched.

    Every record is noted with every enterprise it names in a role (platform, seller,
    payment institution, carrier, broker, guarantor, owner), so each of them finds the
    read in its own view of the log, with the record."""

    enterprises: set[str] = field(default_factory=set)
    records: list[str] = field(default_factory=list)
    record_count: int = 0
    consent_ids: set[str] = field(default_factory=set)
    subjects: dict[str, SubjectPart] = field(default_factory=dict)
    # True once the operation returned data, even data naming no enterprise (a chain
    # verification, statistics over everyone): such an operation is logged too.
    returned_data: bool = False
    _seen: set[str] = field(default_factory=set, repr=False)
    _seen_by: set[tuple[str, str]] = field(default_factory=set, repr=False)

    def touch(
        self,
        *,
        enterprises: Iterable[str] = (),
        records: Iterable[str] = (),
        consent_id: str | None = None,
    ) -> None:
        """Notes that graph data was returned to the caller: these records, each naming all
        of these enterprises (call once per record when records name different ones)."""
        self.returned_data = True
        codes = [e for e in dict.fromkeys(enterprises) if e]
        self.enterprises.update(codes)
        for code in codes:
            self.subjects.setdefault(code, SubjectPart())
        for record in records:
            if record not in self._seen:
                self._seen.add(record)
                self.record_count += 1
                if len(self.records) < MAX_RECORDS_PER_EVENT:
                    self.records.append(record)
            for code in codes:
                if (code, record) in self._seen_by:
                    continue
                self._seen_by.add((code, record))
                part = self.subjects[code]
                part.record_count += 1
                if len(part.records) < MAX_RECORDS_PER_EVENT:
                    part.records.append(record)
        if consent_id:
            self.consent_ids.add(consent_id)

    @property
    def touched(self) -> bool:
        """True when the operation returned any graph data."""
        return self.returned_data or bool(self.enterprises or self.record_count)
