"""The duplicate review queue and decisions, as JSON (the web UI is its own issue).

``GET /v1/projects/{p}/duplicates[?form=][&lang=vi|en]`` lists clusters awaiting a
decision; ``POST …/duplicates/decisions`` records one (``same`` or ``different``);
``GET …/decisions`` lists them; ``DELETE …/decisions/{id}`` undoes one. Reading needs
``submission.read`` (viewers too), deciding ``submission.update`` (managers,
administrators); app users get 403.1. A commune supervisor sees and decides only
clusters whose every member is in one of their communes; other submissions are "not
found" to them, as in the submissions list. Reasons carry no personal values (the
engine's rule for ``[pii]`` fields); members show what the submissions list shows.
"""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from flask import jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from server import auth, dedup, problem
from server.api.common import (
    get_project,
    iso,
    json_body,
    require,
    rest_blueprint,
    success,
)
from server.api.shapes import actors_by_id, review_state
from server.db import db
from server.dedup import review
from server.dedup.links import Forest, instance_ids
from server.dedup_models import DedupDecision
from server.models import Form, Submission, SubmissionDef

bp = rest_blueprint("duplicates")

BASE = "/projects/<int:project_id>/duplicates"
LANGS = ("vi", "en")


def _lang() -> str:
    value = request.args.get("lang") or "vi"
    if value not in LANGS:
        raise problem.unexpected_value("lang", f"use one of {', '.join(LANGS)}.")
    return value


def _page(items: list[t.Any]) -> list[t.Any]:
    """Central's ``limit``/``offset`` paging."""
    try:
        offset = max(0, int(request.args.get("offset") or 0))
        limit = request.args.get("limit")
        end = None if limit in (None, "") else offset + max(0, int(limit))
    except ValueError as err:
        raise problem.unexpected_value("limit", "use whole numbers.") from err
    return items[offset:end]


def _forms(project_id: int, *, reviewed_only: bool) -> dict[int, str]:
    """The project's forms (``?form=`` picks one, else 404.1) -> xmlFormId."""
    rows = db.session.execute(
        sa.select(Form.id, Form.xml_form_id).where(
            Form.project_id == project_id, Form.deleted_at.is_(None)
        )
    ).all()
    forms = dict(rows)
    wanted = request.args.get("form")
    if wanted:
        forms = {k: v for k, v in forms.items() if v == wanted}
        if not forms:
            raise problem.not_found()
    if reviewed_only:
        forms = {k: v for k, v in forms.items() if dedup.rules_for(v) is not None}
    return forms


def _communes(ids: t.Iterable[int]) -> dict[int, str | None]:
    """``submissions.id`` -> its commune code (what supervisors' scopes are made of)."""
    ordered = sorted(set(ids))
    out: dict[int, str | None] = {}
    for start in range(0, len(ordered), 500):
        out.update(
            db.session.execute(
                sa.select(Submission.id, Submission.commune).where(
                    Submission.id.in_(ordered[start : start + 500])
                )
            ).all()
        )
    return out


def _visible(scope: auth.Scope, groups: list[t.Any], ids: t.Callable) -> list[t.Any]:  # type: ignore[type-arg]
    """The groups (clusters, decisions) whose every member is in the caller's scope."""
    if scope.all_communes:
        return groups
    communes = _communes(m for g in groups for m in ids(g))
    return [g for g in groups if all(scope.sees(communes.get(m)) for m in ids(g))]


