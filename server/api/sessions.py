"""Sessions and users: POST /v1/sessions (pyODK's login), /users/current, logout."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.security import check_password_hash

from server import audit, auth, problem
from server.api.common import iso, json_body, rest_blueprint
from server.db import db
from server.models import Actor, AuthSession, FieldKey, User

bp = rest_blueprint("sessions")


def actor_json(actor: Actor, email: str | None = None) -> dict:
    """Central's actor shape."""
    body = {
        "id": actor.id,
        "type": actor.type if actor.type != "field_key" else "field_key",
        "displayName": actor.display_name,
        "createdAt": iso(actor.created_at),
        "updatedAt": iso(actor.updated_at),
        "deletedAt": iso(actor.deleted_at),
    }
    if email is not None:
        body["email"] = email
    return body


@bp.post("/sessions")
def login() -> ResponseReturnValue:
    """Exchange email and password for a bearer token."""
    data = json_body()
    email, password = data.get("email"), data.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise problem.missing_parameter("email/password")
    user = db.session.execute(
        sa.select(User)
        .join(Actor)
        .where(User.email == email, Actor.deleted_at.is_(None))
    ).scalar()
    if user is None or not check_password_hash(user.password_hash, password):
        audit.log("user.session.failed", "user", None, details={})
        db.session.commit()
        raise problem.authentication_failed()
    token, session = auth.create_session(
        user.actor_id, current_app.config["SESSION_TTL_SECONDS"]
    )
    audit.log("user.session.create", "actor", user.actor_id, actor_id=user.actor_id)
    db.session.commit()
    return jsonify(
        token=token,
        csrf=session.csrf,
        createdAt=iso(session.created_at),
        expiresAt=iso(session.expires_at),
    )


@bp.get("/users/current")
def current_user() -> ResponseReturnValue:
    """The logged-in web user (pyODK validates cached tokens with this)."""
    caller = auth.current()
    if caller.anonymous:
        raise problem.authentication_required()
    if caller.kind != "user":
        raise problem.insufficient_rights()
    user = db.session.get(User, caller.actor_id)
    assert user is not None
    return jsonify(actor_json(user.actor, user.email))


@bp.delete("/sessions/<token>")
def logout(token: str) -> ResponseReturnValue:
    """End a session or revoke an app user's key (Central's DELETE /sessions/{token})."""
    caller = auth.current()
    if caller.anonymous:
        raise problem.authentication_required()
    session = db.session.get(AuthSession, auth.hash_token(token))
    if session is None:
        raise problem.not_found()
    if session.actor_id != caller.actor_id:
        key = db.session.get(FieldKey, session.actor_id)
        if key is None:
            if not caller.is_admin:
                raise problem.insufficient_rights()
        else:
            auth.require("field_key.manage", key.project_id)
    db.session.delete(session)
    audit.log("session.end", "actor", session.actor_id, actor_id=caller.actor_id)
    db.session.commit()
    return jsonify(success=True)
