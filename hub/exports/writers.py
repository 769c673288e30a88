"""Export formats: NDJSON, CSV and Parquet, each written page by page (constant memory)."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Protocol

FORMATS = ("ndjson", "csv", "parquet")


class Writer(Protocol):
    """Takes rows a page at a time; `close` finishes the file."""

    def write(self, rows: list[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


class NdjsonWriter:
    """One JSON object a line (money as decimal strings, as in the graph)."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out

    def write(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            line = json.dumps({k: _text(v) for k, v in row.items()}, ensure_ascii=False)
            self.out.write(line.encode("utf-8") + b"\n")

    def close(self) -> None:
        self.out.flush()


class CsvWriter:
    """A header line, then one line a row (empty cells for null)."""

    def __init__(self, out: BinaryIO, columns: list[str]) -> None:
        import io

        self.text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        self.writer = csv.DictWriter(self.text, fieldnames=columns)
        self.writer.writeheader()

    def write(self, rows: list[dict[str, Any]]) -> None:
        self.writer.writerows({k: _text(v) for k, v in row.items()} for row in rows)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


class ParquetWriter:
    """One row group a page; every column a string (money exact), nulls kept."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.columns = columns
        self.schema = pa.schema([(c, pa.string()) for c in columns])
        self.writer = pq.ParquetWriter(str(path), self.schema)

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        arrays = {
            c: [None if r.get(c) is None else str(r.get(c)) for r in rows] for c in self.columns
        }
        self.writer.write_table(self.pa.table(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()