def _members(ids: t.Iterable[int], links: Forest) -> dict[int, dict[str, t.Any]]:
    """Member JSON by submission id: what the submissions list says, plus the link."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Submission, SubmissionDef.instance_name, Form.xml_form_id)
        .join(
            SubmissionDef,
            sa.and_(
                SubmissionDef.submission_id == Submission.id,
                SubmissionDef.current.is_(True),
            ),
        )
        .join(Form, Form.id == Submission.form_id)
        .where(Submission.id.in_(ids))
    ).all()
    actors = actors_by_id(sub.submitter_id for sub, _, _ in rows)
    roots = {i: links.root(i) for i in ids if i in links.parent}
    root_names = instance_ids(roots.values())
    out = {}
    for sub, name, xml_form_id in rows:
        submitter = actors.get(sub.submitter_id or -1)
        out[sub.id] = {
            "instanceId": sub.instance_id,
            "formId": xml_form_id,
            "createdAt": iso(sub.created_at),
            "submitterId": sub.submitter_id,
            "submitter": {"displayName": submitter.display_name} if submitter else None,
            "deviceId": sub.device_id,
            "instanceName": name,
            "reviewState": review_state(sub.review_state),
            "duplicateOf": root_names.get(roots[sub.id]) if sub.id in roots else None,
        }
    return out


def _reason(reason: t.Mapping[str, t.Any], lang: str) -> dict[str, t.Any]:
    text = reason.get("text") or {}
    return {
        "code": reason["code"],
        "field": reason["field"],
        "level": reason["level"],
        "weight": reason["weight"],
        "params": reason.get("params") or {},
        "text": text.get(lang) or text.get("en") or reason["code"],
    }


def _cluster_json(
    item: review.Pending, members: dict[int, dict[str, t.Any]], lang: str
) -> dict[str, t.Any]:
    def name(sub_id: int) -> str:
        return members[sub_id]["instanceId"]

    links = []
    for pair in item.pairs:
        reasons = [_reason(r, lang) for r in pair.reasons]
        links.append(
            {
                "a": name(pair.a),
                "b": name(pair.b),
                "score": round(pair.score, 4),
                "decision": pair.decision,
                "status": "pending" if pair.pending else "confirmed",
                "summary": ", ".join(
                    r["text"] for r in reasons if r["level"] != "missing"
                ),
                "reasons": reasons,
            }
        )
    first = members[item.member_ids[0]]
    return {
        "id": first["instanceId"],
        "formId": first["formId"],
        "decision": item.decision,
        "score": round(item.score, 4),
        "members": sorted(
            (members[m] for m in item.member_ids), key=lambda m: m["createdAt"] or ""
        ),
        "links": links,
    }


@bp.get(BASE)
def list_clusters(project_id: int) -> ResponseReturnValue:
    """Clusters awaiting a decision, the most certain first."""
    caller = require("submission.read", project_id)
    get_project(project_id)
    lang = _lang()
    pending, links = review.queue(list(_forms(project_id, reviewed_only=True)))
    pending = _visible(auth.scope(caller, project_id), pending, lambda c: c.member_ids)
    total = len(pending)
    pending = _page(pending)
    members = _members((m for c in pending for m in c.member_ids), links)
    body = [_cluster_json(c, members, lang) for c in pending]
    response = jsonify(body)
    response.headers["X-Total-Count"] = str(total)
    return response


def _decision_json(
    decision: DedupDecision, names: dict[int, str], forms: dict[int, str], actors: t.Any
) -> dict[str, t.Any]:
    actor = actors.get(decision.actor_id or -1)
    return {
        "id": decision.id,
        "verdict": decision.kind,
        "formId": forms.get(decision.form_id),
        "primary": names.get(decision.primary_id) if decision.primary_id else None,
        "members": [names.get(m) for m in decision.member_ids],
        "actorId": decision.actor_id,
        "actor": {"displayName": actor.display_name} if actor else None,
        "createdAt": iso(decision.created_at),
        "undoneAt": iso(decision.undone_at),
        "undoneBy": decision.undone_by,
    }


def _decisions_json(
    project_id: int, decisions: list[DedupDecision]
) -> list[dict[str, t.Any]]:
    names = instance_ids(m for d in decisions for m in d.member_ids)
    forms = dict(
        db.session.execute(
            sa.select(Form.id, Form.xml_form_id).where(Form.project_id == project_id)
        ).all()
    )
    actors = actors_by_id(d.actor_id for d in decisions)
    return [_decision_json(d, names, forms, actors) for d in decisions]


def _instance_ids(body: t.Mapping[str, t.Any], name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        raise problem.missing_parameter(name)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise problem.unexpected_value(name, "expected a list of instanceIds.")
    return list(dict.fromkeys(value))


@bp.post(f"{BASE}/decisions")
def create_decision(project_id: int) -> ResponseReturnValue:
    """Record a verdict: ``same`` (link to a primary) or ``different`` (never again)."""
    caller = require("submission.update", project_id)
    get_project(project_id)
    body = json_body()
    verdict = body.get("verdict")
    if verdict is None:
        raise problem.missing_parameter("verdict")
    if verdict not in review.VERDICTS:
        raise problem.unexpected_value("verdict", "use 'same' or 'different'.")
    form = body.get("formId")
    if form is not None and not isinstance(form, str):
        raise problem.unexpected_value("formId", "expected an xmlFormId.")
    members = _instance_ids(body, "members")
    if verdict == review.SAME:
        primary = body.get("primary")
        if primary is None:
            raise problem.missing_parameter("primary")
        if not isinstance(primary, str) or not primary:
            raise problem.unexpected_value("primary", "expected an instanceId.")
        names = list(dict.fromkeys([primary, *members]))
    else:
        names = members
    if len(names) < 2:
        raise problem.unexpected_value("members", "name at least two submissions.")
    in_scope = auth.scope(caller, project_id).condition(Submission.commune)
    form_id, ids = review.resolve_members(project_id, names, form, in_scope)
    try:
        if verdict == review.SAME:
            decision = review.decide_same(
                project_id, form_id, ids[primary], ids.values(), caller.actor_id
            )
        else:
            decision = review.decide_different(
                project_id, form_id, ids.values(), caller.actor_id
            )
        body_out = _decisions_json(project_id, [decision])[0]
        db.session.commit()
    except IntegrityError as err:  # another reviewer decided on one of them meanwhile
        db.session.rollback()
        raise problem.dedup_already_decided() from err
    return jsonify(body_out)


@bp.get(f"{BASE}/decisions")
def list_decisions(project_id: int) -> ResponseReturnValue:
    """Every decision of the project, newest first (undone ones say when and by whom)."""
    caller = require("submission.read", project_id)
    get_project(project_id)
    forms = (
        _forms(project_id, reviewed_only=False) if request.args.get("form") else None
    )
    found = _visible(
        auth.scope(caller, project_id),
        review.decisions(project_id, forms),
        lambda d: d.member_ids,
    )
    response = jsonify(_decisions_json(project_id, _page(found)))
    response.headers["X-Total-Count"] = str(len(found))
    return response


@bp.delete(f"{BASE}/decisions/<int:decision_id>")
def undo_decision(project_id: int, decision_id: int) -> ResponseReturnValue:
    """Undo a decision: its links or never-pairs go; the decision stays, marked."""
    caller = require("submission.update", project_id)
    get_project(project_id)
    decision = db.session.get(DedupDecision, decision_id)
    if decision is None or not _visible(
        auth.scope(caller, project_id), [decision], lambda d: d.member_ids
    ):
        raise problem.not_found()
    review.undo(project_id, decision_id, caller.actor_id)
    db.session.commit()
    return jsonify(success())
