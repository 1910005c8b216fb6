"""Who is calling: app-user URL keys, Bearer sessions, HTTP Basic; and what they may do."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import secrets
import time
import typing as t
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, g, request
from werkzeug.security import check_password_hash, generate_password_hash

from server import problem
from server.db import db, first_row
from server.models import (
    Actor,
    Assignment,
    AuthSession,
    FieldKey,
    ProjectRole,
    User,
    utcnow,
)

TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!$"
REALM = "outreach-server"

_MANAGE = frozenset(
    {
        "project.read",
        "form.read",
        "form.update",
        "submission.create",
        "submission.read",
        "submission.update",
        "field_key.manage",
        "assignment.manage",
        "coverage.read",
        "pii.read",
    }
)
# Central's REST roles (manager, viewer, formfill) and the web supervisors' roles:
# ``province`` manages the whole project, ``commune`` the same within its communes
# (``scope``), ``aggregate`` sees indicators and maps only, never a submission.
ROLE_VERBS: dict[str, frozenset[str]] = {
    "manager": _MANAGE,
    "province": _MANAGE,
    "commune": _MANAGE,
    "viewer": frozenset(
        {"project.read", "form.read", "submission.read", "coverage.read"}
    ),
    "aggregate": frozenset({"project.read", "coverage.read"}),
    "formfill": frozenset({"project.read", "form.read", "submission.create"}),
}
WEB_ROLES = ("province", "commune", "aggregate")
FIELD_KEY_VERBS = frozenset({"form.read", "submission.create"})


@dataclass(frozen=True, slots=True)
class Auth:
    """The resolved caller."""

    actor_id: int | None = None
    kind: str = "anonymous"  # anonymous | user | field_key
    is_admin: bool = False
    project_id: int | None = None  # field keys belong to one project
    via: str | None = None  # key | bearer | basic | cookie
    csrf: str | None = None  # the session's CSRF token (cookie sessions)

    @property
    def anonymous(self) -> bool:
        return self.actor_id is None


ANONYMOUS = Auth()


def new_token() -> str:
    """A 64-character token from Central's alphabet."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(64))


def hash_token(token: str) -> str:
    """Tokens are stored only as their sha256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    """Salted password hash (werkzeug's scrypt)."""
    return generate_password_hash(password)


def create_session(actor_id: int, ttl_seconds: int | None) -> tuple[str, AuthSession]:
    """Store a new bearer session and return its token (shown once)."""
    token = new_token()
    expires = utcnow() + dt.timedelta(seconds=ttl_seconds) if ttl_seconds else None
    session = AuthSession(
        token_hash=hash_token(token),
        actor_id=actor_id,
        csrf=secrets.token_urlsafe(48)[:64],
        created_at=utcnow(),
        expires_at=expires,
    )
    db.session.add(session)
    return token, session


_actors, _sessions = Actor.__table__, AuthSession.__table__
_users, _keys = User.__table__, FieldKey.__table__
SESSION_LOOKUP = (
    sa.select(
        _actors.c.type,
        _actors.c.id,
        _sessions.c.expires_at,
        _users.c.is_admin,
        _keys.c.project_id,
        _sessions.c.csrf,
    )
    .select_from(
        _sessions.join(_actors, _actors.c.id == _sessions.c.actor_id)
        .outerjoin(_users, _users.c.actor_id == _actors.c.id)
        .outerjoin(_keys, _keys.c.actor_id == _actors.c.id)
    )
    .where(
        _sessions.c.token_hash == sa.bindparam("token_hash"),
        _actors.c.deleted_at.is_(None),
    )
)


def _session_auth(token: str) -> Auth | None:
    row = first_row(SESSION_LOOKUP, {"token_hash": hash_token(token)})
    if row is None:
        return None
    kind, actor_id, expires_at, is_admin, project_id, csrf = row
    if expires_at is not None:
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=dt.UTC)
        if expires_at < utcnow():
            return None
    if kind == "field_key":
        return Auth(actor_id=actor_id, kind="field_key", project_id=project_id)
    return Auth(actor_id=actor_id, kind="user", is_admin=bool(is_admin), csrf=csrf)


