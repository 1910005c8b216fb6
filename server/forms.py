"""Forms and their versions in the database: drafts, publishing, media slots."""

from __future__ import annotations

import hashlib
import typing as t
from pathlib import Path

import sqlalchemy as sa

from server import audit, blobs, problem
from server.db import db
from server.models import (
    Comment,
    Form,
    FormAttachment,
    FormDef,
    Submission,
    SubmissionAttachment,
    SubmissionDef,
    utcnow,
)
from server.xform import (  # noqa: F401  (re-exported for callers of server.forms)
    MEDIA_RE,
    XFormInfo,
    convert_xlsform,
    inspect_xform,
    set_version,
)


def find_form(project_id: int, xml_form_id: str) -> Form | None:
    """The live (not deleted) form with this xmlFormId in the project, if any."""
    return db.session.execute(
        sa.select(Form).where(
            Form.project_id == project_id,
            Form.xml_form_id == xml_form_id,
            Form.deleted_at.is_(None),
        )
    ).scalar()


def get_form(project_id: int, xml_form_id: str) -> Form:
    """The live form with this xmlFormId in the project, or 404.1."""
    form = find_form(project_id, xml_form_id)
    if form is None:
        raise problem.not_found()
    return form


def _new_def(form: Form, xml: bytes, info: XFormInfo, xlsx_blob: str | None) -> FormDef:
    return FormDef(
        form_id=form.id,
        version=info.version,
        name=info.title,
        xml=xml,
        md5=hashlib.md5(xml).hexdigest(),
        sha256=hashlib.sha256(xml).hexdigest(),
        xlsx_blob=xlsx_blob,
        binary_paths=info.binary_paths,
        media_names=sorted(info.media),
        has_instance_id=info.has_instance_id,
        commune_path=info.commune_path,
    )


def _attach_slots(form_def: FormDef, info: XFormInfo, previous: FormDef | None) -> None:
    """Create the expected media slots, carrying files over from the previous version."""
    carried: dict[str, str | None] = {}
    if previous is not None:
        rows = db.session.execute(
            sa.select(FormAttachment.name, FormAttachment.blob_sha).where(
                FormAttachment.form_def_id == previous.id
            )
        )
        carried = {name: sha for name, sha in rows}
    for name, kind in sorted(info.media.items()):
        db.session.add(
            FormAttachment(
                form_def_id=form_def.id,
                name=name,
                type=kind,
                blob_sha=carried.get(name),
                updated_at=utcnow() if carried.get(name) else None,
            )
        )


def read_source(data: bytes, filename: str | None, fallback_form_id: str | None = None):
    """XForm XML or XLSForm bytes -> (xml bytes, info, warnings, is_xlsform)."""
    is_xlsx = data[:2] == b"PK" or (filename or "").lower().endswith((".xlsx", ".xls"))
    warnings: list[str] = []
    xml = data
    if is_xlsx:
        xml, warnings = convert_xlsform(data, fallback_form_id)
    return xml, inspect_xform(xml), warnings, is_xlsx


