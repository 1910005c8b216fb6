"""Central's draft-testing endpoints: Collect can try a draft before it is published.

Base URL ``/v1/test/{draftToken}/projects/{p}/forms/{f}/draft``; the draft token is the
credential. Test submissions are stored with ``draft=True`` and never mix with live ones.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, request
from flask.typing import ResponseReturnValue

from server import blobs, forms, ingest, openrosa, openrosa_xml, problem
from server.db import db
from server.models import Form, FormAttachment, FormDef

bp = Blueprint("draft_testing", __name__)
PREFIX = "/v1/test/<token>/projects/<int:project_id>/forms/<xml_form_id>/draft"


@bp.before_request
def _before() -> None:
    g.openrosa = True


def _draft(token: str, project_id: int, xml_form_id: str) -> tuple[Form, FormDef]:
    form = forms.find_form(project_id, xml_form_id)
    draft = form.draft_def if form is not None else None
    if draft is None or not draft.draft_token or draft.draft_token != token:
        raise problem.failed_draft_access()
    return form, draft


def _base(token: str, project_id: int, xml_form_id: str) -> str:
    public = current_app.config.get("PUBLIC_URL")
    root = (
        public.rstrip("/") if public else request.host_url.rstrip("/")
    ) + request.script_root
    return f"{root}/v1/test/{token}/projects/{project_id}/forms/{xml_form_id}/draft"


def _require_openrosa_header() -> None:
    if request.headers.get("X-OpenRosa-Version") != "1.0":
        raise problem.invalid_header(
            "X-OpenRosa-Version", request.headers.get("X-OpenRosa-Version")
        )


@bp.get(f"{PREFIX}/formList")
def form_list(token: str, project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """A one-form list holding the draft."""
    _require_openrosa_header()
    form, draft = _draft(token, project_id, xml_form_id)
    base = _base(token, project_id, xml_form_id)
    body = openrosa_xml.form_list(
        [
            {
                "form_id": form.xml_form_id,
                "name": draft.name,
                "version": draft.version,
                "md5": draft.md5,
                "download_url": f"{base}.xml",
                "manifest_url": f"{base}/manifest" if draft.media_names else None,
            }
        ]
    )
    return openrosa_xml.openrosa_headers(
        Response(body, content_type=openrosa_xml.TEXT_XML)
    )


@bp.get("/v1/test/<token>/projects/<int:project_id>/forms/<xml_form_id>/draft.xml")
def form_xml(token: str, project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """The draft's XForm bytes."""
    _form, draft = _draft(token, project_id, xml_form_id)
    response = Response(draft.xml, content_type="application/xml; charset=utf-8")
    response.set_etag(draft.md5)
    return openrosa_xml.openrosa_headers(response.make_conditional(request))


@bp.get(f"{PREFIX}/manifest")
def manifest(token: str, project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """The draft's uploaded media."""
    _require_openrosa_header()
    _form, draft = _draft(token, project_id, xml_form_id)
    base = _base(token, project_id, xml_form_id)
    rows = db.session.execute(
        sa.select(FormAttachment.name, blobs.Blob.md5)
        .join(blobs.Blob, blobs.Blob.sha256 == FormAttachment.blob_sha)
        .where(FormAttachment.form_def_id == draft.id)
        .order_by(FormAttachment.name)
    ).all()
    body = openrosa_xml.manifest(
        {"name": n, "md5": m, "download_url": f"{base}/attachments/{n}"}
        for n, m in rows
    )
    return openrosa_xml.openrosa_headers(
        Response(body, content_type=openrosa_xml.TEXT_XML)
    )


@bp.get(f"{PREFIX}/attachments/<path:name>")
def attachment(
    token: str, project_id: int, xml_form_id: str, name: str
) -> ResponseReturnValue:
    """One media file of the draft."""
    _form, draft = _draft(token, project_id, xml_form_id)
    blob = db.session.execute(
        sa.select(blobs.Blob)
        .join(FormAttachment, FormAttachment.blob_sha == blobs.Blob.sha256)
        .where(FormAttachment.form_def_id == draft.id, FormAttachment.name == name)
    ).scalar()
    if blob is None:
        raise problem.not_found()
    return openrosa_xml.openrosa_headers(openrosa.send_blob(blob, name))


@bp.route(f"{PREFIX}/submission", methods=["HEAD", "GET"])
def preflight(token: str, project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """204 for Collect's HEAD."""
    _require_openrosa_header()
    _draft(token, project_id, xml_form_id)
    return openrosa_xml.openrosa_headers(Response(status=204))


@bp.post(f"{PREFIX}/submission")
def submit(token: str, project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """A test submission to the draft (stored apart from live data)."""
    _require_openrosa_header()
    form, _draft_def = _draft(token, project_id, xml_form_id)
    with openrosa.read_multipart() as (xml, envelope, parts):
        if envelope.form_id != form.xml_form_id:
            raise problem.not_found()
        ingest.ingest(
            project_id,
            form,
            envelope,
            xml,
            parts,
            actor_id=None,
            device_id=request.args.get("deviceID"),
            user_agent=request.headers.get("User-Agent"),
            draft=True,
        )
    return openrosa_xml.message("full submission upload was successful!", status=201)
