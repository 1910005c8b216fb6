"""Datasets and entities over Central's REST API (what pyODK's entity calls use).

``/projects/{p}/datasets[/{name}[/properties]]``, ``…/entities[/{uuid}[/versions]]``
(GET, POST single or bulk, PATCH with ``?baseVersion=`` / ``?force=`` /
``?resolve=``, DELETE), the OData feed ``…/datasets/{name}.svc/Entities``, plus two
additions of this server: an app user's communes (``…/app-users/{id}/communes``) and
the entity processing errors (``…/entity-errors``).

Rights: reading needs ``submission.read`` (managers, viewers); writing needs
``submission.update`` (managers); app users get 403.1 here, as on all REST data.
"""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from flask import jsonify, request
from flask.typing import ResponseReturnValue

from server import audit, auth, problem
from server.api.app_users import get_app_user
from server.api.common import (
    get_project,
    is_true,
    json_body,
    require,
    rest_blueprint,
    success,
)
from server.db import db
from server.entities import datasets, lists, odata, store, views
from server.entity_models import Dataset, Entity, EntityDef

bp = rest_blueprint("entities")

DS = "/projects/<int:project_id>/datasets"
ONE = f"{DS}/<name>"
ENTITY = f"{ONE}/entities/<uuid>"
READ, WRITE = "submission.read", "submission.update"


def _dataset(project_id: int, name: str, verb: str) -> Dataset:
    require(verb, project_id)
    get_project(project_id)
    return datasets.get(project_id, name)


def _scope(dataset: Dataset) -> auth.Scope:
    """Commune supervisors see only the cases of their communes (as for submissions)."""
    return auth.scope(auth.current(), dataset.project_id)


def _entity(dataset: Dataset, uuid: str, *, lock: bool = False) -> Entity:
    uuid = uuid.strip().lower()
    if lock:
        store.lock_entity(uuid, dataset.id)
    entity = store.get_entity(dataset.id, uuid, for_update=lock)
    if entity is None or not _scope(dataset).sees(entity.filter_value):
        raise problem.not_found()
    return entity


# --- datasets -----------------------------------------------------------------------


@bp.get(DS)
def list_datasets(project_id: int) -> ResponseReturnValue:
    """The project's datasets by name; extended: entity counts and conflicts."""
    require(READ, project_id)
    get_project(project_id)
    rows = list(
        db.session.scalars(
            sa.select(Dataset)
            .where(Dataset.project_id == project_id)
            .order_by(Dataset.name)
        )
    )
    extended = (request.headers.get("X-Extended-Metadata") or "").lower() == "true"
    stats = views.dataset_stats([d.id for d in rows]) if extended else {}
    return jsonify([views.dataset_json(d, stats.get(d.id)) for d in rows])


@bp.post(DS)
def create_dataset(project_id: int) -> ResponseReturnValue:
    """A dataset with no form behind it (pyODK ``entity_lists.create``)."""
    caller = require("form.update", project_id)
    get_project(project_id)
    body = json_body()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise problem.missing_parameter("name")
    if datasets.find(project_id, name) is not None:
        raise problem.uniqueness_violation("name, projectId", f"{name}, {project_id}")
    if body.get("approvalRequired"):  # creates are never held for approval here
        raise problem.not_implemented("approvalRequired (entities wait for approval)")
    dataset = datasets.get_or_create(project_id, name, caller.actor_id)
    db.session.commit()
    return jsonify(views.dataset_json(dataset))


@bp.get(ONE)
def get_dataset(project_id: int, name: str) -> ResponseReturnValue:
    """Dataset metadata with its properties and the forms that write and read it."""
    return jsonify(views.dataset_metadata(_dataset(project_id, name, READ)))


@bp.post(f"{ONE}/properties")
def add_property(project_id: int, name: str) -> ResponseReturnValue:
    """Add one property (pyODK ``entity_lists.add_property``, ``merge``)."""
    caller = require("form.update", project_id)
    dataset = datasets.get(project_id, name)
    prop = json_body().get("name")
    if not isinstance(prop, str) or not prop.strip():
        raise problem.missing_parameter("name")
    if prop in datasets.property_names(dataset.id):
        raise problem.uniqueness_violation("name, datasetId", f"{prop}, {dataset.id}")
    datasets.add_properties(dataset, [prop], caller.actor_id)
    audit.log(
        "dataset.update",
        "dataset",
        dataset.id,
        actor_id=caller.actor_id,
        details={"properties": [prop]},
    )
    db.session.commit()
    return jsonify(success())


