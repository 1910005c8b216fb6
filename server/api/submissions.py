"""Submissions over REST: list, read, XML, versions, create, edit (PUT), review (PATCH).

Creation and edits go through ``server.ingest`` (the same path OpenRosa uses), so the
dedup table, attachment slots and audit rows are identical whichever door data takes.
Attachments and comments are in ``server/api/submission_parts.py``.
"""

from __future__ import annotations

import hashlib
import typing as t

import sqlalchemy as sa
from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import aliased, defer

from server import audit, auth, dedup, ingest, problem
from server.api.common import (
    extended,
    get_form,
    json_body,
    raw_body,
    require,
    rest_blueprint,
)
from server.api.shapes import actors_by_id, def_json, submission_json
from server.db import db
from server.exports import RESTRICTED_GROUPS
from server.models import Form, FormDef, Submission, SubmissionDef, utcnow
from server.redact import RedactionError, redact
from server.schemas import SubmissionUpdate
from sync import Envelope

bp = rest_blueprint("submissions")

SUBS = "/projects/<int:project_id>/forms/<xml_form_id>/submissions"
ONE = f"{SUBS}/<instance_id>"


def _rows(
    form: Form, instance_id: str | None = None, *, scoped: bool = True
) -> list[t.Any]:
    """(Submission, current def, first version's user agent) rows, newest first.

    Only rows in the caller's scope (a commune supervisor's communes): others are
    simply not found, so guessing an instanceId tells nothing.
    """
    form_id = form.id
    in_scope = (
        auth.scope(auth.current(), form.project_id).condition(Submission.commune)
        if scoped
        else sa.true()
    )
    current = aliased(SubmissionDef)
    first = aliased(SubmissionDef)
    query = (
        sa.select(Submission, current, first.user_agent)
        .join(
            current,
            sa.and_(current.submission_id == Submission.id, current.current.is_(True)),
        )
        .outerjoin(
            first,
            sa.and_(
                first.submission_id == Submission.id,
                first.instance_id == Submission.instance_id,
            ),
        )
        .where(
            Submission.form_id == form_id,
            Submission.draft.is_(False),
            Submission.deleted_at.is_(None),
            in_scope,
        )
        .options(defer(current.xml))
        .order_by(Submission.created_at.desc(), Submission.id.desc())
    )
    if instance_id is not None:
        query = query.where(Submission.instance_id == instance_id)
    return list(db.session.execute(query).all())


def _versions(def_ids: t.Iterable[int]) -> dict[int, str]:
    ids = set(def_ids)
    if not ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(FormDef.id, FormDef.version).where(FormDef.id.in_(ids))
        ).all()
    )


def render(rows: list[t.Any]) -> list[dict[str, t.Any]]:
    """Submission JSON for rows from ``_rows``, extended when the client asks.

    ``duplicateOf``: the instanceId of the record a reviewer linked it to, or null.
    """
    links = dedup.duplicate_of(rows[0][0].form_id) if rows else {}
    if not extended():
        bodies = [submission_json(sub, cur, agent) for sub, cur, agent in rows]
    else:
        actors = actors_by_id(
            [sub.submitter_id for sub, _, _ in rows]
            + [cur.submitter_id for _, cur, _ in rows]
        )
        versions = _versions(cur.form_def_id for _, cur, _ in rows)
        bodies = [
            submission_json(sub, cur, agent, actors, versions.get(cur.form_def_id))
            for sub, cur, agent in rows
        ]
    for body, (sub, _, _) in zip(bodies, rows, strict=True):
        body["duplicateOf"] = links.get(sub.id)
    return bodies


def find(form: Form, instance_id: str) -> tuple[Submission, SubmissionDef]:
    """A live submission by logical instanceId, with its current version, or 404.1."""
    rows = _rows(form, instance_id)
    if not rows:
        raise problem.not_found()
    return rows[0][0], rows[0][1]


def _one_json(form: Form, instance_id: str, *, scoped: bool = True) -> dict[str, t.Any]:
    rows = _rows(form, instance_id, scoped=scoped)
    if not rows:
        raise problem.not_found()
    return render(rows)[0]


def _read_envelope(form: Form) -> tuple[bytes, Envelope]:
    xml = raw_body()
    envelope = ingest.parse(xml)
    if envelope.form_id != form.xml_form_id:
        raise problem.unexpected_value(
            "form id", "did not match the form ID in the URL"
        )
    return xml, envelope


