"""Form drafts as pyODK's ``forms.create``/``forms.update`` drive them.

POST …/draft (empty body copies the published version), GET/DELETE …/draft,
…/draft/attachments[/{name}], POST …/draft/publish?version=.
"""

from __future__ import annotations

import mimetypes

import sqlalchemy as sa
from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from server import audit, forms, problem
from server.api.common import (
    extended,
    get_form,
    raw_body,
    require,
    rest_blueprint,
    success,
)
from server.api.forms import check_new_def, form_source
from server.api.shapes import (
    attachment_json,
    form_attachments,
    form_extended,
    form_json,
)
from server.db import db
from server.models import (
    Blob,
    Form,
    FormAttachment,
    FormDef,
    utcnow,
)

bp = rest_blueprint("drafts")

_DRAFT = "/projects/<int:project_id>/forms/<xml_form_id>/draft"


def _draft_of(form: Form) -> FormDef:
    if form.draft_def is None:
        raise problem.not_found()
    return form.draft_def


@bp.post(_DRAFT)
def create_draft(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """New draft from the body (XForm/XLSForm), or from the published version."""
    caller = require("form.update", project_id)
    form = get_form(project_id, xml_form_id)
    body = raw_body()
    if body.strip():
        data, filename, fallback = form_source(body)
    else:
        if form.current_def is None:
            raise problem.not_found()
        data, filename, fallback = form.current_def.xml, None, None
    form, _draft, warnings = forms.create_draft(
        project_id,
        data,
        filename=filename,
        actor_id=caller.actor_id,
        fallback_form_id=fallback,
        form=form,
    )
    check_new_def(form, warnings)
    db.session.commit()
    return jsonify(success())


@bp.get(_DRAFT)
def get_draft(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """The form with its draft version."""
    require("form.update", project_id)
    form = get_form(project_id, xml_form_id)
    draft = _draft_of(form)
    ext = form_extended(form, draft) if extended() else None
    return jsonify(form_json(form, draft, ext))


@bp.get(f"{_DRAFT}.xml")
def get_draft_xml(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """The draft's exact XForm bytes."""
    require("form.update", project_id)
    draft = _draft_of(get_form(project_id, xml_form_id))
    return Response(draft.xml, content_type="application/xml; charset=utf-8")


@bp.delete(_DRAFT)
def delete_draft(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """Abandon the draft; a form that was never published has to keep it (409.7)."""
    caller = require("form.update", project_id)
    form = get_form(project_id, xml_form_id)
    if form.current_def_id is None:
        raise problem.no_published_version()
    draft = _draft_of(form)
    forms.clear_draft_submissions(form.id)
    form.draft_def_id = None
    form.updated_at = utcnow()
    db.session.flush()
    db.session.execute(
        sa.delete(FormAttachment).where(FormAttachment.form_def_id == draft.id)
    )
    db.session.delete(draft)
    audit.log(
        "form.update.draft.delete",
        "form",
        form.id,
        actor_id=caller.actor_id,
        details={"oldDraftDefId": draft.id},
    )
    db.session.commit()
    return jsonify(success())


@bp.get(f"{_DRAFT}/attachments")
def list_draft_attachments(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """The media the draft expects, and which are uploaded."""
    require("form.update", project_id)
    draft = _draft_of(get_form(project_id, xml_form_id))
    return jsonify(form_attachments(draft))


@bp.post(f"{_DRAFT}/attachments/<name>")
def upload_draft_attachment(
    project_id: int, xml_form_id: str, name: str
) -> ResponseReturnValue:
    """Fill an expected media slot of the draft with the body; others are 404."""
    caller = require("form.update", project_id)
    draft = _draft_of(get_form(project_id, xml_form_id))
    content_type = request.mimetype or mimetypes.guess_type(name)[0]
    slot = forms.set_attachment(draft, name, request.stream, content_type)
    audit.log(
        "form.attachment.update",
        "form",
        draft.form_id,
        actor_id=caller.actor_id,
        details={"formDefId": draft.id, "name": name},
    )
    db.session.commit()
    blob = db.session.get(Blob, slot.blob_sha) if slot.blob_sha else None
    return jsonify(attachment_json(slot, blob.md5 if blob else None, draft))


@bp.post(f"{_DRAFT}/publish")
def publish_draft(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """Publish the draft, optionally renaming its version first (``?version=``)."""
    caller = require("form.update", project_id)
    form = get_form(project_id, xml_form_id)
    _draft_of(form)
    forms.publish_draft(
        form, version=request.args.get("version") or None, actor_id=caller.actor_id
    )
    db.session.commit()
    return jsonify(success())