def create_draft(
    project_id: int,
    data: bytes,
    *,
    filename: str | None = None,
    actor_id: int | None = None,
    fallback_form_id: str | None = None,
    form: Form | None = None,
    source: tuple[bytes, XFormInfo, list[str], bool] | None = None,
) -> tuple[Form, FormDef, list[str]]:
    """Store a new draft version (creating the form when new); returns warnings too.

    ``source`` is ``read_source``'s result when the caller has already converted ``data``.
    """
    xml, info, warnings, is_xlsx = source or read_source(
        data, filename, fallback_form_id
    )
    if form is not None and info.form_id != form.xml_form_id:
        raise problem.unexpected_value(
            "xmlFormId", f"the draft's form ID {info.form_id!r} does not match the form"
        )
    if form is None:
        form = find_form(project_id, info.form_id)
    if form is None:
        form = Form(
            project_id=project_id, xml_form_id=info.form_id, created_by=actor_id
        )
        db.session.add(form)
        db.session.flush()
        audit.log("form.create", "form", form.id, actor_id=actor_id)
    xlsx_sha = None
    if is_xlsx:
        blob = blobs.write_bytes(data)
        blobs.record(
            blob, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        xlsx_sha = blob.sha256
    previous = form.draft_def or form.current_def
    if form.draft_def is not None:
        _delete_def(form.draft_def)
        form.draft_def_id = None
    draft = _new_def(form, xml, info, xlsx_sha)
    draft.draft_token = _draft_token()
    db.session.add(draft)
    db.session.flush()
    _attach_slots(draft, info, previous)
    form.draft_def_id = draft.id
    form.updated_at = utcnow()
    _refresh(form)
    audit.log(
        "form.update.draft.set",
        "form",
        form.id,
        actor_id=actor_id,
        details={"version": info.version},
    )
    return form, draft, warnings


def _refresh(form: Form) -> None:
    """Write the def pointers and reload the relationships that follow them."""
    db.session.flush()
    db.session.expire(form, ["draft_def", "current_def"])


def _draft_token() -> str:
    import secrets

    return secrets.token_urlsafe(48)[:64]


def clear_draft_submissions(form_id: int) -> None:
    """Drop a form's draft test submissions (Central does on a new draft and on publish)."""
    sub_ids = sa.select(Submission.id).where(
        Submission.form_id == form_id, Submission.draft.is_(True)
    )
    def_ids = sa.select(SubmissionDef.id).where(
        SubmissionDef.submission_id.in_(sub_ids)
    )
    db.session.execute(
        sa.delete(SubmissionAttachment).where(
            SubmissionAttachment.submission_def_id.in_(def_ids)
        )
    )
    db.session.execute(sa.delete(Comment).where(Comment.submission_id.in_(sub_ids)))
    db.session.execute(
        sa.delete(SubmissionDef).where(SubmissionDef.submission_id.in_(sub_ids))
    )
    db.session.execute(
        sa.delete(Submission).where(
            Submission.form_id == form_id, Submission.draft.is_(True)
        )
    )


def _delete_def(form_def: FormDef) -> None:
    clear_draft_submissions(form_def.form_id)
    db.session.execute(
        sa.delete(FormAttachment).where(FormAttachment.form_def_id == form_def.id)
    )
    db.session.delete(form_def)
    db.session.flush()


def publish_draft(
    form: Form, *, version: str | None = None, actor_id: int | None = None
) -> FormDef:
    """Publish the form's draft; a version already published is 409.6."""
    draft = form.draft_def
    if draft is None:
        raise problem.not_found()
    if version is not None and version != draft.version:
        draft.xml = set_version(draft.xml, version)
        draft.version = version
        draft.md5 = hashlib.md5(draft.xml).hexdigest()
        draft.sha256 = hashlib.sha256(draft.xml).hexdigest()
    clash = db.session.execute(
        sa.select(FormDef.id).where(
            FormDef.form_id == form.id,
            FormDef.version == draft.version,
            FormDef.published_at.is_not(None),
        )
    ).first()
    if clash is not None:
        raise problem.version_conflict(form.xml_form_id, draft.version)
    clear_draft_submissions(form.id)
    draft.published_at = utcnow()
    draft.draft_token = None
    form.current_def_id = draft.id
    form.draft_def_id = None
    form.updated_at = utcnow()
    _refresh(form)
    audit.log(
        "form.update.publish",
        "form",
        form.id,
        actor_id=actor_id,
        details={"version": draft.version},
    )
    from server import entities  # datasets the version writes to (entities: sheet)

    entities.on_publish(form, draft, actor_id)
    return draft


def set_attachment(
    form_def: FormDef, name: str, data: t.BinaryIO, content_type: str | None
) -> FormAttachment:
    """Fill an expected media slot of a draft or version; unknown names are 404."""
    slot = db.session.execute(
        sa.select(FormAttachment).where(
            FormAttachment.form_def_id == form_def.id, FormAttachment.name == name
        )
    ).scalar()
    if slot is None:
        raise problem.not_found()
    info = blobs.write_stream(data)
    blobs.record(info, content_type)
    slot.blob_sha = info.sha256
    slot.updated_at = utcnow()
    return slot


def publish_file(
    project_id: int, path: Path, *, actor_id: int | None = None
) -> tuple[Form, FormDef, bool]:
    """Publish an XLSForm/XForm file plus media found beside it; idempotent per version.

    Returns (form, def, changed). Republishing identical content changes nothing;
    a changed form must carry a new version.
    """
    data = path.read_bytes()
    source = read_source(data, path.name, path.stem)
    xml, info = source[0], source[1]
    form = find_form(project_id, info.form_id)
    if form is not None and form.current_def is not None:
        current = form.current_def
        if current.version == info.version:
            if current.sha256 != hashlib.sha256(xml).hexdigest():
                raise problem.version_conflict(info.form_id, info.version)
            changed = _fill_media_from_dir(current, path.parent)
            return form, current, changed
    form, draft, _ = create_draft(
        project_id,
        data,
        filename=path.name,
        actor_id=actor_id,
        fallback_form_id=path.stem,
        form=form,
        source=source,
    )
    _fill_media_from_dir(draft, path.parent)
    published = publish_draft(form, actor_id=actor_id)
    return form, published, True


def _fill_media_from_dir(form_def: FormDef, directory: Path) -> bool:
    changed = False
    for name in form_def.media_names or []:
        candidate = directory / name
        if not candidate.is_file():
            continue
        slot = db.session.execute(
            sa.select(FormAttachment).where(
                FormAttachment.form_def_id == form_def.id, FormAttachment.name == name
            )
        ).scalar()
        digest = hashlib.sha256(candidate.read_bytes()).hexdigest()
        if slot is not None and slot.blob_sha != digest:
            with candidate.open("rb") as fh:
                set_attachment(form_def, name, fh, _guess_type(name))
            changed = True
    return changed


def _guess_type(name: str) -> str:
    import mimetypes

    return mimetypes.guess_type(name)[0] or "application/octet-stream"
