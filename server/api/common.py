"""Shared pieces of the REST blueprints: auth hook, JSON helpers, lookups."""

from __future__ import annotations

import datetime as dt
import typing as t

from flask import Blueprint, g, request

from server import auth, problem
from server.db import db
from server.forms import get_form  # noqa: F401  (re-exported)
from server.models import Project

EXCEL_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
    }
)


def rest_blueprint(name: str) -> Blueprint:
    """A blueprint whose requests are authenticated like Central's REST API."""
    bp = Blueprint(name, __name__)

    @bp.url_value_preprocessor
    def _pop_token(endpoint: str | None, values: dict | None) -> None:
        # Only the /v1/key/<token> prefix carries an app-user key; a route's own
        # <token> (DELETE /sessions/<token>) stays a view argument.
        rule = request.url_rule.rule if request.url_rule else ""
        keyed = rule.startswith("/v1/key/<token>")
        g.url_token = values.pop("token", None) if values and keyed else None

    @bp.before_request
    def _resolve() -> None:
        g.auth = auth.resolve(g.get("url_token"))

    return bp


def iso(value: dt.datetime | None) -> str | None:
    """Central's timestamp format (ISO 8601, UTC, milliseconds, Z)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def json_body() -> dict[str, t.Any]:
    """The request's JSON object, or 400.1."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise problem.unparseable("json", "Expected a JSON object.")
    return data


def get_project(project_id: int) -> Project:
    """A project or 404.1."""
    project = db.session.get(Project, project_id)
    if project is None:
        raise problem.not_found()
    return project


def require(verb: str, project_id: int, form_id: int | None = None) -> auth.Auth:
    """``auth.require`` for REST data endpoints: app users are always 403.1 here."""
    caller = auth.current()
    if caller.kind == "field_key":
        raise problem.insufficient_rights()
    return auth.require(verb, project_id, form_id)


def is_true(name: str) -> bool:
    """A boolean query flag the way Central reads it (``?publish=true``)."""
    return (request.args.get(name) or "").strip().lower() == "true"


def extended() -> bool:
    """Whether the client asked for ``X-Extended-Metadata: true``."""
    return (request.headers.get("X-Extended-Metadata") or "").strip().lower() == "true"


def success() -> dict[str, bool]:
    """Central's body for operations with nothing else to say."""
    return {"success": True}


def raw_body() -> bytes:
    """The whole request body (chunked too), bounded by MAX_CONTENT_LENGTH."""
    return request.get_data(cache=False)
