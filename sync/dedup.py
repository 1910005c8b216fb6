"""Decide what an incoming submission version means given what is already stored."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sync.envelope import Envelope

__all__ = ["Outcome", "StoredVersion", "classify"]


class Outcome(enum.Enum):
    """What to do with an incoming version (Central's table, reference section 4.3)."""

    NEW = "new"  # 201: create submission + first version
    RESEND = "resend"  # 201: byte-identical resend; fill newly sent attachments
    EDIT = "edit"  # 201: new version of the submission named by deprecatedID
    CONFLICT = "conflict"  # 409.1: same instanceID, different XML
    STALE = "stale"  # 409.9: instanceID or deprecatedID is an edited-away version
    DELETED = "deleted"  # 409.18: the submission was deleted
    UNKNOWN_DEPRECATED = "unknown_deprecated"  # 404.5: deprecatedID not found


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """What the store knows about one stored version."""

    sha256: str
    current: bool
    submission_deleted: bool = False


def classify(
    envelope: Envelope,
    same_instance: StoredVersion | None,
    deprecated: StoredVersion | None = None,
) -> Outcome:
    """Classify ``envelope`` against the version with its instanceID and its deprecatedID."""
    if same_instance is not None:
        if same_instance.submission_deleted:
            return Outcome.DELETED
        if not same_instance.current:
            return Outcome.STALE
        if same_instance.sha256 == envelope.sha256:
            return Outcome.RESEND
        return Outcome.CONFLICT
    if envelope.deprecated_id:
        if deprecated is None:
            return Outcome.UNKNOWN_DEPRECATED
        if deprecated.submission_deleted:
            return Outcome.DELETED
        if not deprecated.current:
            return Outcome.STALE
        return Outcome.EDIT
    return Outcome.NEW