# Verified Basic credentials, per process, so Collect's per-request Basic header does
# not cost a scrypt each time. Keyed by a hash of the credentials; short-lived.
_basic_cache: dict[str, tuple[float, Auth]] = {}
_BASIC_TTL = 60.0


def _basic_auth(header: str) -> Auth | None:
    try:
        decoded = base64.b64decode(header.split(" ", 1)[1].strip()).decode("utf-8")
        email, password = decoded.split(":", 1)
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return None
    key = hashlib.sha256(decoded.encode("utf-8")).hexdigest()
    hit = _basic_cache.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    user = db.session.execute(
        sa.select(User)
        .join(Actor)
        .where(User.email == email, Actor.deleted_at.is_(None))
    ).scalar()
    if user is None or not check_password_hash(user.password_hash, password):
        return None
    auth = Auth(
        actor_id=user.actor_id, kind="user", is_admin=user.is_admin, via="basic"
    )
    _basic_cache[key] = (time.monotonic() + _BASIC_TTL, auth)
    return auth


def resolve(url_token: str | None) -> Auth:
    """Central's precedence: URL key, then Bearer, then Basic; else anonymous."""
    if url_token is not None:
        auth = _session_auth(url_token)
        if auth is None or auth.kind != "field_key":
            raise problem.insufficient_rights()  # 403, so clients don't prompt (Central)
        return Auth(
            actor_id=auth.actor_id,
            kind=auth.kind,
            project_id=auth.project_id,
            via="key",
        )
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        auth = _session_auth(header[7:].strip())
        if auth is None:
            raise problem.authentication_failed()
        return Auth(
            actor_id=auth.actor_id,
            kind=auth.kind,
            is_admin=auth.is_admin,
            project_id=auth.project_id,
            via="bearer",
        )
    if header[:6].lower() == "basic ":
        if not (request.is_secure or current_app.config.get("ALLOW_BASIC_OVER_HTTP")):
            raise problem.https_only()
        auth = _basic_auth(header)
        if auth is None:
            raise problem.authentication_failed()
        return auth
    return cookie_auth(check_csrf=True)


# The web app keeps its login in Flask's signed session cookie: the token of an
# ``AuthSession`` row (so logout and expiry end it on the server too).
SESSION_TOKEN_KEY = "token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cookie_auth(*, check_csrf: bool) -> Auth:
    """The web user of the session cookie, or anonymous.

    With ``check_csrf``, a state-changing request carried by the cookie must echo the
    session's CSRF token (``X-CSRF-Token`` header or ``csrf_token`` form field) and
    come from this origin; otherwise 403.1.
    """
    from flask import session

    token = session.get(SESSION_TOKEN_KEY)
    if not token:
        return ANONYMOUS
    auth = _session_auth(token)
    if auth is None or auth.kind != "user":
        session.pop(SESSION_TOKEN_KEY, None)
        return ANONYMOUS
    auth = Auth(
        actor_id=auth.actor_id,
        kind="user",
        is_admin=auth.is_admin,
        via="cookie",
        csrf=auth.csrf,
    )
    if check_csrf and request.method in UNSAFE_METHODS and not csrf_ok(auth):
        raise problem.Problem(
            403.1,
            "This request came with the session cookie but without the session's "
            "CSRF token (X-CSRF-Token), or from another site.",
            {"reason": "csrf"},
        )
    return auth


def csrf_ok(auth: Auth) -> bool:
    """Whether an unsafe request echoes the session's CSRF token from our own origin."""
    sent = request.headers.get("X-CSRF-Token") or (
        request.form.get("csrf_token") if request.mimetype in _FORM_TYPES else None
    )
    if not auth.csrf or not sent or not secrets.compare_digest(sent, auth.csrf):
        return False
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return origin.rstrip("/") == request.host_url.rstrip("/")
    return True


_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


