"""Forms: list, create (XForm or XLSForm), read, change state, versions, media list.

``GET …/forms/{f}.xml`` and ``…/forms/{f}/attachments/{name}`` are served by
``server/openrosa.py`` (registered under /v1 too); drafts are in
``server/api/drafts.py``.
"""

from __future__ import annotations

import io
import warnings
from urllib.parse import unquote

import sqlalchemy as sa
from flask import jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from server import audit, auth, forms, problem
from server.api.common import (
    EXCEL_TYPES,
    extended,
    get_form,
    get_project,
    is_true,
    json_body,
    raw_body,
    require,
    rest_blueprint,
)
from server.api.shapes import form_attachments, form_extended, form_json
from server.db import db
from server.models import Form, FormDef, utcnow
from server.schemas import FormUpdate

bp = rest_blueprint("forms")

_BAD_ID_SUFFIXES = (".xls", ".xlsx", ".xml")


def form_source(data: bytes) -> tuple[bytes, str | None, str | None]:
    """The uploaded definition: (bytes, a filename hinting its type, fallback)."""
    if not data.strip():
        raise problem.unparseable("xml", "The request body is empty.")
    mimetype = (request.mimetype or "").lower()
    filename = None
    if mimetype in EXCEL_TYPES:
        filename = "form.xls" if mimetype == "application/vnd.ms-excel" else "form.xlsx"
    fallback = request.headers.get("X-XlsForm-FormId-Fallback")
    if filename == "form.xlsx" or data[:2] == b"PK":
        data = _with_form_id(data, unquote(fallback) if fallback else None)
    return data, filename, None


def _with_form_id(data: bytes, fallback: str | None) -> bytes:
    """Apply the form ID fallback the way Central does: only when settings lack one.

    pyODK's fallbacks look like ``uuid:…``, which cannot name the temp file
    ``server.xform.convert_xlsform`` uses for its own fallback, so the REST upload
    writes the fallback into the settings sheet instead and does not pass it on.
    """
    if not fallback:
        return data
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():  # openpyxl warns about styles it ignores
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data))
    except Exception:  # not a readable workbook: let pyxform report it (400.15)
        return data
    settings = next(
        (ws for ws in book.worksheets if ws.title.strip().lower() == "settings"), None
    )
    if settings is None:
        settings = book.create_sheet("settings")
    header = [
        str(c.value).strip().lower() if c.value is not None else "" for c in settings[1]
    ]
    if settings.max_row >= 1 and any(h in ("form_id", "id_string") for h in header):
        column = next(i for i, h in enumerate(header) if h in ("form_id", "id_string"))
        if settings.cell(row=2, column=column + 1).value not in (None, ""):
            return data
        settings.cell(row=2, column=column + 1, value=fallback)
    else:
        column = len([h for h in header if h]) + 1
        settings.cell(row=1, column=column, value="form_id")
        settings.cell(row=2, column=column, value=fallback)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def check_new_def(form: Form, warnings: list[str]) -> None:
    """Central's checks on a new definition: form ID shape, XLSForm warnings."""
    if form.xml_form_id.lower().endswith(_BAD_ID_SUFFIXES):
        raise problem.unexpected_value(
            "formId",
            "The Form ID cannot end in .xls, .xlsx, or .xml. Please either specify an "
            "allowed ID in the form itself, or rename the file.",
        )
    if warnings and not is_true("ignoreWarnings"):
        raise problem.form_warnings(warnings)


def visible_def(form: Form) -> FormDef | None:
    """The version Central shows for a form: the published one, else the draft."""
    return form.current_def or form.draft_def


def readable_form(project_id: int, xml_form_id: str) -> tuple[auth.Auth, Form]:
    """A form the caller may read; never-published forms need form.update (Central)."""
    caller = require("form.read", project_id)
    form = get_form(project_id, xml_form_id)
    if form.current_def_id is None:
        require("form.update", project_id)
    return caller, form


