"""Central's JSON shapes for datasets, entities and versions, and the OData rows.

Renderers only (plus small batched lookups). ``versions_with_conflicts`` follows
Central's ``getWithConflictDetails`` (CB ``lib/data/entity.js``), so a supervisor's
tool sees which versions conflict, which are resolved and which is the last good one.
"""

from __future__ import annotations

import re
import typing as t

import sqlalchemy as sa

from server.api.common import iso
from server.db import db
from server.entities import datasets
from server.entities.store import changed_keys
from server.entity_models import (
    Dataset,
    DatasetFormDef,
    DatasetProperty,
    Entity,
    EntityDef,
)
from server.models import Actor, Audit, Form, FormDef


def odata_name(name: str) -> str:
    """Central's sanitizeOdataIdentifier."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name if not name[:1].isdigit() else f"_{name}")


def dataset_json(
    dataset: Dataset, stats: dict[str, t.Any] | None = None
) -> dict[str, t.Any]:
    """A dataset as in Central's listing (``stats``: extended metadata)."""
    body: dict[str, t.Any] = {
        "name": dataset.name,
        "projectId": dataset.project_id,
        "createdAt": iso(dataset.created_at),
        "approvalRequired": bool(dataset.approval_required),
        "ownerOnly": False,
    }
    if stats is not None:
        body.update(stats)
    return body


def dataset_stats(dataset_ids: list[int]) -> dict[int, dict[str, t.Any]]:
    """entities, lastEntity and conflicts per dataset (X-Extended-Metadata)."""
    rows = db.session.execute(
        sa.select(
            Entity.dataset_id,
            sa.func.count(Entity.id),
            sa.func.max(Entity.created_at),
            sa.func.count(Entity.id).filter(Entity.conflict.is_not(None)),
        )
        .where(Entity.dataset_id.in_(dataset_ids), Entity.deleted_at.is_(None))
        .group_by(Entity.dataset_id)
    ).all()
    stats = {
        i: {"entities": 0, "lastEntity": None, "conflicts": 0} for i in dataset_ids
    }
    for dataset_id, count, last, conflicts in rows:
        stats[dataset_id] = {
            "entities": count,
            "lastEntity": iso(last),
            "conflicts": conflicts,
        }
    return stats


def dataset_metadata(dataset: Dataset) -> dict[str, t.Any]:
    """``GET …/datasets/{name}``: properties with the forms that write them."""
    writers = db.session.execute(
        sa.select(DatasetFormDef.properties, Form.xml_form_id, FormDef.name)
        .join(FormDef, FormDef.id == DatasetFormDef.form_def_id)
        .join(Form, Form.current_def_id == FormDef.id)
        .where(DatasetFormDef.dataset_id == dataset.id, Form.deleted_at.is_(None))
    ).all()
    source_forms = [{"xmlFormId": f, "name": n or f} for _p, f, n in writers]
    linked = []
    for form, form_def in db.session.execute(
        sa.select(Form, FormDef)
        .join(FormDef, FormDef.id == Form.current_def_id)
        .where(Form.project_id == dataset.project_id, Form.deleted_at.is_(None))
    ).all():
        if f"{dataset.name}.csv" in (form_def.media_names or []):
            linked.append({"xmlFormId": form.xml_form_id, "name": form_def.name})
    published = dict(
        db.session.execute(
            sa.select(DatasetProperty.name, DatasetProperty.published_at).where(
                DatasetProperty.dataset_id == dataset.id
            )
        ).all()
    )
    last_update = db.session.scalar(
        sa.select(sa.func.max(Audit.logged_at)).where(
            Audit.actee_type == "dataset", Audit.actee_id == str(dataset.id)
        )
    )
    return {
        **dataset_json(dataset),
        "lastUpdate": iso(last_update),
        "linkedForms": linked,
        "sourceForms": source_forms,
        "properties": [
            {
                "name": name,
                "publishedAt": iso(published.get(name)),
                "odataName": odata_name(name),
                # Deviation: Central documents {xmlFormId, name} objects here, but
                # pyODK 1.3 (EntityListProperty.forms: list[str]) rejects them.
                "forms": [f for props, f, _n in writers if name in (props or {})],
            }
            for name in datasets.property_names(dataset.id)
        ],
    }


