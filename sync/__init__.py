"""Pure submission logic: identity, dedup decisions. No Flask, no database."""

from sync import linkage
from sync.dedup import Outcome, StoredVersion, classify
from sync.envelope import Envelope, field_values, local_name, parse_submission
from sync.errors import MalformedSubmissionError, MissingFormIdError, SyncError

__all__ = [
    "Envelope",
    "MalformedSubmissionError",
    "MissingFormIdError",
    "Outcome",
    "StoredVersion",
    "SyncError",
    "classify",
    "field_values",
    "linkage",
    "local_name",
    "parse_submission",
]
