"""server.jobs: the durable queue that follows stored submissions."""

from __future__ import annotations

import sqlalchemy as sa

from server import jobs
from server.db import db
from server.models import Job
from tests import factories


def test_triggered_jobs_are_enqueued_with_the_submission_and_run_later(app, openrosa, monkeypatch):
    seen: list[int] = []
    monkeypatch.setitem(jobs.HANDLERS, "test.seen", lambda job: seen.append(job.submission_def_id))
    monkeypatch.setattr(jobs, "TRIGGERS", [("test.seen", lambda target: True)])
    assert openrosa.submit(factories.submission_xml()).status_code == 201
    assert seen == []  # the 201 did not wait for the job
    with app.app_context():
        assert jobs.run_pending() == 1
        assert jobs.run_pending() == 0
        job = db.session.scalars(sa.select(Job)).one()
        assert job.done_at is not None and not job.failed
    assert len(seen) == 1


def test_failing_job_is_retried_then_marked_failed(app, monkeypatch):
    calls: list[int] = []

    def boom(job):  # type: ignore[no-untyped-def]
        calls.append(job.id)
        raise ValueError("bad input")

    monkeypatch.setitem(jobs.HANDLERS, "test.boom", boom)
    with app.app_context():
        jobs.enqueue("test.boom")
        db.session.commit()
        for _ in range(jobs.MAX_ATTEMPTS):
            db.session.execute(sa.update(Job).values(run_after=None))
            db.session.commit()
            jobs.run_pending()
        job = db.session.scalars(sa.select(Job)).one()
        assert job.failed and job.done_at is not None
        assert job.error == "ValueError: bad input"
    assert len(calls) == jobs.MAX_ATTEMPTS


def test_no_trigger_no_job(app, openrosa):
    assert openrosa.submit(factories.submission_xml()).status_code == 201
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
