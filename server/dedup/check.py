"""Find candidate duplicates: one arriving submission (a job), or a whole form (batch).

**Incremental** (:func:`check_submission`, the ``dedup.check`` job ingest enqueues for
every new or edited version): build the record from the current version's XML,
replace its rows in ``dedup_keys``, look up the submissions stored under its probe
keys (one indexed query; keys shared by more than the rule set's ``max_block``
submissions are skipped, as the engine does), score it against them and replace its
rows in ``dedup_pairs``. An edit therefore replaces the submission's keys and pairs.

**Batch**: ``server.dedup.scan`` (``outreach dedup scan``) shares the statements
and the pair rows defined here.

Pairs are stored whatever reviewers decided: the queue leaves out decided and
"never" pairs when it reads them, so undoing a decision brings its pairs back
without a rescan. Nothing here touches a submission.
"""

from __future__ import annotations

import itertools
import logging
import typing as t
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import bindparam as p

from server.db import db
from server.dedup import instance, terms
from server.dedup.rules import noted_forms, rules_for, xml_form_id
from server.dedup_models import DedupForm, DedupKey, DedupPair
from server.models import Submission, SubmissionDef, utcnow
from sync.linkage import (
    Record,
    RuleSet,
    ScoredPair,
    TermCounts,
    blocking_keys,
    probe_keys,
    score,
    score_against,
)

log = logging.getLogger("outreach.dedup")

_keys, _pairs = DedupKey.__table__, DedupPair.__table__
_subs, _defs = Submission.__table__, SubmissionDef.__table__
_CHUNK = 500
_LOCK_CLASS = 0x6464  # "dd": PostgreSQL advisory lock namespace, one lock per form

# Prebuilt statements of the incremental check (it runs for every arrival).
KEY_COUNTS = (
    sa.select(_keys.c.key, sa.func.count())
    .where(_keys.c.form_id == p("form_id"), _keys.c.key.in_(p("keys", expanding=True)))
    .group_by(_keys.c.key)
)
CANDIDATES = (
    sa.select(_keys.c.submission_id)
    .where(_keys.c.form_id == p("form_id"), _keys.c.key.in_(p("keys", expanding=True)))
    .distinct()
)
CURRENT_XML = (
    sa.select(_defs.c.submission_id, _defs.c.xml)
    .select_from(_defs.join(_subs, _subs.c.id == _defs.c.submission_id))
    .where(
        _defs.c.submission_id.in_(p("ids", expanding=True)),
        _defs.c.current.is_(True),
        _subs.c.deleted_at.is_(None),
        _subs.c.draft.is_(False),
    )
)
VERSION_OF = sa.select(_defs.c.submission_id).where(_defs.c.id == p("def_id"))
SUBMISSION = sa.select(_subs.c.form_id, _subs.c.draft, _subs.c.deleted_at).where(
    _subs.c.id == p("submission_id")
)
KEY_RULES = sa.select(DedupForm.__table__.c.blocking).where(
    DedupForm.__table__.c.form_id == p("form_id")
)
DELETE_KEYS = sa.delete(_keys).where(_keys.c.submission_id == p("submission_id"))
DELETE_PAIRS = sa.delete(_pairs).where(
    sa.or_(_pairs.c.a_id == p("submission_id"), _pairs.c.b_id == p("submission_id"))
)
INSERT_KEY = sa.insert(_keys)
INSERT_PAIR = sa.insert(_pairs)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one incremental check did."""

    submission_id: int
    keys: int
    candidates: int
    pairs: int


def check_version(submission_def_id: int) -> CheckResult | None:
    """The job: check the submission a stored version belongs to (its current one)."""
    submission_id = (
        db.session.connection()
        .execute(VERSION_OF, {"def_id": submission_def_id})
        .scalar()
    )
    return None if submission_id is None else check_submission(submission_id)


def check_submission(submission_id: int) -> CheckResult | None:
    """Replace one submission's keys and pairs (None: no rules, draft or deleted)."""
    conn = db.session.connection()
    sub = conn.execute(SUBMISSION, {"submission_id": submission_id}).first()
    if sub is None or sub.draft or sub.deleted_at is not None:
        return None
    name = xml_form_id(sub.form_id)
    rules = rules_for(name) if name else None
    if rules is None:
        return None
    _lock(sub.form_id)
    _note_rules(sub.form_id, rules)
    loaded = _records([submission_id], rules)
    conn.execute(DELETE_KEYS, {"submission_id": submission_id})
    conn.execute(DELETE_PAIRS, {"submission_id": submission_id})
    if not loaded:
        return CheckResult(submission_id, 0, 0, 0)
    record = loaded[0]
    keys = blocking_keys(record, rules)
    if keys:
        conn.execute(
            INSERT_KEY,
            [
                {"submission_id": submission_id, "key": k, "form_id": sub.form_id}
                for k in keys
            ],
        )
    ids = candidate_ids(sub.form_id, probe_keys(record, rules), rules.max_block)
    ids.discard(submission_id)
    candidates = _records(sorted(ids), rules) if ids else []
    counts = terms.counts_for(sub.form_id, rules, record)
    scored = _oriented(
        record,
        candidates,
        score_against(record, candidates, rules, counts=counts),
        rules,
        counts,
    )
    _insert_pairs(sub.form_id, scored, rules)
    return CheckResult(submission_id, len(keys), len(candidates), len(scored))