# --- entities -----------------------------------------------------------------------


@bp.get(f"{ONE}/entities")
def list_entities(project_id: int, name: str) -> ResponseReturnValue:
    """Every live entity with its current version's metadata, newest first."""
    dataset = _dataset(project_id, name, READ)
    rows = list(
        db.session.scalars(
            sa.select(Entity)
            .where(
                Entity.dataset_id == dataset.id,
                Entity.deleted_at.is_(None),
                _scope(dataset).condition(Entity.filter_value),
            )
            .order_by(Entity.created_at.desc(), Entity.id.desc())
        )
    )
    defs = views.current_defs(rows)
    return jsonify([views.entity_json(e, defs[e.id], data=False) for e in rows])


@bp.get(ENTITY)
def get_entity(project_id: int, name: str, uuid: str) -> ResponseReturnValue:
    """One entity with its current version and data."""
    dataset = _dataset(project_id, name, READ)
    entity = _entity(dataset, uuid)
    return jsonify(views.entity_json(entity, store.current_def(entity)))


@bp.get(f"{ENTITY}/versions")
def entity_versions(project_id: int, name: str, uuid: str) -> ResponseReturnValue:
    """Every version, with Central's conflict details (``?relevantToConflict=true``)."""
    dataset = _dataset(project_id, name, READ)
    entity = _entity(dataset, uuid)
    defs = list(
        db.session.scalars(
            sa.select(EntityDef)
            .where(EntityDef.entity_id == entity.id)
            .order_by(EntityDef.version)
        )
    )
    return jsonify(
        views.versions_with_conflicts(entity, defs, is_true("relevantToConflict"))
    )


@bp.post(f"{ONE}/entities")
def create_entities(project_id: int, name: str) -> ResponseReturnValue:
    """One entity ``{uuid?, label, data}``, or many ``{entities: […], source}``."""
    caller = require(WRITE, project_id)
    dataset = datasets.get(project_id, name)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise problem.unparseable("json", "Expected a JSON object.")
    properties = datasets.property_names(dataset.id)
    user_agent = request.headers.get("User-Agent")
    if "entities" not in body:
        uuid, label, data, received = store.parse_body(body, properties)
        new = store.NewVersion(
            label=t.cast(str, label),
            data=data,
            data_received=received,
            source={"type": "api"},
            creator_id=caller.actor_id,
            user_agent=user_agent,
        )
        entity, entity_def = store.create(dataset, uuid, new)
        audit.log(
            "entity.create",
            "dataset",
            dataset.id,
            actor_id=caller.actor_id,
            details=store.entity_details(dataset, entity, entity_def),
        )
        db.session.commit()
        return jsonify(views.entity_json(entity, entity_def))
    items, source = body.get("entities"), body.get("source")
    if not isinstance(items, list) or not items:
        raise problem.unexpected_attributes(
            ["entities: [...]"], ["empty array" if items == [] else "not an array"]
        )
    if not isinstance(source, dict) or not source.get("name"):
        raise problem.missing_parameter("source.name" if source else "source")
    size = source.get("size")
    if isinstance(size, str) and size.replace(".", "", 1).isdigit():
        size = float(size)  # pyODK's create_many types source_size as str
    if size is not None and not isinstance(size, int | float):
        raise problem.invalid_data_type("size", "number")
    parsed = [store.parse_body(item, properties) for item in items]
    details = {
        "type": "bulk",
        "name": str(source["name"]),
        "size": size,
        "count": len(parsed),
    }
    store.create_many(
        dataset, parsed, details, actor_id=caller.actor_id, user_agent=user_agent
    )
    audit.log(
        "entity.bulk.create",
        "dataset",
        dataset.id,
        actor_id=caller.actor_id,
        details={"source": details},
    )
    db.session.commit()
    return jsonify(success())


