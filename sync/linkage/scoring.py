"""Score record pairs: sum of level weights (log2 odds), then a decision.

Fellegi–Sunter style: every comparison adds the weight of the level it lands on
(positive: evidence of a duplicate; negative: evidence against) to the rule set's
``prior``. ``score`` is that total as a probability, and the thresholds turn it into
``match`` / ``possible`` / ``non-match``. The weights in ``xlsforms/dedup/*.toml`` were
estimated on labelled synthetic data (``bench/dedup.py --fit``) and rounded.
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sync.linkage.blocking import _bases, _candidate_indices, _visible
from sync.linkage.comparators import MISSING
from sync.linkage.frequency import TermCounts
from sync.linkage.reasons import LANGUAGES, describe
from sync.linkage.record import Prepared, Record, prepare

if t.TYPE_CHECKING:
    from sync.linkage.rules import RuleSet

__all__ = [
    "MATCH",
    "NON_MATCH",
    "POSSIBLE",
    "Match",
    "Reason",
    "ScoredPair",
    "scan",
    "score",
    "score_against",
]

MATCH = "match"
POSSIBLE = "possible"
NON_MATCH = "non-match"


@dataclass(frozen=True, slots=True)
class Reason:
    """One piece of evidence: a stable code, its parameters and its weight."""

    code: str  # "<comparator>.<level>", e.g. "geopoint.close"
    field: str  # the comparison's name in the rule set, e.g. "gps"
    level: str
    weight: float
    params: t.Mapping[str, t.Any]
    label: t.Mapping[str, str]

    def text(self, lang: str = "en") -> str:
        """The reason as a phrase in ``lang`` ("en" or "vi")."""
        label = self.label.get(lang) or self.label.get("en") or self.field
        return describe(self.code, self.level, self.params, label, lang)

    def to_dict(self) -> dict[str, t.Any]:
        """JSON-ready form, with the phrase in every catalogue language."""
        return {
            "code": self.code,
            "field": self.field,
            "level": self.level,
            "weight": self.weight,
            "params": dict(self.params),
            "text": {lang: self.text(lang) for lang in LANGUAGES},
        }


@dataclass(frozen=True, slots=True)
class Match:
    """The verdict on one pair."""

    score: float  # probability-like, 0..1
    weight: float  # log2 odds (prior + every reason's weight)
    decision: str  # "match" | "possible" | "non-match"
    reasons: tuple[Reason, ...]

    def summary(self, lang: str = "en") -> str:
        """The reasons as one line ("same day, …, 120 m apart, participants 42 vs 40").

        Blank fields are left out of the line (they stay in ``reasons``).
        """
        return ", ".join(r.text(lang) for r in self.reasons if r.level != MISSING)

    def to_dict(self) -> dict[str, t.Any]:
        """JSON-ready form."""
        return {
            "score": round(self.score, 4),
            "weight": round(self.weight, 3),
            "decision": self.decision,
            "reasons": [reason.to_dict() for reason in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class ScoredPair:
    """A candidate pair with its verdict; ``a`` and ``b`` are record ids."""

    a: str
    b: str
    match: Match


def _probability(weight: float) -> float:
    return 1.0 / (1.0 + 2.0 ** -max(-60.0, min(60.0, weight)))


def _weigh(
    a: Prepared, b: Prepared, rules: RuleSet, counts: TermCounts | None = None
) -> tuple[float, list[str], list[float]]:
    """Total weight, the level of each comparison and each one's weight."""
    total = rules.prior
    levels, weights = [], []
    for i, (comparison, x, y) in enumerate(
        zip(rules.comparisons, a.values, b.values, strict=True)
    ):
        level = MISSING if x is None or y is None else comparison.comparator.level(x, y)
        weight = comparison.weights[level]
        if counts is not None and comparison.tf is not None and level != MISSING:
            weight += counts.adjustment(i, a, b, level)
        levels.append(level)
        weights.append(weight)
        total += weight
    return total, levels, weights


def _decide(probability: float, rules: RuleSet) -> str:
    if probability >= rules.match:
        return MATCH
    return POSSIBLE if probability >= rules.possible else NON_MATCH


