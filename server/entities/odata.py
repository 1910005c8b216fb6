"""A dataset's OData feed (``…/datasets/{name}.svc/Entities``, pyODK's get_table).

Rows newest first, with ``__id``, ``label``, the properties and ``__system``
(createdAt, creatorId, creatorName, updates, updatedAt, deletedAt, version, conflict).
``$filter`` takes Central's grammar on ``__id`` and ``__system`` fields; properties
cannot be filtered (501.5), as in Central.
"""

from __future__ import annotations

import typing as t
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from flask import current_app, request

from server import problem
from server.api import odata_filter
from server.api.common import is_true
from server.db import db
from server.entities import datasets, views
from server.entity_models import Dataset, Entity
from server.models import Actor


class _EntityFilter(odata_filter._Parser):  # noqa: SLF001 - same grammar, other fields
    """``$filter`` on __id and __system/{createdAt,updatedAt,creatorId,conflict}."""

    FIELDS: t.ClassVar[dict[str, tuple[t.Any, str]]] = {
        "__id": (Entity.uuid, "text"),
        "__system/createdAt": (Entity.created_at, "datetime"),
        "__system/updatedAt": (Entity.updated_at, "datetime"),
        "__system/deletedAt": (Entity.deleted_at, "datetime"),
        "__system/creatorId": (Entity.creator_id, "int"),
        "__system/conflict": (Entity.conflict, "text"),
    }

    def operand(self) -> tuple[str, t.Any, t.Any]:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text in self.FIELDS:
            self.take()
            return "field", tok.text, tok
        if tok is not None and tok.kind == "word" and tok.text.startswith("__"):
            raise problem.unsupported_odata_field(tok.at, tok.text)
        return super().operand()

    def comparison(self) -> t.Any:
        left = self.operand()
        op_tok = self.take()
        if op_tok.kind != "word" or op_tok.text not in odata_filter._OPS:
            raise problem.unparseable_odata(f"expected an operator at {op_tok.at}")
        right = self.operand()
        op = op_tok.text
        if left[0] == "literal" and right[0] == "field":
            left, right, op = right, left, odata_filter._SWAP[op]
        if left[0] != "field" or right[0] != "literal":
            raise problem.unsupported_odata_expression(op_tok.at, op)
        column, kind = self.FIELDS[left[1]]
        if right[1] is odata_filter._NULL:
            if op not in ("eq", "ne"):
                raise problem.unparseable_odata(f"null cannot be compared with {op}")
            return column.is_(None) if op == "eq" else column.is_not(None)
        value = odata_filter._literal(kind, right[1])
        return {
            "eq": column == value,
            "ne": column != value,
            "lt": column < value,
            "le": column <= value,
            "gt": column > value,
            "ge": column >= value,
        }[op]


def _svc_base(project_id: int, name: str) -> str:
    public = current_app.config.get("PUBLIC_URL")
    root = (public.rstrip("/") if public else request.host_url.rstrip("/")) + (
        request.script_root
    )
    return f"{root}/v1/projects/{project_id}/datasets/{quote(name, safe='')}.svc"


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    if not raw.isdigit():
        raise problem.unexpected_value(name, "expected a non-negative integer")
    return int(raw)


def service_document(dataset: Dataset) -> dict[str, t.Any]:
    """The one table of a dataset's feed."""
    return {
        "@odata.context": f"{_svc_base(dataset.project_id, dataset.name)}/$metadata",
        "value": [{"name": "Entities", "kind": "EntitySet", "url": "Entities"}],
    }


def entities_feed(dataset: Dataset, in_scope: t.Any = None) -> dict[str, t.Any]:
    """``…/datasets/{name}.svc/Entities``: $top $skip $count $filter $select.

    ``in_scope`` is the caller's commune condition (``auth.scope(...).condition``).
    """
    project_id = dataset.project_id
    properties = datasets.property_names(dataset.id)
    conditions: list[t.Any] = [Entity.dataset_id == dataset.id]
    if in_scope is not None:
        conditions.append(in_scope)
    source = request.args.get("$filter") or ""
    if source:
        conditions.append(_EntityFilter(source).parse())
    if "__system/deletedAt" not in source:
        conditions.append(Entity.deleted_at.is_(None))
    selected = None
    if request.args.get("$select") not in (None, "", "*"):
        selected = {p.strip() for p in request.args["$select"].split(",")}
        allowed = {"__id", "label", "__system", *properties}
        allowed |= set(_EntityFilter.FIELDS)
        for field in selected:
            if field not in allowed:
                raise problem.property_not_found(field)
    top, skip = _int_arg("$top"), _int_arg("$skip") or 0
    query = (
        sa.select(Entity)
        .where(*conditions)
        .order_by(Entity.created_at.desc(), Entity.id.desc())
        .offset(skip)
    )
    if top is not None:
        query = query.limit(top)
    rows = list(db.session.scalars(query))
    creators = {
        a.id: a
        for a in db.session.scalars(
            sa.select(Actor).where(Actor.id.in_({e.creator_id for e in rows}))
        )
    }
    base = _svc_base(project_id, dataset.name)
    body: dict[str, t.Any] = {
        "@odata.context": f"{base}/$metadata#Entities",
        "value": [views.odata_row(e, properties, creators, selected) for e in rows],
    }
    if is_true("$count") or top is not None:
        total = db.session.scalar(
            sa.select(sa.func.count()).select_from(Entity).where(*conditions)
        )
        if is_true("$count"):
            body["@odata.count"] = total
        if top is not None and skip + top < (total or 0):
            args = {k: v for k, v in request.args.items() if k != "$skip"}
            args["$skip"] = str(skip + top)
            body["@odata.nextLink"] = f"{base}/Entities?{urlencode(args, safe='$')}"
    return body
