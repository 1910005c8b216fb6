"""Turning submissions into entity versions: a job per stored submission version.

The rules are Central's (reference section 8; CB ``lib/model/query/entities.js``):
update before create, label required on create, offline branches resolved through
``baseVersion``/``trunkVersion``/``branchId``, out-of-order updates held in a backlog
until their predecessor applies or a configurable delay passes, and conflicts marked
soft or hard, never downgraded. A failure is rolled back and kept as an
``entity.error`` audit naming the submission and the problem code.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from server import audit, jobs, problem
from server.db import db
from server.entities import backlog, schema, store
from server.entities.store import NewVersion
from server.entity_models import (
    Dataset,
    DatasetFormDef,
    Entity,
    EntityBacklog,
    EntityDef,
)
from server.models import FormDef, Submission, SubmissionDef
from sync import parse_submission

KIND = "entity.process"
AUTO_LABEL = "auto generated"


def _declares_entities(target: t.Any) -> bool:
    """Job trigger: does this form version write entities? (cached once published).

    The cache lives on the app, so a process serving one database never confuses the
    form versions of another (tests build a fresh app per database).
    """
    cache: dict[int, bool] = current_app.extensions.setdefault("entities.declares", {})
    cached = cache.get(target.form_def_id)
    if cached is not None:
        return cached
    row = db.session.execute(
        sa.select(
            FormDef.published_at,
            sa.exists().where(DatasetFormDef.form_def_id == FormDef.id),
        ).where(FormDef.id == target.form_def_id)
    ).first()
    if row is None:
        return False
    published, declares = row
    if published is not None:  # a published version's declaration never changes
        cache[target.form_def_id] = bool(declares)
    return bool(declares)


@jobs.handler(KIND, triggered_by=_declares_entities)
def _run(job: t.Any) -> None:
    force = bool((job.payload or {}).get("force"))
    process_submission(job.submission_def_id, force=force)


@dataclass(frozen=True, slots=True)
class _Context:
    """The submission version being processed."""

    submission_id: int
    submission_def_id: int
    form_def_id: int
    project_id: int
    instance_id: str
    xml: bytes
    submitter_id: int | None
    user_agent: str | None


def _load(submission_def_id: int) -> _Context | None:
    from server.models import Form

    row = db.session.execute(
        sa.select(SubmissionDef, Submission, Form.project_id)
        .join(Submission, Submission.id == SubmissionDef.submission_id)
        .join(Form, Form.id == Submission.form_id)
        .where(SubmissionDef.id == submission_def_id)
    ).first()
    if row is None:
        return None
    sub_def, sub, project_id = row
    if sub.draft or sub.deleted_at is not None:
        return None  # Central never makes entities from draft or deleted submissions
    return _Context(
        submission_id=sub.id,
        submission_def_id=sub_def.id,
        form_def_id=sub_def.form_def_id,
        project_id=project_id,
        instance_id=sub_def.instance_id,  # this version's, as Central records it
        xml=bytes(sub_def.xml),
        submitter_id=sub_def.submitter_id,
        user_agent=sub_def.user_agent,
    )


def process_submission(
    submission_def_id: int,
    *,
    force: bool = False,
    prelude: t.Callable[[], None] | None = None,
) -> None:
    """Apply one submission version's entity block; commits; errors become audits.

    ``prelude`` runs in the same transaction, and again with the error record if
    processing fails (taking an entry off the backlog happens either way).
    """
    ctx = _load(submission_def_id)
    if ctx is None:
        if prelude is not None:
            prelude()
            db.session.commit()
        return
    try:
        if prelude is not None:
            prelude()
        _process(ctx, force)
        db.session.commit()
    except problem.Problem as err:
        db.session.rollback()
        if prelude is not None:
            prelude()
        log_error(ctx, err)
        db.session.commit()


def log_error(ctx: _Context, err: problem.Problem) -> None:
    """Record a processing failure where supervisors look (no submission content)."""
    audit.log(
        "entity.error",
        "submission",
        ctx.submission_id,
        actor_id=ctx.submitter_id,
        details={
            "submissionId": ctx.submission_id,
            "submissionDefId": ctx.submission_def_id,
            "instanceId": ctx.instance_id,
            "problem": {"code": err.code, "message": err.message},
            "errorMessage": err.message,
        },
    )


def _process(ctx: _Context, force: bool) -> None:
    rows = db.session.execute(
        sa.select(DatasetFormDef, Dataset)
        .join(Dataset, Dataset.id == DatasetFormDef.dataset_id)
        .where(DatasetFormDef.form_def_id == ctx.form_def_id)
    ).all()
    if not rows:
        return
    root = parse_submission(
        ctx.xml,
        max_bytes=current_app.config["MAX_XML_BYTES"],
        max_depth=current_app.config["MAX_XML_DEPTH"],
    ).root
    for dfd, _dataset in rows:
        spec = schema.EntitySpec(
            _dataset.name,
            tuple(dfd.actions),
            dfd.entity_path,
            dfd.has_label,
            dict(dfd.properties),
        )
        block = schema.read_block(root, spec)
        if block is None:
            continue
        dataset_name = (block.dataset or "").strip()
        if not dataset_name:
            raise problem.missing_parameter("dataset")
        dataset: Dataset | None = _dataset
        if dataset_name != _dataset.name:  # names another list than the form's
            dataset = db.session.execute(
                sa.select(Dataset).where(
                    Dataset.project_id == ctx.project_id, Dataset.name == dataset_name
                )
            ).scalar()
        if dataset is None:
            raise problem.dataset_not_found(dataset_name)
        permitted = list(dfd.actions) if dataset.id == dfd.dataset_id else []
        _process_entity(ctx, dataset, permitted, block, force)


def _done_or_held(submission_id: int) -> bool:
    """Whether a version of this submission already made an entity version, or the
    submission waits in the backlog (it is applied when released, not now)."""
    made = (
        sa.select(EntityDef.id)
        .join(SubmissionDef, SubmissionDef.id == EntityDef.submission_def_id)
        .where(SubmissionDef.submission_id == submission_id)
    )
    held = sa.select(EntityBacklog.id).where(
        EntityBacklog.submission_id == submission_id
    )
    return bool(db.session.scalar(sa.select(sa.or_(made.exists(), held.exists()))))


def _process_entity(
    ctx: _Context,
    dataset: Dataset,
    permitted: list[str],
    block: schema.EntityBlock,
    force: bool,
) -> None:
    for action in schema.ACTIONS:
        if block.wants(action) and action not in permitted:
            raise problem.entity_action_not_permitted(action, permitted)
    if not (block.wants("create") or block.wants("update")):
        return
    uuid = schema.normalize_uuid(block.id, "uuid")
    store.lock_entity(uuid, dataset.id)
    # Checked under the lock: an edit or a released backlog entry must not apply twice.
    if _done_or_held(ctx.submission_id):
        return
    result: tuple[Entity, EntityDef] | None
    if block.wants("update"):
        try:
            result = _update(ctx, dataset, uuid, block, force)
        except problem.Problem as err:
            missing_base = err.code == 400.2 and (err.details or {}).get("field") == (
                "baseVersion"
            )
            if (block.wants("create") or force) and (err.code == 404.8 or missing_base):
                result = _create(ctx, dataset, uuid, block, force)
            else:
                raise
    else:
        try:
            result = _create(ctx, dataset, uuid, block, force)
        except problem.Problem as err:
            if err.code != 409.3 or not _force_created(dataset, uuid):
                raise
            result = _update(ctx, dataset, uuid, block, force, create_as_update=True)
    if result is not None and not force:
        backlog.release_next(*result)


def _force_created(dataset: Dataset, uuid: str) -> bool:
    entity = store.get_entity(dataset.id, uuid)
    root = store.get_def(entity.id, version=1) if entity is not None else None
    return bool(root and root.force_processed)


def _source(ctx: _Context, **extra: t.Any) -> dict[str, t.Any]:
    return {
        "type": "submission",
        "submission": {
            "instanceId": ctx.instance_id,
            "submissionId": ctx.submission_id,
        },
        **extra,
    }


def _label(block: schema.EntityBlock) -> str | None:
    return block.label if block.label is not None and block.label.strip() else None


def _branch(block: schema.EntityBlock) -> tuple[str | None, int | None]:
    """(branchId, trunkVersion): a trunk version needs a branch (400.2)."""
    branch_id = None
    if block.branch_id:
        branch_id = schema.normalize_uuid(block.branch_id, "branchId")
    trunk = schema.parse_version(block.trunk_version, "trunkVersion", required=False)
    if trunk and branch_id is None:
        raise problem.missing_parameter("branchId")
    return branch_id, trunk


def _create(
    ctx: _Context,
    dataset: Dataset,
    uuid: str,
    block: schema.EntityBlock,
    force: bool,
) -> tuple[Entity, EntityDef]:
    label = _label(block) or (AUTO_LABEL if force else None)
    if label is None:
        raise problem.missing_parameter("label")
    base_version = schema.parse_version(
        block.base_version, "baseVersion", required=False
    )
    branch_id, trunk = _branch(block)
    if store.get_entity(dataset.id, uuid) is not None:
        raise problem.uniqueness_violation("uuid", uuid)
    new = NewVersion(
        label=label,
        data=dict(block.data),
        data_received={**block.data, "label": label},
        trunk_version=trunk,
        branch_id=branch_id,
        branch_base_version=base_version if force else None,
        submission_def_id=ctx.submission_def_id,
        source=_source(ctx, forceProcessed=force) if force else _source(ctx),
        force_processed=force,
        creator_id=ctx.submitter_id,
        user_agent=ctx.user_agent,
    )
    entity, entity_def = store.create(dataset, uuid, new)
    audit.log(
        "entity.create",
        "dataset",
        dataset.id,
        actor_id=ctx.submitter_id,
        details={
            **store.entity_details(dataset, entity, entity_def),
            "submissionId": ctx.submission_id,
            "submissionDefId": ctx.submission_def_id,
        },
    )
    return entity, entity_def


def _update(
    ctx: _Context,
    dataset: Dataset,
    uuid: str,
    block: schema.EntityBlock,
    force: bool,
    *,
    create_as_update: bool = False,
) -> tuple[Entity, EntityDef] | None:
    label = _label(block)
    if create_as_update and label is None:
        raise problem.missing_parameter("label")
    base_version = schema.parse_version(
        block.base_version, "baseVersion", required=not create_as_update
    )
    branch_id, trunk = _branch(block)
    received = {**block.data, **({"label": label} if label else {})}
    entity = store.get_entity(dataset.id, uuid, for_update=True)  # under the lock
    if create_as_update:  # Central: a create applied as an update is based on latest
        if entity is None:
            raise problem.entity_not_found(uuid, dataset.name)
        base: EntityDef | None = store.current_def(entity)
    else:
        try:
            base = _base_def(
                ctx, dataset, entity, uuid, base_version, trunk, branch_id, force
            )
        except problem.Problem as err:
            if err.code == 404.8 and store.get_entity(dataset.id, uuid, deleted=True):
                raise problem.entity_deleted(uuid) from err
            raise
    if base is None:
        return None  # held in the backlog
    if entity is None:
        raise problem.entity_not_found(uuid, dataset.name)
    if trunk and trunk > entity.version:
        raise problem.entity_version_not_found(
            f"trunkVersion={trunk}", uuid, dataset.name
        )
    current = base if base.version == entity.version else store.current_def(entity)
    conflict, conflicting = entity.conflict, None
    if base.version != entity.version:
        # What changed on the server since the client's base, against what it sent.
        keys = store.changed_keys(current.data, base.data)
        server_diff = {k: current.data[k] for k in keys}
        if current.label != base.label:
            server_diff["label"] = current.label
        conflicting = [
            k for k in received if k in server_diff and received[k] != server_diff[k]
        ]
    elif create_as_update:  # the server's values that the late create disagrees with
        keys = store.changed_keys(current.data, received)
        server_diff = {k: current.data[k] for k in keys}
        if current.label != label:
            server_diff["label"] = current.label
        conflicting = [
            k for k in received if k in server_diff and received[k] != server_diff[k]
        ]
    if conflicting is not None:
        if conflict != "hard":  # never downgraded; only a manual resolve clears it
            conflict = "hard" if conflicting else "soft"
    elif _interrupted(entity.id, branch_id, trunk) and conflict != "hard":
        conflict = "soft"
    new = NewVersion(
        label=label if label is not None else current.label,
        data={**current.data, **block.data},
        data_received=received,
        base_version=base.version,
        trunk_version=trunk,
        branch_id=branch_id,
        branch_base_version=base_version if branch_id is not None else None,
        conflicting_properties=conflicting,
        submission_def_id=ctx.submission_def_id,
        source=_source(ctx, action="create") if create_as_update else _source(ctx),
        creator_id=ctx.submitter_id,
        user_agent=ctx.user_agent,
    )
    entity_def = store.create_version(dataset, entity, new, conflict)
    audit.log(
        "entity.update.version",
        "dataset",
        dataset.id,
        actor_id=ctx.submitter_id,
        details={
            **store.entity_details(dataset, entity, entity_def),
            "submissionId": ctx.submission_id,
            "submissionDefId": ctx.submission_def_id,
        },
    )
    return entity, entity_def


def _base_def(
    ctx: _Context,
    dataset: Dataset,
    entity: Entity | None,
    uuid: str,
    base_version: int | None,
    trunk: int | None,
    branch_id: str | None,
    force: bool,
) -> EntityDef | None:
    """The version the client edited (None: held until its predecessor arrives)."""
    if branch_id is None:
        found = store.get_def(entity.id, version=base_version) if entity else None
        if found is not None:
            return found
        if entity is not None:
            raise problem.entity_version_not_found(
                str(base_version), uuid, dataset.name
            )
        raise problem.entity_not_found(uuid, dataset.name)
    found = None
    if entity is not None:
        if base_version == 1 or base_version == trunk:  # start of a branch
            found = store.get_def(entity.id, version=base_version)
        else:  # middle of a branch: the previous offline update
            found = store.get_def(
                entity.id,
                branch_id=branch_id,
                branch_base_version=(base_version or 0) - 1,
            )
    if found is not None:
        return found
    if force:
        if entity is None:
            raise problem.entity_not_found(uuid, dataset.name)
        return store.current_def(entity)
    backlog.hold(ctx, uuid, branch_id, base_version)
    return None


def _interrupted(entity_id: int, branch_id: str | None, trunk: int | None) -> bool:
    """An offline branch not contiguous with its trunk: another version came between."""
    if branch_id is None:
        return False
    return (
        db.session.execute(
            sa.select(EntityDef.id)
            .where(
                EntityDef.entity_id == entity_id,
                sa.or_(EntityDef.branch_id.is_(None), EntityDef.branch_id != branch_id),
                EntityDef.version > (trunk or 1),
            )
            .limit(1)
        ).first()
        is not None
    )