def candidate_ids(form_id: int, probes: Iterable[str], max_block: int) -> set[int]:
    """Submissions stored under any probe key shared by at most ``max_block`` of them."""
    probes = sorted(probes)
    if not probes:
        return set()
    conn = db.session.connection()
    usable = [
        key
        for key, count in conn.execute(
            KEY_COUNTS, {"form_id": form_id, "keys": probes}
        ).all()
        if count <= max_block
    ]
    if not usable:
        return set()
    return set(conn.execute(CANDIDATES, {"form_id": form_id, "keys": usable}).scalars())


def _lock(form_id: int) -> None:
    """Serialise checks of one form: two near-duplicates arriving at once must see
    each other's keys. SQLite already serialises writers."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:a, :b)"),
            {"a": _LOCK_CLASS, "b": form_id},
        )


def _note_rules(form_id: int, rules: RuleSet) -> None:
    """Remember the blocking rules of the first keys stored; warn when they changed."""
    noted = noted_forms()
    if form_id in noted:
        return
    conn = db.session.connection()
    stored = conn.execute(KEY_RULES, {"form_id": form_id}).scalar()
    if stored is None:
        conn.execute(
            sa.insert(DedupForm).values(
                form_id=form_id,
                blocking=rules.blocking_fingerprint,
                created_at=utcnow(),
            )
        )
    elif stored != rules.blocking_fingerprint:
        log.warning(
            "dedup keys of %s were made with other blocking rules: run "
            "`outreach dedup scan --form %s`",
            rules.form_id,
            rules.form_id,
        )
    else:  # committed and current: no need to look again in this process
        noted.add(form_id)


def _oriented(
    new: Record,
    candidates: list[Record],
    pairs: list[ScoredPair],
    rules: RuleSet,
    counts: TermCounts | None = None,
) -> list[ScoredPair]:
    """Pairs whose reasons read from ``a`` (the older submission) to ``b``.

    ``score_against`` explains each pair from the new record's side ("42 vs 45"),
    while a stored pair is ``a < b``; the few pairs where the new record is ``b`` are
    scored again the other way round, so ``params.a`` always describes ``a_id``.
    """
    if not pairs:
        return pairs
    by_id = {c.record_id: c for c in candidates}
    out = []
    for pair in pairs:
        if pair.a == new.record_id:
            out.append(pair)
        else:
            other = by_id[pair.a]
            out.append(
                ScoredPair(pair.a, pair.b, score(other, new, rules, counts=counts))
            )
    return out


def _records(ids: t.Sequence[int], rules: RuleSet) -> list[Record]:
    """Records of the current versions of live submissions, in chunks."""
    conn = db.session.connection()
    out = []
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(CURRENT_XML, {"ids": list(ids[start : start + _CHUNK])})
        out += [instance.record(xml, rules, sid) for sid, xml in rows.all()]
    return out


def _pair_row(form_id: int, pair: ScoredPair, fingerprint: str, now: t.Any) -> dict:  # type: ignore[type-arg]
    a, b = int(pair.a), int(pair.b)
    return {
        "form_id": form_id,
        "a_id": a,
        "b_id": b,
        "score": round(pair.match.score, 6),
        "decision": pair.match.decision,
        "reasons": [reason.to_dict() for reason in pair.match.reasons],
        "rules": fingerprint,
        "created_at": now,
        "updated_at": now,
    }


def _insert_pairs(form_id: int, pairs: Iterable[ScoredPair], rules: RuleSet) -> int:
    now = utcnow()
    fingerprint = (
        rules.fingerprint
    )  # a digest of the whole rule set: once, not per pair
    conn = db.session.connection()
    count = 0
    rows = (_pair_row(form_id, pair, fingerprint, now) for pair in pairs)
    for batch in _batched(rows, 1000):
        conn.execute(INSERT_PAIR, batch)
        count += len(batch)
    return count


def _batched(items: Iterable[t.Any], size: int) -> Iterator[list[t.Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
