"""All SQL of the submission ingest path, as statements built once and reused.

The hot path (one OpenRosa POST) runs a handful of statements; building them per request
and sending them through the ORM cost more than the database work itself, so they are
prebuilt Core statements with bind parameters, executed on the session's connection
(inside the session's transaction). Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy import bindparam as p

from server.db import db
from server.models import (
    Assignment,
    Audit,
    Blob,
    Form,
    FormDef,
    Job,
    Submission,
    SubmissionAttachment,
    SubmissionDef,
)

_forms, _defs = Form.__table__, FormDef.__table__
_subs, _sdefs = Submission.__table__, SubmissionDef.__table__
_slots, _blobs = SubmissionAttachment.__table__, Blob.__table__
_assign, _audits, _jobs = Assignment.__table__, Audit.__table__, Job.__table__

_STORED_COLUMNS = ("id", "submission_id", "sha256", "current", "deleted_at", "instance_id")


class StoredRow(t.NamedTuple):
    """A stored submission version as ingest needs it (``STORED_VERSION``'s columns)."""

    id: int
    submission_id: int
    sha256: str
    current: bool
    deleted_at: dt.datetime | None
    instance_id: str


def _stored_join(prefix: str, instance_param: str):  # type: ignore[no-untyped-def]
    """Outer-join the live version stored under an instanceID, and its columns."""
    sdef, sub = _sdefs.alias(f"{prefix}_def"), _subs.alias(f"{prefix}_sub")

    def join(left):  # type: ignore[no-untyped-def]
        return left.outerjoin(
            sdef,
            sa.and_(
                sdef.c.form_id == _forms.c.id,
                sdef.c.draft.is_(False),
                sdef.c.instance_id == p(instance_param),
            ),
        ).outerjoin(sub, sub.c.id == sdef.c.submission_id)

    columns = [
        (sub if name in ("deleted_at", "instance_id") else sdef)
        .c[name]
        .label(f"{prefix}_{name}")
        for name in _STORED_COLUMNS
    ]
    return join, columns


_join_same, _same_columns = _stored_join("same", "instance_id")
_join_deprecated, _deprecated_columns = _stored_join("deprecated", "deprecated_id")

# The form, the published version a submission names, whether an actor is assigned,
# and what is stored under the instanceID and the deprecatedID (live data, not drafts):
# everything ingest must know before deciding, in one round trip, through the unique
# (form, draft, instanceID) index.
FORM_FOR_SUBMISSION = (
    sa.select(
        _forms.c.id,
        _forms.c.state,
        _forms.c.current_def_id,
        _defs.c.id.label("def_id"),
        _defs.c.binary_paths,
        _defs.c.commune_path,
        sa.exists()
        .where(_assign.c.form_id == _forms.c.id, _assign.c.actor_id == p("actor_id"))
        .label("assigned"),
        *_same_columns,
        *_deprecated_columns,
    )
    .select_from(
        _join_deprecated(
            _join_same(
                _forms.outerjoin(
                    _defs,
                    sa.and_(
                        _defs.c.form_id == _forms.c.id,
                        _defs.c.version == p("version"),
                        _defs.c.published_at.is_not(None),
                    ),
                )
            )
        )
    )
    .where(
        _forms.c.project_id == p("project_id"),
        _forms.c.xml_form_id == p("xml_form_id"),
        _forms.c.deleted_at.is_(None),
    )
    .order_by(_defs.c.id.desc())
    .limit(1)
)

STORED_VERSION = (
    sa.select(
        _sdefs.c.id,
        _sdefs.c.submission_id,
        _sdefs.c.sha256,
        _sdefs.c.current,
        _subs.c.deleted_at,
        _subs.c.instance_id,
    )
    .select_from(_sdefs.join(_subs, _subs.c.id == _sdefs.c.submission_id))
    .where(
        _sdefs.c.form_id == p("form_id"),
        _sdefs.c.draft == p("draft"),
        _sdefs.c.instance_id == p("instance_id"),
    )
)

MISSING_SLOTS = sa.select(_slots.c.name).where(
    _slots.c.submission_def_id == p("def_id"), _slots.c.blob_sha.is_(None)
)
SLOTS = sa.select(_slots.c.name, _slots.c.blob_sha).where(
    _slots.c.submission_def_id == p("def_id")
)
INSERT_SUBMISSION = sa.insert(_subs).returning(_subs.c.id)
INSERT_DEF = sa.insert(_sdefs).returning(_sdefs.c.id)
INSERT_SLOT = sa.insert(_slots)
FILL_SLOT = (
    sa.update(_slots)
    .where(
        _slots.c.submission_def_id == p("def_id"),
        _slots.c.name == p("slot_name"),
        _slots.c.blob_sha.is_(None),
    )
    .values(blob_sha=p("sha"), updated_at=p("now"))
)
DEMOTE_DEF = (
    sa.update(_sdefs)
    .where(_sdefs.c.id == p("def_id"), _sdefs.c.current.is_(True))
    .values(current=False)
)
MARK_EDITED = (
    sa.update(_subs)
    .where(_subs.c.id == p("submission_id"))
    .values(review_state="edited", updated_at=p("now"), commune=p("commune"))
)
INSERT_AUDIT = sa.insert(_audits)


def _conn() -> sa.Connection:
    return db.session.connection()


def form_for_submission(
    project_id: int,
    xml_form_id: str,
    version: str,
    actor_id: int | None,
    instance_id: str,
    deprecated_id: str | None,
) -> sa.Row[t.Any] | None:
    """One row: the form, the named version, the assignment, the stored versions.

    :func:`stored_of` reads the stored versions (``same``, ``deprecated``) off it.
    """
    return (
        _conn()
        .execute(
            FORM_FOR_SUBMISSION,
            {
                "project_id": project_id,
                "xml_form_id": xml_form_id,
                "version": version,
                "actor_id": actor_id if actor_id is not None else -1,
                "instance_id": instance_id,
                "deprecated_id": deprecated_id,
            },
        )
        .first()
    )


def stored_of(row: sa.Row[t.Any], prefix: str) -> StoredRow | None:
    """The ``same`` or ``deprecated`` stored version joined into a form row."""
    values = [getattr(row, f"{prefix}_{name}") for name in _STORED_COLUMNS]
    return None if values[0] is None else StoredRow(*values)


def stored_version(form_id: int, draft: bool, instance_id: str) -> StoredRow | None:
    """The stored version with this instanceID (through the unique index), if any."""
    row = (
        _conn()
        .execute(
            STORED_VERSION,
            {"form_id": form_id, "draft": draft, "instance_id": instance_id},
        )
        .first()
    )
    return None if row is None else StoredRow(*row)


def missing_slots(def_id: int) -> set[str]:
    """Names of expected attachments not received yet."""
    return set(_conn().execute(MISSING_SLOTS, {"def_id": def_id}).scalars())


def slots(def_id: int) -> dict[str, str | None]:
    """Every expected attachment of a version and its blob (None if missing)."""
    return dict(_conn().execute(SLOTS, {"def_id": def_id}).all())


def insert_submission(**values: t.Any) -> int:
    return _conn().execute(INSERT_SUBMISSION, values).scalar_one()


def insert_def(**values: t.Any) -> int:
    return _conn().execute(INSERT_DEF, values).scalar_one()


def insert_slots(
    def_id: int, names: Mapping[str, str | None], now: dt.datetime
) -> None:
    if names:
        _conn().execute(
            INSERT_SLOT,
            [
                {
                    "submission_def_id": def_id,
                    "name": name,
                    "blob_sha": sha,
                    "updated_at": now if sha else None,
                }
                for name, sha in names.items()
            ],
        )


def fill_slot(def_id: int, name: str, sha: str, now: dt.datetime) -> bool:
    """Fill an empty slot; False if it was already filled (or does not exist)."""
    result = _conn().execute(
        FILL_SLOT, {"def_id": def_id, "slot_name": name, "sha": sha, "now": now}
    )
    return bool(result.rowcount)


def demote_def(def_id: int) -> bool:
    """Mark a version not current; False if another request did it first."""
    return bool(_conn().execute(DEMOTE_DEF, {"def_id": def_id}).rowcount)


def mark_edited(submission_id: int, now: dt.datetime, commune: str | None) -> None:
    """Review state ``edited``; the commune follows the new current version."""
    _conn().execute(
        MARK_EDITED, {"submission_id": submission_id, "now": now, "commune": commune}
    )


def insert_audit(**values: t.Any) -> None:
    _conn().execute(INSERT_AUDIT, values)


_RECORD_BLOB: dict[str, sa.Executable] = {}


def record_blob(sha256: str, md5: str, size: int, content_type: str | None) -> None:
    """Insert a blob row unless it exists (concurrent inserts are fine)."""
    conn = _conn()
    dialect = conn.dialect.name
    stmt = _RECORD_BLOB.get(dialect)
    if stmt is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(_blobs).on_conflict_do_nothing(index_elements=["sha256"])
        _RECORD_BLOB[dialect] = stmt
    conn.execute(
        stmt,
        {
            "sha256": sha256,
            "md5": md5,
            "size": size,
            "content_type": content_type,
            "created_at": dt.datetime.now(dt.UTC),
        },
    )
