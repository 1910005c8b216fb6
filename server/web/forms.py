"""Forms (upload an XLSForm as a draft, publish, open/close) and app users (create
with a QR code for ODK Collect, revoke). Managing needs ``form.update`` /
``field_key.manage``; everyone who reads submissions sees the form list."""

from __future__ import annotations

import base64
import io
import re
import typing as t

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from server import audit, forms, problem
from server.cli import collect_settings, create_app_user, settings_qr_payload
from server.db import db
from server.models import (
    FORM_STATES,
    Actor,
    Assignment,
    AuthSession,
    FieldKey,
    Form,
    FormDef,
    Submission,
    utcnow,
)
from server.web.common import access, bp, login_required

MAX_UPLOAD = 10_000_000
_ROW = re.compile(r"\[row\s*:\s*(\d+)\]", re.IGNORECASE)


def _project_forms(project_id: int) -> list[tuple[Form, int]]:
    counts = dict(
        db.session.execute(
            sa.select(Submission.form_id, sa.func.count())
            .where(Submission.draft.is_(False), Submission.deleted_at.is_(None))
            .group_by(Submission.form_id)
        ).all()
    )
    found = db.session.execute(
        sa.select(Form)
        .where(Form.project_id == project_id, Form.deleted_at.is_(None))
        .order_by(Form.xml_form_id)
    ).scalars()
    return [(f, counts.get(f.id, 0)) for f in found]


@bp.get("/projects/<int:project_id>/forms")
@login_required
def form_list(project_id: int) -> ResponseReturnValue:
    """The project's forms with their state, version and number of submissions."""
    acc = access(project_id, "form.read")
    return render_template(
        "forms.html",
        forms=_project_forms(project_id),
        can_manage=acc.can("form.update"),
    )


def plain_error(message: str, workbook: bytes | None = None) -> dict[str, str | None]:
    """A pyxform message as the sheet and row it names, an explanation in the
    reader's language (for the common mistakes) and pyxform's own text.

    When pyxform names no row but quotes a value (``Unknown question type
    'integr'``), the row is looked up in the workbook, so the supervisor knows
    where to look.
    """
    match = _ROW.search(message)
    text = _ROW.sub("", message).strip(" .:") + "."
    row = match.group(1) if match else None
    sheet_match = _SHEET.search(message)
    sheet = sheet_match.group(1) if sheet_match else None
    if row is None and workbook is not None:
        quoted = _QUOTED.search(message)
        if quoted:
            found = _find_row(workbook, quoted.group(1))
            if found:
                row, sheet = found
    return {
        "row": row,
        "sheet": sheet or "survey",
        "text": text,
        "plain": explain(text),
    }


_SHEET = re.compile(r"On the '(\w+)' sheet")


def explain(text: str) -> str | None:
    """The common pyxform mistakes, said simply (None: pyxform's text only)."""
    checks: list[tuple[str, t.Callable[[re.Match[str]], str]]] = [
        (
            r"Unknown question type '([^']+)'",
            lambda m: _(
                "“%(value)s” is not a question type. Check the spelling in the "
                "“type” column (for example integer, text, select_one LIST).",
                value=m.group(1),
            ),
        ),
        (
            r"the 'name' value '([^']+)' is invalid. Questions, groups, and repeats "
            r"must be unique",
            lambda m: _(
                "Two questions are named “%(value)s”. Every name must be different.",
                value=m.group(1),
            ),
        ),
        (
            r"Names must begin with a letter or underscore",
            lambda m: _(
                "A name has spaces, accents or starts with a digit. Names use only "
                "letters a–z, digits and _ (for example so_nguoi)."
            ),
        ),
        (
            r"Could not find the name '([^']+)'",
            lambda m: _(
                "${%(value)s} refers to a question that does not exist. Check the "
                "spelling or add the question.",
                value=m.group(1),
            ),
        ),
        (
            r"There should be a choices sheet",
            lambda m: _(
                "A select question needs the “choices” sheet with the columns "
                "list_name, name and label."
            ),
        ),
        (
            r"List name not in choices sheet: (\S+)",
            lambda m: _(
                "The choice list “%(value)s” is not on the “choices” sheet.",
                value=m.group(1),
            ),
        ),
        (
            r"The survey element named '([^']+)' has no label",
            lambda m: _(
                "The question “%(value)s” has no label: write the text the worker "
                "will read.",
                value=m.group(1),
            ),
        ),
    ]
    for pattern, say in checks:
        found = re.search(pattern, text)
        if found:
            return say(found)
    return None


