"""Bulk exports: the graph's own reads, page by page, written as NDJSON, CSV or Parquet."""
