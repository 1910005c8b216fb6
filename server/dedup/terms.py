"""Term counts per form, for the linkage engine's term-frequency adjustment.

A rule set with ``tf`` tables (victim_case: the name, and the linkage code within a
commune) weighs an agreement on a common value less than on a rare one
(:mod:`sync.linkage.frequency`): "Nguyễn Thị Hoa" twice is weaker evidence than
"Zơrâm Thị Pết" twice. The engine needs to know how often each value occurs among
the form's records. The batch scan counts them itself. For the incremental check they
come from here:

* counted once per process from the current versions of the form's live submissions,
* kept up to date with every submission this process checks,
* counted again after ``MAX_AGE`` seconds, which takes in what other processes checked,
  edits and deletions.

The counts hold names and codes, so they stay in this process's memory and are never
stored or logged. Forms whose rule set has no ``tf`` table cost nothing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import current_app

from server.db import db
from server.dedup import instance
from sync.linkage import Record, RuleSet, TermCounts

MAX_AGE = 600.0  # seconds before a process counts a form's terms again
_EXTENSION = "outreach.dedup.terms"
_BATCH = 2_000


def uses_terms(rules: RuleSet) -> bool:
    """Whether any comparison of the rule set is adjusted for term frequency."""
    return any(c.tf is not None for c in rules.comparisons)


@dataclass(slots=True)
class _Entry:
    counts: TermCounts
    built: float
    counted: set[int] = field(default_factory=set)  # submission ids in ``counts``


@dataclass(slots=True)
class _Cache:
    entries: dict[tuple[int, str], _Entry] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def counts_for(form_id: int, rules: RuleSet, record: Record) -> TermCounts | None:
    """The form's term counts, ``record`` included; None if the rules use none."""
    if not uses_terms(rules):
        return None
    cache: _Cache = current_app.extensions.setdefault(_EXTENSION, _Cache())
    key = (form_id, rules.fingerprint)
    with cache.lock:
        entry = cache.entries.get(key)
        if entry is None or time.monotonic() - entry.built > MAX_AGE:
            entry = cache.entries[key] = _count(form_id, rules)
        submission_id = int(record.record_id)
        if submission_id not in entry.counted:
            entry.counts.add(record)
            entry.counted.add(submission_id)
        return entry.counts


def _count(form_id: int, rules: RuleSet) -> _Entry:
    # scan.py imports check.py, which imports this module: import the query late.
    from server.dedup.scan import CURRENT_XML_OF_FORM

    entry = _Entry(TermCounts(rules), time.monotonic())
    rows = db.session.connection().execute(
        CURRENT_XML_OF_FORM,
        {"form_id": form_id},
        execution_options={"yield_per": _BATCH},
    )
    for submission_id, xml in rows:
        entry.counts.add(instance.record(xml, rules, submission_id))
        entry.counted.add(submission_id)
    return entry
