"""App users (Central's field keys) and their form assignments (role 2, "app-user").

Deviation from Central: tokens are stored only as their sha256, so a token is shown
once, in the POST response; listings carry ``token: null`` for every app user.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify
from flask.typing import ResponseReturnValue

from server import audit, problem
from server.api.common import (
    get_form,
    get_project,
    json_body,
    require,
    rest_blueprint,
    success,
)
from server.api.shapes import actor_json, app_user_json
from server.cli import create_app_user
from server.db import db
from server.models import Actor, Assignment, AuthSession, FieldKey, utcnow
from server.schemas import AppUserCreate

bp = rest_blueprint("app_users")

APP_USER_ROLE = 2
_ASSIGN = "/projects/<int:project_id>/forms/<xml_form_id>/assignments"


def get_app_user(project_id: int, actor_id: int) -> Actor:
    """A live app user of this project, or 404.1."""
    actor = db.session.execute(
        sa.select(Actor)
        .join(FieldKey, FieldKey.actor_id == Actor.id)
        .where(
            Actor.id == actor_id,
            FieldKey.project_id == project_id,
            Actor.deleted_at.is_(None),
        )
    ).scalar()
    if actor is None:
        raise problem.not_found()
    return actor


def _role(role_id: int) -> None:
    if role_id != APP_USER_ROLE:  # the only form-level role this server has
        raise problem.not_found()


@bp.get("/projects/<int:project_id>/app-users")
def list_app_users(project_id: int) -> ResponseReturnValue:
    """The project's live app users, newest first (tokens are never shown again)."""
    require("field_key.manage", project_id)
    get_project(project_id)
    actors = db.session.execute(
        sa.select(Actor)
        .join(FieldKey, FieldKey.actor_id == Actor.id)
        .where(FieldKey.project_id == project_id, Actor.deleted_at.is_(None))
        .order_by(Actor.created_at.desc(), Actor.id.desc())
    ).scalars()
    return jsonify([app_user_json(a, project_id) for a in actors])


@bp.post("/projects/<int:project_id>/app-users")
def create_app_user_view(project_id: int) -> ResponseReturnValue:
    """Create an app user; the response is the only place its token ever appears."""
    caller = require("field_key.manage", project_id)
    get_project(project_id)
    data = AppUserCreate().load(json_body())
    key, token = create_app_user(
        project_id, data["displayName"], [], actor_id=caller.actor_id
    )
    db.session.commit()
    return jsonify(app_user_json(key.actor, project_id, token))


@bp.delete("/projects/<int:project_id>/app-users/<int:actor_id>")
def delete_app_user(project_id: int, actor_id: int) -> ResponseReturnValue:
    """Delete an app user: its key stops working and its assignments go."""
    caller = require("field_key.manage", project_id)
    actor = get_app_user(project_id, actor_id)
    actor.deleted_at = utcnow()
    db.session.execute(sa.delete(AuthSession).where(AuthSession.actor_id == actor.id))
    db.session.execute(sa.delete(Assignment).where(Assignment.actor_id == actor.id))
    audit.log(
        "field_key.delete",
        "actor",
        actor.id,
        actor_id=caller.actor_id,
        details={"projectId": project_id},
    )
    db.session.commit()
    return jsonify(success())


@bp.get(_ASSIGN)
def list_assignments(project_id: int, xml_form_id: str) -> ResponseReturnValue:
    """Every assignment on the form, as ``{actorId, roleId}``."""
    require("assignment.manage", project_id)
    form = get_form(project_id, xml_form_id)
    rows = db.session.execute(
        sa.select(Assignment.actor_id, Assignment.role_id)
        .join(Actor, Actor.id == Assignment.actor_id)
        .where(Assignment.form_id == form.id, Actor.deleted_at.is_(None))
        .order_by(Assignment.actor_id)
    ).all()
    return jsonify([{"actorId": a, "roleId": r} for a, r in rows])


@bp.get(f"{_ASSIGN}/<int:role_id>")
def list_role_assignments(
    project_id: int, xml_form_id: str, role_id: int
) -> ResponseReturnValue:
    """The actors holding one role on the form."""
    require("assignment.manage", project_id)
    _role(role_id)
    form = get_form(project_id, xml_form_id)
    actors = db.session.execute(
        sa.select(Actor)
        .join(Assignment, Assignment.actor_id == Actor.id)
        .where(
            Assignment.form_id == form.id,
            Assignment.role_id == role_id,
            Actor.deleted_at.is_(None),
        )
        .order_by(Actor.id)
    ).scalars()
    return jsonify([actor_json(a) for a in actors])


@bp.post(f"{_ASSIGN}/<int:role_id>/<int:actor_id>")
def assign(
    project_id: int, xml_form_id: str, role_id: int, actor_id: int
) -> ResponseReturnValue:
    """Let an app user of this project list and fill the form."""
    caller = require("assignment.manage", project_id)
    _role(role_id)
    form = get_form(project_id, xml_form_id)
    actor = get_app_user(project_id, actor_id)
    if db.session.get(Assignment, (form.id, actor.id, role_id)) is not None:
        raise problem.uniqueness_violation("actorId, roleId", f"{actor.id}, {role_id}")
    db.session.add(Assignment(form_id=form.id, actor_id=actor.id, role_id=role_id))
    audit.log(
        "assignment.create",
        "form",
        form.id,
        actor_id=caller.actor_id,
        details={"grantedActorId": actor.id, "roleId": role_id},
    )
    db.session.commit()
    return jsonify(success())


@bp.delete(f"{_ASSIGN}/<int:role_id>/<int:actor_id>")
def unassign(
    project_id: int, xml_form_id: str, role_id: int, actor_id: int
) -> ResponseReturnValue:
    """Take the form away from an app user."""
    caller = require("assignment.manage", project_id)
    _role(role_id)
    form = get_form(project_id, xml_form_id)
    row = db.session.get(Assignment, (form.id, actor_id, role_id))
    if row is None:
        raise problem.not_found()
    db.session.delete(row)
    audit.log(
        "assignment.delete",
        "form",
        form.id,
        actor_id=caller.actor_id,
        details={"revokedActorId": actor_id, "roleId": role_id},
    )
    db.session.commit()
    return jsonify(success())
