"""Entity lists as Collect receives them: CSV, hash/ETag, manifest entries, integrity.

**Who gets what.** Web users (managers, viewers, data collectors) get the whole list.
An app user gets only the entities whose filter property (``commune``) is one of the
communes assigned to them (``app_user_communes``); ``*`` means every commune. An app
user with no communes gets the header and no rows: least privilege, since a phone
that is lost or seized must not carry the caseload of communes its worker does not
serve.

**Hash.** Central hashes dataset state, not the CSV (reference section 3). Here the
hash is the MD5 of ``{dataset, properties, scope, count, stamp}``, where ``count`` is
the number of live entities in the caller's scope and ``stamp`` the highest list stamp
of any entity (live or deleted) in it. Every write that changes a row of the list
stamps that entity with a new, higher value (``store.bump``, in commit order), so
the hash changes exactly when the list as served to that caller changes: an entity in
scope created, updated or deleted raises ``stamp``; one that moves out of scope lowers
``count``. Changes elsewhere in the dataset leave it alone. It is computed before the
rows are read, so a hash can only be older than the rows it labels, never newer:
at worst a phone downloads once more.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import typing as t
from collections.abc import Iterator
from xml.sax.saxutils import escape, quoteattr

import sqlalchemy as sa
from flask import Response, request, stream_with_context

from server import auth, problem
from server.db import db
from server.entities import datasets
from server.entity_models import AppUserCommune, Dataset, Entity
from server.models import Assignment, Form, FormDef

Scope = frozenset[str] | None  # None: the whole list
ALL_COMMUNES = "*"
_CHUNK = 1000


def communes_of(actor_id: int) -> list[str]:
    """The communes assigned to an app user, sorted."""
    return sorted(
        db.session.scalars(
            sa.select(AppUserCommune.commune).where(AppUserCommune.actor_id == actor_id)
        )
    )


def set_communes(actor_id: int, communes: t.Iterable[str]) -> list[str]:
    """Replace an app user's communes (no commit); returns the new sorted set."""
    wanted = sorted({c.strip() for c in communes if c and c.strip()})
    for code in wanted:
        if code != ALL_COMMUNES and not (code.isdigit() and len(code) == 5):
            raise problem.unexpected_value(
                "commune", f"{code!r} is not a 5-digit 2025 commune code or '*'"
            )
    db.session.execute(
        sa.delete(AppUserCommune).where(AppUserCommune.actor_id == actor_id)
    )
    for code in wanted:
        db.session.add(AppUserCommune(actor_id=actor_id, commune=code))
    db.session.flush()
    return wanted


def scope_for(caller: auth.Auth) -> Scope:
    """The communes whose entities the caller may receive (None: all)."""
    if caller.kind != "field_key":
        return None
    communes = communes_of(t.cast(int, caller.actor_id))
    if ALL_COMMUNES in communes:
        return None
    return frozenset(communes)


def _in_scope(dataset: Dataset, scope: Scope) -> list[t.Any]:
    conditions: list[t.Any] = [Entity.dataset_id == dataset.id]
    if scope is not None:
        # An unfiltered dataset (no commune property) is shared by no app user.
        if dataset.filter_property is None or not scope:
            conditions.append(sa.false())
        else:
            conditions.append(Entity.filter_value.in_(sorted(scope)))
    return conditions


def list_hash(dataset: Dataset, scope: Scope) -> str:
    """The list's version as served to this scope (manifest hash and CSV ETag)."""
    conditions = _in_scope(dataset, scope)
    count, stamp = db.session.execute(
        sa.select(
            sa.func.count(Entity.id).filter(Entity.deleted_at.is_(None)),
            sa.func.coalesce(sa.func.max(Entity.stamp), 0),
        ).where(*conditions)
    ).one()
    state = {
        "dataset": dataset.id,
        "properties": datasets.property_names(dataset.id),
        "scope": None if scope is None else sorted(scope),
        "count": int(count or 0),
        "stamp": int(stamp or 0),
    }
    return hashlib.md5(
        json.dumps(state, sort_keys=True).encode(), usedforsecurity=False
    ).hexdigest()


def csv_rows(dataset: Dataset, scope: Scope) -> Iterator[bytes]:
    """``name,label,__version,<properties>`` in chunks, read with a server-side cursor.

    Memory stays bounded whatever the list size: rows are fetched ``_CHUNK`` at a
    time, each property is extracted by the database (``data->>'p'`` /
    ``json_extract``), and the driver's rows go straight to the C csv writer (no
    JSON decoded and no row objects built in Python; None is written as "").
    """
    properties = datasets.property_names(dataset.id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "label", "__version", *properties])
    yield buffer.getvalue().encode("utf-8")
    with db.engine.connect() as conn:
        columns = [Entity.uuid, Entity.label, Entity.version]
        columns += [_property(p, conn.dialect.name) for p in properties]
        query = (
            sa.select(*columns)
            .where(*_in_scope(dataset, scope), Entity.deleted_at.is_(None))
            .order_by(Entity.id)
        )
        for rows in _raw_chunks(conn, query):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(rows)
            yield buffer.getvalue().encode("utf-8")


def _property(name: str, dialect: str) -> t.Any:
    """One property as text, extracted by the database (plain bind parameters)."""
    if dialect == "postgresql":
        return Entity.data.op("->>")(name)
    return sa.func.json_extract(Entity.data, f'$."{name}"')


