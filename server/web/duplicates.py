"""Duplicates queue (clusters side by side, reasons, decide, undo) and entity
conflicts (versions side by side, keep or take a version, resolve).

Decisions go through ``server.dedup.review`` and ``server.entities.store``, the same
code as the REST API, so they are audited the same way. A commune supervisor sees
only clusters whose every member is in its communes, and only entities whose list
is filtered by commune and that belong to its communes.
"""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from server import problem
from server.db import db
from server.dedup import review
from server.dedup_models import DedupDecision
from server.entities import datasets as entity_datasets
from server.entities import store as entity_store
from server.entities import views as entity_views
from server.entity_models import Entity, EntityDef
from server.models import Actor, Form, FormDef, Submission, SubmissionDef
from server.web import xform
from server.web.common import Access, access, bp, login_required
from server.web.work import commune_names, conflict_query, duplicate_clusters


def _lang() -> str:
    return str(get_locale() or "vi")[:2]


def _members(acc: Access, ids: t.Iterable[int]) -> dict[int, dict[str, t.Any]]:
    """Each member's summary and labelled answers (personal ones only if allowed)."""
    rows = db.session.execute(
        sa.select(Submission, SubmissionDef, Form.xml_form_id, Actor.display_name)
        .join(
            SubmissionDef,
            sa.and_(
                SubmissionDef.submission_id == Submission.id,
                SubmissionDef.current.is_(True),
            ),
        )
        .join(Form, Form.id == Submission.form_id)
        .outerjoin(Actor, Actor.id == Submission.submitter_id)
        .where(Submission.id.in_(list(ids)))
    ).all()
    names = commune_names()
    out = {}
    for sub, current, xml_form_id, submitter in rows:
        form_def = db.session.get(FormDef, current.form_def_id)
        answers = xform.rows(form_def.xml, current.xml, _lang(), commune_names=names)
        consent = next((r.raw for r in answers if r.path.endswith("/consent")), None)
        if not acc.scope.pii or consent not in (None, "yes"):
            answers = [r for r in answers if not r.personal]
        out[sub.id] = {
            "sub": sub,
            "name": current.instance_name or sub.instance_id,
            "form": xml_form_id,
            "submitter": submitter or "",
            "commune": names.get(sub.commune or "", sub.commune or ""),
            "answers": {
                r.path: r
                for r in answers
                if r.kind in ("value", "media") and not r.technical
            },
        }
    return out


def _side_by_side(
    members: list[dict[str, t.Any]],
) -> list[tuple[str, list[str], bool]]:
    """Rows (label, value per member, differs) over the union of answered fields."""
    paths: list[str] = []
    for m in members:
        for path in m["answers"]:
            if path not in paths:
                paths.append(path)
    table = []
    for path in paths:
        label = next(m["answers"][path].label for m in members if path in m["answers"])
        values = [
            m["answers"][path].value if path in m["answers"] else "" for m in members
        ]
        table.append((label, values, len(set(values)) > 1))
    return table


@bp.get("/projects/<int:project_id>/duplicates")
@login_required
def duplicates(project_id: int) -> ResponseReturnValue:
    """Clusters awaiting a decision, most certain first, members side by side."""
    acc = access(project_id, "submission.read")
    clusters, _links = duplicate_clusters(acc, request.args.get("form") or None)
    shown = clusters[:10]
    members = _members(acc, {m for c in shown for m in c.member_ids})
    lang = _lang()
    items = []
    for cluster in shown:
        group = [members[m] for m in cluster.member_ids if m in members]
        group.sort(key=lambda m: m["sub"].created_at)
        reasons = []
        for pair in cluster.pairs:
            for reason in pair.reasons:
                label = (reason.get("text") or {}).get(lang) or reason["code"]
                if reason["level"] != "missing" and label not in reasons:
                    reasons.append(label)
        items.append(
            {
                "cluster": cluster,
                "members": group,
                "table": _side_by_side(group),
                "reasons": reasons,
                "score": round(cluster.score * 100),
            }
        )
    recent = _recent_decisions(acc)
    return render_template(
        "duplicates.html", items=items, total=len(clusters), recent=recent
    )


def _recent_decisions(acc: Access) -> list[dict[str, t.Any]]:
    found = review.decisions(acc.project.id)[:20]
    ids = {m for d in found for m in d.member_ids}
    subs = {
        s.id: s
        for s in db.session.execute(
            sa.select(Submission).where(Submission.id.in_(list(ids)))
        ).scalars()
    }
    actors = {
        a.id: a.display_name
        for a in db.session.execute(
            sa.select(Actor).where(Actor.id.in_({d.actor_id for d in found}))
        ).scalars()
    }
    out = []
    for d in found:
        if not all(acc.scope.sees(subs[m].commune) for m in d.member_ids if m in subs):
            continue
        out.append(
            {
                "decision": d,
                "members": [subs[m].instance_id for m in d.member_ids if m in subs],
                "primary": subs[d.primary_id].instance_id
                if d.primary_id in subs
                else None,
                "actor": actors.get(d.actor_id, ""),
            }
        )
    return out


