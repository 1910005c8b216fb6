"""Administrators only: the audit log, and web users with their role per project
(and a commune supervisor's communes)."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from server import audit, auth, problem
from server.db import db
from server.models import (
    Actor,
    Audit,
    Project,
    ProjectRole,
    ProjectRoleCommune,
    User,
)
from server.web.common import admin_required, bp, page_args
from server.web.work import commune_names

ASSIGNABLE = ("province", "commune", "aggregate")


@bp.get("/admin/audit")
@admin_required
def audit_log() -> ResponseReturnValue:
    """Every recorded action, newest first, 50 a page (filter by action prefix)."""
    page, size = page_args()
    action = (request.args.get("action") or "").strip()
    query = sa.select(Audit, Actor.display_name).outerjoin(
        Actor, Actor.id == Audit.actor_id
    )
    count = sa.select(sa.func.count()).select_from(Audit)
    if action:
        query = query.where(Audit.action.startswith(action, autoescape=True))
        count = count.where(Audit.action.startswith(action, autoescape=True))
    total = db.session.execute(count).scalar_one()
    rows = db.session.execute(
        query.order_by(Audit.id.desc()).offset((page - 1) * size).limit(size)
    ).all()
    actions = db.session.execute(
        sa.select(Audit.action).distinct().order_by(Audit.action)
    ).scalars()
    return render_template(
        "audit.html",
        rows=rows,
        page=page,
        pages=max(1, (total + size - 1) // size),
        total=total,
        action=action,
        actions=list(actions),
    )


@bp.get("/admin/users")
@admin_required
def users() -> ResponseReturnValue:
    """Web users, their roles per project and communes."""
    found = db.session.execute(
        sa.select(User, Actor)
        .join(Actor, Actor.id == User.actor_id)
        .where(Actor.deleted_at.is_(None))
        .order_by(User.email)
    ).all()
    roles: dict[int, list[tuple[Project, str, list[str]]]] = {}
    projects = {p.id: p for p in db.session.execute(sa.select(Project)).scalars()}
    communes: dict[tuple[int, int], list[str]] = {}
    for row in db.session.execute(sa.select(ProjectRoleCommune)).scalars():
        communes.setdefault((row.actor_id, row.project_id), []).append(row.commune)
    for role in db.session.execute(sa.select(ProjectRole)).scalars():
        roles.setdefault(role.actor_id, []).append(
            (
                projects[role.project_id],
                role.role,
                sorted(communes.get((role.actor_id, role.project_id), [])),
            )
        )
    return render_template(
        "users.html",
        users=found,
        roles=roles,
        projects=list(projects.values()),
        assignable=ASSIGNABLE,
        names=commune_names(),
    )


@bp.post("/admin/users")
@admin_required
def create_user() -> ResponseReturnValue:
    """Create a web user with a generated password (shown once)."""
    from server.cli import create_user as make_user

    email = (request.form.get("email") or "").strip().lower()
    if "@" not in email or len(email) > 320:
        flash(_("Enter a valid email address."), "error")
        return redirect(url_for("web.users"))
    password = secrets.token_urlsafe(12)
    try:
        user = make_user(email, password, admin=request.form.get("admin") == "1")
    except problem.Problem:
        db.session.rollback()
        flash(_("A user with this email already exists."), "error")
        return redirect(url_for("web.users"))
    actor = db.session.get(Actor, user.actor_id)
    actor.display_name = (request.form.get("name") or "").strip()[:255] or email
    db.session.commit()
    flash(
        _(
            "User %(email)s created. Password (shown only now, give it to them "
            "privately): %(password)s",
            email=email,
            password=password,
        ),
        "ok",
    )
    return redirect(url_for("web.users"))


@bp.post("/admin/users/<int:actor_id>/role")
@admin_required
def set_role(actor_id: int) -> ResponseReturnValue:
    """Give a user a role in a project (``none`` removes it); communes for
    ``commune`` supervisors, one 5-digit code per line or comma."""
    user = db.session.get(User, actor_id)
    project = db.session.get(Project, int(request.form.get("project_id") or 0))
    role = request.form.get("role") or ""
    if user is None or project is None or role not in (*ASSIGNABLE, "none"):
        flash(_("Choose a project and a role."), "error")
        return redirect(url_for("web.users"))
    raw = request.form.get("communes") or ""
    codes = sorted({c for c in raw.replace(",", " ").split() if c.isdigit()})
    if role == "commune" and not codes:
        flash(_("A commune supervisor needs at least one commune code."), "error")
        return redirect(url_for("web.users"))
    db.session.execute(
        sa.delete(ProjectRoleCommune).where(
            ProjectRoleCommune.actor_id == actor_id,
            ProjectRoleCommune.project_id == project.id,
        )
    )
    db.session.execute(
        sa.delete(ProjectRole).where(
            ProjectRole.actor_id == actor_id, ProjectRole.project_id == project.id
        )
    )
    if role != "none":
        db.session.add(ProjectRole(actor_id=actor_id, project_id=project.id, role=role))
        for code in codes if role == "commune" else []:
            db.session.add(
                ProjectRoleCommune(
                    actor_id=actor_id, project_id=project.id, commune=code
                )
            )
    audit.log(
        "user.role.set",
        "actor",
        actor_id,
        actor_id=g.auth.actor_id,
        details={"projectId": project.id, "role": role, "communes": codes},
    )
    db.session.commit()
    flash(_("Role saved."), "ok")
    return redirect(url_for("web.users"))


@bp.post("/admin/users/<int:actor_id>/password")
@admin_required
def reset_password(actor_id: int) -> ResponseReturnValue:
    """A new generated password (shown once); the user's sessions end."""
    from server.models import AuthSession

    user = db.session.get(User, actor_id)
    if user is None:
        flash(_("No such user."), "error")
        return redirect(url_for("web.users"))
    password = secrets.token_urlsafe(12)
    user.password_hash = auth.hash_password(password)
    db.session.execute(sa.delete(AuthSession).where(AuthSession.actor_id == actor_id))
    audit.log("user.password.reset", "actor", actor_id, actor_id=g.auth.actor_id)
    db.session.commit()
    flash(
        _(
            "New password for %(email)s (shown only now): %(password)s",
            email=user.email,
            password=password,
        ),
        "ok",
    )
    return redirect(url_for("web.users"))