def _raw_chunks(conn: sa.Connection, query: sa.Select) -> Iterator[list[tuple]]:
    """The query's rows from the DBAPI cursor, ``_CHUNK`` at a time.

    PostgreSQL gets a named (server-side) cursor, so the result is never held whole
    in the server; SQLite steps through its cursor lazily anyway.
    """
    compiled = query.compile(
        dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.construct_params()
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    if conn.dialect.name == "postgresql":
        cursor = dbapi.cursor(name="entity_list_csv")  # type: ignore[call-arg]
        sql, args = str(compiled), params
    else:
        cursor = dbapi.cursor()
        sql = str(compiled)
        args = [params[name] for name in compiled.positiontup or []]
    try:
        cursor.execute(sql, args)
        while rows := cursor.fetchmany(_CHUNK):
            yield rows
    finally:
        cursor.close()
        if conn.dialect.name == "postgresql":
            dbapi.rollback()  # end the read-only transaction the cursor needed


def csv_response(dataset: Dataset, name: str, scope: Scope) -> Response:
    """The list as a streamed CSV with its hash as ETag (304 when unchanged)."""
    digest = list_hash(dataset, scope)
    if digest in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(
            stream_with_context(csv_rows(dataset, scope)),
            content_type="text/csv; charset=utf-8",
        )
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.set_etag(digest)
    response.headers["Cache-Control"] = "no-cache"
    return response


def manifest_files(
    form_def: FormDef, base: str, xml_form_id: str, caller: auth.Auth
) -> list[dict[str, t.Any]]:
    """Manifest entries for the entity lists a form version reads (no CSV uploaded)."""
    from server.models import FormAttachment

    uploaded = set(
        db.session.scalars(
            sa.select(FormAttachment.name).where(
                FormAttachment.form_def_id == form_def.id,
                FormAttachment.blob_sha.is_not(None),
            )
        )
    )
    scope = scope_for(caller)
    entries = []
    for name, dataset in sorted(datasets.datasets_read_by(form_def).items()):
        if name in uploaded:  # an uploaded file wins over the dataset, as in Central
            continue
        entries.append(
            {
                "name": name,
                "md5": list_hash(dataset, scope),
                "download_url": f"{base}/forms/{xml_form_id}/attachments/{name}",
                "type": "entityList",  # approvalEntityList: approval not supported
                "integrity_url": f"{base}/datasets/{dataset.name}/integrity",
            }
        )
    return entries


def attachment_response(form_def: FormDef, name: str, caller: auth.Auth) -> Response:
    """The entity list behind a form's ``<dataset>.csv`` media slot, or 404.1."""
    dataset = datasets.datasets_read_by(form_def).get(name)
    if dataset is None:
        raise problem.not_found()
    return csv_response(dataset, name, scope_for(caller))


def _may_read(caller: auth.Auth, project_id: int, dataset: Dataset) -> None:
    """App users need a form assigned that reads this list (Central's rule)."""
    auth.require("form.read", project_id)
    if caller.kind != "field_key":
        return
    readers = (
        sa.select(Form.id)
        .join(FormDef, FormDef.id == Form.current_def_id)
        .join(
            Assignment,
            sa.and_(
                Assignment.form_id == Form.id, Assignment.actor_id == caller.actor_id
            ),
        )
        .where(Form.project_id == project_id, Form.deleted_at.is_(None))
    )
    for (form_id,) in db.session.execute(readers):
        form_def = db.session.get(Form, form_id).current_def
        if form_def is not None and f"{dataset.name}.csv" in (
            form_def.media_names or []
        ):
            return
    raise problem.insufficient_rights()


def integrity_response(project_id: int, name: str) -> Response:
    """Which of ``?id=a,b`` are deleted, for Collect to drop from its local list.

    As Central, ids the server does not know are left out (an offline create may not be
    processed yet). Entities outside an app user's communes are reported deleted, so a
    phone drops a case it no longer serves instead of keeping a stale copy.
    """
    dataset = datasets.get(project_id, name)
    caller = auth.current()
    _may_read(caller, project_id, dataset)
    scope = scope_for(caller)
    ids = [i.strip().lower() for i in (request.args.get("id") or "").split(",")]
    ids = [i for i in ids if i]
    rows: list[tuple[str, bool]] = []
    if ids:
        found = db.session.execute(
            sa.select(Entity.uuid, Entity.deleted_at, Entity.filter_value).where(
                Entity.dataset_id == dataset.id, Entity.uuid.in_(ids)
            )
        ).all()
        for uuid, deleted_at, value in found:
            hidden = scope is not None and (
                dataset.filter_property is None or value not in scope
            )
            rows.append((uuid, deleted_at is not None or hidden))
    body = ['<?xml version="1.0" encoding="UTF-8"?>\n<data>\n  <entities>\n']
    for uuid, deleted in sorted(rows, key=lambda r: ids.index(r[0])):
        body.append(
            f"    <entity id={quoteattr(uuid)}>"
            f"<deleted>{escape(str(deleted).lower())}</deleted></entity>\n"
        )
    body.append("  </entities>\n</data>\n")
    return Response("".join(body), content_type="text/xml; charset=utf-8")
