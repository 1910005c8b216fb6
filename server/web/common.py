"""The web blueprint, the signed-in user, CSRF on every form, and access checks.

Every page resolves the caller from the session cookie only (``auth.cookie_auth``),
checks the CSRF token of every POST, and asks ``auth`` for the verbs and the
``Scope`` of the project it shows, so a commune supervisor's limits hold for each
page, download and API call, not just in the menus.
"""

from __future__ import annotations

import functools
import typing as t
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, abort, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from server import auth, problem
from server.db import db
from server.models import Project, ProjectRole, User

bp = Blueprint("web", __name__)

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "province": _l("Province supervisor"),
    "commune": _l("Commune supervisor"),
    "aggregate": _l("Viewer (figures only)"),
    "manager": _l("Project manager"),
    "viewer": _l("Project viewer"),
    "formfill": _l("Data collector"),
}


@dataclass(frozen=True, slots=True)
class Access:
    """What the signed-in user may do in one project."""

    project: Project
    role: str  # admin | province | commune | aggregate | manager | viewer | formfill
    verbs: frozenset[str]
    scope: auth.Scope

    def can(self, verb: str) -> bool:
        """Whether the user holds a verb in this project."""
        return verb in self.verbs

    @property
    def rows(self) -> bool:
        """Whether submission rows (not only figures) are visible."""
        return self.scope.rows


@bp.before_request
def _load_user() -> t.Any:
    g.html = True
    g.auth = auth.cookie_auth(check_csrf=False)
    g.user = None
    if not g.auth.anonymous:
        g.user = db.session.get(User, g.auth.actor_id)
    if request.method in auth.UNSAFE_METHODS and request.endpoint not in _NO_CSRF:
        check_csrf()
    return None


# The login form carries a pre-session token; logout checks its own (it must work
# with an expired session too).
_NO_CSRF = {"web.login", "web.logout"}


def csrf_token() -> str:
    """The token to embed in every form of the page."""
    caller = g.get("auth")
    if caller is not None and caller.csrf:
        return caller.csrf
    token = session.get("login_csrf")
    if not token:
        import secrets

        token = session["login_csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse a POST whose form does not carry this session's token (403)."""
    caller = g.get("auth") or auth.ANONYMOUS
    if caller.anonymous or not auth.csrf_ok(caller):
        raise problem.Problem(
            403.1,
            _(
                "This form has expired or came from another site. "
                "Go back, reload the page and try again."
            ),
            {"reason": "csrf"},
        )


def login_required(view: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """Send anonymous visitors to the login page (then back)."""

    @functools.wraps(view)
    def wrapped(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if g.get("user") is None:
            return redirect(url_for("web.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """Only administrators."""

    @functools.wraps(view)
    @login_required
    def wrapped(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if not g.auth.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def access(project_id: int, verb: str = "project.read") -> Access:
    """The user's access to a project, or 404 (unknown project) / 403 (no right)."""
    project = db.session.get(Project, project_id)
    if project is None:
        abort(404)
    caller = g.auth
    if caller.is_admin:
        role = "admin"
    else:
        role = auth.project_role(caller, project_id) or ""
    verbs = auth.project_verbs(caller, project_id)
    if verb not in verbs:
        abort(403)
    result = Access(project, role, verbs, auth.scope(caller, project_id))
    g.access = result
    return result


def projects_of_user() -> list[Project]:
    """Projects the user can open (every project for administrators)."""
    query = sa.select(Project).where(Project.archived.is_(False)).order_by(Project.id)
    if not g.auth.is_admin:
        query = query.join(ProjectRole, ProjectRole.project_id == Project.id).where(
            ProjectRole.actor_id == g.auth.actor_id,
            ProjectRole.role != "formfill",
        )
    return list(db.session.execute(query).scalars())


def page_args() -> tuple[int, int]:
    """``page`` (from 1) and the page size from the query string."""
    try:
        page = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page = 1
    return page, 50
