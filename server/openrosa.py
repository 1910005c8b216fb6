"""OpenRosa endpoints in Central's URL layout: formList, downloads, manifest, submission.

Registered twice: under ``/v1`` and under ``/v1/key/<token>`` (app-user URL keys), so the
token carries through into every URL the server emits.
"""

from __future__ import annotations

import contextlib
import mimetypes
import typing as t

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, request, send_file
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from server import (
    auth,
    blobs,
    entities,
    forms,
    ingest,
    multipart,
    openrosa_xml,
    problem,
)
from server.db import autocommit_until_write, db
from server.models import Assignment, Form, FormAttachment, FormDef

bp = Blueprint("openrosa", __name__)

# Endpoints that demand X-OpenRosa-Version (Central: formList, manifest, submission,
# entity-list integrity).
_STRICT = {"form_list", "manifest", "submission_preflight", "submit", "integrity"}


@bp.url_value_preprocessor
def _pop_token(endpoint: str | None, values: dict | None) -> None:
    g.url_token = values.pop("token", None) if values else None


@bp.before_request
def _before() -> None:
    endpoint = (request.endpoint or "").rsplit(".", 1)[-1]
    # Downloads are shared with REST clients (pyODK): they get JSON errors unless they
    # speak OpenRosa; formList, manifest and submission always answer in OpenRosa XML.
    g.openrosa = endpoint in _STRICT or "X-OpenRosa-Version" in request.headers
    if endpoint == "submit":  # reads, then one statement for a new submission
        autocommit_until_write()
    g.auth = auth.resolve(g.get("url_token"))
    if endpoint in _STRICT and request.headers.get("X-OpenRosa-Version") != "1.0":
        raise problem.invalid_header(
            "X-OpenRosa-Version", request.headers.get("X-OpenRosa-Version")
        )


def base_url(project_id: int) -> str:
    """Absolute ``…/v1[/key/T]/projects/{p}`` built from the request's own path."""
    public = current_app.config.get("PUBLIC_URL")
    root = (
        public.rstrip("/") if public else request.host_url.rstrip("/")
    ) + request.script_root
    path = request.path
    marker = f"/projects/{project_id}"
    prefix = path[: path.index(marker)] if marker in path else "/v1"
    return f"{root}{prefix}{marker}"


def _readable_forms(
    project_id: int, form_id_filter: str | None
) -> list[tuple[Form, FormDef]]:
    caller = auth.require("form.read", project_id)
    query = (
        sa.select(Form, FormDef)
        .join(FormDef, FormDef.id == Form.current_def_id)
        .where(
            Form.project_id == project_id,
            Form.deleted_at.is_(None),
            Form.state == "open",
        )
    )
    if caller.kind == "field_key":
        query = query.join(
            Assignment,
            sa.and_(
                Assignment.form_id == Form.id, Assignment.actor_id == caller.actor_id
            ),
        )
    if form_id_filter:
        query = query.where(Form.xml_form_id == form_id_filter)
    rows = db.session.execute(query).all()
    return sorted(
        rows, key=lambda r: ((r[1].name or r[0].xml_form_id).lower(), r[0].xml_form_id)
    )


@bp.get("/projects/<int:project_id>/formList")
def form_list(project_id: int) -> ResponseReturnValue:
    """The forms this caller may fill (Central honours ?formID=)."""
    base = base_url(project_id)
    items = [
        {
            "form_id": form.xml_form_id,
            "name": form_def.name,
            "version": form_def.version,
            "md5": form_def.md5,
            "download_url": f"{base}/forms/{form.xml_form_id}.xml",
            "manifest_url": f"{base}/forms/{form.xml_form_id}/manifest"
            if form_def.media_names
            else None,
        }
        for form, form_def in _readable_forms(project_id, request.args.get("formID"))
    ]
    body = openrosa_xml.form_list(items)
    return openrosa_xml.openrosa_headers(
        Response(body, content_type=openrosa_xml.TEXT_XML)
    )


def _form_for_download(project_id: int, xml_form_id: str) -> tuple[Form, FormDef]:
    caller = auth.require("form.read", project_id)
    form = forms.find_form(project_id, xml_form_id)
    if form is None or form.current_def is None:
        raise problem.not_found()
    if caller.kind == "field_key" and (
        form.state != "open" or not auth.is_assigned(caller.actor_id, form.id)
    ):
        raise problem.insufficient_rights()
    return form, form.current_def