def def_json(entity_def: EntityDef, current: bool, *, data: bool = True) -> dict:
    """One entity version (Central's Entity.Def, readable fields)."""
    body: dict[str, t.Any] = {
        "version": entity_def.version,
        "label": entity_def.label,
        "current": current,
        "createdAt": iso(entity_def.created_at),
        "creatorId": entity_def.creator_id,
        "userAgent": entity_def.user_agent or "",
        "baseVersion": entity_def.base_version,
        "conflictingProperties": entity_def.conflicting_properties,
        "branchId": entity_def.branch_id,
        "trunkVersion": entity_def.trunk_version,
        "branchBaseVersion": entity_def.branch_base_version,
    }
    if data:
        body["data"] = dict(entity_def.data or {})
        body["dataReceived"] = dict(entity_def.data_received or {})
    return body


def entity_json(
    entity: Entity, entity_def: EntityDef, *, data: bool = True
) -> dict[str, t.Any]:
    """An entity with its current version."""
    return {
        "uuid": entity.uuid,
        "creatorId": entity.creator_id,
        "conflict": entity.conflict,
        "createdAt": iso(entity.created_at),
        "updatedAt": iso(entity.updated_at),
        "deletedAt": iso(entity.deleted_at),
        "currentVersion": def_json(entity_def, True, data=data),
    }


def current_defs(entities: list[Entity]) -> dict[int, EntityDef]:
    """The current version of each entity, in one query."""
    if not entities:
        return {}
    pairs = sa.tuple_(EntityDef.entity_id, EntityDef.version).in_(
        [(e.id, e.version) for e in entities]
    )
    rows = db.session.execute(sa.select(EntityDef).where(pairs)).scalars()
    return {d.entity_id: d for d in rows}


class _Branch:
    """Central's Branch: the last version of an offline branch contiguous with trunk."""

    def __init__(self, first: EntityDef) -> None:
        if first.trunk_version is not None:
            contiguous = first.version == first.trunk_version + 1
            self.last_contiguous = first.version if contiguous else 0
        else:  # the branch began with an offline create
            self.last_contiguous = 2 if first.version == 2 else 1

    def add(self, entity_def: EntityDef) -> None:
        if (
            entity_def.base_version == self.last_contiguous
            and entity_def.version == (entity_def.base_version or 0) + 1
        ):
            self.last_contiguous = entity_def.version


