"""A small durable job queue in the database, for work that follows a stored submission.

Ingest enqueues a job in the same transaction that stores the submission, so nothing is
lost if a process dies; the 201 never waits for the job. Workers (a thread in each server
process, or ``outreach jobs run``) claim jobs with a conditional UPDATE that is safe with
several processes on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import typing as t

import sqlalchemy as sa
from flask import Flask

from server.db import db
from server.models import Job, utcnow

log = logging.getLogger("outreach.jobs")

Handler = t.Callable[[Job], None]
HANDLERS: dict[str, Handler] = {}
# Which job kinds a stored submission version triggers: predicates get the ingest target
# (form id, form version id), are called inside ingest's transaction, and must be cheap.
TRIGGERS: list[tuple[str, t.Callable[[t.Any], bool]]] = []

MAX_ATTEMPTS = 5
STALE_CLAIM = dt.timedelta(minutes=10)
_WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def handler(kind: str, *, triggered_by: t.Callable[[t.Any], bool] | None = None):  # type: ignore[no-untyped-def]
    """Register ``fn`` for ``kind``; with ``triggered_by``, stored versions enqueue it."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        if triggered_by is not None:
            TRIGGERS.append((kind, triggered_by))
        return fn

    return register


def enqueue(
    kind: str,
    *,
    submission_def_id: int | None = None,
    payload: dict[str, t.Any] | None = None,
    run_after: dt.datetime | None = None,
) -> None:
    """Add a job to the current transaction."""
    db.session.execute(
        sa.insert(Job).values(
            kind=kind,
            submission_def_id=submission_def_id,
            payload=payload,
            run_after=run_after,
            created_at=utcnow(),
            attempts=0,
            failed=False,
        )
    )


def kinds_for_version(form_def: t.Any) -> list[str]:
    """The job kinds whose trigger matches this form version."""
    return [kind for kind, wanted in TRIGGERS if wanted(form_def)]


def enqueue_for_version(form_def: t.Any, submission_def_id: int) -> None:
    """Enqueue every job kind whose trigger matches this form version."""
    for kind in kinds_for_version(form_def):
        enqueue(kind, submission_def_id=submission_def_id)


def _claim() -> Job | None:
    now = utcnow()
    ready = sa.and_(
        Job.done_at.is_(None),
        sa.or_(Job.claimed_at.is_(None), Job.claimed_at < now - STALE_CLAIM),
        sa.or_(Job.run_after.is_(None), Job.run_after <= now),
    )
    first = sa.select(Job.id).where(ready).order_by(Job.id).limit(1).scalar_subquery()
    # The conditions are repeated outside the subquery so that a concurrent claimer
    # re-checks them on the locked row (PostgreSQL) and loses cleanly.
    claimed = db.session.execute(
        sa.update(Job)
        .where(Job.id == first, ready)
        .values(claimed_by=_WORKER_ID, claimed_at=now, attempts=Job.attempts + 1)
        .returning(Job.id)
    ).scalar()
    db.session.commit()
    if claimed is None:
        return None
    return db.session.get(Job, claimed)


def run_pending(limit: int = 1000) -> int:
    """Run up to ``limit`` ready jobs; returns how many ran (succeeded or failed)."""
    ran = 0
    while ran < limit:
        job = _claim()
        if job is None:
            break
        ran += 1
        job_id, kind = job.id, job.kind
        try:
            HANDLERS[kind](job)
            db.session.execute(
                sa.update(Job).where(Job.id == job_id).values(done_at=utcnow(), error=None)
            )
            db.session.commit()
        except Exception as err:  # noqa: BLE001 - recorded on the job, retried later
            db.session.rollback()
            _record_failure(job_id, kind, err)
    return ran


def _record_failure(job_id: int, kind: str, err: Exception) -> None:
    job = db.session.get(Job, job_id)
    if job is None:
        return
    # The message names the problem, never submission content.
    job.error = f"{type(err).__name__}: {str(err)[:500]}"
    if job.attempts >= MAX_ATTEMPTS:
        job.failed = True
        job.done_at = utcnow()
    else:
        job.claimed_at = None
        job.run_after = utcnow() + dt.timedelta(seconds=2**job.attempts)
    db.session.commit()
    log.warning("job %s (%s) failed: %s", job_id, kind, type(err).__name__)


def start_worker(app: Flask, interval: float = 1.0) -> threading.Thread:
    """Run jobs in a daemon thread of this process, every ``interval`` seconds."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                with app.app_context():
                    run_pending(limit=200)
                    db.session.remove()
            except Exception:  # noqa: BLE001 - keep the worker alive; logged
                log.exception("job worker iteration failed")
            stop.wait(interval)

    thread = threading.Thread(target=loop, name="outreach-jobs", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
