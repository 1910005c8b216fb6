"""The "is a duplicate of" links reviewers made, and what indicators leave out.

A ``same`` decision links each non-primary member to the primary
(``dedup_links``). Links form a forest: a primary may later be linked to another
record, so the record a cluster counts as is the **root** of its tree. Indicators count
each tree once: the root when it is live, else the earliest live member (a deleted
primary must not make the event disappear from the counts).
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from server.db import db
from server.dedup_models import DedupDecision, DedupLink
from server.models import Submission

_CHUNK = 500


@dataclass
class Forest:
    """Links as ``submission -> primary`` with the decision that made each."""

    parent: dict[int, int] = field(default_factory=dict)
    decision: dict[int, int] = field(default_factory=dict)

    def root(self, node: int) -> int:
        """The record ``node`` counts as (itself when it is not linked)."""
        seen = set()
        while node in self.parent and node not in seen:
            seen.add(node)
            node = self.parent[node]
        return node

    def trees(self) -> dict[int, set[int]]:
        """Root -> every record in its tree (the root included)."""
        out: dict[int, set[int]] = {}
        for node in self.parent:
            root = self.root(node)
            out.setdefault(root, {root}).add(node)
        return out

    def tree(self, node: int) -> set[int]:
        """The records whose links lead to ``node`` (``node`` included)."""
        return {n for n in self.parent if self._leads_to(n, node)} | {node}

    def _leads_to(self, node: int, target: int) -> bool:
        seen = set()
        while node in self.parent and node not in seen:
            seen.add(node)
            node = self.parent[node]
            if node == target:
                return True
        return False


def forest(
    *, project_id: int | None = None, form_ids: Iterable[int] | None = None
) -> Forest:
    """The current links of a project or of some forms."""
    query = sa.select(
        DedupLink.submission_id, DedupLink.primary_id, DedupLink.decision_id
    ).join(DedupDecision, DedupDecision.id == DedupLink.decision_id)
    if project_id is not None:
        query = query.where(DedupDecision.project_id == project_id)
    if form_ids is not None:
        query = query.where(DedupDecision.form_id.in_(list(form_ids)))
    out = Forest()
    for sub, primary, decision in db.session.execute(query).all():
        out.parent[sub] = primary
        out.decision[sub] = decision
    return out


def _chunked(ids: Iterable[int]) -> t.Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def live(ids: Iterable[int]) -> set[int]:
    """Those of ``ids`` that are neither deleted nor drafts."""
    out: set[int] = set()
    for chunk in _chunked(ids):
        out |= set(
            db.session.execute(
                sa.select(Submission.id).where(
                    Submission.id.in_(chunk),
                    Submission.deleted_at.is_(None),
                    Submission.draft.is_(False),
                )
            ).scalars()
        )
    return out


def instance_ids(ids: Iterable[int]) -> dict[int, str]:
    """``submissions.id`` -> logical instanceId."""
    out: dict[int, str] = {}
    for chunk in _chunked(ids):
        out.update(
            db.session.execute(
                sa.select(Submission.id, Submission.instance_id).where(
                    Submission.id.in_(chunk)
                )
            ).all()
        )
    return out


def excluded(project_id: int) -> set[int]:
    """Live submissions left out of counts: every member of a tree but the counted one."""
    links = forest(project_id=project_id)
    if not links.parent:
        return set()
    trees = links.trees()
    alive = live(set().union(*trees.values()))
    out: set[int] = set()
    for root, members in trees.items():
        present = members & alive
        if not present:
            continue
        counted = root if root in present else min(present)
        out |= present - {counted}
    return out


def duplicate_of(form_id: int) -> dict[int, str]:
    """Linked submissions of a form -> instanceId of the record they count as."""
    links = forest(form_ids=[form_id])
    if not links.parent:
        return {}
    roots = {node: links.root(node) for node in links.parent}
    names = instance_ids(roots.values())
    return {node: names[root] for node, root in roots.items() if root in names}