def _back() -> ResponseReturnValue:
    return redirect(url_for("web.duplicates", project_id=g.access.project.id))


@bp.post("/projects/<int:project_id>/duplicates/decide")
@login_required
def decide_duplicate(project_id: int) -> ResponseReturnValue:
    """Record ``same`` (others become duplicates of the chosen primary) or
    ``different`` (never proposed again)."""
    acc = access(project_id, "submission.update")
    verdict = request.form.get("verdict")
    member_ids = [int(m) for m in request.form.getlist("member") if m.isdigit()]
    subs = list(
        db.session.execute(
            sa.select(Submission)
            .join(Form)
            .where(
                Submission.id.in_(member_ids),
                Form.project_id == project_id,
                Submission.deleted_at.is_(None),
                acc.scope.condition(Submission.commune),
            )
        ).scalars()
    )
    if verdict not in review.VERDICTS or len(subs) < 2 or len(subs) != len(member_ids):
        abort(400)
    if len({s.form_id for s in subs}) != 1:
        abort(400)
    form_id = subs[0].form_id
    try:
        if verdict == review.SAME:
            primary = int(request.form.get("primary") or 0)
            if primary not in member_ids:
                abort(400)
            review.decide_same(
                project_id, form_id, primary, member_ids, g.auth.actor_id
            )
            flash(_("Marked as the same record. You can undo this below."), "ok")
        else:
            review.decide_different(project_id, form_id, member_ids, g.auth.actor_id)
            flash(_("Marked as different records. You can undo this below."), "ok")
        db.session.commit()
    except problem.Problem as err:
        db.session.rollback()
        flash(err.message, "error")
    return _back()


@bp.post("/projects/<int:project_id>/duplicates/decisions/<int:decision_id>/undo")
@login_required
def undo_duplicate(project_id: int, decision_id: int) -> ResponseReturnValue:
    """Undo a decision (its links go; the decision stays, marked undone)."""
    acc = access(project_id, "submission.update")
    decision = db.session.get(DedupDecision, decision_id)
    if decision is None or decision.project_id != project_id:
        abort(404)
    communes = db.session.execute(
        sa.select(Submission.commune).where(Submission.id.in_(decision.member_ids))
    ).scalars()
    if not all(acc.scope.sees(c) for c in communes):
        abort(404)
    try:
        review.undo(project_id, decision_id, g.auth.actor_id)
        db.session.commit()
        flash(_("Decision undone."), "ok")
    except problem.Problem as err:
        db.session.rollback()
        flash(err.message, "error")
    return _back()


# --- entity conflicts ----------------------------------------------------------------


@bp.get("/projects/<int:project_id>/conflicts")
@login_required
def conflicts(project_id: int) -> ResponseReturnValue:
    """Entities whose offline updates conflict, their versions side by side."""
    acc = access(project_id, "submission.read")
    rows = db.session.execute(conflict_query(acc).limit(20)).all()
    items = []
    for entity, dataset in rows:
        defs = list(
            db.session.execute(
                sa.select(EntityDef)
                .where(EntityDef.entity_id == entity.id)
                .order_by(EntityDef.version)
            ).scalars()
        )
        versions = entity_views.versions_with_conflicts(
            entity, defs, relevant_only=True
        )
        keys: list[str] = ["label"]
        for v in versions:
            keys += [k for k in v["data"] if k not in keys]
        disputed = {p for v in versions for p in v.get("conflictingProperties") or []}
        table = []
        for key in keys:
            values = [
                v["label"] if key == "label" else v["data"].get(key, "")
                for v in versions
            ]
            table.append((key, values, key in disputed, len(set(values)) > 1))
        items.append(
            {
                "entity": entity,
                "dataset": dataset,
                "versions": versions,
                "table": table,
            }
        )
    return render_template("conflicts.html", items=items)


@bp.post("/projects/<int:project_id>/conflicts/<dataset_name>/<uuid>")
@login_required
def resolve_conflict(
    project_id: int, dataset_name: str, uuid: str
) -> ResponseReturnValue:
    """Keep the current values, or apply an earlier version's values; then resolve."""
    acc = access(project_id, "submission.update")
    dataset = entity_datasets.get(project_id, dataset_name)
    entity_store.lock_entity(uuid, dataset.id)
    entity = db.session.execute(
        conflict_query(acc).where(Entity.uuid == uuid, Entity.dataset_id == dataset.id)
    ).first()
    if entity is None:
        abort(404)
    entity = entity[0]
    take = request.form.get("take_version") or ""
    if take.isdigit() and int(take) != entity.version:
        chosen = entity_store.get_def(entity.id, version=int(take))
        if chosen is None:
            abort(404)
        entity_store.api_update(
            dataset,
            entity,
            chosen.label,
            dict(chosen.data or {}),
            dict(chosen.data or {}),
            actor_id=g.auth.actor_id,
            user_agent=request.headers.get("User-Agent"),
        )
    entity_store.resolve(dataset, entity, g.auth.actor_id)
    db.session.commit()
    flash(_("Conflict resolved."), "ok")
    return redirect(url_for("web.conflicts", project_id=project_id))
