"""The batch scan (``outreach dedup scan``): every key and pair of a form, recomputed.

One statement drops the form's keys and one its pairs; one streamed query (a
server-side cursor on PostgreSQL) reads the current XML of every live submission in
id order; each batch of records has its keys written in bulk (``COPY`` on
PostgreSQL, one ``executemany`` on SQLite) and goes on to ``sync.linkage.scan``,
which blocks and scores them in memory. Memory grows with the number of submissions
(one parsed copy each, held by the engine), never with the number of pairs, and no
batch of XML is kept once parsed.

The pairs are those of ``sync.linkage.scan`` over ``record_from_xml`` of each
current version (``tests/dedup/test_scan.py``): records go in in id order, so the
reasons of a pair read from ``a`` (the older submission) to ``b``, as the
incremental check stores them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import bindparam as p

from server.db import db
from server.dedup import instance
from server.dedup.check import INSERT_KEY, _insert_pairs, _lock
from server.dedup.rules import rules_for
from server.dedup_models import DedupForm, DedupKey, DedupPair
from server.models import Form, Submission, SubmissionDef, utcnow
from sync.linkage import MATCH, Record, RuleSet, ScoredPair, blocking_keys, scan

_keys, _pairs = DedupKey.__table__, DedupPair.__table__
_subs, _defs = Submission.__table__, SubmissionDef.__table__
_BATCH = 2000  # rows fetched, parsed and keyed at a time

CURRENT_XML_OF_FORM = (
    sa.select(_defs.c.submission_id, _defs.c.xml)
    .select_from(_defs.join(_subs, _subs.c.id == _defs.c.submission_id))
    .where(
        _subs.c.form_id == p("form_id"),
        _defs.c.current.is_(True),
        _subs.c.deleted_at.is_(None),
        _subs.c.draft.is_(False),
    )
    .order_by(_defs.c.submission_id)
)

KeyRow = tuple[int, str, int]  # submission_id, key, form_id


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Counts from one form's batch scan."""

    xml_form_id: str
    project_id: int
    records: int
    keys: int
    oversized_keys: int
    candidates: int
    matches: int
    possibles: int
    seconds: float


def scan_form(form_id: int) -> ScanResult | None:
    """Recompute every key and pair of one form (None: the form has no rules)."""
    form = db.session.get(Form, form_id)
    rules = rules_for(form.xml_form_id) if form else None
    if form is None or rules is None:
        return None
    started = time.perf_counter()
    conn = db.session.connection()
    _lock(form_id)
    conn.execute(sa.delete(_keys).where(_keys.c.form_id == form_id))
    conn.execute(sa.delete(_pairs).where(_pairs.c.form_id == form_id))
    keyed = _Keyed(conn, form_id, rules)
    stats: dict[str, int] = {}
    counts = {"match": 0, "possible": 0}

    def counted(pairs: Iterable[ScoredPair]) -> Iterator[ScoredPair]:
        for pair in pairs:
            counts["match" if pair.match.decision == MATCH else "possible"] += 1
            yield pair

    _insert_pairs(form_id, counted(scan(keyed.records(), rules, stats=stats)), rules)
    _record_scan(form_id, rules)
    return ScanResult(
        xml_form_id=form.xml_form_id,
        project_id=form.project_id,
        records=stats.get("records", 0),
        keys=keyed.count,
        oversized_keys=stats.get("oversized_keys", 0),
        candidates=stats.get("candidates", 0),
        matches=counts["match"],
        possibles=counts["possible"],
        seconds=time.perf_counter() - started,
    )


class _Keyed:
    """The form's records, streamed in id order; their keys written on the way."""

    def __init__(self, conn: sa.Connection, form_id: int, rules: RuleSet):
        self.conn, self.form_id, self.rules = conn, form_id, rules
        self.count = 0
        self._write = _key_writer(conn)

    def records(self) -> Iterator[Record]:
        """Every record, once; keys of a batch are stored before it is yielded."""
        rows = self.conn.execute(
            CURRENT_XML_OF_FORM,
            {"form_id": self.form_id},
            execution_options={"yield_per": _BATCH},
        )
        rules, form_id = self.rules, self.form_id
        for part in rows.partitions():
            batch = [instance.record(xml, rules, sid) for sid, xml in part]
            keys = [
                (int(r.record_id), key, form_id)
                for r in batch
                for key in blocking_keys(r, rules)
            ]
            if keys:
                self._write(keys)
                self.count += len(keys)
            yield from batch


def _key_writer(conn: sa.Connection) -> Callable[[list[KeyRow]], None]:
    """Bulk insert of key rows: ``COPY`` on PostgreSQL, else one ``executemany``."""
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        sql = "COPY dedup_keys (submission_id, key, form_id) FROM STDIN"

        def copy(rows: list[KeyRow]) -> None:
            with driver.cursor() as cursor, cursor.copy(sql) as out:  # type: ignore[union-attr]
                for row in rows:
                    out.write_row(row)

        return copy

    def insert(rows: list[KeyRow]) -> None:
        conn.execute(
            INSERT_KEY,
            [{"submission_id": s, "key": k, "form_id": f} for s, k, f in rows],
        )

    return insert


def _record_scan(form_id: int, rules: RuleSet) -> None:
    now = utcnow()
    updated = db.session.execute(
        sa.update(DedupForm)
        .where(DedupForm.form_id == form_id)
        .values(blocking=rules.blocking_fingerprint, scanned_at=now)
    )
    if not updated.rowcount:
        db.session.execute(
            sa.insert(DedupForm).values(
                form_id=form_id,
                blocking=rules.blocking_fingerprint,
                created_at=now,
                scanned_at=now,
            )
        )
