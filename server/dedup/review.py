"""The supervisor's merge queue: clusters awaiting a decision, decisions, undo.

The queue is computed when read: ``sync.linkage.cluster`` over the stored pairs of
live submissions, with the ``same`` links as confirmed edges and the ``never`` pairs
as cannot-link constraints. A cluster waits for a decision while one of its pairs
joins two records that no decision has put together yet.

Decisions never change a submission. ``same`` links every other member to the
primary (``dedup_links``); ``different`` records every pair of members in
``dedup_never``. Undo removes exactly the rows the decision made and stamps it
``undone_at``; decisions themselves are never deleted. Every decision and undo is
audited (ids only). Nothing here commits.
"""

from __future__ import annotations

import itertools
import typing as t
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from server import audit, problem
from server.db import db
from server.dedup.links import Forest, forest, instance_ids, live
from server.dedup_models import DedupDecision, DedupLink, DedupNever, DedupPair
from server.models import Form, Submission, utcnow
from sync.linkage import cluster

SAME, DIFFERENT = "same", "different"
VERDICTS = (SAME, DIFFERENT)


@dataclass(frozen=True, slots=True)
class Pair:
    """A stored pair: submission ids ``a < b``, its verdict and reasons."""

    a: int
    b: int
    score: float
    decision: str
    reasons: list[dict[str, t.Any]]
    rules: str
    pending: bool


@dataclass(frozen=True, slots=True)
class Pending:
    """A cluster awaiting a decision."""

    form_id: int
    member_ids: tuple[int, ...]
    decision: str  # match | possible (its weakest link)
    score: float  # its best undecided pair
    pairs: tuple[Pair, ...] = field(default=())


# --- the queue ----------------------------------------------------------------------