@bp.get(SUBS)
def list_submissions(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """Every live submission of the form, newest first."""
    require("submission.read", project_id)
    form = get_form(project_id, xml_form_id)
    return jsonify(render(_rows(form)))


@bp.post(SUBS)
def create_submission(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """A raw XML submission (pyODK's submissions.create); files follow separately."""
    caller = require("submission.create", project_id)
    form = get_form(project_id, xml_form_id)
    xml, envelope = _read_envelope(form)
    result = ingest.ingest(
        project_id,
        form,
        envelope,
        xml,
        actor_id=caller.actor_id,
        device_id=request.args.get("deviceID"),
        user_agent=request.headers.get("User-Agent"),
    )
    # The sender sees what it sent (also a data collector, or out of its communes).
    return jsonify(_one_json(form, result.instance_id, scoped=False))


@bp.get(f"{ONE}.xml")
def get_submission_xml(
    project_id: int, xml_form_id: str, instance_id: str
) -> ResponseReturnValue:
    """The current version's exact XML bytes, or redacted ones (see ``xml_response``)."""
    caller = require("submission.read", project_id)
    form = get_form(project_id, xml_form_id)
    sub, current = find(form, instance_id)
    xml = db.session.execute(
        sa.select(SubmissionDef.xml).where(SubmissionDef.id == current.id)
    ).scalar_one()
    return xml_response(caller, project_id, sub, current, bytes(xml))


def xml_response(
    caller: auth.Auth,
    project_id: int,
    sub: Submission,
    sub_def: SubmissionDef,
    xml: bytes,
) -> Response:
    """Submission XML as the caller may read it.

    With ``pii.read``: the stored bytes, ETag = their sha256, and an audit row
    ``submission.read.pii`` when a restricted group holds anything. Without: the
    restricted groups (``exports.RESTRICTED_GROUPS``) emptied,
    ``X-Outreach-Redacted: pii``, and an ETag of its own, so no cache mixes the two.
    This deliberately deviates from Central, which serves the raw XML to every role
    that may read submissions.
    """
    redacted = not auth.scope(caller, project_id).pii
    if redacted:
        # RedactionError propagates: a 500, never the stored bytes
        xml = redact(xml, RESTRICTED_GROUPS)
        etag = hashlib.sha256(xml).hexdigest() + "-redacted"
    else:
        etag = sub_def.sha256
        if _personal(xml):
            audit.pii_read(caller, "submission", sub.id, sub_def.id, "xml")
    response = Response(xml, content_type="application/xml; charset=utf-8")
    if redacted:
        response.headers["X-Outreach-Redacted"] = "pii"
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Authorization", "Cookie"))
    return response.make_conditional(request)


def _personal(xml: bytes) -> bool:
    """Whether a restricted group holds anything (unreadable XML counts as yes)."""
    try:
        return redact(xml, RESTRICTED_GROUPS) != xml
    except RedactionError:
        return True


@bp.get(ONE)
def get_submission(
    project_id: int, xml_form_id: str, instance_id: str
) -> ResponseReturnValue:
    """One submission's metadata."""
    require("submission.read", project_id)
    form = get_form(project_id, xml_form_id)
    return jsonify(_one_json(form, instance_id))


@bp.put(ONE)
def edit_submission(
    project_id: int, xml_form_id: str, instance_id: str
) -> ResponseReturnValue:
    """Edit: a new version whose deprecatedID is the current version's instanceID."""
    caller = require("submission.update", project_id)
    form = get_form(project_id, xml_form_id)
    xml, envelope = _read_envelope(form)
    if not envelope.deprecated_id:
        raise problem.expected_deprecation()
    _sub, current = find(form, instance_id)
    if current.instance_id != envelope.deprecated_id:
        raise problem.deprecating_old_submission(envelope.deprecated_id)
    taken = db.session.execute(
        sa.select(SubmissionDef.id).where(
            SubmissionDef.form_id == form.id,
            SubmissionDef.draft.is_(False),
            SubmissionDef.instance_id == envelope.instance_id,
        )
    ).first()
    if taken is not None:
        raise problem.instance_id_conflict()
    ingest.ingest(
        project_id,
        form,
        envelope,
        xml,
        actor_id=caller.actor_id,
        device_id=request.args.get("deviceID"),
        user_agent=request.headers.get("User-Agent"),
    )
    return jsonify(_one_json(form, instance_id))


@bp.patch(ONE)
def review_submission(
    project_id: int, xml_form_id: str, instance_id: str
) -> ResponseReturnValue:
    """Set the review state: hasIssues, edited, approved or rejected."""
    caller = require("submission.update", project_id)
    form = get_form(project_id, xml_form_id)
    data = SubmissionUpdate().load(json_body())
    sub, _current = find(form, instance_id)
    sub.review_state = data["reviewState"]
    sub.updated_at = utcnow()
    audit.log(
        "submission.update",
        "submission",
        sub.id,
        actor_id=caller.actor_id,
        details={"reviewState": sub.review_state},
    )
    db.session.commit()
    return jsonify(_one_json(form, instance_id))


@bp.get(f"{ONE}/versions")
def list_versions(
    project_id: int, xml_form_id: str, instance_id: str
) -> ResponseReturnValue:
    """Every version of the submission, newest first."""
    require("submission.read", project_id)
    form = get_form(project_id, xml_form_id)
    sub, _current = find(form, instance_id)
    defs = list(
        db.session.execute(
            sa.select(SubmissionDef)
            .where(SubmissionDef.submission_id == sub.id)
            .options(defer(SubmissionDef.xml))
            .order_by(SubmissionDef.created_at.desc(), SubmissionDef.id.desc())
        ).scalars()
    )
    if not extended():
        return jsonify([def_json(d) for d in defs])
    actors = actors_by_id(d.submitter_id for d in defs)
    versions = _versions(d.form_def_id for d in defs)
    return jsonify([def_json(d, actors, versions.get(d.form_def_id)) for d in defs])
