"""A submission's attachments (list, download, fill a slot) and its review comments."""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath
from urllib.parse import quote

import sqlalchemy as sa
from flask import jsonify, request
from flask.typing import ResponseReturnValue

from server import audit, auth, blobs, problem
from server.api.common import (
    extended,
    get_form,
    json_body,
    require,
    rest_blueprint,
    success,
)
from server.api.odata_rows import parse_instance
from server.api.shapes import actors_by_id, comment_json
from server.api.submissions import ONE, find
from server.db import db
from server.exports import RESTRICTED_GROUPS
from server.models import (
    Blob,
    Comment,
    FormDef,
    SubmissionAttachment,
    SubmissionDef,
    utcnow,
)
from server.openrosa import send_blob
from server.redact import restricted_path
from server.schemas import CommentCreate
from sync import field_values

bp = rest_blueprint("submission_parts")


def _slot(def_id: int, name: str) -> SubmissionAttachment:
    slot = db.session.execute(
        sa.select(SubmissionAttachment).where(
            SubmissionAttachment.submission_def_id == def_id,
            SubmissionAttachment.name == name,
        )
    ).scalar()
    if slot is None:
        raise problem.not_found()
    return slot


def restricted_file(current: SubmissionDef, name: str) -> bool:
    """Whether a file field inside a restricted group (``pii``, ``link``) names it.

    The same rule as the XML and OData feeds: a photo of an ID card is personal data
    whatever its file name. A name used both inside and outside counts as restricted.
    """
    paths = db.session.execute(
        sa.select(FormDef.binary_paths).where(FormDef.id == current.form_def_id)
    ).scalar()
    restricted = [p for p in paths or () if restricted_path(p, RESTRICTED_GROUPS)]
    if not restricted:
        return False
    root = parse_instance(bytes(current.xml))
    return any(
        PurePosixPath(value).name == name
        for path in restricted
        for value in field_values(root, path)
    )


@bp.get(f"{ONE}/attachments")
def list_attachments(
    project_id: int, xml_form_id: str, instance_id: str
) -> ResponseReturnValue:
    """The files the current version expects, and whether each has arrived."""
    require("submission.read", project_id)
    form = get_form(project_id, xml_form_id)
    _sub, current = find(form, instance_id)
    rows = db.session.execute(
        sa.select(SubmissionAttachment.name, SubmissionAttachment.blob_sha)
        .where(SubmissionAttachment.submission_def_id == current.id)
        .order_by(SubmissionAttachment.name)
    ).all()
    return jsonify([{"name": name, "exists": sha is not None} for name, sha in rows])


@bp.get(f"{ONE}/attachments/<name>")
def get_attachment(
    project_id: int, xml_form_id: str, instance_id: str, name: str
) -> ResponseReturnValue:
    """Stream one attachment of the current version (ETag = md5, 304 when unchanged)."""
    caller = require("submission.read", project_id)
    form = get_form(project_id, xml_form_id)
    sub, current = find(form, instance_id)
    slot = _slot(current.id, name)
    personal = restricted_file(current, name)
    if personal and not auth.scope(caller, project_id).pii:
        raise problem.insufficient_rights()
    blob = db.session.get(Blob, slot.blob_sha) if slot.blob_sha else None
    if blob is None:
        raise problem.not_found()
    response = send_blob(blob, name)
    response.headers["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    )
    if personal:
        audit.pii_read(caller, "submission", sub.id, current.id, "attachment")
    return response


@bp.post(f"{ONE}/attachments/<name>")
def upload_attachment(
    project_id: int, xml_form_id: str, instance_id: str, name: str
) -> ResponseReturnValue:
    """Fill (or replace) a file the current version expects; other names: 404."""
    caller = require("submission.update", project_id)
    form = get_form(project_id, xml_form_id)
    sub, current = find(form, instance_id)
    slot = _slot(current.id, name)
    info = blobs.write_stream(request.stream)
    blobs.record(info, request.mimetype or mimetypes.guess_type(name)[0])
    old = slot.blob_sha
    slot.blob_sha = info.sha256
    slot.updated_at = utcnow()
    audit.log(
        "submission.attachment.update",
        "submission",
        sub.id,
        actor_id=caller.actor_id,
        details={
            "submissionDefId": current.id,
            "name": name,
            "replaced": old is not None,
        },
    )
    db.session.commit()
    return jsonify(success())


@bp.get(f"{ONE}/comments")
def list_comments(
    project_id: int, xml_form_id: str, instance_id: str
) -> ResponseReturnValue:
    """Review comments, newest first."""
    require("submission.read", project_id)
    form = get_form(project_id, xml_form_id)
    sub, _current = find(form, instance_id)
    comments = list(
        db.session.execute(
            sa.select(Comment)
            .where(Comment.submission_id == sub.id)
            .order_by(Comment.created_at.desc(), Comment.id.desc())
        ).scalars()
    )
    actors = actors_by_id(c.actor_id for c in comments) if extended() else None
    return jsonify([comment_json(c, actors) for c in comments])


@bp.post(f"{ONE}/comments")
def add_comment(
    project_id: int, xml_form_id: str, instance_id: str
) -> ResponseReturnValue:
    """Add a review comment (reviewers: submission.update, as Central)."""
    caller = require("submission.update", project_id)
    form = get_form(project_id, xml_form_id)
    sub, _current = find(form, instance_id)
    data = CommentCreate().load(json_body())
    comment = Comment(
        submission_id=sub.id,
        actor_id=caller.actor_id,
        body=data["body"],
        created_at=utcnow(),
    )
    db.session.add(comment)
    db.session.flush()
    audit.log(
        "submission.comment.create",
        "submission",
        sub.id,
        actor_id=caller.actor_id,
        details={"commentId": comment.id},
    )
    db.session.commit()
    return jsonify(comment_json(comment))
