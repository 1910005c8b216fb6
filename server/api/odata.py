"""A minimal OData feed of submissions (what pyODK's ``submissions.get_table`` reads).

``GET …/forms/{f}.svc`` (service document), ``…/forms/{f}.svc/Submissions`` and
``…/forms/{f}.svc/Submissions('uuid:…')``, with ``$top $skip $count $filter $select
$expand=* $wkt``. Rows are newest first, like Central. Not implemented (501.1):
``$metadata`` and the repeat sub-tables (``Submissions.<repeat>``);
``$expand=*`` inlines repeats instead. Callers without ``pii.read`` get no restricted
group (``pii``, ``link``) in rows or tables, and ``X-Outreach-Redacted: pii``.
"""

from __future__ import annotations

import re
import typing as t
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from flask import Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import aliased

from server import audit, auth, problem
from server.api.common import get_form, iso, require, rest_blueprint
from server.api.odata_filter import compile_filter
from server.api.odata_rows import (
    Field,
    form_schema,
    is_encrypted,
    parse_instance,
    repeat_names,
    to_row,
)
from server.api.shapes import actors_by_id, review_state
from server.db import db
from server.exports import RESTRICTED_GROUPS
from server.models import Form, FormDef, Submission, SubmissionAttachment, SubmissionDef

bp = rest_blueprint("odata")

SVC = "/projects/<int:project_id>/forms/<xml_form_id>.svc"
_ONE = re.compile(r"^Submissions\('((?:[^']|'')*)'\)$")


def _flag(name: str) -> bool:
    return (request.args.get(name) or "").strip().lower() == "true"


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise problem.unexpected_value(name, "expected a non-negative integer")
    return int(raw)


def _base(project_id: int, xml_form_id: str) -> str:
    public = current_app.config.get("PUBLIC_URL")
    root = (
        public.rstrip("/") if public else request.host_url.rstrip("/")
    ) + request.script_root
    return f"{root}/v1/projects/{project_id}/forms/{quote(xml_form_id, safe='')}.svc"


def _schema_form(project_id: int, xml_form_id: str) -> tuple[Form, FormDef, bool]:
    """The form, its current version, and whether the caller may read personal data."""
    caller = require("submission.read", project_id)
    form = get_form(project_id, xml_form_id)
    if form.current_def is None:
        raise problem.not_found()
    return form, form.current_def, auth.scope(caller, project_id).pii


def _schema(form_def: FormDef, pii: bool) -> tuple[Field, ...]:
    """The feed's fields: without ``pii.read`` the restricted groups are left out, as
    the exports leave out their columns (a deliberate deviation from Central)."""
    schema = form_schema(form_def.xml)
    if pii:
        return schema
    return tuple(f for f in schema if f.name not in RESTRICTED_GROUPS)


def _redacted(response: Response, pii: bool) -> Response:
    if not pii:
        response.headers["X-Outreach-Redacted"] = "pii"
    return response


