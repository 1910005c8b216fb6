"""Entity models: datasets (entity lists), entities and their versions, the offline
backlog, and the communes an app user may carry (migration 0004).

The current label, data and version are kept on ``entities`` as well as in the version
history (``entity_defs``), so an entity list is served from one table in one pass.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import db
from server.models import JsonType, Timestamp, utcnow


class Dataset(db.Model):
    """An entity list in a project (Central's dataset), e.g. ``cases``."""

    __tablename__ = "datasets"
    __table_args__ = (sa.UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(sa.String(255))
    approval_required: Mapped[bool] = mapped_column(default=False)
    # Property whose value decides which app users receive an entity (``commune``).
    filter_property: Mapped[str | None] = mapped_column(sa.String(255))
    # Bumped (under a row lock) by every change to the list as served: entities take
    # the new value as their ``stamp``, which the list hash is built from.
    change_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class DatasetProperty(db.Model):
    """A property of a dataset: a column of the entity list."""

    __tablename__ = "dataset_properties"
    __table_args__ = (sa.UniqueConstraint("dataset_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(sa.ForeignKey("datasets.id"))
    name: Mapped[str] = mapped_column(sa.String(255))
    published_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class DatasetFormDef(db.Model):
    """What one published form version may do to a dataset, and where its data lives."""

    __tablename__ = "dataset_form_defs"
    __table_args__ = (sa.UniqueConstraint("dataset_id", "form_def_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(sa.ForeignKey("datasets.id"))
    form_def_id: Mapped[int] = mapped_column(sa.ForeignKey("form_defs.id"), index=True)
    actions: Mapped[list[str]] = mapped_column(JsonType, default=list)
    entity_path: Mapped[str] = mapped_column(sa.String(255))  # /data/meta/entity
    has_label: Mapped[bool] = mapped_column(default=False)
    properties: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)


class Entity(db.Model):
    """One entity; its current version is repeated here for fast lists."""

    __tablename__ = "entities"
    __table_args__ = (
        sa.Index("ix_entities_dataset_filter", "dataset_id", "filter_value", "stamp"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(sa.ForeignKey("datasets.id"))
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    label: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    version: Mapped[int] = mapped_column(default=1)
    conflict: Mapped[str | None] = mapped_column(sa.String(8))  # soft | hard
    filter_value: Mapped[str | None] = mapped_column(sa.String(255))
    stamp: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    creator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("actors.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class EntityDef(db.Model):
    """One version of an entity, with the offline-branch bookkeeping of Central."""

    __tablename__ = "entity_defs"
    __table_args__ = (sa.UniqueConstraint("entity_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(sa.ForeignKey("entities.id"))
    version: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    data_received: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    base_version: Mapped[int | None] = mapped_column()
    trunk_version: Mapped[int | None] = mapped_column()
    branch_id: Mapped[str | None] = mapped_column(sa.String(36))
    branch_base_version: Mapped[int | None] = mapped_column()
    conflicting_properties: Mapped[list[str] | None] = mapped_column(JsonType)
    # Where it came from: a submission version, or the API ({"type": "api" | "bulk"}).
    submission_def_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submission_defs.id"), index=True
    )
    source: Mapped[dict[str, t.Any] | None] = mapped_column(JsonType)
    force_processed: Mapped[bool] = mapped_column(default=False)
    creator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("actors.id"))
    user_agent: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class EntityBacklog(db.Model):
    """An offline update held until the update before it in its branch arrives."""

    __tablename__ = "entity_backlog"
    __table_args__ = (sa.Index(None, "branch_id", "branch_base_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id"), index=True
    )
    submission_def_id: Mapped[int] = mapped_column(sa.ForeignKey("submission_defs.id"))
    entity_uuid: Mapped[str] = mapped_column(sa.String(36), index=True)
    branch_id: Mapped[str | None] = mapped_column(sa.String(36))
    branch_base_version: Mapped[int | None] = mapped_column()
    logged_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class AppUserCommune(db.Model):
    """A commune (2025 code, or ``*`` for all) whose cases an app user's phone carries."""

    __tablename__ = "app_user_communes"
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("actors.id"), primary_key=True)
    commune: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
