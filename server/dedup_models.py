"""Duplicate review tables: blocking keys, scored pairs, reviewers' decisions, links.

Submissions are named by their logical id (``submissions.id``), stable across edits:
an edit replaces that submission's keys and pairs. Nothing here ever deletes or merges
a submission; a ``same`` decision only adds ``dedup_links`` rows ("is a duplicate of"),
which indicators read to count each cluster once. Imported in ``server.models`` so
Alembic sees these tables (migration 0005).
"""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import db
from server.models import JsonType, Timestamp, utcnow

__all__ = [
    "DedupDecision",
    "DedupForm",
    "DedupKey",
    "DedupLink",
    "DedupNever",
    "DedupPair",
]


class DedupKey(db.Model):
    """A blocking key a submission is stored under (``pass:keyed-hash``, no values)."""

    __tablename__ = "dedup_keys"
    __table_args__ = (sa.Index(None, "form_id", "key"),)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id"), primary_key=True
    )
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"))


class DedupPair(db.Model):
    """A candidate pair the rules flagged (``match`` or ``possible``), with reasons."""

    __tablename__ = "dedup_pairs"
    __table_args__ = (
        sa.UniqueConstraint("a_id", "b_id"),
        sa.CheckConstraint("a_id < b_id", name="ordered"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"), index=True)
    a_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id"))
    b_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id"), index=True)
    score: Mapped[float] = mapped_column(sa.Float)
    decision: Mapped[str] = mapped_column(sa.String(16))  # match | possible
    # Reason.to_dict() of every comparison: code, field, level, weight, params, text.
    reasons: Mapped[list[dict[str, t.Any]]] = mapped_column(JsonType)
    rules: Mapped[str] = mapped_column(sa.String(32))  # RuleSet.fingerprint
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class DedupDecision(db.Model):
    """A reviewer's verdict on some submissions of one form; undone, never deleted."""

    __tablename__ = "dedup_decisions"
    __table_args__ = (sa.Index(None, "project_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"))
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))  # same | different
    primary_id: Mapped[int | None] = mapped_column(sa.ForeignKey("submissions.id"))
    member_ids: Mapped[list[int]] = mapped_column(JsonType)  # the primary included
    # The pairs' scores and reason codes when decided: labels for refitting weights.
    evidence: Mapped[list[dict[str, t.Any]] | None] = mapped_column(JsonType)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("actors.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    undone_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    undone_by: Mapped[int | None] = mapped_column(sa.ForeignKey("actors.id"))


class DedupLink(db.Model):
    """The current flag "this submission is a duplicate of that one" (a ``same``)."""

    __tablename__ = "dedup_links"
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id"), primary_key=True
    )
    primary_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id"), index=True)
    decision_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dedup_decisions.id"), index=True
    )


class DedupNever(db.Model):
    """A pair a reviewer said is not a duplicate: never proposed again (``a < b``)."""

    __tablename__ = "dedup_never"
    a_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id"), primary_key=True)
    b_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id"), primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dedup_decisions.id"), index=True
    )


class DedupForm(db.Model):
    """Per form: which blocking rules the stored keys were made with, last full scan."""

    __tablename__ = "dedup_forms"
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"), primary_key=True)
    blocking: Mapped[str] = mapped_column(sa.String(32))  # RuleSet.blocking_fingerprint
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    scanned_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
