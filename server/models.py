"""Typed SQLAlchemy models: projects, actors, forms, submissions, blobs, audit."""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import db


def utcnow() -> dt.datetime:
    """Timezone-aware now in UTC (stored naive-UTC on SQLite, timestamptz on PostgreSQL)."""
    return dt.datetime.now(dt.UTC)


Timestamp = sa.DateTime(timezone=True)
JsonType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

REVIEW_STATES = ("received", "hasIssues", "edited", "approved", "rejected")
FORM_STATES = ("open", "closing", "closed")


class Project(db.Model):
    """A project groups forms and app users, as in Central."""

    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class Actor(db.Model):
    """Anyone who acts: a web user or an app user (Central's shared actor ids)."""

    __tablename__ = "actors"
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(16))  # "user" | "field_key"
    display_name: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class User(db.Model):
    """A web user who logs in with email and password."""

    __tablename__ = "users"
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("actors.id"), primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    actor: Mapped[Actor] = relationship(lazy="joined")


class FieldKey(db.Model):
    """An app user: a per-project token that ODK Collect carries in its server URL."""

    __tablename__ = "field_keys"
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("actors.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("actors.id"))
    actor: Mapped[Actor] = relationship(lazy="joined", foreign_keys=[actor_id])


class AuthSession(db.Model):
    """A bearer token: web-user login sessions and app-user keys, stored as sha256 only."""

    __tablename__ = "sessions"
    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("actors.id"), index=True)
    csrf: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class Form(db.Model):
    """A form (xmlFormId) in a project; its versions are FormDefs."""

    __tablename__ = "forms"
    __table_args__ = (sa.UniqueConstraint("project_id", "xml_form_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"))
    xml_form_id: Mapped[str] = mapped_column(sa.String(255))
    state: Mapped[str] = mapped_column(sa.String(16), default="open")
    current_def_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("form_defs.id", use_alter=True)
    )
    draft_def_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("form_defs.id", use_alter=True)
    )
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("actors.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    current_def: Mapped[FormDef | None] = relationship(foreign_keys=[current_def_id])
    draft_def: Mapped[FormDef | None] = relationship(foreign_keys=[draft_def_id])


class FormDef(db.Model):
    """One version of a form: the exact XForm bytes served, their md5, its source."""

    __tablename__ = "form_defs"
    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"), index=True)
    version: Mapped[str] = mapped_column(sa.String(255), default="")
    name: Mapped[str | None] = mapped_column(sa.String(255))
    xml: Mapped[bytes] = mapped_column(sa.LargeBinary)
    md5: Mapped[str] = mapped_column(sa.String(32))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    # XLSForm source, when the form was uploaded as one (blob sha256).
    xlsx_blob: Mapped[str | None] = mapped_column(sa.ForeignKey("blobs.sha256"))
    # Paths of binary fields (attachment names come from their values) and media names.
    binary_paths: Mapped[list[str]] = mapped_column(JsonType, default=list)
    media_names: Mapped[list[str]] = mapped_column(JsonType, default=list)
    has_instance_id: Mapped[bool] = mapped_column(default=True)
    # Path of the form's one field named ``commune`` (scoping of web supervisors).
    commune_path: Mapped[str | None] = mapped_column(sa.String(255))
    draft_token: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    form: Mapped[Form] = relationship(foreign_keys=[form_id])


class FormAttachment(db.Model):
    """A media file a form version expects (images, CSVs); blob is None until uploaded."""

    __tablename__ = "form_attachments"
    __table_args__ = (sa.UniqueConstraint("form_def_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    form_def_id: Mapped[int] = mapped_column(sa.ForeignKey("form_defs.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(32), default="file")
    blob_sha: Mapped[str | None] = mapped_column(sa.ForeignKey("blobs.sha256"))
    updated_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class Assignment(db.Model):
    """Form access for an app user (Central's role 2, 'app-user')."""

    __tablename__ = "form_assignments"
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("actors.id"), primary_key=True)
    role_id: Mapped[int] = mapped_column(primary_key=True, default=2)


class Blob(db.Model):
    """A content-addressed file under the data directory."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    md5: Mapped[str] = mapped_column(sa.String(32))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    content_type: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class Submission(db.Model):
    """A logical submission, keyed by its first instanceID within a form."""

    __tablename__ = "submissions"
    __table_args__ = (sa.UniqueConstraint("form_id", "draft", "instance_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"))
    instance_id: Mapped[str] = mapped_column(sa.String(255))
    draft: Mapped[bool] = mapped_column(default=False)
    submitter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("actors.id"))
    device_id: Mapped[str | None] = mapped_column(sa.String(255))
    review_state: Mapped[str] = mapped_column(sa.String(16), default="received")
    # The current version's commune code (None: no commune field or no answer).
    commune: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class SubmissionDef(db.Model):
    """One version of a submission: exact XML bytes and who sent it from where."""

    __tablename__ = "submission_defs"
    __table_args__ = (
        sa.UniqueConstraint("form_id", "draft", "instance_id"),
        sa.Index(None, "submission_id", "current"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id"))
    # Denormalised so (form, draft, instanceID) is unique across all versions (409.8).
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"))
    draft: Mapped[bool] = mapped_column(default=False)
    form_def_id: Mapped[int] = mapped_column(sa.ForeignKey("form_defs.id"))
    instance_id: Mapped[str] = mapped_column(sa.String(255))
    deprecated_id: Mapped[str | None] = mapped_column(sa.String(255))
    instance_name: Mapped[str | None] = mapped_column(sa.Text)
    commune: Mapped[str | None] = mapped_column(sa.String(16))
    xml: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    current: Mapped[bool] = mapped_column(default=True)
    submitter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("actors.id"))
    device_id: Mapped[str | None] = mapped_column(sa.String(255))
    user_agent: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class SubmissionAttachment(db.Model):
    """An attachment a submission version expects; blob_sha is None until it arrives."""

    __tablename__ = "submission_attachments"
    __table_args__ = (sa.UniqueConstraint("submission_def_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_def_id: Mapped[int] = mapped_column(sa.ForeignKey("submission_defs.id"))
    name: Mapped[str] = mapped_column(sa.String(255))
    blob_sha: Mapped[str | None] = mapped_column(sa.ForeignKey("blobs.sha256"))
    updated_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class Comment(db.Model):
    """A reviewer's comment on a submission."""

    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id"), index=True
    )
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("actors.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class Audit(db.Model):
    """Append-only audit log: who did what to which object, when (no personal data)."""

    __tablename__ = "audits"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("actors.id"))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    actee_type: Mapped[str | None] = mapped_column(sa.String(32))
    actee_id: Mapped[str | None] = mapped_column(sa.String(255))
    details: Mapped[dict[str, t.Any] | None] = mapped_column(JsonType)
    logged_at: Mapped[dt.datetime] = mapped_column(
        Timestamp, default=utcnow, index=True
    )


