"""Writing entities: locks, new versions, the list stamp, and the REST operations.

Every write bumps the dataset's ``change_seq`` under its row lock and stamps the
entity with it, so the list hash (``lists.py``) moves exactly when an entity in the list
changes, and in commit order. Nothing here commits.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import sqlalchemy as sa

from server import audit, problem
from server.db import db, is_postgres
from server.entities import datasets, schema
from server.entity_models import Dataset, Entity, EntityDef
from server.models import utcnow

ConflictType = t.Literal["soft", "hard"]


@dataclass(frozen=True, slots=True)
class NewVersion:
    """What to store as an entity's next version."""

    label: str
    data: dict[str, str]
    data_received: dict[str, str]
    base_version: int | None = None
    trunk_version: int | None = None
    branch_id: str | None = None
    branch_base_version: int | None = None
    conflicting_properties: list[str] | None = None
    submission_def_id: int | None = None
    source: dict[str, t.Any] | None = None
    force_processed: bool = False
    creator_id: int | None = None
    user_agent: str | None = None


def lock_entity(uuid: str, dataset_id: int) -> None:
    """Hold the entity (even one not yet created) until this transaction ends.

    PostgreSQL: an advisory lock on the UUID (Central's choice, as a row lock cannot
    cover an entity that does not exist yet); the row is also read FOR UPDATE later.
    SQLite allows one writer at a time: a write here takes that lock before anything
    about the entity is read, so two workers cannot interleave.
    """
    if is_postgres():
        key = int(uuid.replace("-", "")[:15], 16)
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
    else:
        db.session.execute(
            sa.update(Dataset)
            .where(Dataset.id == dataset_id)
            .values(change_seq=Dataset.change_seq)
        )


def bump(dataset_id: int) -> int:
    """Next list stamp of the dataset (row-locked until commit on PostgreSQL)."""
    return db.session.execute(
        sa.update(Dataset)
        .where(Dataset.id == dataset_id)
        .values(change_seq=Dataset.change_seq + 1)
        .returning(Dataset.change_seq)
    ).scalar_one()


def get_entity(
    dataset_id: int, uuid: str, *, for_update: bool = False, deleted: bool = False
) -> Entity | None:
    """A live (or, with ``deleted``, a deleted) entity of the dataset."""
    query = sa.select(Entity).where(
        Entity.dataset_id == dataset_id, Entity.uuid == uuid
    )
    query = query.where(
        Entity.deleted_at.is_not(None) if deleted else Entity.deleted_at.is_(None)
    )
    if for_update:
        query = query.with_for_update()
    return db.session.execute(query).scalar()


def get_def(entity_id: int, **conditions: t.Any) -> EntityDef | None:
    """One version of an entity matching ``conditions`` (e.g. version=3)."""
    query = sa.select(EntityDef).where(EntityDef.entity_id == entity_id)
    for name, value in conditions.items():
        query = query.where(getattr(EntityDef, name) == value)
    return db.session.execute(query.order_by(EntityDef.id).limit(1)).scalar()


def current_def(entity: Entity) -> EntityDef:
    """The entity's current version."""
    found = get_def(entity.id, version=entity.version)
    assert found is not None, "every entity has its current version"
    return found


def create(dataset: Dataset, uuid: str, new: NewVersion) -> tuple[Entity, EntityDef]:
    """Insert an entity and its version 1 (409.3 / 409.19 if the UUID is taken)."""
    taken = db.session.execute(
        sa.select(Entity.deleted_at).where(Entity.uuid == uuid)
    ).first()
    if taken is not None and taken[0] is not None:
        raise problem.entity_uuid_deleted([uuid])
    if taken is not None:
        raise problem.uniqueness_violation("uuid", uuid)
    now = utcnow()
    entity = Entity(
        dataset_id=dataset.id,
        uuid=uuid,
        label=new.label,
        data=dict(new.data),
        version=1,
        conflict=None,
        filter_value=datasets.filter_value(dataset, new.data),
        stamp=bump(dataset.id),
        creator_id=new.creator_id,
        created_at=now,
    )
    db.session.add(entity)
    db.session.flush()
    entity_def = _insert_def(entity, 1, new, now)
    return entity, entity_def


