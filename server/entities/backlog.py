"""The offline backlog: updates that arrived before the update they follow.

Central holds such a submission (``entity_submission_backlog``) until its predecessor
in the same offline branch is applied, which releases it; if the predecessor never
arrives, it is force-processed after a delay (``ENTITY_BACKLOG_FORCE_SECONDS``,
default 5 days) against the entity's latest version. Here a hold also queues a
wake-up job for when it falls due, so no scheduler is needed.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from flask import current_app

from server import audit, jobs
from server.db import db
from server.entity_models import Entity, EntityBacklog, EntityDef
from server.models import utcnow

KIND = "entity.backlog"
PROCESS_KIND = "entity.process"


@jobs.handler(KIND)
def _run(job: t.Any) -> None:
    process_backlog(force_all=bool((job.payload or {}).get("all")))


def delay() -> dt.timedelta:
    """How long an out-of-order update waits for its predecessor (config)."""
    return dt.timedelta(seconds=int(current_app.config["ENTITY_BACKLOG_FORCE_SECONDS"]))


def hold(ctx: t.Any, uuid: str, branch_id: str, base_version: int | None) -> None:
    now = utcnow()
    db.session.add(
        EntityBacklog(
            submission_id=ctx.submission_id,
            submission_def_id=ctx.submission_def_id,
            entity_uuid=uuid,
            branch_id=branch_id,
            branch_base_version=base_version,
            logged_at=now,
        )
    )
    audit.log(
        "submission.backlog.hold",
        "submission",
        ctx.submission_id,
        actor_id=ctx.submitter_id,
        details={"submissionDefId": ctx.submission_def_id},
    )
    # Wake up when this entry is due; the run forces every due entry, in branch order.
    jobs.enqueue(KIND, run_after=now + delay())


def release_next(entity: Entity, entity_def: EntityDef) -> None:
    """Queue the held update that follows the one just applied, if it has arrived."""
    query = sa.select(EntityBacklog).where(EntityBacklog.entity_uuid == entity.uuid)
    if entity_def.branch_id is None:
        query = query.where(EntityBacklog.branch_base_version == 1)
    else:
        query = query.where(
            EntityBacklog.branch_id == entity_def.branch_id,
            EntityBacklog.branch_base_version
            == (entity_def.branch_base_version or 0) + 1,
        )
    held = db.session.execute(query.order_by(EntityBacklog.id).limit(1)).scalar()
    if held is None:
        return
    db.session.delete(held)
    audit.log(
        "submission.backlog.reprocess",
        "submission",
        held.submission_id,
        details={"submissionDefId": held.submission_def_id},
    )
    jobs.enqueue(PROCESS_KIND, submission_def_id=held.submission_def_id)


def process_backlog(*, force_all: bool = False) -> int:
    """Force-process held updates older than the delay (all with ``force_all``).

    Ordered by branch and position in it, as Central does; each in its own transaction.
    Returns how many were processed.
    """
    query = sa.select(EntityBacklog.id).order_by(
        EntityBacklog.branch_id, EntityBacklog.branch_base_version, EntityBacklog.id
    )
    if not force_all:
        query = query.where(EntityBacklog.logged_at <= utcnow() - delay())
    from server.entities import process

    rows = db.session.execute(
        query.with_only_columns(
            EntityBacklog.id,
            EntityBacklog.submission_id,
            EntityBacklog.submission_def_id,
        )
    ).all()
    db.session.commit()
    done = 0
    for backlog_id, sub_id, def_id in rows:
        if db.session.get(EntityBacklog, backlog_id) is None:
            continue  # released meanwhile: its own job applies it in order

        def take_off(
            backlog_id: int = backlog_id, sub_id: int = sub_id, def_id: int = def_id
        ) -> None:
            gone = db.session.execute(
                sa.delete(EntityBacklog).where(EntityBacklog.id == backlog_id)
            )
            if gone.rowcount:
                audit.log(
                    "submission.backlog.force",
                    "submission",
                    sub_id,
                    details={"submissionDefId": def_id},
                )

        process.process_submission(def_id, force=True, prelude=take_off)
        done += 1
    return done