def _never_pairs(form_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    rows = db.session.execute(
        sa.select(DedupNever.a_id, DedupNever.b_id, DedupNever.decision_id)
        .join(DedupDecision, DedupDecision.id == DedupNever.decision_id)
        .where(DedupDecision.form_id.in_(list(form_ids)))
    ).all()
    return {(a, b): decision for a, b, decision in rows}


def _pairs(form_ids: Iterable[int]) -> list[t.Any]:
    sub_a, sub_b = aliased(Submission), aliased(Submission)
    return list(
        db.session.execute(
            sa.select(
                DedupPair.form_id,
                DedupPair.a_id,
                DedupPair.b_id,
                DedupPair.score,
                DedupPair.decision,
                DedupPair.reasons,
                DedupPair.rules,
            )
            .join(sub_a, sub_a.id == DedupPair.a_id)
            .join(sub_b, sub_b.id == DedupPair.b_id)
            .where(
                DedupPair.form_id.in_(list(form_ids)),
                sub_a.deleted_at.is_(None),
                sub_b.deleted_at.is_(None),
            )
        ).all()
    )


def queue(form_ids: Sequence[int]) -> tuple[list[Pending], Forest]:
    """Clusters awaiting a decision in these forms, best first; and the links."""
    if not form_ids:
        return [], Forest()
    links = forest(form_ids=form_ids)
    never = _never_pairs(form_ids)
    rows = _pairs(form_ids)
    alive = live({*links.parent, *links.parent.values()})
    clusters = cluster(
        [(str(r.a_id), str(r.b_id), r.decision, r.score) for r in rows],
        same=[
            (str(a), str(b))
            for a, b in links.parent.items()
            if a in alive and b in alive
        ],
        never=[(str(a), str(b)) for a, b in never],
    )
    where = {int(m): i for i, c in enumerate(clusters) for m in c.record_ids}
    inside: dict[int, list[Pair]] = {}
    forms: dict[int, int] = {}
    for r in rows:
        i = where.get(r.a_id)
        if i is None or where.get(r.b_id) != i or (r.a_id, r.b_id) in never:
            continue
        pending = links.root(r.a_id) != links.root(r.b_id)
        pair = Pair(r.a_id, r.b_id, r.score, r.decision, r.reasons, r.rules, pending)
        inside.setdefault(i, []).append(pair)
        forms[i] = r.form_id
    out = []
    for i, found in inside.items():
        waiting = [p for p in found if p.pending]
        if not waiting:
            continue
        found.sort(key=lambda p: (not p.pending, -p.score, p.a, p.b))
        out.append(
            Pending(
                form_id=forms[i],
                member_ids=tuple(sorted(int(m) for m in clusters[i].record_ids)),
                decision=clusters[i].decision,
                score=max(p.score for p in waiting),
                pairs=tuple(found),
            )
        )
    out.sort(key=lambda c: (-c.score, c.member_ids[0]))
    return out, links


# --- decisions ----------------------------------------------------------------------


def resolve_members(
    project_id: int,
    names: Sequence[str],
    xml_form_id: str | None = None,
    in_scope: t.Any = None,
) -> tuple[int, dict[str, int]]:
    """(forms.id, instanceId -> submissions.id) for live submissions of one form.

    ``in_scope`` is a SQL condition on ``submissions`` (the caller's communes): a
    submission outside it is not found, as everywhere else.

    :raises Problem: 404.1 for an unknown instanceId; 400.8 when the members span
        forms or an instanceId is in several forms and ``xml_form_id`` is not given.
    """
    query = (
        sa.select(Submission.id, Submission.instance_id, Submission.form_id)
        .join(Form, Form.id == Submission.form_id)
        .where(
            Form.project_id == project_id,
            Form.deleted_at.is_(None),
            Submission.instance_id.in_(list(set(names))),
            Submission.draft.is_(False),
            Submission.deleted_at.is_(None),
        )
    )
    if xml_form_id is not None:
        query = query.where(Form.xml_form_id == xml_form_id)
    if in_scope is not None:
        query = query.where(in_scope)
    found: dict[str, list[tuple[int, int]]] = {}
    for sub_id, name, form_id in db.session.execute(query).all():
        found.setdefault(name, []).append((sub_id, form_id))
    ids, forms = {}, set()
    for name in names:
        rows = found.get(name)
        if not rows:
            raise problem.submission_not_found(name)
        if len(rows) > 1:
            raise problem.unexpected_value(
                "members",
                f"instanceId {name!r} is in several forms; name the form in formId.",
            )
        ids[name] = rows[0][0]
        forms.add(rows[0][1])
    if len(forms) != 1:
        raise problem.unexpected_value("members", "all members must be of one form.")
    return forms.pop(), ids


def _evidence(ids: Iterable[int]) -> list[dict[str, t.Any]]:
    """The stored pairs among ``ids``: scores and reason levels (labels for refits)."""
    wanted = sorted(set(ids))
    rows = db.session.execute(
        sa.select(
            DedupPair.a_id,
            DedupPair.b_id,
            DedupPair.score,
            DedupPair.decision,
            DedupPair.reasons,
            DedupPair.rules,
        ).where(DedupPair.a_id.in_(wanted), DedupPair.b_id.in_(wanted))
    ).all()
    return [
        {
            "a": a,
            "b": b,
            "score": score,
            "decision": decision,
            "rules": rules,
            "levels": {r["field"]: r["level"] for r in reasons},
        }
        for a, b, score, decision, reasons, rules in rows
    ]


def _add_decision(
    project_id: int,
    form_id: int,
    kind: str,
    primary: int | None,
    members: Iterable[int],
    actor_id: int | None,
) -> DedupDecision:
    ids = sorted(set(members))
    decision = DedupDecision(
        project_id=project_id,
        form_id=form_id,
        kind=kind,
        primary_id=primary,
        member_ids=ids,
        evidence=_evidence(ids),
        actor_id=actor_id,
        created_at=utcnow(),
    )
    db.session.add(decision)
    db.session.flush()
    audit.log(
        "dedup.decision.create",
        "dedup_decision",
        decision.id,
        actor_id=actor_id,
        details={
            "verdict": kind,
            "formId": form_id,
            "primary": primary,
            "members": ids,
        },
    )
    return decision


def decide_same(
    project_id: int,
    form_id: int,
    primary: int,
    members: Iterable[int],
    actor_id: int | None,
) -> DedupDecision:
    """Link every member to ``primary``; refused when it contradicts a decision."""
    links = forest(form_ids=[form_id])
    if primary in links.parent:
        names = instance_ids([primary, links.root(primary)])
        raise problem.dedup_primary_is_duplicate(
            names[primary], names[links.root(primary)], links.decision[primary]
        )
    new = []
    for member in sorted(set(members) - {primary}):
        if member in links.parent:
            if links.root(member) == primary:
                continue  # already in the primary's cluster
            names = instance_ids([member, links.root(member)])
            raise problem.dedup_member_is_duplicate(
                names[member], names[links.root(member)], links.decision[member]
            )
        new.append(member)
    if not new:
        raise problem.dedup_already_decided()
    group = links.tree(primary).union(*(links.tree(m) for m in new))
    never = _never_pairs([form_id])
    for (a, b), decision_id in sorted(never.items()):
        if a in group and b in group:
            names = instance_ids([a, b])
            raise problem.dedup_marked_different(names[a], names[b], decision_id)
    decision = _add_decision(
        project_id, form_id, SAME, primary, [primary, *new], actor_id
    )
    db.session.execute(
        sa.insert(DedupLink),
        [
            {"submission_id": m, "primary_id": primary, "decision_id": decision.id}
            for m in new
        ],
    )
    return decision


def decide_different(
    project_id: int, form_id: int, members: Iterable[int], actor_id: int | None
) -> DedupDecision:
    """Mark every pair of members as not duplicates: never proposed again."""
    links = forest(form_ids=[form_id])
    never = _never_pairs([form_id])
    ids = sorted(set(members))
    new = []
    for a, b in itertools.combinations(ids, 2):
        if links.root(a) == links.root(b):
            names = instance_ids([a, b])
            linked = a if a in links.parent else b
            raise problem.dedup_marked_same(names[a], names[b], links.decision[linked])
        if (a, b) not in never:
            new.append((a, b))
    if not new:
        raise problem.dedup_already_decided()
    decision = _add_decision(project_id, form_id, DIFFERENT, None, ids, actor_id)
    db.session.execute(
        sa.insert(DedupNever),
        [{"a_id": a, "b_id": b, "decision_id": decision.id} for a, b in new],
    )
    return decision


def undo(project_id: int, decision_id: int, actor_id: int | None) -> DedupDecision:
    """Remove what a decision made; the decision stays, stamped ``undone_at``."""
    decision = db.session.get(DedupDecision, decision_id)
    if decision is None or decision.project_id != project_id:
        raise problem.not_found()
    if decision.undone_at is not None:
        raise problem.dedup_already_undone(decision_id)
    db.session.execute(sa.delete(DedupLink).where(DedupLink.decision_id == decision_id))
    db.session.execute(
        sa.delete(DedupNever).where(DedupNever.decision_id == decision_id)
    )
    decision.undone_at = utcnow()
    decision.undone_by = actor_id
    audit.log(
        "dedup.decision.undo",
        "dedup_decision",
        decision_id,
        actor_id=actor_id,
        details={"verdict": decision.kind, "formId": decision.form_id},
    )
    return decision


def decisions(
    project_id: int, form_ids: Mapping[int, str] | None = None
) -> list[DedupDecision]:
    """A project's decisions (undone ones too), newest first."""
    query = sa.select(DedupDecision).where(DedupDecision.project_id == project_id)
    if form_ids is not None:
        query = query.where(DedupDecision.form_id.in_(list(form_ids)))
    return list(db.session.execute(query.order_by(DedupDecision.id.desc())).scalars())
