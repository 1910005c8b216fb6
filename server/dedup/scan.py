"""The batch scan (``outreach dedup scan``): every key and pair of a form, recomputed.

One statement drops the form's pairs; one streamed query (a server-side cursor on
PostgreSQL) reads the current XML of every live submission in id order; each batch
of records has its keys brought up to date (only those that changed are deleted and
written, in bulk: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite) and goes on
to ``sync.linkage.scan``, which blocks and scores them in memory. Memory grows with
the number of submissions (one parsed copy each, held by the engine), never with the
number of pairs, and no batch of XML is kept once parsed.

On PostgreSQL the XML and the stored keys are read over a second connection while a
thread writes on the scan's own, so the scan sees committed submissions only (the
command commits before each form; a caller must too). Checks of the form wait on
its advisory lock meanwhile, so no key of the form changes under the scan.

The pairs are those of ``sync.linkage.scan`` over ``record_from_xml`` of each
current version (``tests/dedup/test_scan.py``): records go in in id order, so the
reasons of a pair read from ``a`` (the older submission) to ``b``, as the
incremental check stores them.
"""

from __future__ import annotations

import queue
import threading
import time
import typing as t
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import bindparam as p

from server.db import db
from server.dedup import instance, terms
from server.dedup.check import _insert_pairs, _lock
from server.dedup.rules import rules_for
from server.dedup_models import DedupForm, DedupKey, DedupPair
from server.models import Form, Submission, SubmissionDef, utcnow
from sync.linkage import MATCH, Record, RuleSet, ScoredPair, blocking_keys, scan

_keys, _pairs = DedupKey.__table__, DedupPair.__table__
_subs, _defs = Submission.__table__, SubmissionDef.__table__
_BATCH = 2000  # rows fetched, parsed and keyed at a time

# As an IN (subquery), not a join: SQLite then walks submission_defs by its
# (submission_id, current) index in order instead of sorting every XML document in a
# temporary b-tree (0.3 s instead of 0.7 s warm, 0.6 s instead of 1.6 s cold, for
# 101,000); PostgreSQL merges both primary-key orders either way.
CURRENT_XML_OF_FORM = (
    sa.select(_defs.c.submission_id, _defs.c.xml)
    .where(
        _defs.c.current.is_(True),
        _defs.c.submission_id.in_(
            sa.select(_subs.c.id).where(
                _subs.c.form_id == p("form_id"),
                _subs.c.deleted_at.is_(None),
                _subs.c.draft.is_(False),
            )
        ),
    )
    .order_by(_defs.c.submission_id)
)

# By submission id alone (a submission belongs to one form): the primary key's
# range, where SQLite would otherwise walk every key of the form through
# (form_id, key) for each batch.
STORED_KEYS = sa.select(_keys.c.submission_id, _keys.c.key).where(
    _keys.c.submission_id > p("after"), _keys.c.submission_id <= p("upto")
)
DELETE_KEYS_OF = sa.delete(_keys).where(
    _keys.c.submission_id.in_(p("ids", expanding=True))
)
DELETE_KEYS_AFTER = sa.delete(_keys).where(
    _keys.c.form_id == p("form_id"), _keys.c.submission_id > p("after")
)
# SQLite's executemany straight from tuples (no parameter dicts to build and read)
INSERT_KEY_SQL = "INSERT INTO dedup_keys (submission_id, key, form_id) VALUES (?, ?, ?)"
# The same three on PostgreSQL, run by the writer thread on the driver connection
_PG_COPY_KEYS = "COPY dedup_keys (submission_id, key, form_id) FROM STDIN"
_PG_DELETE_KEYS_OF = "DELETE FROM dedup_keys WHERE submission_id = ANY(%s)"
_PG_DELETE_KEYS_AFTER = (
    "DELETE FROM dedup_keys WHERE form_id = %s AND submission_id > %s"
)

KeyRow = tuple[int, str, int]  # submission_id, key, form_id


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Counts from one form's batch scan."""

    xml_form_id: str
    project_id: int
    records: int
    keys: int  # stored for the form after the scan
    oversized_keys: int
    candidates: int
    matches: int
    possibles: int
    seconds: float
    written_keys: int = 0  # of ``keys``: those this scan had to (re)write


def scan_form(form_id: int) -> ScanResult | None:
    """Recompute every key and pair of one form (None: the form has no rules)."""
    form = db.session.get(Form, form_id)
    rules = rules_for(form.xml_form_id) if form else None
    if form is None or rules is None:
        return None
    started = time.perf_counter()
    conn = db.session.connection()
    _lock(form_id)
    conn.execute(sa.delete(_pairs).where(_pairs.c.form_id == form_id))
    keyed = _Keyed(conn, form_id, rules)
    stats: dict[str, int] = {}
    counts = {"match": 0, "possible": 0}

    def counted(pairs: Iterable[ScoredPair]) -> Iterator[ScoredPair]:
        for pair in pairs:
            counts["match" if pair.match.decision == MATCH else "possible"] += 1
            yield pair

    pairs = scan(
        keyed.records(),
        rules,
        stats=stats,
        term_frequencies=terms.uses_terms(rules),  # counted over the scanned records
    )
    _insert_pairs(form_id, counted(pairs), rules)
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
        written_keys=keyed.written,
    )


