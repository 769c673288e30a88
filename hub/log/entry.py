"""The log entry: the exact bytes of one declaration that a leaf hashes. Pure, no server.

An entry is canonical JSON (sorted keys, no insignificant whitespace, UTF-8) of the
declaration's provenance, never its payload, so anyone who may read the declaration may
read its entry and proof. `contentHash` is SHA-256 of the stored canonical payload, so a
holder of the payload checks it against the entry.

Version 1 is frozen: the migration that turned the hash chain into the first leaves uses
this encoder, and every stored leaf hash depends on it. A new format is a new `v`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

VERSION = 1


def stamp(received_at: datetime) -> str:
    """The received time as the entry writes it: UTC, microseconds, `Z`."""
    return received_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Entry:
    """What a leaf says about one declaration."""

    declaration_id: str
    content_hash: str
    standard: str  # id@version
    declarant: str
    client_id: str
    received_at: str  # as `stamp` writes it

    def encode(self) -> bytes:
        """The canonical bytes hashed into the leaf."""
        value = {
            "client": self.client_id,
            "contentHash": self.content_hash,
            "declarant": self.declarant,
            "id": self.declaration_id,
            "receivedAt": self.received_at,
            "standard": self.standard,
            "v": VERSION,
        }
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8"
        )

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        """Reads entry bytes; ValueError unless they are exactly a canonical v1 entry."""
        try:
            value = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError("the entry is not JSON") from exc
        fields = {"client", "contentHash", "declarant", "id", "receivedAt", "standard", "v"}
        if not isinstance(value, dict) or set(value) != fields or value["v"] != VERSION:
            raise ValueError("the entry is not a version 1 declaration entry")
        if not all(isinstance(value[k], str) for k in fields - {"v"}):
            raise ValueError("the entry's fields are strings")
        entry = cls(
            declaration_id=value["id"],
            content_hash=value["contentHash"],
            standard=value["standard"],
            declarant=value["declarant"],
            client_id=value["client"],
            received_at=value["receivedAt"],
        )
        if entry.encode() != data:
            raise ValueError("the entry is not in canonical form")
        return entry


def of_declaration(
    *,
    declaration_id: str,
    content_hash: str,
    standard_ref: str,
    declarant: str,
    client_id: str,
    received_at: datetime,
) -> Entry:
    """The entry of a stored declaration."""
    return Entry(
        declaration_id=declaration_id,
        content_hash=content_hash,
        standard=standard_ref,
        declarant=declarant,
        client_id=client_id,
        received_at=stamp(received_at),
    )