class ProjectRole(db.Model):
    """A web user's role on a project: manager, viewer or data collector."""

    __tablename__ = "project_roles"
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("actors.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id"), primary_key=True
    )
    # REST roles (Central's): manager | viewer | formfill; web supervisors' roles:
    # province | commune (scoped by ProjectRoleCommune) | aggregate (no rows).
    role: Mapped[str] = mapped_column(sa.String(16))


class ProjectRoleCommune(db.Model):
    """A commune (2025 code) a ``commune`` supervisor is responsible for."""

    __tablename__ = "project_role_communes"
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("actors.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id"), primary_key=True
    )
    commune: Mapped[str] = mapped_column(sa.String(16), primary_key=True)


class LoginFailure(db.Model):
    """A failed web login, keyed by a hash of (IP, email): rate limiting across processes."""

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index(None, "key", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


from server import geo_models  # noqa: E402,F401


class Job(db.Model):
    """Work done after a submission is stored (entities, duplicate checks): never in the 201."""

    __tablename__ = "jobs"
    __table_args__ = (sa.Index(None, "done_at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    submission_def_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submission_defs.id"), index=True
    )
    payload: Mapped[dict[str, t.Any] | None] = mapped_column(JsonType)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    run_after: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    attempts: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    failed: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(sa.Text)


# The other feature models register on the same metadata (Alembic, create_all).
from server import dedup_models, entity_models  # noqa: E402,F401,I001
