"""Projects: GET|POST /v1/projects, GET /v1/projects/{p} (pyODK's client.projects)."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from flask import jsonify
from flask.typing import ResponseReturnValue

from server import audit, auth, problem
from server.api.common import (
    extended,
    get_project,
    iso,
    json_body,
    require,
    rest_blueprint,
)
from server.api.shapes import project_json
from server.db import db
from server.models import Actor, FieldKey, Form, Project, ProjectRole, Submission
from server.schemas import ProjectCreate

bp = rest_blueprint("projects")


def _counts(project_ids: list[int]) -> dict[int, dict[str, t.Any]]:
    """Extended metadata per project: app users, forms, last submission."""
    app_users = dict(
        db.session.execute(
            sa.select(FieldKey.project_id, sa.func.count())
            .join(Actor, Actor.id == FieldKey.actor_id)
            .where(FieldKey.project_id.in_(project_ids), Actor.deleted_at.is_(None))
            .group_by(FieldKey.project_id)
        ).all()
    )
    forms = dict(
        db.session.execute(
            sa.select(Form.project_id, sa.func.count())
            .where(Form.project_id.in_(project_ids), Form.deleted_at.is_(None))
            .group_by(Form.project_id)
        ).all()
    )
    last = dict(
        db.session.execute(
            sa.select(Form.project_id, sa.func.max(Submission.created_at))
            .join(Submission, Submission.form_id == Form.id)
            .where(
                Form.project_id.in_(project_ids),
                Submission.draft.is_(False),
                Submission.deleted_at.is_(None),
            )
            .group_by(Form.project_id)
        ).all()
    )
    return {
        pid: {
            "appUsers": app_users.get(pid, 0),
            "forms": forms.get(pid, 0),
            "lastSubmission": iso(last.get(pid)),
            "datasets": 0,
        }
        for pid in project_ids
    }


def _caller() -> auth.Auth:
    caller = auth.current()
    if caller.anonymous:
        raise problem.authentication_required()
    if caller.kind == "field_key":
        raise problem.insufficient_rights()
    return caller


@bp.get("/projects")
def list_projects() -> ResponseReturnValue:
    """Projects the caller can read (every project for administrators)."""
    caller = _caller()
    query = sa.select(Project).order_by(Project.archived, Project.name, Project.id)
    if not caller.is_admin:
        query = query.join(ProjectRole, ProjectRole.project_id == Project.id).where(
            ProjectRole.actor_id == caller.actor_id
        )
    projects = list(db.session.execute(query).scalars())
    counts = _counts([p.id for p in projects]) if extended() and projects else {}
    return jsonify([project_json(p, counts.get(p.id)) for p in projects])


@bp.post("/projects")
def create_project() -> ResponseReturnValue:
    """Create a project (administrators only)."""
    caller = auth.require_admin()
    data = ProjectCreate().load(json_body())
    project = Project(name=data["name"], description=data["description"])
    db.session.add(project)
    db.session.flush()
    audit.log("project.create", "project", project.id, actor_id=caller.actor_id)
    db.session.commit()
    return jsonify(project_json(project))


@bp.get("/projects/<int:project_id>")
def get_project_view(project_id: int) -> ResponseReturnValue:
    """One project; ``X-Extended-Metadata`` adds counts and the caller's verbs."""
    caller = require("project.read", project_id)
    project = get_project(project_id)
    counts = None
    if extended():
        counts = _counts([project.id])[project.id]
        counts["verbs"] = sorted(auth.project_verbs(caller, project_id))
    return jsonify(project_json(project, counts))