@bp.get(SVC)
def service_document(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """The tables of this form's feed."""
    _form, form_def, pii = _schema_form(project_id, xml_form_id)
    names = ["Submissions", *repeat_names(_schema(form_def, pii))]
    return jsonify(
        {
            "@odata.context": f"{_base(project_id, xml_form_id)}/$metadata",
            "value": [{"name": n, "kind": "EntitySet", "url": n} for n in names],
        }
    )


@bp.get(f"{SVC}/<path:table>")
def table_view(project_id: int, xml_form_id: str, table: str) -> ResponseReturnValue:
    """Submission rows: ``Submissions`` or one ``Submissions('id')``."""
    form, form_def, pii = _schema_form(project_id, xml_form_id)
    single = _ONE.match(table)
    if table != "Submissions" and single is None:
        if table == "$metadata" or table.startswith("Submissions."):
            raise problem.not_implemented(f"OData table {table}")
        raise problem.not_found()
    expand = request.args.get("$expand")
    if expand not in (None, "", "*"):
        raise problem.not_implemented(f"$expand={expand}")
    conditions = [
        Submission.form_id == form.id,
        Submission.draft.is_(False),
        # a commune supervisor's communes only (auth.scope)
        auth.scope(auth.current(), project_id).condition(Submission.commune),
    ]
    show_deleted = False
    if request.args.get("$filter"):
        condition, show_deleted = compile_filter(request.args["$filter"])
        conditions.append(condition)
    if not show_deleted:
        conditions.append(Submission.deleted_at.is_(None))
    if single is not None:
        conditions.append(Submission.instance_id == single.group(1).replace("''", "'"))
    top, skip = _int_arg("$top"), _int_arg("$skip") or 0
    rows = _page(conditions, top, skip)
    if single is not None and not rows:
        raise problem.not_found()
    schema = _schema(form_def, pii)
    body: dict[str, t.Any] = {
        "@odata.context": f"{_base(project_id, xml_form_id)}/$metadata#Submissions",
        "value": _select(_rows(schema, rows, expand == "*")),
    }
    if single is None and (_flag("$count") or top is not None):
        total = db.session.scalar(
            sa.select(sa.func.count()).select_from(Submission).where(*conditions)
        )
        if _flag("$count"):
            body["@odata.count"] = total
        if top is not None and skip + top < (total or 0):
            args = {
                k: v
                for k, v in request.args.items()
                if k not in ("$skip", "$skiptoken")
            }
            args["$skip"] = str(skip + top)
            body["@odata.nextLink"] = (
                f"{_base(project_id, xml_form_id)}/Submissions?{urlencode(args)}"
            )
    response = _redacted(jsonify(body), pii)
    if pii and rows and len(schema) > len(_schema(form_def, False)):
        # a read of personal data, like an export with them (one row per page)
        audit.pii_read(auth.current(), "form", form.id, None, "odata", rows=len(rows))
    return response


def _page(conditions: list[t.Any], top: int | None, skip: int) -> list[t.Any]:
    current = aliased(SubmissionDef)
    query = (
        sa.select(Submission, current)
        .join(
            current,
            sa.and_(current.submission_id == Submission.id, current.current.is_(True)),
        )
        .where(*conditions)
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .offset(skip)
    )
    if top is not None:
        query = query.limit(top)
    return list(db.session.execute(query).all())


def _rows(schema: t.Any, rows: list[t.Any], expand: bool) -> list[dict[str, t.Any]]:
    if not rows:
        return []
    sub_ids = [sub.id for sub, _ in rows]
    def_ids = [cur.id for _, cur in rows]
    attachments = {
        def_id: (present, expected)
        for def_id, expected, present in db.session.execute(
            sa.select(
                SubmissionAttachment.submission_def_id,
                sa.func.count(),
                sa.func.count(SubmissionAttachment.blob_sha),
            )
            .where(SubmissionAttachment.submission_def_id.in_(def_ids))
            .group_by(SubmissionAttachment.submission_def_id)
        ).all()
    }
    edits = dict(
        db.session.execute(
            sa.select(SubmissionDef.submission_id, sa.func.count())
            .where(SubmissionDef.submission_id.in_(sub_ids))
            .group_by(SubmissionDef.submission_id)
        ).all()
    )
    versions = dict(
        db.session.execute(
            sa.select(FormDef.id, FormDef.version).where(
                FormDef.id.in_({cur.form_def_id for _, cur in rows})
            )
        ).all()
    )
    actors = actors_by_id(sub.submitter_id for sub, _ in rows)
    wkt = _flag("$wkt")
    out = []
    for sub, cur in rows:
        root = parse_instance(cur.xml)
        encrypted = is_encrypted(root)
        row: dict[str, t.Any] = (
            {}
            if encrypted
            else to_row(schema, root, sub.instance_id, expand=expand, wkt=wkt)
        )
        present, expected = attachments.get(cur.id, (0, 0))
        submitter = actors.get(sub.submitter_id or -1)
        row["__id"] = sub.instance_id
        row["__system"] = {
            "submissionDate": iso(sub.created_at),
            "updatedAt": iso(sub.updated_at),
            "submitterId": None if sub.submitter_id is None else str(sub.submitter_id),
            "submitterName": submitter.display_name if submitter else None,
            "attachmentsPresent": present,
            "attachmentsExpected": expected,
            "status": "notDecrypted" if encrypted else None,
            "reviewState": review_state(sub.review_state),
            "deviceId": sub.device_id,
            "edits": edits.get(sub.id, 1) - 1,
            "formVersion": versions.get(cur.form_def_id),
            "deletedAt": iso(sub.deleted_at),
        }
        out.append(row)
    return out


def _select(rows: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Apply ``$select`` (paths such as ``village,__system/submitterId``)."""
    raw = request.args.get("$select")
    if not raw:
        return rows
    paths = [p.strip().split("/") for p in raw.split(",") if p.strip()]
    selected = []
    for row in rows:
        picked: dict[str, t.Any] = {"__id": row["__id"]}
        for path in paths:
            source, target = row, picked
            for depth, name in enumerate(path):
                if not isinstance(source, dict) or name not in source:
                    raise problem.property_not_found("/".join(path))
                if depth == len(path) - 1:
                    target[name] = source[name]
                else:
                    source = source[name]
                    target = target.setdefault(name, {})
        selected.append(picked)
    return selected