def _match(
    a: Prepared,
    b: Prepared,
    rules: RuleSet,
    total: float,
    levels: list[str],
    weights: list[float],
) -> Match:
    reasons = []
    for comparison, x, y, level, weight in zip(
        rules.comparisons, a.values, b.values, levels, weights, strict=True
    ):
        comparator = comparison.comparator
        params = (
            {} if level == MISSING else comparator.explain(x, y, level, comparison.pii)
        )
        reasons.append(
            Reason(
                code=f"{comparator.name}.{level}",
                field=comparison.name,
                level=level,
                weight=weight,
                params=params,
                label=comparison.label,
            )
        )
    probability = _probability(total)
    return Match(
        score=probability,
        weight=total,
        decision=_decide(probability, rules),
        reasons=tuple(reasons),
    )


def score(
    a: Record | Prepared,
    b: Record | Prepared,
    rules: RuleSet,
    *,
    counts: TermCounts | None = None,
) -> Match:
    """Compare two records of ``rules.form_id``; reasons follow the rule order.

    ``counts`` (:func:`~sync.linkage.frequency.count_terms`) turns on the
    term-frequency adjustment of the comparisons with a ``tf`` table; without it
    the level weights apply as they are.

    :raises FormMismatchError: a record belongs to another form.
    """
    if counts is not None:
        counts.check(rules)
    pa, pb = prepare(a, rules), prepare(b, rules)
    return _match(pa, pb, rules, *_weigh(pa, pb, rules, counts))


def _ordered(a: str, b: str, match: Match) -> ScoredPair:
    return ScoredPair(a, b, match) if a <= b else ScoredPair(b, a, match)


def score_against(
    record: Record | Prepared,
    candidates: Iterable[Record | Prepared],
    rules: RuleSet,
    *,
    include_non_matches: bool = False,
    counts: TermCounts | None = None,
) -> list[ScoredPair]:
    """Score one new record against its blocked candidates (the incremental check).

    Pairs come back best first, ids ordered (``a <= b``); the record itself is skipped.
    ``counts``: as in :func:`score`; they must include ``record`` and every stored
    record (the pair's own two records are left out when a share is read).
    """
    if counts is not None:
        counts.check(rules)
    new = prepare(record, rules)
    out = []
    for candidate in candidates:
        other = prepare(candidate, rules)
        if other.record_id == new.record_id:
            continue
        total, levels, weights = _weigh(new, other, rules, counts)
        if not include_non_matches and _probability(total) < rules.possible:
            continue
        match = _match(new, other, rules, total, levels, weights)
        out.append(_ordered(new.record_id, other.record_id, match))
    out.sort(key=lambda pair: (-pair.match.score, pair.a, pair.b))
    return out


def scan(
    records: Iterable[Record],
    rules: RuleSet,
    *,
    include_non_matches: bool = False,
    stats: dict[str, int] | None = None,
    term_frequencies: bool = False,
    counts: TermCounts | None = None,
) -> Iterator[ScoredPair]:
    """Batch scan: block, then score every candidate pair once.

    Holds one parsed copy of each record (not the records themselves), so memory grows
    with the number of records and time near-linearly. Yields ``possible`` and
    ``match`` pairs (all candidate pairs with ``include_non_matches``). ``stats``, if
    given, receives counts: records, keys, oversized_keys, candidates, yielded.
    ``term_frequencies``: count the terms of the scanned records first and adjust
    (:mod:`sync.linkage.frequency`); or pass ``counts`` kept elsewhere.
    """
    prepared: list[Prepared] = []
    all_bases = []
    for record in records:
        prepared.append(prepare(record, rules))
        all_bases.append(_bases(_visible(record, rules), rules))
    if counts is not None:
        counts.check(rules)
    elif term_frequencies:
        counts = TermCounts(rules)
        for one in prepared:
            counts.add(one)
    tally = stats if stats is not None else {}
    tally.update(records=len(prepared), candidates=0, yielded=0)
    for i, j in _candidate_indices(all_bases, rules, tally):
        tally["candidates"] += 1
        a, b = prepared[i], prepared[j]
        total, levels, weights = _weigh(a, b, rules, counts)
        if not include_non_matches and _probability(total) < rules.possible:
            continue
        tally["yielded"] += 1
        yield _ordered(
            a.record_id, b.record_id, _match(a, b, rules, total, levels, weights)
        )
