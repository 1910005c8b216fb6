"""Log in and out of the web app; failed attempts are rate limited in the database.

A login creates an ``AuthSession`` row (the same table as API sessions) and keeps
only its token in Flask's signed, HttpOnly, SameSite=Lax cookie, so logging out or
expiry ends the session on the server. Five failures per IP address and email within
15 minutes lock that pair out for the rest of the window, across every worker and
process. The audit log records logins, logouts and failures, never the password nor
the email typed in a failed attempt (a short hash of it at most).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.security import check_password_hash

from server import audit, auth
from server.db import db
from server.models import Actor, AuthSession, LoginFailure, User, utcnow
from server.web.common import bp, check_csrf, projects_of_user

MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)
LANGS = ("vi", "en")
# Compared against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = auth.hash_password(secrets.token_hex(8))


def _failure_key(email: str) -> str:
    ip = request.remote_addr or "?"
    return hashlib.sha256(f"{ip}|{email.strip().lower()}".encode()).hexdigest()


def _recent_failures(key: str) -> int:
    since = utcnow() - WINDOW
    return int(
        db.session.execute(
            sa.select(sa.func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.key == key, LoginFailure.at >= since)
        ).scalar_one()
    )


def _safe_next(target: str | None) -> str | None:
    """Only local paths: never redirect to another site after login."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.get("/")
def index() -> ResponseReturnValue:
    """Home: the dashboard of the user's first project, or the login page."""
    if g.get("user") is None:
        return redirect(url_for("web.login"))
    projects = projects_of_user()
    if len(projects) == 1 or (projects and not g.auth.is_admin):
        return redirect(url_for("web.dashboard", project_id=projects[0].id))
    return render_template("projects.html", projects=projects)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The login form; POST checks the password with rate limiting."""
    if request.method == "GET":
        if g.get("user") is not None:
            return redirect(url_for("web.index"))
        return render_template("login.html", next=request.args.get("next") or "")
    sent = request.form.get("csrf_token") or ""
    expected = session.get("login_csrf") or ""
    if not expected or not secrets.compare_digest(sent, expected):
        flash(_("The login form had expired. Please try again."), "error")
        return render_template("login.html", next=""), 400
    email = (request.form.get("email") or "").strip()
    password = request.form.get("password") or ""
    key = _failure_key(email)
    if _recent_failures(key) >= MAX_FAILURES:
        audit.log("user.session.blocked", "login", key[:16])
        db.session.commit()
        flash(
            _(
                "Too many failed attempts. Wait 15 minutes, or ask an "
                "administrator to reset your password."
            ),
            "error",
        )
        return render_template("login.html", next=""), 429
    user = db.session.execute(
        sa.select(User)
        .join(Actor, Actor.id == User.actor_id)
        .where(sa.func.lower(User.email) == email.lower(), Actor.deleted_at.is_(None))
    ).scalar()
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok:
        db.session.add(LoginFailure(key=key, at=utcnow()))
        audit.log("user.session.failed", "login", key[:16])
        db.session.commit()
        flash(_("Wrong email or password."), "error")
        return render_template("login.html", next=request.form.get("next") or ""), 401
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.key == key))
    token, _row = auth.create_session(
        user.actor_id, current_app.config["SESSION_TTL_SECONDS"]
    )
    audit.log("user.session.create", "actor", user.actor_id, actor_id=user.actor_id)
    db.session.commit()
    lang = session.get("lang")
    session.clear()  # a fresh session: no fixation of a pre-login cookie
    session.permanent = True
    session[auth.SESSION_TOKEN_KEY] = token
    if lang:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")) or url_for("web.index"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session on the server and forget the cookie."""
    token = session.get(auth.SESSION_TOKEN_KEY)
    if token and not g.auth.anonymous:
        check_csrf()
        db.session.execute(
            sa.delete(AuthSession).where(
                AuthSession.token_hash == auth.hash_token(token)
            )
        )
        audit.log(
            "user.session.end", "actor", g.auth.actor_id, actor_id=g.auth.actor_id
        )
        db.session.commit()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("web.login"))


@bp.get("/lang/<code>")
def set_language(code: str) -> ResponseReturnValue:
    """Switch the interface language (kept in the session)."""
    if code in LANGS:
        session["lang"] = code
    back = _safe_next(request.args.get("next"))
    return redirect(back or url_for("web.index"))