@bp.get("/projects/<int:project_id>/forms/<xml_form_id>.xml")
def form_xml(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """The exact XForm bytes whose md5 formList announced."""
    _form, form_def = _form_for_download(project_id, xml_form_id)
    response = Response(form_def.xml, content_type="application/xml; charset=utf-8")
    response.set_etag(form_def.md5)
    response = response.make_conditional(request)
    return openrosa_xml.openrosa_headers(response)


@bp.get("/projects/<int:project_id>/forms/<xml_form_id>/manifest")
def manifest(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """Media files the server holds for the form's current version."""
    form, form_def = _form_for_download(project_id, xml_form_id)
    base = base_url(project_id)
    rows = db.session.execute(
        sa.select(FormAttachment.name, blobs.Blob.md5)
        .join(blobs.Blob, blobs.Blob.sha256 == FormAttachment.blob_sha)
        .where(FormAttachment.form_def_id == form_def.id)
        .order_by(FormAttachment.name)
    ).all()
    files = [
        {
            "name": name,
            "md5": md5,
            "download_url": f"{base}/forms/{form.xml_form_id}/attachments/{name}",
        }
        for name, md5 in rows
    ]
    files += entities.lists.manifest_files(
        form_def, base, form.xml_form_id, auth.current()
    )
    body = openrosa_xml.manifest(sorted(files, key=lambda f: f["name"]))
    return openrosa_xml.openrosa_headers(
        Response(body, content_type=openrosa_xml.TEXT_XML)
    )


@bp.get("/projects/<int:project_id>/forms/<xml_form_id>/attachments/<path:name>")
def form_attachment(
    project_id: int, xml_form_id: str, name: str
) -> ResponseReturnValue:
    """Stream one form media file, with its md5 as ETag (304 when unchanged)."""
    _form, form_def = _form_for_download(project_id, xml_form_id)
    row = db.session.execute(
        sa.select(blobs.Blob)
        .join(FormAttachment, FormAttachment.blob_sha == blobs.Blob.sha256)
        .where(FormAttachment.form_def_id == form_def.id, FormAttachment.name == name)
    ).scalar()
    if row is None:  # an entity list (<dataset>.csv), filtered for the caller
        response = entities.lists.attachment_response(form_def, name, auth.current())
        return openrosa_xml.openrosa_headers(response)
    return openrosa_xml.openrosa_headers(send_blob(row, name))


@bp.get("/projects/<int:project_id>/datasets/<name>/integrity")
def integrity(project_id: int, name: str) -> ResponseReturnValue:
    """Which of Collect's entities (``?id=a,b``) the server has deleted."""
    response = entities.lists.integrity_response(project_id, name)
    return openrosa_xml.openrosa_headers(response)


def send_blob(blob: blobs.Blob, name: str) -> Response:
    """Stream a blob from disk with ETag = md5 and conditional handling."""
    mimetype = (
        blob.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    )
    response = send_file(
        blobs.blob_path(blob.sha256),
        mimetype=mimetype,
        download_name=name,
        etag=False,
        conditional=False,
        max_age=0,
    )
    response.set_etag(blob.md5)
    return response.make_conditional(request)


@bp.route("/projects/<int:project_id>/submission", methods=["HEAD", "GET"])
def submission_preflight(project_id: int) -> ResponseReturnValue:
    """Collect's HEAD before POST: 204 with the size limit, once authenticated."""
    auth.require("submission.create", project_id)
    return openrosa_xml.openrosa_headers(Response(status=204))


@contextlib.contextmanager
def read_multipart() -> t.Iterator[
    tuple[bytes, ingest.Envelope, list[tuple[str, ingest.Part]]]
]:
    """The instance XML (parsed safely) and the other file parts of an OpenRosa POST.

    The file parts are already in temp files of the blob store; those ingest did not
    keep are deleted when the ``with`` block ends, whatever happened in it.
    """
    received = _read_body()
    try:
        if received.xml is None:
            raise problem.missing_multipart_field(multipart.XML_FIELD)
        yield received.xml, ingest.parse(received.xml), list(received.parts)
    finally:
        received.discard()


def _read_body() -> multipart.Received:
    boundary = request.mimetype_params.get("boundary", "")
    if request.mimetype != "multipart/form-data" or not boundary:
        raise problem.missing_multipart_field(multipart.XML_FIELD)
    config = current_app.config
    try:
        return multipart.read(
            request.stream,
            boundary.encode("latin-1"),
            tmp_root=blobs.data_dir(),
            max_xml_bytes=config["MAX_XML_BYTES"],
            max_parts=request.max_form_parts,
            max_field_bytes=request.max_form_memory_size,
            spool_bytes=config["MULTIPART_SPOOL_BYTES"],
        )
    except RequestEntityTooLarge:
        raise
    except (ValueError, ClientDisconnected) as err:
        raise problem.bad_multipart(str(err) or "truncated body") from err


@bp.post("/projects/<int:project_id>/submission")
def submit(project_id: int) -> ResponseReturnValue:
    """Multipart submission: store every version and attachment exactly once."""
    caller = auth.require("submission.create", project_id)
    with read_multipart() as (xml, envelope, parts):
        target, state = ingest.resolve_target(
            project_id, envelope, caller.actor_id, field_key=caller.kind == "field_key"
        )
        ingest.ingest(
            project_id,
            None,
            envelope,
            xml,
            parts,
            actor_id=caller.actor_id,
            device_id=request.args.get("deviceID"),
            user_agent=request.headers.get("User-Agent"),
            target=target,
            state=state,
        )
    return openrosa_xml.message("full submission upload was successful!", status=201)