_QUOTED = re.compile(r"'([^']{1,200})'")


def _find_row(workbook: bytes, value: str) -> tuple[str, str] | None:
    """The first row of the survey or choices sheet with a cell equal to ``value``."""
    try:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(workbook), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - not a readable workbook (an XForm, a CSV)
        return None
    try:
        for name in ("survey", "choices"):
            if name not in book.sheetnames:
                continue
            for number, cells in enumerate(book[name].iter_rows(values_only=True), 1):
                if any(str(c).strip() == value for c in cells if c is not None):
                    return str(number), name
    finally:
        book.close()
    return None


@bp.post("/projects/<int:project_id>/forms/upload")
@login_required
def upload_form(project_id: int) -> ResponseReturnValue:
    """An XLSForm (or XForm) becomes a draft; pyxform's errors come back readable."""
    access(project_id, "form.update")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose an XLSForm file (.xlsx) first."), "error")
        return redirect(url_for("web.form_list", project_id=project_id))
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        flash(_("The file is larger than 10 MB."), "error")
        return redirect(url_for("web.form_list", project_id=project_id))
    stem = re.sub(r"\.(xlsx|xls|xml)$", "", upload.filename, flags=re.IGNORECASE)
    try:
        form, draft, warnings = forms.create_draft(
            project_id,
            data,
            filename=upload.filename,
            actor_id=g.auth.actor_id,
            fallback_form_id=stem,
        )
        db.session.commit()
    except problem.Problem as err:
        db.session.rollback()
        details = err.details if isinstance(err.details, dict) else {}
        error = details.get("error") or err.message
        return (
            render_template(
                "form_error.html",
                filename=upload.filename,
                error=plain_error(str(error), data),
                warnings=[plain_error(str(w)) for w in details.get("warnings") or []],
                code=err.code,
            ),
            400,
        )
    flash(_("Draft saved. Check it, then publish it so phones get it."), "ok")
    if warnings:
        flash(
            _("pyxform warnings: %(text)s", text=" · ".join(str(w) for w in warnings)),
            "warning",
        )
    return redirect(
        url_for("web.form_page", project_id=project_id, xml_form_id=form.xml_form_id)
    )


def _form(project_id: int, xml_form_id: str) -> Form:
    form = forms.find_form(project_id, xml_form_id)
    if form is None:
        abort(404)
    return form