@dataclass(frozen=True, slots=True)
class Scope:
    """Which submissions of a project a caller may read: all, some communes, none."""

    rows: bool = False  # may read submission rows at all
    all_communes: bool = False  # every row, also those without a commune
    communes: frozenset[str] = frozenset()
    pii: bool = False  # may read personal fields (the ``pii`` group)

    def sees(self, commune: str | None) -> bool:
        """Whether a submission with this commune code is in scope."""
        if not self.rows:
            return False
        return self.all_communes or (commune is not None and commune in self.communes)

    def condition(self, column: t.Any) -> t.Any:
        """A SQL condition on a commune column that keeps only rows in scope."""
        if not self.rows:
            return sa.false()
        if self.all_communes:
            return sa.true()
        if not self.communes:
            return sa.false()
        return column.in_(sorted(self.communes))


NO_ROWS = Scope()


def project_role(auth: Auth, project_id: int) -> str | None:
    """The caller's stored role in a project (None for administrators and app users)."""
    if auth.anonymous or auth.kind != "user":
        return None
    return db.session.execute(
        sa.select(ProjectRole.role).where(
            ProjectRole.actor_id == auth.actor_id, ProjectRole.project_id == project_id
        )
    ).scalar()


def role_communes(actor_id: int | None, project_id: int) -> frozenset[str]:
    """The communes a ``commune`` supervisor answers for in a project."""
    from server.models import ProjectRoleCommune

    return frozenset(
        db.session.execute(
            sa.select(ProjectRoleCommune.commune).where(
                ProjectRoleCommune.actor_id == actor_id,
                ProjectRoleCommune.project_id == project_id,
            )
        ).scalars()
    )


def scope(auth: Auth, project_id: int) -> Scope:
    """The submissions the caller may read in a project (enforced by every reader)."""
    if auth.anonymous:
        return NO_ROWS
    if auth.is_admin:
        return Scope(rows=True, all_communes=True, pii=True)
    if auth.kind == "field_key":
        return NO_ROWS
    role = project_role(auth, project_id)
    verbs = ROLE_VERBS.get(role or "", frozenset())
    if "submission.read" not in verbs:
        return NO_ROWS
    pii = "pii.read" in verbs
    if role == "commune":
        return Scope(
            rows=True, communes=role_communes(auth.actor_id, project_id), pii=pii
        )
    return Scope(rows=True, all_communes=True, pii=pii)


def current() -> Auth:
    """The caller resolved for this request."""
    return t.cast(Auth, g.get("auth", ANONYMOUS))


def project_verbs(auth: Auth, project_id: int) -> frozenset[str]:
    """What the caller may do in a project."""
    if auth.anonymous:
        return frozenset()
    if auth.is_admin:
        return ROLE_VERBS["manager"] | {"project.update", "audit.read"}
    if auth.kind == "field_key":
        return FIELD_KEY_VERBS if auth.project_id == project_id else frozenset()
    role = db.session.execute(
        sa.select(ProjectRole.role).where(
            ProjectRole.actor_id == auth.actor_id, ProjectRole.project_id == project_id
        )
    ).scalar()
    return ROLE_VERBS.get(role or "", frozenset())


def require(verb: str, project_id: int, form_id: int | None = None) -> Auth:
    """Raise 401 (anonymous) or 403.1 unless the caller may ``verb`` in the project/form."""
    auth = current()
    if auth.anonymous:
        raise problem.authentication_required()
    if verb not in project_verbs(auth, project_id):
        raise problem.insufficient_rights()
    if (
        auth.kind == "field_key"
        and form_id is not None
        and not is_assigned(auth.actor_id, form_id)
    ):
        raise problem.insufficient_rights()
    return auth


def is_assigned(actor_id: int | None, form_id: int) -> bool:
    """Whether an app user is assigned to a form."""
    return (
        db.session.execute(
            sa.select(Assignment.form_id).where(
                Assignment.actor_id == actor_id, Assignment.form_id == form_id
            )
        ).first()
        is not None
    )


def require_admin() -> Auth:
    """Only administrators (user and project creation)."""
    auth = current()
    if auth.anonymous:
        raise problem.authentication_required()
    if not auth.is_admin:
        raise problem.insufficient_rights()
    return auth
