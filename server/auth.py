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
from server.db import db
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

ROLE_VERBS: dict[str, frozenset[str]] = {
    "manager": frozenset(
        {
            "project.read",
            "form.read",
            "form.update",
            "submission.create",
            "submission.read",
            "submission.update",
            "field_key.manage",
            "assignment.manage",
        }
    ),
    "viewer": frozenset({"project.read", "form.read", "submission.read"}),
    "formfill": frozenset({"project.read", "form.read", "submission.create"}),
}
FIELD_KEY_VERBS = frozenset({"form.read", "submission.create"})


@dataclass(frozen=True, slots=True)
class Auth:
    """The resolved caller."""

    actor_id: int | None = None
    kind: str = "anonymous"  # anonymous | user | field_key
    is_admin: bool = False
    project_id: int | None = None  # field keys belong to one project
    via: str | None = None  # key | bearer | basic

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
    row = (
        db.session.connection()
        .execute(SESSION_LOOKUP, {"token_hash": hash_token(token)})
        .first()
    )
    if row is None:
        return None
    kind, actor_id, expires_at, is_admin, project_id = row
    if expires_at is not None:
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=dt.UTC)
        if expires_at < utcnow():
            return None
    if kind == "field_key":
        return Auth(actor_id=actor_id, kind="field_key", project_id=project_id)
    return Auth(actor_id=actor_id, kind="user", is_admin=bool(is_admin))


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
    return ANONYMOUS


def current() -> Auth:
    """The caller resolved for this request."""
    return t.cast(Auth, g.get("auth", ANONYMOUS))


def project_verbs(auth: Auth, project_id: int) -> frozenset[str]:
    """What the caller may do in a project."""
    if auth.anonymous:
        return frozenset()
    if auth.is_admin:
        return ROLE_VERBS["manager"] | {"project.update"}
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
