"""Term-frequency adjustment: agreeing on a common value is weaker evidence.

Fellegi–Sunter weights are per level: "same linkage code" weighs the same for
"NH2004" (Nguyễn + Hoa, Hương, Hạnh … : common in a Kinh commune) as for "ZP1998"
(Zơrâm Thị Pết). For a true pair the chance of agreeing on value ``v`` is about that
of the level, for two other people about ``p(v)``, the share of records with ``v``.
So a comparison with a ``tf`` table in its rule set adds, on the levels it lists,

    scale × log2(reference / p(v))     (clamped to ± cap)

where ``reference`` is the geometric mean of ``p`` over the counted records: the
adjustment averages zero over true pairs, so the fitted level weight keeps its
meaning and a rare value adds, a common one takes away.

``p`` is counted over the form's records, or, with ``scope`` naming another
comparison (``"commune"``), among the records of the pair's scope value, smoothed
towards the form-wide share with ``smoothing`` pseudo-records. The pair's own two
records are left out of the count (a value shared only by the pair is not
"common"), so the counts must include both sides of every pair scored: in a batch,
all records; in an incremental check, the stored records and the new one.

:func:`count_terms` builds the table from records (what ``scan`` needs); a server
can keep the same counts (:meth:`TermCounts.add` / :meth:`TermCounts.remove` per
submission) and pass them to ``score_against``. Without a table every adjustment is
zero: the rule set's level weights as they are.
"""

from __future__ import annotations

import math
import typing as t
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from sync.linkage.record import Prepared, Record, prepare

if t.TYPE_CHECKING:
    from sync.linkage.rules import RuleSet

__all__ = ["TermCounts", "TfConfig", "count_terms"]


@dataclass(frozen=True, slots=True)
class TfConfig:
    """A comparison's ``tf`` table: where and how much term frequency counts."""

    levels: frozenset[str]
    scope: int | None  # index of the comparison whose value scopes the counts
    scope_name: str | None
    smoothing: float  # pseudo-records of the form-wide share in a scope's estimate
    scale: float  # 0 (off) .. 1 (full adjustment)
    cap: float  # |adjustment| at most this many bits


class TermCounts:
    """How many records hold each term, per comparison (and per scope value).

    Counts are floats: a record with several readings of a value ("A Lăng": code
    initials A or L) counts a share for each.
    """

    def __init__(self, rules: RuleSet):
        self.rules = rules
        self.form_id = rules.form_id
        self._tf = [(i, c) for i, c in enumerate(rules.comparisons) if c.tf is not None]
        # per comparison index: term -> count, and (scope, term) -> count
        self.terms: dict[int, dict[Hashable, float]] = {
            i: defaultdict(float) for i, _ in self._tf
        }
        self.scoped: dict[int, dict[tuple[Hashable, Hashable], float]] = {
            i: defaultdict(float) for i, _ in self._tf
        }
        self.totals: dict[int, float] = {i: 0.0 for i, _ in self._tf}
        self.scope_totals: dict[int, dict[Hashable, float]] = {
            i: defaultdict(float) for i, _ in self._tf
        }
        self._config = {i: c.tf for i, c in self._tf}
        self._comparators = {i: c.comparator for i, c in self._tf}
        self._reference: dict[int, tuple[float, float]] = {}  # (value, at total)

    def __bool__(self) -> bool:
        return any(self.totals.values())

    def _entries(
        self, record: Prepared
    ) -> Iterable[tuple[int, Hashable | None, Hashable, float]]:
        for i, comparison in self._tf:
            value = record.values[i]
            if value is None:
                continue
            terms = comparison.comparator.terms(value)
            if not terms:
                continue
            tf = comparison.tf
            scope = record.values[tf.scope] if tf.scope is not None else None
            share = 1.0 / len(terms)
            for term in terms:
                yield i, scope, term, share

    def _change(self, record: Prepared, sign: float) -> None:
        for i, scope, term, share in self._entries(record):
            self.terms[i][term] += sign * share
            self.totals[i] += sign * share
            if scope is not None:
                self.scoped[i][scope, term] += sign * share
                self.scope_totals[i][scope] += sign * share

    def add(self, record: Record | Prepared) -> None:
        """Count one record (a stored or arriving submission)."""
        self._change(prepare(record, self.rules), 1.0)

    def remove(self, record: Record | Prepared) -> None:
        """Uncount one record (a deleted submission, or the old version of an edit)."""
        self._change(prepare(record, self.rules), -1.0)

    def check(self, rules: RuleSet) -> None:
        """Refuse counts made for another form or another list of comparisons.

        :raises ValueError: the counts do not fit ``rules``.
        """
        if rules.form_id != self.form_id or [c.name for c in rules.comparisons] != [
            c.name for c in self.rules.comparisons
        ]:
            raise ValueError(
                f"term counts of {self.form_id!r} (rule set version "
                f"{self.rules.version}) do not fit {rules.form_id!r} version "
                f"{rules.version}"
            )

    def share(
        self, i: int, term: Hashable, scope: Hashable | None, leave_out: float
    ) -> float:
        """The share of records holding ``term``, ``leave_out`` records not counted.

        In the form, a value held by no other record counts as one record; in a
        scope, the share is smoothed towards the form-wide one.
        """
        tf = self._config[i]
        total = max(self.totals[i] - leave_out, 1.0)
        form_share = max(self.terms[i].get(term, 0.0) - leave_out, 1.0) / total
        if tf.scope is None or scope is None:
            return form_share
        n = max(self.scoped[i].get((scope, term), 0.0) - leave_out, 0.0)
        size = max(self.scope_totals[i].get(scope, 0.0) - leave_out, 0.0)
        return (n + tf.smoothing * form_share) / (size + tf.smoothing)

    def reference(self, i: int) -> float:
        """The geometric mean share of each record's own term (itself left out).

        It takes a pass over every counted term, so it is kept until the number of
        counted records has changed by more than 1 % (one arrival among 100,000
        stored moves it by far less than the rounding of any weight).
        """
        cached = self._reference.get(i)
        if cached is not None and abs(self.totals[i] - cached[1]) <= 0.01 * cached[1]:
            return cached[0]
        logs = weight = 0.0
        if self._config[i].scope is None:
            items = (((None, term), n) for term, n in self.terms[i].items())
        else:
            items = self.scoped[i].items()
        for (scope, term), count in items:
            if count > 0:
                logs += count * math.log2(self.share(i, term, scope, 1.0))
                weight += count
        value = 2.0 ** (logs / weight) if weight else 1.0
        self._reference[i] = (value, self.totals[i])
        return value

    def adjustment(self, i: int, a: Prepared, b: Prepared, level: str) -> float:
        """Bits to add to comparison ``i``'s level weight for this pair (0: none)."""
        tf = self._config.get(i)
        if tf is None or level not in tf.levels or self.totals[i] < 2:
            return 0.0
        comparator = self._comparators[i]
        term = comparator.agreed(a.values[i], b.values[i], level)
        if term is None:
            return 0.0
        scope = None
        if tf.scope is not None and a.values[tf.scope] == b.values[tf.scope]:
            scope = a.values[tf.scope]
        # the pair's own two records are not "other records with this value"
        share = self.share(i, term, scope, 2.0)
        bits = tf.scale * math.log2(self.reference(i) / share)
        return max(-tf.cap, min(tf.cap, bits))


def count_terms(records: Iterable[Record | Prepared], rules: RuleSet) -> TermCounts:
    """Count the terms of ``records`` for every comparison with a ``tf`` table."""
    counts = TermCounts(rules)
    for record in records:
        counts.add(record)
    return counts
