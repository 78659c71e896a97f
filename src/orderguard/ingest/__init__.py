"""Event intake: JSON Lines, CSV and Parquet (or in-memory records) to one validated EventBatch.

The columnar fast path reads with PyArrow and checks whole columns at once; rows are located only
when a check fails. Format reference: docs/event-format.md.
"""

from orderguard.ingest.batch import EventBatch, batch_from_events
from orderguard.ingest.errors import FileReport, IngestError, IngestReport
from orderguard.ingest.reader import batch_from_records, read_events, validate_files
from orderguard.ingest.schema import EVENT_SCHEMA, TS_TYPE

__all__ = [
    "EVENT_SCHEMA",
    "TS_TYPE",
    "EventBatch",
    "FileReport",
    "IngestError",
    "IngestReport",
    "batch_from_events",
    "batch_from_records",
    "read_events",
    "validate_files",
]