def create_version(
    dataset: Dataset, entity: Entity, new: NewVersion, conflict: str | None
) -> EntityDef:
    """Store the next version as current; the entity keeps or takes ``conflict``."""
    stamp, now = bump(dataset.id), utcnow()
    version = entity.version + 1
    entity_def = _insert_def(entity, version, new, now)
    entity.label = new.label
    entity.data = dict(new.data)
    entity.version = version
    entity.conflict = conflict
    entity.filter_value = datasets.filter_value(dataset, new.data)
    entity.stamp = stamp
    entity.updated_at = now
    db.session.flush()  # one UPDATE of the entity row
    return entity_def


def _insert_def(entity: Entity, version: int, new: NewVersion, now: t.Any) -> EntityDef:
    entity_def = EntityDef(
        entity_id=entity.id,
        version=version,
        label=new.label,
        data=dict(new.data),
        data_received=dict(new.data_received),
        base_version=new.base_version,
        trunk_version=new.trunk_version,
        branch_id=new.branch_id,
        branch_base_version=new.branch_base_version,
        conflicting_properties=new.conflicting_properties,
        submission_def_id=new.submission_def_id,
        source=new.source,
        force_processed=new.force_processed,
        creator_id=new.creator_id,
        user_agent=new.user_agent,
        created_at=now,
    )
    db.session.add(entity_def)
    db.session.flush()
    return entity_def


def changed_keys(data: dict[str, str], other: dict[str, str]) -> list[str]:
    """Central's getDiffProp: keys of ``data`` missing from or different in ``other``."""
    return [k for k in data if k not in other or data[k] != other[k]]


# --- REST (api/entities.py) ---------------------------------------------------------


def parse_body(
    body: t.Any, properties: list[str], *, existing: Entity | None = None
) -> tuple[str, str | None, dict[str, str], dict[str, str]]:
    """(uuid, label, data, dataReceived) from a REST body, validated as Central does."""
    if not isinstance(body, dict):
        raise problem.invalid_entity("The entity must be a JSON object.")
    unexpected = [k for k in body if k not in ("label", "uuid", "data")]
    if unexpected:
        raise problem.unexpected_attributes(["label", "uuid", "data"], list(body))
    if existing is not None:
        uuid = existing.uuid
    elif body.get("uuid") is not None:
        if not isinstance(body["uuid"], str):
            raise problem.invalid_data_type("uuid", "string")
        uuid = schema.normalize_uuid(body["uuid"])
    else:
        import uuid as uuid_module

        uuid = str(uuid_module.uuid4())
    label = body.get("label")
    if label is not None:
        if not isinstance(label, str):
            raise problem.invalid_data_type("label", "string")
        if not label.strip():
            raise problem.Problem(
                400.8,
                "Unexpected label value (empty string); Label cannot be blank.",
                {"field": "label"},
            )
    elif existing is None:
        raise problem.missing_parameter("label")
    data = body.get("data")
    if data is None and label is None:
        raise problem.invalid_entity("No entity data or label provided.")
    received: dict[str, str] = {}
    for key, value in (data or {}).items():
        if not isinstance(value, str):
            raise problem.invalid_data_type(key, "string")
        if key not in properties:
            raise problem.invalid_entity(
                f"You specified the dataset property [{key}] which does not exist."
            )
        received[key] = value
    merged = {**(existing.data if existing else {}), **received}
    if label is not None:
        received = {**received, "label": label}
    return uuid, label, merged, received


