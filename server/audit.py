"""Append-only audit log. Details hold ids and versions, never personal data."""

from __future__ import annotations

import typing as t

from server import store
from server.db import db
from server.models import utcnow


def log(
    action: str,
    actee_type: str | None,
    actee_id: t.Any,
    *,
    actor_id: int | None = None,
    details: dict[str, t.Any] | None = None,
) -> None:
    """Add an audit row to the current transaction (committed with the change it records)."""
    store.insert_audit(
        actor_id=actor_id,
        action=action,
        actee_type=actee_type,
        actee_id=None if actee_id is None else str(actee_id),
        details=details,
        logged_at=utcnow(),
    )


def pii_read(
    caller: t.Any,
    actee_type: str,
    actee_id: int,
    def_id: int | None,
    via: str,
    **counts: int,
) -> None:
    """Record (and commit) a read of personal data: ids, counts and the door only."""
    details: dict[str, t.Any] = {"via": via, **counts}
    if def_id is not None:
        details["submissionDefId"] = def_id
    log(
        "submission.read.pii",
        actee_type,
        actee_id,
        actor_id=caller.actor_id,
        details=details,
    )
    db.session.commit()
