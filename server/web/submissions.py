"""Submissions of a form: filtered, paged table; one submission's page (labelled
answers, photos, edit history, review state, comments); CSV and XLSX exports.

Every query carries ``Scope.condition``: a commune supervisor asking for another
commune's submission by URL gets the same 404 as for one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from urllib.parse import quote

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import defer

from server import audit, dedup, exports
from server.db import db
from server.forms import find_form
from server.models import (
    REVIEW_STATES,
    Actor,
    Blob,
    Comment,
    Form,
    FormDef,
    Submission,
    SubmissionAttachment,
    SubmissionDef,
    utcnow,
)
from server.web import xform
from server.web.common import Access, access, bp, login_required, page_args
from server.web.work import commune_names

VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")
SETTABLE = ("approved", "hasIssues", "rejected", "received")
BASE = "/projects/<int:project_id>/forms/<xml_form_id>/submissions"


def _form(acc: Access, xml_form_id: str) -> Form:
    form = find_form(acc.project.id, xml_form_id)
    if form is None or form.current_def is None:
        abort(404)
    return form


def _date(name: str) -> dt.date | None:
    raw = (request.args.get(name) or "").strip()
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def filters() -> dict[str, t.Any]:
    """The table's filters from the query string (unreadable values are ignored)."""
    state = request.args.get("state") or ""
    submitter = request.args.get("submitter") or ""
    return {
        "from": _date("from"),
        "to": _date("to"),
        "commune": (request.args.get("commune") or "").strip(),
        "state": state if state in REVIEW_STATES else "",
        "submitter": int(submitter) if submitter.isdigit() else None,
    }


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), VIETNAM)


def _conditions(acc: Access, form: Form, f: dict[str, t.Any]) -> list[t.Any]:
    found = [
        Submission.form_id == form.id,
        Submission.draft.is_(False),
        Submission.deleted_at.is_(None),
        acc.scope.condition(Submission.commune),
    ]
    if f["from"]:
        found.append(Submission.created_at >= _start(f["from"]))
    if f["to"]:
        found.append(Submission.created_at < _start(f["to"] + dt.timedelta(days=1)))
    if f["commune"]:
        found.append(Submission.commune == f["commune"])
    if f["state"]:
        found.append(Submission.review_state == f["state"])
    if f["submitter"]:
        found.append(Submission.submitter_id == f["submitter"])
    return found


def _current_join() -> t.Any:
    return sa.and_(
        SubmissionDef.submission_id == Submission.id, SubmissionDef.current.is_(True)
    )


@bp.get(BASE)
@login_required
def submission_list(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """The form's submissions, newest first, 50 a page, with filters."""
    acc = access(project_id, "submission.read")
    form = _form(acc, xml_form_id)
    f = filters()
    conditions = _conditions(acc, form, f)
    page, size = page_args()
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(Submission).where(*conditions)
    ).scalar_one()
    rows = db.session.execute(
        sa.select(Submission, SubmissionDef.instance_name, Actor.display_name)
        .join(SubmissionDef, _current_join())
        .outerjoin(Actor, Actor.id == Submission.submitter_id)
        .where(*conditions)
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    submitters = db.session.execute(
        sa.select(Actor.id, Actor.display_name)
        .where(
            Actor.id.in_(
                sa.select(Submission.submitter_id)
                .where(Submission.form_id == form.id)
                .distinct()
                .scalar_subquery()
            )
        )
        .order_by(Actor.display_name)
    ).all()
    names = commune_names()
    if acc.scope.all_communes:
        choices = sorted(
            {
                c
                for c in db.session.execute(
                    sa.select(Submission.commune)
                    .where(Submission.form_id == form.id)
                    .distinct()
                ).scalars()
                if c
            }
        )
    else:
        choices = sorted(acc.scope.communes)
    links = dedup.duplicate_of(form.id)
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "submissions.html",
        form=form,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, (total + size - 1) // size),
        f=f,
        query=query,
        submitters=submitters,
        communes=[(c, names.get(c, c)) for c in choices],
        names=names,
        states=REVIEW_STATES,
        links=links,
    )


