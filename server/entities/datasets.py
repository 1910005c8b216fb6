"""Datasets (entity lists): created and extended when a form version is published.

``on_publish`` is the one call ``forms.publish_draft`` makes. It records, per form
version, the dataset it writes to, the actions it may perform and the field behind each
property, so submission processing never has to re-read the XForm.
"""

from __future__ import annotations

import sqlalchemy as sa

from server import audit, problem
from server.db import db
from server.entities import schema
from server.entity_models import Dataset, DatasetFormDef, DatasetProperty, Entity
from server.models import Form, FormDef, utcnow

# Entities are sent to an app user's phone only if this property holds one of the
# user's communes (see server/entities/lists.py).
FILTER_PROPERTY = "commune"


def on_publish(form: Form, form_def: FormDef, actor_id: int | None = None) -> None:
    """Create or extend the dataset a newly published form version writes to."""
    spec = schema.read_spec(form_def.xml)
    if spec is None:
        return
    dataset = get_or_create(form.project_id, spec.dataset, actor_id)
    added = add_properties(dataset, list(spec.properties), actor_id)
    db.session.add(
        DatasetFormDef(
            dataset_id=dataset.id,
            form_def_id=form_def.id,
            actions=list(spec.actions),
            entity_path=spec.entity_path,
            has_label=spec.has_label,
            properties=dict(spec.properties),
        )
    )
    if added:
        audit.log(
            "dataset.update",
            "dataset",
            dataset.id,
            actor_id=actor_id,
            details={"properties": added, "formDefId": form_def.id},
        )


def find(project_id: int, name: str) -> Dataset | None:
    """The dataset with this exact name in the project."""
    return db.session.execute(
        sa.select(Dataset).where(Dataset.project_id == project_id, Dataset.name == name)
    ).scalar()


def get(project_id: int, name: str) -> Dataset:
    """The dataset or 404.1."""
    dataset = find(project_id, name)
    if dataset is None:
        raise problem.not_found()
    return dataset


def get_or_create(project_id: int, name: str, actor_id: int | None) -> Dataset:
    """The named dataset, created (published) if new; a case-only clash is 409.16."""
    dataset = find(project_id, name)
    if dataset is not None:
        return dataset
    clash = db.session.execute(
        sa.select(Dataset.name).where(
            Dataset.project_id == project_id,
            sa.func.lower(Dataset.name) == name.lower(),
        )
    ).scalar()
    if clash is not None:
        raise problem.Problem(
            409.16,
            f"A dataset named '{clash}' exists and you provided '{name}' with the same "
            "name but different capitalization.",
            {"current": clash, "provided": name},
        )
    now = utcnow()
    dataset = Dataset(
        project_id=project_id,
        name=name,
        approval_required=False,
        change_seq=0,
        created_at=now,
        published_at=now,
    )
    db.session.add(dataset)
    db.session.flush()
    audit.log("dataset.create", "dataset", dataset.id, actor_id=actor_id)
    return dataset


def property_names(dataset_id: int) -> list[str]:
    """The dataset's properties in the order they were added (the CSV's columns)."""
    return list(
        db.session.scalars(
            sa.select(DatasetProperty.name)
            .where(DatasetProperty.dataset_id == dataset_id)
            .order_by(DatasetProperty.id)
        )
    )


def add_properties(
    dataset: Dataset, names: list[str], actor_id: int | None = None
) -> list[str]:
    """Add the properties the dataset lacks; returns the new names (409.17 on case)."""
    existing = property_names(dataset.id)
    lower = {n.lower(): n for n in existing}
    added = []
    for name in names:
        if name in existing or name in added:
            continue
        if name.lower() in lower:
            raise problem.Problem(
                409.17,
                "This form attempts to create new Entity properties that match with "
                "existing ones except for capitalization.",
                {"current": lower[name.lower()], "provided": name},
            )
        if not schema.is_valid_property_name(name):
            raise problem.invalid_entity_form("Invalid entity property name.")
        db.session.add(
            DatasetProperty(dataset_id=dataset.id, name=name, published_at=utcnow())
        )
        added.append(name)
    if FILTER_PROPERTY in added and dataset.filter_property is None:
        _start_filtering(dataset, FILTER_PROPERTY)
    db.session.flush()
    return added


def _start_filtering(dataset: Dataset, name: str) -> None:
    """Filter the list by ``name`` from now on, filling the column for existing rows."""
    dataset.filter_property = name
    rows = db.session.execute(
        sa.select(Entity.id, Entity.data).where(Entity.dataset_id == dataset.id)
    ).all()
    for entity_id, data in rows:
        value = (data or {}).get(name) or None
        if value is not None:
            db.session.execute(
                sa.update(Entity)
                .where(Entity.id == entity_id)
                .values(filter_value=value)
            )


def filter_value(dataset: Dataset, data: dict[str, str]) -> str | None:
    """The value an entity's list membership is decided by (None: no app user gets it)."""
    if dataset.filter_property is None:
        return None
    return (data.get(dataset.filter_property) or "").strip() or None


def datasets_read_by(form_def: FormDef) -> dict[str, Dataset]:
    """Media names of this form version that are entity lists: ``<dataset>.csv``."""
    names = [n[:-4] for n in form_def.media_names or [] if n.endswith(".csv")]
    if not names:
        return {}
    rows = db.session.execute(
        sa.select(Dataset)
        .join(Form, Form.project_id == Dataset.project_id)
        .where(Form.id == form_def.form_id, Dataset.name.in_(names))
    ).scalars()
    return {f"{d.name}.csv": d for d in rows}
