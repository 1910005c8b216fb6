"""Compare two parsed Vietnamese person names (see :class:`PersonNameComparator`)."""

from __future__ import annotations

import typing as t

from rapidfuzz.distance import OSA

from sync.linkage.normalise import NameToken, PersonName, is_syllable

__all__ = ["NAME_LEVELS", "name_explain", "name_level"]

NAME_LEVELS = (
    "exact",
    "folded",
    "reordered",
    "abbreviated",
    "accent_conflict",
    "typo",
    "different",
)


def name_level(a: PersonName, b: PersonName) -> str:
    """The agreement level of two names, strongest first (``NAME_LEVELS``)."""
    if a.spelled == b.spelled:
        return "exact"
    if a.joined & b.joined:
        if a.marked and b.marked and "".join(a.spelled) != "".join(b.spelled):
            return "accent_conflict"
        return "folded"
    if a.bag & b.bag:
        return "reordered"
    if _abbreviated(a, b):
        return "abbreviated"
    if _typo(a, b):
        return "typo"
    return "different"


def name_explain(a: PersonName, b: PersonName, level: str) -> dict[str, t.Any]:
    """How two names matched, without the names: ``via`` or ``edits``."""
    if level == "folded":
        keys_a = "".join(tok.key for tok in a.tokens)
        keys_b = "".join(tok.key for tok in b.tokens)
        if keys_a != keys_b:
            return {"via": "typing"}
        return {"via": "spacing" if len(a.tokens) != len(b.tokens) else "diacritics"}
    if level == "typo":
        return {"edits": _edits(a, b)}
    return {}


def _typo(a: PersonName, b: PersonName) -> bool:
    edits = _edits(a, b)
    if edits > (1 if min(len(x) for x in a.joined | b.joined) < 12 else 2):
        return False
    ga, gb = a.tokens[-1], b.tokens[-1]
    if ga.forms & gb.forms:
        return True  # the slip is in the family or middle name
    # One letter apart, but "Hằng"/"Hạnh", "Dũng"/"Hùng" and "Lan"/"Lanh" are all
    # real names: a slip must leave a word that cannot be a syllable ("Lna").
    return not (is_syllable(ga.key) and is_syllable(gb.key))


def _edits(a: PersonName, b: PersonName) -> int:
    return min(OSA.distance(x, y) for x in a.joined for y in b.joined)


def _compatible(x: NameToken, y: NameToken) -> bool:
    if x.forms & y.forms:
        return True
    if x.abbreviated != y.abbreviated:
        short, full = (x, y) if x.abbreviated else (y, x)
        return any(form.startswith(short.key) for form in full.forms)
    return False


def _abbreviated(a: PersonName, b: PersonName) -> bool:
    ta, tb = a.tokens, b.tokens
    if len(ta) < 2 or len(tb) < 2:
        return False
    if not (ta[-1].forms & tb[-1].forms and _compatible(ta[0], tb[0])):
        return False
    short, long = ta[1:-1], tb[1:-1]
    if len(short) > len(long):
        short, long = long, short
    j = 0
    for tok in short:  # the shorter middle must be an in-order subsequence
        while j < len(long) and not _compatible(tok, long[j]):
            j += 1
        if j == len(long):
            return False
        j += 1
    return True
