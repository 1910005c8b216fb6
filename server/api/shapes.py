"""Central's JSON shapes for projects, forms, attachments, app users and submissions.

Renderers only: they read rows they are given (plus small batched lookups) and return
plain dicts. The one deliberate mapping lives here: the database stores the review
state ``received`` where Central's API says ``null``.
"""

from __future__ import annotations

import hashlib
import typing as t
from collections.abc import Iterable

import sqlalchemy as sa

from server.api.common import EXCEL_TYPES, iso
from server.db import db
from server.models import (
    Actor,
    Blob,
    Comment,
    Form,
    FormAttachment,
    FormDef,
    Project,
    Submission,
    SubmissionDef,
)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def review_state(value: str | None) -> str | None:
    """DB ``received`` -> Central's ``null``."""
    return None if value in (None, "received") else value


def actor_json(actor: Actor) -> dict[str, t.Any]:
    """Central's actor (no email: that is only for /users)."""
    return {
        "id": actor.id,
        "type": actor.type,
        "displayName": actor.display_name,
        "createdAt": iso(actor.created_at),
        "updatedAt": iso(actor.updated_at),
        "deletedAt": iso(actor.deleted_at),
    }


def actors_by_id(ids: Iterable[int | None]) -> dict[int, Actor]:
    """Load the actors named by ``ids`` in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(sa.select(Actor).where(Actor.id.in_(wanted))).scalars()
    return {actor.id: actor for actor in rows}


def project_json(
    project: Project, counts: dict[str, t.Any] | None = None
) -> dict[str, t.Any]:
    """A project; ``counts`` (extended) adds appUsers, forms, lastSubmission."""
    body: dict[str, t.Any] = {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "archived": bool(project.archived),
        "keyId": None,
        "createdAt": iso(project.created_at),
        "updatedAt": iso(project.updated_at),
        "deletedAt": None,
    }
    if counts is not None:
        body.update(counts)
    return body


def form_json(
    form: Form, form_def: FormDef | None, ext: dict[str, t.Any] | None = None
) -> dict[str, t.Any]:
    """A form merged with one of its versions (current, draft or an old one)."""
    is_draft = form_def is not None and form_def.id == form.draft_def_id
    body: dict[str, t.Any] = {
        "projectId": form.project_id,
        "xmlFormId": form.xml_form_id,
        "state": form.state,
        "enketoId": None,
        "enketoOnceId": None,
        "name": form_def.name if form_def else None,
        "version": form_def.version if form_def else "",
        "keyId": None,
        "hash": form_def.md5 if form_def else None,
        "sha": _sha1(form_def.xml) if form_def else None,
        "sha256": form_def.sha256 if form_def else None,
        "draftToken": form_def.draft_token if is_draft and form_def else None,
        "publishedAt": iso(form_def.published_at) if form_def else None,
        "createdAt": iso(form.created_at),
        "updatedAt": iso(form.updated_at),
    }
    if ext is not None:
        body.update(ext)
    return body


def form_extended(form: Form, form_def: FormDef | None) -> dict[str, t.Any]:
    """Extended form metadata: submission counts, creator, Excel source type."""
    rows = db.session.execute(
        sa.select(
            Submission.review_state, sa.func.count(), sa.func.max(Submission.created_at)
        )
        .where(
            Submission.form_id == form.id,
            Submission.draft.is_(False),
            Submission.deleted_at.is_(None),
        )
        .group_by(Submission.review_state)
    ).all()
    by_state = {state: count for state, count, _ in rows}
    latest = [last for _, _, last in rows if last is not None]
    creator = db.session.get(Actor, form.created_by) if form.created_by else None
    excel = None
    if form_def is not None and form_def.xlsx_blob:
        blob = db.session.get(Blob, form_def.xlsx_blob)
        excel = (
            blob.content_type
            if blob and blob.content_type in EXCEL_TYPES
            else XLSX_TYPE
        )
    return {
        "submissions": sum(by_state.values()),
        "reviewStates": {
            "received": by_state.get("received", 0),
            "hasIssues": by_state.get("hasIssues", 0),
            "edited": by_state.get("edited", 0),
        },
        "lastSubmission": iso(max(latest)) if latest else None,
        "createdBy": actor_json(creator) if creator else None,
        "excelContentType": excel,
        "entityRelated": False,
        "publicLinks": 0,
    }


def form_attachments(form_def: FormDef) -> list[dict[str, t.Any]]:
    """The media a form version expects, and whether each has been uploaded."""
    rows = db.session.execute(
        sa.select(FormAttachment, Blob.md5)
        .outerjoin(Blob, Blob.sha256 == FormAttachment.blob_sha)
        .where(FormAttachment.form_def_id == form_def.id)
        .order_by(FormAttachment.name)
    ).all()
    return [attachment_json(att, md5, form_def) for att, md5 in rows]


def attachment_json(
    att: FormAttachment, md5: str | None, form_def: FormDef
) -> dict[str, t.Any]:
    """One form attachment (Central 2025.1 shape)."""
    exists = att.blob_sha is not None
    return {
        "name": att.name,
        "type": att.type,
        "hash": md5,
        "exists": exists,
        "blobExists": exists,
        "datasetExists": False,
        "updatedAt": iso(att.updated_at or form_def.created_at),
    }


def app_user_json(
    actor: Actor, project_id: int, token: str | None = None
) -> dict[str, t.Any]:
    """An app user; the token is known only at creation (we store its hash)."""
    body = actor_json(actor)
    body.update({"token": token, "projectId": project_id})
    return body


def def_json(
    sub_def: SubmissionDef,
    actors: dict[int, Actor] | None = None,
    form_version: str | None = None,
) -> dict[str, t.Any]:
    """One submission version; ``actors`` (extended) adds submitter, formVersion."""
    body: dict[str, t.Any] = {
        "instanceId": sub_def.instance_id,
        "instanceName": sub_def.instance_name,
        "submitterId": sub_def.submitter_id,
        "deviceId": sub_def.device_id,
        "userAgent": sub_def.user_agent,
        "createdAt": iso(sub_def.created_at),
        "current": bool(sub_def.current),
    }
    if actors is not None:
        submitter = actors.get(sub_def.submitter_id or -1)
        body["submitter"] = actor_json(submitter) if submitter else None
        body["formVersion"] = form_version
    return body


def submission_json(
    sub: Submission,
    current: SubmissionDef,
    first_user_agent: str | None,
    actors: dict[int, Actor] | None = None,
    form_version: str | None = None,
) -> dict[str, t.Any]:
    """A logical submission; extended adds submitter, formVersion, currentVersion."""
    body: dict[str, t.Any] = {
        "instanceId": sub.instance_id,
        "submitterId": sub.submitter_id,
        "deviceId": sub.device_id,
        "userAgent": first_user_agent,
        "instanceName": current.instance_name,
        "reviewState": review_state(sub.review_state),
        "createdAt": iso(sub.created_at),
        "updatedAt": iso(sub.updated_at),
        "deletedAt": iso(sub.deleted_at),
    }
    if actors is not None:
        submitter = actors.get(sub.submitter_id or -1)
        body["submitter"] = actor_json(submitter) if submitter else None
        body["formVersion"] = form_version
        body["currentVersion"] = def_json(current, actors, form_version)
    return body


def comment_json(
    comment: Comment, actors: dict[int, Actor] | None = None
) -> dict[str, t.Any]:
    """A comment; extended metadata adds the actor."""
    body: dict[str, t.Any] = {
        "body": comment.body,
        "actorId": comment.actor_id,
        "createdAt": iso(comment.created_at),
    }
    if actors is not None:
        actor = actors.get(comment.actor_id)
        body["actor"] = actor_json(actor) if actor else None
    return body