def _find(
    acc: Access, form: Form, instance_id: str
) -> tuple[Submission, SubmissionDef]:
    row = db.session.execute(
        sa.select(Submission, SubmissionDef)
        .join(SubmissionDef, _current_join())
        .where(
            Submission.form_id == form.id,
            Submission.instance_id == instance_id,
            Submission.draft.is_(False),
            Submission.deleted_at.is_(None),
            acc.scope.condition(Submission.commune),
        )
    ).first()
    if row is None:
        abort(404)
    return row[0], row[1]


def _lang() -> str:
    return str(get_locale() or "vi")[:2]


@bp.get(f"{BASE}/<instance_id>")
@login_required
def submission_page(
    project_id: int, xml_form_id: str, instance_id: str
) -> ResponseReturnValue:
    """One submission: answers labelled in the form's language, photos, history."""
    acc = access(project_id, "submission.read")
    form = _form(acc, xml_form_id)
    sub, current = _find(acc, form, instance_id)
    form_def = db.session.get(FormDef, current.form_def_id)
    names = commune_names()
    answers = xform.rows(form_def.xml, current.xml, _lang(), commune_names=names)
    consent = next((r.raw for r in answers if r.path.endswith("/consent")), None)
    hide_personal = not acc.scope.pii or consent not in (None, "yes")
    personal_hidden = any(r.personal for r in answers) and hide_personal
    if hide_personal:
        answers = [r for r in answers if not r.personal]
    elif any(r.personal and r.raw not in (None, "") for r in answers):
        audit.pii_read(g.auth, "submission", sub.id, current.id, "web")
    slots = dict(
        db.session.execute(
            sa.select(SubmissionAttachment.name, SubmissionAttachment.blob_sha).where(
                SubmissionAttachment.submission_def_id == current.id
            )
        ).all()
    )
    versions = db.session.execute(
        sa.select(SubmissionDef, Actor.display_name, FormDef.version)
        .outerjoin(Actor, Actor.id == SubmissionDef.submitter_id)
        .join(FormDef, FormDef.id == SubmissionDef.form_def_id)
        .where(SubmissionDef.submission_id == sub.id)
        .options(defer(SubmissionDef.xml))
        .order_by(SubmissionDef.created_at.desc(), SubmissionDef.id.desc())
    ).all()
    comments = db.session.execute(
        sa.select(Comment, Actor.display_name)
        .join(Actor, Actor.id == Comment.actor_id)
        .where(Comment.submission_id == sub.id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    ).all()
    duplicate_of = dedup.duplicate_of(form.id).get(sub.id)
    submitter = db.session.get(Actor, sub.submitter_id) if sub.submitter_id else None
    return render_template(
        "submission.html",
        form=form,
        sub=sub,
        current=current,
        answers=answers,
        personal_hidden=personal_hidden,
        slots=slots,
        versions=versions,
        comments=comments,
        states=SETTABLE,
        duplicate_of=duplicate_of,
        submitter=submitter,
        commune_name=names.get(sub.commune or "", ""),
    )


@bp.post(f"{BASE}/<instance_id>/review")
@login_required
def review(project_id: int, xml_form_id: str, instance_id: str) -> ResponseReturnValue:
    """Set the review state, with an optional comment (audited like the REST PATCH)."""
    acc = access(project_id, "submission.update")
    form = _form(acc, xml_form_id)
    sub, _current = _find(acc, form, instance_id)
    state = request.form.get("state") or ""
    if state not in SETTABLE:
        abort(400)
    note = (request.form.get("comment") or "").strip()
    if state != sub.review_state:
        sub.review_state = state
        sub.updated_at = utcnow()
        audit.log(
            "submission.update",
            "submission",
            sub.id,
            actor_id=g.auth.actor_id,
            details={"reviewState": state},
        )
    if note:
        _add_comment(sub, note)
    db.session.commit()
    flash(_("Review saved."), "ok")
    return redirect(_back(project_id, xml_form_id, instance_id))


def _add_comment(sub: Submission, body: str) -> None:
    comment = Comment(
        submission_id=sub.id, actor_id=g.auth.actor_id, body=body, created_at=utcnow()
    )
    db.session.add(comment)
    db.session.flush()
    audit.log(
        "submission.comment.create",
        "submission",
        sub.id,
        actor_id=g.auth.actor_id,
        details={"commentId": comment.id},
    )


def _back(project_id: int, xml_form_id: str, instance_id: str) -> str:
    return url_for(
        "web.submission_page",
        project_id=project_id,
        xml_form_id=xml_form_id,
        instance_id=instance_id,
    )


@bp.post(f"{BASE}/<instance_id>/comments")
@login_required
def comment(project_id: int, xml_form_id: str, instance_id: str) -> ResponseReturnValue:
    """Add a review comment."""
    acc = access(project_id, "submission.update")
    form = _form(acc, xml_form_id)
    sub, _current = _find(acc, form, instance_id)
    body = (request.form.get("body") or "").strip()
    if body:
        _add_comment(sub, body[:10000])
        db.session.commit()
        flash(_("Comment added."), "ok")
    return redirect(_back(project_id, xml_form_id, instance_id))


@bp.get(f"{BASE}/<instance_id>/attachments/<name>")
@login_required
def attachment(
    project_id: int, xml_form_id: str, instance_id: str, name: str
) -> ResponseReturnValue:
    """A photo or file of the current version (scoped like the page).

    A file named by a field inside a restricted group (a photo of an ID card) needs
    ``pii.read``, like on the REST API, and its reading is audited.
    """
    from server.api.submission_parts import restricted_file
    from server.openrosa import send_blob

    acc = access(project_id, "submission.read")
    form = _form(acc, xml_form_id)
    sub, current = _find(acc, form, instance_id)
    personal = restricted_file(current, name)
    if personal and not acc.scope.pii:
        abort(403)
    sha = db.session.execute(
        sa.select(SubmissionAttachment.blob_sha).where(
            SubmissionAttachment.submission_def_id == current.id,
            SubmissionAttachment.name == name,
        )
    ).scalar()
    blob = db.session.get(Blob, sha) if sha else None
    if blob is None:
        abort(404)
    if personal:
        audit.pii_read(g.auth, "submission", sub.id, current.id, "web")
    response = send_blob(blob, name)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# --- exports ------------------------------------------------------------------------


def export_query(acc: Access, form: Form, include_dedup: bool) -> sa.Select:
    """The rows ``server.exports.rows`` reads: filtered and scoped like the table."""
    query = (
        sa.select(
            Submission.created_at,
            Submission.instance_id,
            SubmissionDef.instance_name,
            Actor.display_name,
            Submission.review_state,
            Submission.commune,
            SubmissionDef.xml,
        )
        .join(SubmissionDef, _current_join())
        .outerjoin(Actor, Actor.id == Submission.submitter_id)
        .where(*_conditions(acc, form, filters()))
        .order_by(Submission.created_at, Submission.id)
    )
    if not include_dedup:
        excluded = dedup.excluded(acc.project.id)
        if excluded:
            query = query.where(Submission.id.not_in(sorted(excluded)))
    return query


def _export(project_id: int, xml_form_id: str, fmt: str) -> ResponseReturnValue:
    acc = access(project_id, "submission.read")
    form = _form(acc, xml_form_id)
    want_pii = request.args.get("pii") == "1"
    include_pii = want_pii and acc.scope.pii
    if want_pii and not include_pii:
        abort(403)
    dedup_out = request.args.get("dedup") == "true"
    cols = exports.columns(form.current_def.xml, include_pii=include_pii)
    query = export_query(acc, form, include_dedup=not dedup_out)
    audit.log(
        "submission.export",
        "form",
        form.id,
        actor_id=g.auth.actor_id,
        details={"format": fmt, "personal": include_pii, "dedup": dedup_out},
    )
    db.session.commit()
    stamp = dt.datetime.now(VIETNAM).strftime("%Y%m%d-%H%M")
    filename = f"{xml_form_id}-{stamp}.{fmt}"
    if fmt == "csv":
        body = stream_with_context(exports.csv_stream(exports.rows(query, cols)))
        response = Response(body, mimetype="text/csv")
        response.headers["Content-Disposition"] = (
            f"attachment; filename*=UTF-8''{quote(filename)}"
        )
        return response
    handle = exports.xlsx_file(exports.rows(query, cols), xml_form_id)
    return send_file(
        handle,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=filename,
    )


@bp.get("/projects/<int:project_id>/forms/<xml_form_id>/export.csv")
@login_required
def export_csv(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """CSV of the (filtered) submissions, streamed."""
    return _export(project_id, xml_form_id, "csv")


@bp.get("/projects/<int:project_id>/forms/<xml_form_id>/export.xlsx")
@login_required
def export_xlsx(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """XLSX of the (filtered) submissions (bounded memory)."""
    return _export(project_id, xml_form_id, "xlsx")