@bp.get("/projects/<int:project_id>/forms/<xml_form_id>")
@login_required
def form_page(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """One form: its versions, draft, state, exports."""
    acc = access(project_id, "form.read")
    form = _form(project_id, xml_form_id)
    versions = db.session.execute(
        sa.select(FormDef)
        .where(FormDef.form_id == form.id, FormDef.published_at.is_not(None))
        .order_by(FormDef.published_at.desc())
    ).scalars()
    count = db.session.execute(
        sa.select(sa.func.count())
        .select_from(Submission)
        .where(
            Submission.form_id == form.id,
            Submission.draft.is_(False),
            Submission.deleted_at.is_(None),
            acc.scope.condition(Submission.commune),
        )
    ).scalar_one()
    return render_template(
        "form.html",
        form=form,
        versions=list(versions),
        count=count,
        can_manage=acc.can("form.update"),
        states=FORM_STATES,
    )


@bp.post("/projects/<int:project_id>/forms/<xml_form_id>/publish")
@login_required
def publish_form(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """Publish the draft (a version already published is refused)."""
    access(project_id, "form.update")
    form = _form(project_id, xml_form_id)
    try:
        forms.publish_draft(form, actor_id=g.auth.actor_id)
        db.session.commit()
        flash(_("Published. Phones get the new version at their next update."), "ok")
    except problem.Problem as err:
        db.session.rollback()
        flash(err.message, "error")
    return redirect(
        url_for("web.form_page", project_id=project_id, xml_form_id=xml_form_id)
    )


@bp.post("/projects/<int:project_id>/forms/<xml_form_id>/state")
@login_required
def set_form_state(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """Open, closing (no new phones) or closed (no submissions)."""
    access(project_id, "form.update")
    form = _form(project_id, xml_form_id)
    state = request.form.get("state")
    if state not in FORM_STATES:
        abort(400)
    form.state = state
    form.updated_at = utcnow()
    audit.log(
        "form.update",
        "form",
        form.id,
        actor_id=g.auth.actor_id,
        details={"state": state},
    )
    db.session.commit()
    flash(_("Form state saved."), "ok")
    return redirect(
        url_for("web.form_page", project_id=project_id, xml_form_id=xml_form_id)
    )


# --- app users ----------------------------------------------------------------------


def _app_users(project_id: int) -> list[Actor]:
    return list(
        db.session.execute(
            sa.select(Actor)
            .join(FieldKey, FieldKey.actor_id == Actor.id)
            .where(FieldKey.project_id == project_id, Actor.deleted_at.is_(None))
            .order_by(Actor.created_at.desc(), Actor.id.desc())
        ).scalars()
    )


@bp.get("/projects/<int:project_id>/app-users")
@login_required
def app_users(project_id: int) -> ResponseReturnValue:
    """Phones (app users) of the project."""
    access(project_id, "field_key.manage")
    return render_template("app_users.html", users=_app_users(project_id), created=None)


def _server_url() -> str:
    public = current_app.config.get("PUBLIC_URL")
    return (public or request.host_url).rstrip("/")


@bp.post("/projects/<int:project_id>/app-users")
@login_required
def create_app_user_page(project_id: int) -> ResponseReturnValue:
    """Create an app user for every form; show its QR code once."""
    import qrcode

    acc = access(project_id, "field_key.manage")
    name = (request.form.get("name") or "").strip()[:255]
    if not name:
        flash(_("Give the phone or worker a name."), "error")
        return redirect(url_for("web.app_users", project_id=project_id))
    form_ids = list(
        db.session.execute(
            sa.select(Form.id).where(
                Form.project_id == project_id, Form.deleted_at.is_(None)
            )
        ).scalars()
    )
    _key, token = create_app_user(project_id, name, form_ids, actor_id=g.auth.actor_id)
    db.session.commit()
    url = f"{_server_url()}/v1/key/{token}/projects/{project_id}"
    payload = settings_qr_payload(collect_settings(url, name, acc.project.name))
    image = qrcode.make(payload, border=2)
    png = io.BytesIO()
    image.save(png, format="PNG")
    created = {
        "name": name,
        "url": url,
        "qr": base64.b64encode(png.getvalue()).decode("ascii"),
    }
    return render_template(
        "app_users.html", users=_app_users(project_id), created=created
    )


@bp.post("/projects/<int:project_id>/app-users/<int:actor_id>/revoke")
@login_required
def revoke_app_user(project_id: int, actor_id: int) -> ResponseReturnValue:
    """Revoke: the phone's key stops working at once."""
    access(project_id, "field_key.manage")
    actor = db.session.execute(
        sa.select(Actor)
        .join(FieldKey, FieldKey.actor_id == Actor.id)
        .where(
            Actor.id == actor_id,
            FieldKey.project_id == project_id,
            Actor.deleted_at.is_(None),
        )
    ).scalar()
    if actor is None:
        abort(404)
    actor.deleted_at = utcnow()
    db.session.execute(sa.delete(AuthSession).where(AuthSession.actor_id == actor.id))
    db.session.execute(sa.delete(Assignment).where(Assignment.actor_id == actor.id))
    audit.log(
        "field_key.delete",
        "actor",
        actor.id,
        actor_id=g.auth.actor_id,
        details={"projectId": project_id},
    )
    db.session.commit()
    flash(_("Access revoked for %(name)s.", name=actor.display_name), "ok")
    return redirect(url_for("web.app_users", project_id=project_id))