@bp.patch(ENTITY)
def update_entity(project_id: int, name: str, uuid: str) -> ResponseReturnValue:
    """New version (``?baseVersion=N`` must be current, or ``?force=true``);
    ``?resolve=true`` clears the conflict, with or without new data."""
    caller = require(WRITE, project_id)
    dataset = datasets.get(project_id, name)
    entity = _entity(dataset, uuid, lock=True)
    resolve = is_true("resolve")
    if resolve and not entity.conflict:
        raise problem.no_conflict_entity()
    provided = request.args.get("baseVersion")
    if provided != str(entity.version) and not is_true("force"):
        raise problem.entity_version_conflict(str(entity.version), provided)
    body = request.get_json(silent=True)
    if resolve and not body:
        store.resolve(dataset, entity, caller.actor_id)
        db.session.commit()
        return jsonify(views.entity_json(entity, store.current_def(entity)))
    properties = datasets.property_names(dataset.id)
    _uuid, label, data, received = store.parse_body(
        body if body is not None else {}, properties, existing=entity
    )
    entity_def = store.api_update(
        dataset,
        entity,
        label,
        data,
        received,
        actor_id=caller.actor_id,
        user_agent=request.headers.get("User-Agent"),
    )
    if resolve:
        store.resolve(dataset, entity, caller.actor_id)
    db.session.commit()
    return jsonify(views.entity_json(entity, entity_def))


@bp.delete(ENTITY)
def delete_entity(project_id: int, name: str, uuid: str) -> ResponseReturnValue:
    """Soft-delete an entity: it leaves every list; integrity reports it deleted."""
    caller = require(WRITE, project_id)
    dataset = datasets.get(project_id, name)
    entity = _entity(dataset, uuid, lock=True)
    store.delete(dataset, entity, caller.actor_id)
    db.session.commit()
    return jsonify(success())


# --- OData --------------------------------------------------------------------------


@bp.get(f"{ONE}.svc")
def odata_service(project_id: int, name: str) -> ResponseReturnValue:
    """The one table of a dataset's feed."""
    dataset = _dataset(project_id, name, READ)
    return jsonify(odata.service_document(dataset))


@bp.get(f"{ONE}.svc/Entities")
def odata_entities(project_id: int, name: str) -> ResponseReturnValue:
    """Entities as OData rows (pyODK ``get_table``): $top $skip $count $filter $select."""
    dataset = _dataset(project_id, name, READ)
    return jsonify(
        odata.entities_feed(dataset, _scope(dataset).condition(Entity.filter_value))
    )


# --- additions: app-user communes, processing errors --------------------------------


@bp.get("/projects/<int:project_id>/app-users/<int:actor_id>/communes")
def get_communes(project_id: int, actor_id: int) -> ResponseReturnValue:
    """The commune codes whose cases this app user's phone receives."""
    require("field_key.manage", project_id)
    return jsonify(lists.communes_of(get_app_user(project_id, actor_id).id))


@bp.put("/projects/<int:project_id>/app-users/<int:actor_id>/communes")
def put_communes(project_id: int, actor_id: int) -> ResponseReturnValue:
    """Replace them with a JSON list of 5-digit codes (``["*"]``: every commune)."""
    caller = require("field_key.manage", project_id)
    actor = get_app_user(project_id, actor_id)
    body = request.get_json(silent=True)
    if not isinstance(body, list) or not all(isinstance(c, str) for c in body):
        raise problem.unparseable("json", "Expected a JSON list of commune codes.")
    communes = lists.set_communes(actor.id, body)
    audit.log(
        "field_key.update.communes",
        "actor",
        actor.id,
        actor_id=caller.actor_id,
        details={"communes": communes},
    )
    db.session.commit()
    return jsonify(communes)


@bp.get("/projects/<int:project_id>/entity-errors")
def list_entity_errors(project_id: int) -> ResponseReturnValue:
    """Submissions whose entity block could not be applied, newest first."""
    require(READ, project_id)
    get_project(project_id)
    return jsonify(views.entity_errors(project_id))