@bp.get("/projects/<int:project_id>/forms")
def list_forms(project_id: int) -> ResponseReturnValue:
    """The project's live forms; draft-only ones only for those who may update."""
    caller = require("form.read", project_id)
    get_project(project_id)
    may_update = "form.update" in auth.project_verbs(caller, project_id)
    rows = db.session.execute(
        sa.select(Form).where(Form.project_id == project_id, Form.deleted_at.is_(None))
    ).scalars()
    result = []
    for form in rows:
        if form.current_def_id is None and not may_update:
            continue
        form_def = visible_def(form)
        ext = form_extended(form, form_def) if extended() else None
        result.append(form_json(form, form_def, ext))
    result.sort(key=lambda f: ((f["name"] or f["xmlFormId"]).lower(), f["xmlFormId"]))
    return jsonify(result)


@bp.post("/projects/<int:project_id>/forms")
def create_form(project_id: int) -> ResponseReturnValue:
    """Create a form from XForm XML or an XLSForm; a draft unless ``?publish=true``."""
    caller = require("form.update", project_id)
    get_project(project_id)
    existing = set(
        db.session.execute(
            sa.select(Form.id).where(
                Form.project_id == project_id, Form.deleted_at.is_(None)
            )
        ).scalars()
    )
    data, filename, fallback = form_source(raw_body())
    try:
        form, draft, warnings = forms.create_draft(
            project_id,
            data,
            filename=filename,
            actor_id=caller.actor_id,
            fallback_form_id=fallback,
        )
    except IntegrityError as err:  # a soft-deleted form still holds the xmlFormId
        raise problem.uniqueness_violation(
            "projectId, xmlFormId", str(project_id)
        ) from err
    if form.id in existing:
        raise problem.uniqueness_violation(
            "projectId, xmlFormId", f"{project_id}, {form.xml_form_id}"
        )
    check_new_def(form, warnings)
    form_def: FormDef = draft
    if is_true("publish"):
        form_def = forms.publish_draft(form, actor_id=caller.actor_id)
    db.session.commit()
    return jsonify(form_json(form, form_def))


@bp.get("/projects/<int:project_id>/forms/<xml_form_id>")
def get_form_view(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """One form with its published version (or its draft when never published)."""
    _caller, form = readable_form(project_id, xml_form_id)
    form_def = visible_def(form)
    ext = form_extended(form, form_def) if extended() else None
    return jsonify(form_json(form, form_def, ext))


@bp.patch("/projects/<int:project_id>/forms/<xml_form_id>")
def update_form(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """Change the form's state: open, closing (no new downloads) or closed."""
    caller = require("form.update", project_id)
    form = get_form(project_id, xml_form_id)
    data = FormUpdate().load(json_body())
    if data["state"] != form.state:
        form.state = data["state"]
        form.updated_at = utcnow()
        audit.log(
            "form.update",
            "form",
            form.id,
            actor_id=caller.actor_id,
            details={"state": form.state},
        )
    db.session.commit()
    return jsonify(form_json(form, visible_def(form)))


@bp.get("/projects/<int:project_id>/forms/<xml_form_id>/versions")
def list_versions(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """Every published version, newest first."""
    _caller, form = readable_form(project_id, xml_form_id)
    defs = db.session.execute(
        sa.select(FormDef)
        .where(FormDef.form_id == form.id, FormDef.published_at.is_not(None))
        .order_by(FormDef.published_at.desc(), FormDef.id.desc())
    ).scalars()
    return jsonify([form_json(form, d) for d in defs])


@bp.get("/projects/<int:project_id>/forms/<xml_form_id>/attachments")
def list_attachments(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """The media the published version expects, and which are uploaded."""
    _caller, form = readable_form(project_id, xml_form_id)
    form_def = visible_def(form)
    if form_def is None:
        raise problem.not_found()
    return jsonify(form_attachments(form_def))
