"""``outreach dedup scan`` and ``outreach dedup status``: the batch side of dedup."""

from __future__ import annotations

import typing as t

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from server.cli import _fail, main
from server.db import db
from server.dedup import JOB_KIND
from server.dedup.rules import rule_sets, rules_dir
from server.dedup.scan import scan_form
from server.dedup_models import DedupForm, DedupKey, DedupPair
from server.models import Form, Job, Submission, SubmissionDef


@main.group("dedup")
def dedup_group() -> None:
    """Duplicates that IDs cannot catch: stored keys and candidate pairs."""


def _forms(xml_form_id: str | None, project_id: int | None) -> list[t.Any]:
    """Live forms that have a rule set, filtered; fails when none is left."""
    rules = rule_sets()
    if not rules:
        _fail(f"no dedup rule sets in {rules_dir(current_app.config)}")
    query = sa.select(Form.id, Form.project_id, Form.xml_form_id).where(
        Form.deleted_at.is_(None), Form.xml_form_id.in_(sorted(rules))
    )
    if xml_form_id:
        query = query.where(Form.xml_form_id == xml_form_id)
    if project_id is not None:
        query = query.where(Form.project_id == project_id)
    forms = list(db.session.execute(query.order_by(Form.project_id, Form.id)).all())
    if not forms:
        _fail(
            "no published form with a dedup rule set matches "
            f"(rule sets: {', '.join(sorted(rules))})"
        )
    return forms


@dedup_group.command("scan")
@click.option("--form", "xml_form_id", help="Only this form (xmlFormId).")
@click.option("--project", "project_id", type=int, help="Only this project.")
@with_appcontext
def scan(xml_form_id: str | None, project_id: int | None) -> None:
    """Recompute every stored key and candidate pair (after a rule change, or once
    for submissions stored before dedup was set up). Decisions are kept."""
    click.echo(
        f"{'project':>7}  {'form':<18}{'records':>9}{'keys':>9}{'oversized':>10}"
        f"{'candidates':>12}{'match':>7}{'possible':>9}{'seconds':>9}"
    )
    for form_id, _project, _name in _forms(xml_form_id, project_id):
        result = scan_form(form_id)
        db.session.commit()
        if result is None:
            continue
        click.echo(
            f"{result.project_id:>7}  {result.xml_form_id:<18}{result.records:>9,}"
            f"{result.keys:>9,}{result.oversized_keys:>10,}{result.candidates:>12,}"
            f"{result.matches:>7,}{result.possibles:>9,}{result.seconds:>9.1f}"
        )


@dedup_group.command("status")
@click.option("--form", "xml_form_id", help="Only this form (xmlFormId).")
@click.option("--project", "project_id", type=int, help="Only this project.")
@with_appcontext
def status(xml_form_id: str | None, project_id: int | None) -> None:
    """Per form: submissions, keyed ones, pairs, and whether a scan is needed."""
    rules = rule_sets()
    click.echo(
        f"{'project':>7}  {'form':<18}{'records':>9}{'keyed':>9}{'pairs':>8}"
        f"{'old rules':>10}  scan needed"
    )
    for form_id, project, name in _forms(xml_form_id, project_id):
        current = rules[name]
        records = db.session.scalar(
            sa.select(sa.func.count()).where(
                Submission.form_id == form_id,
                Submission.draft.is_(False),
                Submission.deleted_at.is_(None),
            )
        )
        keyed = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(DedupKey.submission_id))).where(
                DedupKey.form_id == form_id
            )
        )
        pairs, old = db.session.execute(
            sa.select(
                sa.func.count(),
                sa.func.count().filter(DedupPair.rules != current.fingerprint),
            ).where(DedupPair.form_id == form_id)
        ).one()
        state = db.session.get(DedupForm, form_id)
        unchecked = _unchecked(form_id, state.scanned_at if state else None)
        if state is not None and state.blocking != current.blocking_fingerprint:
            why = "yes: blocking rules changed"
        elif old:
            why = "yes: scores from older rules"
        elif unchecked:
            why = f"yes: {unchecked:,} never checked"
        else:
            why = "no"
        click.echo(
            f"{project:>7}  {name:<18}{records:>9,}{keyed:>9,}{pairs:>8,}{old:>10,}"
            f"  {why}"
        )


def _unchecked(form_id: int, scanned_at: t.Any) -> int:
    """Live submissions no check job ever saw (stored before dedup was set up),
    and not covered by a scan."""
    checked = (
        sa.select(SubmissionDef.submission_id)
        .join(Job, Job.submission_def_id == SubmissionDef.id)
        .where(Job.kind == JOB_KIND, SubmissionDef.form_id == form_id)
    )
    query = sa.select(sa.func.count()).where(
        Submission.form_id == form_id,
        Submission.draft.is_(False),
        Submission.deleted_at.is_(None),
        Submission.id.not_in(checked),
    )
    if scanned_at is not None:
        query = query.where(Submission.created_at > scanned_at)
    return int(db.session.scalar(query) or 0)