def versions_with_conflicts(
    entity: Entity, defs: list[EntityDef], relevant_only: bool = False
) -> list[dict[str, t.Any]]:
    """Every version with conflict, resolved, baseDiff/serverDiff, lastGoodVersion."""
    resolved_up_to = db.session.scalar(
        sa.select(Audit.details)
        .where(
            Audit.action == "entity.update.resolve",
            Audit.actee_type == "dataset",
            Audit.actee_id == str(entity.dataset_id),
            Audit.details["entityId"].as_integer() == entity.id,
        )
        .order_by(Audit.id.desc())
        .limit(1)
    )
    last_resolved_def = (resolved_up_to or {}).get("entityDefId", 0)
    actors = {
        a.id: a
        for a in db.session.scalars(
            sa.select(Actor).where(Actor.id.in_({d.creator_id for d in defs}))
        )
    }
    result: list[dict[str, t.Any]] = []
    branches: dict[str, _Branch] = {}
    last_good = 0
    relevant_bases: set[int] = set()
    by_version = {d.version: d for d in defs}
    for d in defs:
        if d.branch_id is not None:
            if d.branch_id in branches:
                branches[d.branch_id].add(d)
            else:
                branches[d.branch_id] = _Branch(d)
        item = def_json(d, d.version == entity.version)
        actor = actors.get(d.creator_id) if d.creator_id else None
        item.update(
            {
                "source": dict(d.source or {}),
                "creator": None
                if actor is None
                else {"id": actor.id, "displayName": actor.display_name},
                "conflict": None,
                "resolved": False,
                "baseDiff": [],
                "serverDiff": [],
                "lastGoodVersion": False,
            }
        )
        if d.version > 1:
            base = by_version.get(d.base_version or 0)
            previous = by_version.get(d.version - 1)
            not_contiguous = d.branch_id is not None and branches[
                d.branch_id
            ].last_contiguous < (d.base_version or 0)
            create_as_update = (d.source or {}).get("action") == "create"
            conflict = (
                d.version != (d.base_version or 0) + 1
                or not_contiguous
                or create_as_update
            )
            received = dict(d.data_received or {})
            if base is not None:
                item["baseDiff"] = changed_keys(
                    received, {**(base.data or {}), "label": base.label}
                )
            if previous is not None:
                item["serverDiff"] = changed_keys(
                    received, {**(previous.data or {}), "label": previous.label}
                )
            if conflict:
                item["conflict"] = "hard" if d.conflicting_properties else "soft"
                item["resolved"] = last_resolved_def >= d.id
                if not item["resolved"] and last_good == 0:
                    last_good = d.version - 1
                    result[d.version - 2]["lastGoodVersion"] = True
            if last_good > 0:
                relevant_bases.add(d.base_version or 0)
        result.append(item)
    for item in result:
        item["relevantToConflict"] = last_good > 0 and (
            item["version"] >= last_good or item["version"] in relevant_bases
        )
    if last_good == 0 and result:
        result[-1]["lastGoodVersion"] = True
    if relevant_only:
        return [v for v in result if v["relevantToConflict"]]
    return result


def odata_row(
    entity: Entity,
    properties: list[str],
    creators: dict[int, Actor],
    selected: set[str] | None = None,
) -> dict[str, t.Any]:
    """One ``Entities`` row as Central's OData feed gives it."""
    creator = creators.get(entity.creator_id or -1)
    system = {
        "createdAt": iso(entity.created_at),
        "creatorId": str(entity.creator_id) if entity.creator_id is not None else None,
        "creatorName": creator.display_name if creator else None,
        "updates": entity.version - 1,
        "updatedAt": iso(entity.updated_at),
        "deletedAt": iso(entity.deleted_at),
        "version": entity.version,
        "conflict": entity.conflict,
    }
    row: dict[str, t.Any] = {}
    if selected is None or "__id" in selected:
        row["__id"] = entity.uuid
    if selected is None or "label" in selected:
        row["label"] = entity.label
    if selected is None or "__system" in selected:
        row["__system"] = system
    else:
        picked = {
            k: v for k, v in system.items() if f"__system/{k}" in (selected or set())
        }
        if picked:
            row["__system"] = picked
    data = entity.data or {}
    for name in properties:
        if selected is None or name in selected:
            row[odata_name(name)] = data.get(name, "")
    return row


def entity_errors(project_id: int | None, limit: int = 100) -> list[dict[str, t.Any]]:
    """The latest entity processing failures (for the API and ``outreach entities``)."""
    from server.models import Form, Submission

    query = (
        sa.select(Audit, Form.xml_form_id, Form.project_id)
        .join(Submission, sa.cast(Submission.id, sa.String) == Audit.actee_id)
        .join(Form, Form.id == Submission.form_id)
        .where(Audit.action == "entity.error", Audit.actee_type == "submission")
        .order_by(Audit.id.desc())
        .limit(limit)
    )
    if project_id is not None:
        query = query.where(Form.project_id == project_id)
    out = []
    for row, xml_form_id, _project in db.session.execute(query).all():
        details = row.details or {}
        out.append(
            {
                "loggedAt": iso(row.logged_at),
                "xmlFormId": xml_form_id,
                "instanceId": details.get("instanceId"),
                "submissionId": details.get("submissionId"),
                "code": (details.get("problem") or {}).get("code"),
                "message": details.get("errorMessage"),
            }
        )
    return out