def create_many(
    dataset: Dataset,
    parsed: list[tuple[str, str | None, dict[str, str], dict[str, str]]],
    source: dict[str, t.Any],
    *,
    actor_id: int | None,
    user_agent: str | None,
) -> int:
    """Bulk create (one list stamp, two multi-row inserts); returns how many."""
    uuids = [uuid for uuid, *_ in parsed]
    if len(set(uuids)) != len(uuids):
        raise problem.invalid_entity("The same uuid appears twice in the request.")
    taken: list[tuple[str, t.Any]] = []
    for start in range(0, len(uuids), 1000):
        taken += db.session.execute(
            sa.select(Entity.uuid, Entity.deleted_at).where(
                Entity.uuid.in_(uuids[start : start + 1000])
            )
        ).all()
    deleted = [u for u, gone in taken if gone is not None]
    if deleted:
        raise problem.entity_uuid_deleted(deleted)
    if taken:
        raise problem.uniqueness_violation("uuid", taken[0][0])
    now, stamp = utcnow(), bump(dataset.id)
    rows = [
        {
            "dataset_id": dataset.id,
            "uuid": uuid,
            "label": label,
            "data": data,
            "version": 1,
            "filter_value": datasets.filter_value(dataset, data),
            "stamp": stamp,
            "creator_id": actor_id,
            "created_at": now,
        }
        for uuid, label, data, _received in parsed
    ]
    ids: dict[str, int] = {}
    for start in range(0, len(rows), 1000):
        result = db.session.execute(
            sa.insert(Entity).returning(
                Entity.id, Entity.uuid, sort_by_parameter_order=True
            ),
            rows[start : start + 1000],
        )
        ids.update({uuid: entity_id for entity_id, uuid in result})
    defs = [
        {
            "entity_id": ids[uuid],
            "version": 1,
            "label": label,
            "data": data,
            "data_received": received,
            "source": source,
            "force_processed": False,
            "creator_id": actor_id,
            "user_agent": user_agent,
            "created_at": now,
        }
        for uuid, label, data, received in parsed
    ]
    for start in range(0, len(defs), 1000):
        db.session.execute(sa.insert(EntityDef), defs[start : start + 1000])
    return len(rows)


def api_update(
    dataset: Dataset,
    entity: Entity,
    label: str | None,
    data: dict[str, str],
    received: dict[str, str],
    *,
    actor_id: int | None,
    user_agent: str | None,
) -> EntityDef:
    """A REST update: the next version, based on the current one; conflict kept."""
    new = NewVersion(
        label=label if label is not None else entity.label,
        data=data,
        data_received=received,
        base_version=entity.version,
        source={"type": "api"},
        creator_id=actor_id,
        user_agent=user_agent,
    )
    entity_def = create_version(dataset, entity, new, entity.conflict)
    audit.log(
        "entity.update.version",
        "dataset",
        dataset.id,
        actor_id=actor_id,
        details=_entity_details(dataset, entity, entity_def),
    )
    return entity_def


def resolve(dataset: Dataset, entity: Entity, actor_id: int | None) -> None:
    """Clear the conflict flag (the list as served does not change: no new stamp)."""
    entity.conflict = None
    entity.updated_at = utcnow()
    audit.log(
        "entity.update.resolve",
        "dataset",
        dataset.id,
        actor_id=actor_id,
        details={
            "entityId": entity.id,
            "entityDefId": current_def(entity).id,
            "entity": {"uuid": entity.uuid, "dataset": dataset.name},
            "version": entity.version,
        },
    )


def delete(dataset: Dataset, entity: Entity, actor_id: int | None) -> None:
    """Soft-delete: phones drop it on their next list download or integrity check."""
    entity.deleted_at = utcnow()
    entity.stamp = bump(dataset.id)
    audit.log(
        "entity.delete",
        "dataset",
        dataset.id,
        actor_id=actor_id,
        details={"entity": {"uuid": entity.uuid, "dataset": dataset.name}},
    )


def _entity_details(
    dataset: Dataset, entity: Entity, entity_def: EntityDef
) -> dict[str, t.Any]:
    return {
        "entityId": entity.id,
        "entityDefId": entity_def.id,
        "entity": {"uuid": entity.uuid, "dataset": dataset.name},
    }


entity_details = _entity_details