class _Keyed:
    """The form's records, streamed in id order; their keys brought up to date on the
    way. Keys that are already stored are left alone: a rescan after a change of
    weights or thresholds rewrites no key, and only the submissions whose keys
    changed (or that are gone) are deleted and written again."""

    def __init__(self, conn: sa.Connection, form_id: int, rules: RuleSet):
        self.conn, self.form_id, self.rules = conn, form_id, rules
        self.count = 0  # keys of the form after the scan
        self.written = 0  # of which written by this scan

    def records(self) -> Iterator[Record]:
        """Every record, once; the keys of a batch are queued before it is yielded,
        and all are stored when the last record has been taken."""
        if self.conn.dialect.name == "postgresql":
            reader, sink = db.engine.connect(), _CopySink(self.conn)
        else:
            reader, sink = self.conn, _InlineSink(self.conn)
        try:
            rows = reader.execute(
                CURRENT_XML_OF_FORM,
                {"form_id": self.form_id},
                execution_options={"yield_per": _BATCH},
            )
            after = 0
            for part in rows.partitions():
                batch = [instance.record(xml, self.rules, sid) for sid, xml in part]
                upto = int(batch[-1].record_id)
                self._update(reader, sink, after, upto, batch)
                after = upto
                yield from batch
            sink.delete_after(self.form_id, after)
        finally:
            sink.close()
            if reader is not self.conn:
                reader.close()

    def _update(
        self,
        reader: sa.Connection,
        sink: _InlineSink,
        after: int,
        upto: int,
        batch: list[Record],
    ) -> None:
        """Make the stored keys of submissions ``after < id <= upto`` those of ``batch``."""
        stored: dict[int, set[str]] = {}
        for sid, key in reader.execute(STORED_KEYS, {"after": after, "upto": upto}):
            stored.setdefault(sid, set()).add(key)
        fresh = {int(r.record_id): blocking_keys(r, self.rules) for r in batch}
        changed = [sid for sid, keys in fresh.items() if keys != stored.get(sid, set())]
        gone = [sid for sid, keys in stored.items() if fresh.get(sid) != keys]
        if gone:
            sink.delete(gone)
        rows = [(sid, key, self.form_id) for sid in changed for key in fresh[sid]]
        if rows:
            sink.insert(rows)
        self.count += sum(len(keys) for keys in fresh.values())
        self.written += len(rows)


class _InlineSink:
    """SQLite: each write at once, on the scan's connection (one ``executemany``)."""

    def __init__(self, conn: sa.Connection):
        self.conn = conn

    def delete(self, ids: list[int]) -> None:
        """Delete the keys of these submissions."""
        self.conn.execute(DELETE_KEYS_OF, {"ids": ids})

    def delete_after(self, form_id: int, after: int) -> None:
        """Delete the keys of the form's submissions past ``after``."""
        self.conn.execute(DELETE_KEYS_AFTER, {"form_id": form_id, "after": after})

    def insert(self, rows: list[KeyRow]) -> None:
        """Insert key rows."""
        self.conn.exec_driver_sql(INSERT_KEY_SQL, rows)

    def close(self) -> None:
        """Nothing is pending."""


class _CopySink(_InlineSink):
    """PostgreSQL: the writes run in a thread on the scan's connection (key rows by
    ``COPY``), so the database's work (indexes, foreign keys: about 25 µs a key)
    overlaps with reading, parsing and hashing the next batches, which the scan does
    over a second connection. The scan's connection is the thread's alone until
    :meth:`close` has waited for it; a bounded queue keeps memory bounded."""

    def __init__(self, conn: sa.Connection):
        super().__init__(conn)
        self._driver = conn.connection.driver_connection
        self._jobs: queue.Queue[tuple[str, t.Any] | None] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="dedup-keys")
        self._thread.start()

    def delete(self, ids: list[int]) -> None:
        """Queue the deletion of these submissions' keys."""
        self._put(_PG_DELETE_KEYS_OF, (ids,))

    def delete_after(self, form_id: int, after: int) -> None:
        """Queue the deletion of the keys of the form's submissions past ``after``."""
        self._put(_PG_DELETE_KEYS_AFTER, (form_id, after))

    def insert(self, rows: list[KeyRow]) -> None:
        """Queue a ``COPY`` of key rows."""
        self._put(_PG_COPY_KEYS, rows)

    def close(self) -> None:
        """Wait for every queued write; raise the first that failed."""
        self._jobs.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _put(self, sql: str, data: t.Any) -> None:
        if self._error is not None:
            raise self._error
        self._jobs.put((sql, data))

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._error is not None:
                continue  # drain: the scan's thread must never block on a full queue
            sql, data = job
            try:
                with self._driver.cursor() as cursor:  # type: ignore[union-attr]
                    if sql == _PG_COPY_KEYS:
                        with cursor.copy(sql) as out:
                            for row in data:
                                out.write_row(row)
                    else:
                        cursor.execute(sql, data)
            except BaseException as err:  # re-raised in the scan's thread
                self._error = err


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
