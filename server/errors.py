"""The one place that turns exceptions into responses, in the caller's own format."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from server import openrosa_xml, problem
from server.auth import REALM
from server.db import db

log = logging.getLogger("outreach")

_OPENROSA_SUFFIXES = ("/formList", "/submission", "/manifest")


def _wants_openrosa() -> bool:
    if g.get("openrosa"):
        return True
    path = request.path
    return path.endswith(_OPENROSA_SUFFIXES) or "X-OpenRosa-Version" in request.headers


def _wants_html() -> bool:
    """Web pages, and routing errors outside /v1 when a browser asks for a page."""
    if g.get("html", False):
        return True
    if request.path.startswith("/v1") or _wants_openrosa():
        return False
    return "text/html" in request.headers.get("Accept", "")


def _page(p: problem.Problem) -> Response:
    """A readable page for people: what went wrong and where to go next."""
    from flask import render_template

    try:
        body = render_template("error.html", problem=p)
    except Exception:  # noqa: BLE001 - never fail while reporting a failure
        from markupsafe import escape

        body = f"<!doctype html><title>{p.status}</title><p>{escape(p.message)}</p>"
    return Response(body, status=p.status, mimetype="text/html")


def render(p: problem.Problem) -> Response:
    """Render a Problem as OpenRosa XML, JSON or a page, by where the request came in."""
    if _wants_openrosa():
        response = openrosa_xml.message(p.message, nature="error", status=p.status)
    elif _wants_html():
        return _page(p)
    else:
        response = jsonify(p.as_json())
        response.status_code = p.status
    if p.status == 401 and _wants_openrosa():
        # Collect prompts for credentials only on a challenge; REST clients get none
        # (as Central), so scripts don't pop browser dialogs.
        response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return response


def _drain_oversized() -> None:
    """Read (and drop) an oversized body so the client sees our 413, not a reset."""
    stream = request.environ.get("wsgi.input")
    length = request.content_length or 0
    if stream is None or length > 1 << 30:
        return
    remaining = length
    try:
        while remaining > 0:
            chunk = stream.read(min(remaining, 1 << 16))
            if not chunk:
                break
            remaining -= len(chunk)
    except (OSError, ValueError):
        pass


def register(app: Flask) -> None:
    """Attach the handlers to the app."""

    @app.errorhandler(problem.Problem)
    def _problem(err: problem.Problem) -> Response:
        db.session.rollback()
        return render(err)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_err: RequestEntityTooLarge) -> Response:
        db.session.rollback()
        _drain_oversized()
        return render(problem.too_large(app.config["MAX_SUBMISSION_BYTES"]))

    @app.errorhandler(ValidationError)
    def _invalid(err: ValidationError) -> Response:
        db.session.rollback()
        return render(
            problem.Problem(400.8, "The request body is invalid.", err.messages)
        )

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        db.session.rollback()
        code = err.code or 500
        if code == 404:
            return render(problem.not_found())
        if code == 405:
            return render(problem.Problem(405.1, "This method is not allowed here."))
        if code == 400:
            return render(problem.Problem(400.1, err.description or "Bad request."))
        return render(problem.Problem(float(code), err.description or err.name))

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        db.session.rollback()
        # Log once, here, without request bodies or personal data.
        # The engine hides bound parameters, so the traceback carries no submission data.
        log.error(
            "unhandled error on %s %s", request.method, request.url_rule, exc_info=err
        )
        return render(problem.internal_error())
