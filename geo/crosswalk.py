"""Old (pre-July-2025) commune codes to 2025 codes.

Records made before the 2025 merger (or typed from old paper forms) carry a
pre-2025 commune code. The crosswalk CSV (columns ``old_province, old_district_code,
old_district, old_code, old_name, new_code, new_name, relation``) maps each old code
to the 2025 commune it became. ``relation`` is ``whole`` (the whole old commune went
to one new commune) or ``part`` (it was split).

**Split rule** (deterministic, documented): when one old code has several ``part``
rows, the record goes to the row marked ``(default)`` in ``relation`` (the shared CSV
takes that mark from ``isDefaultNewWard`` in vietnamadminunits: the new unit the old
commune's name and seat went to). Without a mark (or with several) it goes to the
lowest new code. Either way the result's relation is ``part`` and ``candidates``
lists every new code, so callers list such records for review, and a record that has
a usable GPS point should be placed by the point instead (see ``assign_sessions``).
"""

from __future__ import annotations

import csv
import os
import typing as t
from dataclasses import dataclass, field

import pandas as pd

from geo.errors import CrosswalkError

__all__ = ["Crosswalk", "CrosswalkEntry", "build_crosswalk", "read_crosswalk", "recode"]

REQUIRED = ("old_code", "new_code", "relation")


@dataclass(frozen=True, slots=True)
class CrosswalkEntry:
    """Where one old commune went: the chosen new code and every candidate."""

    old_code: str
    new_code: str
    relation: str  # "whole" or "part"
    candidates: tuple[str, ...]
    old_name: str = ""
    new_name: str = ""


@dataclass(frozen=True, slots=True)
class Crosswalk:
    """An old-to-new code table; ``districts`` maps district-only rows (no commune)."""

    entries: t.Mapping[str, CrosswalkEntry]
    districts: t.Mapping[str, str] = field(default_factory=dict)

    def resolve(self, old_code: str) -> CrosswalkEntry | None:
        """The entry for ``old_code``, or None when the code is not in the table."""
        return self.entries.get(str(old_code).strip())


def read_crosswalk(source: str | os.PathLike | t.TextIO) -> Crosswalk:
    """Read the crosswalk CSV (UTF-8, header row; see the module docstring).

    Parameters
    ----------
    source : path or text file
        A CSV with at least ``old_code``, ``new_code`` and ``relation``.

    Returns
    -------
    Crosswalk

    Raises
    ------
    CrosswalkError
        Missing columns, an old code mapped ``whole`` to two new codes, or a code
        mapped both ``whole`` and ``part``.
    """
    if hasattr(source, "read"):
        return build_crosswalk(csv.DictReader(t.cast(t.TextIO, source)))
    with open(source, encoding="utf-8-sig", newline="") as fh:
        return build_crosswalk(csv.DictReader(fh))


def build_crosswalk(rows: t.Iterable[t.Mapping[str, t.Any]]) -> Crosswalk:
    """Build a :class:`Crosswalk` from row mappings (CSV rows or database rows).

    Parameters
    ----------
    rows : iterable of mappings
        Each with ``old_code``, ``new_code``, ``relation`` (and optionally
        ``old_name``, ``new_name``, ``old_district_code``).

    Returns
    -------
    Crosswalk
        The split rule of the module docstring applied. Rows without ``old_code``
        are district-level (Hoàng Sa has no communes) and go to ``districts``.

    Raises
    ------
    CrosswalkError
    """
    grouped: dict[str, list[t.Mapping[str, t.Any]]] = {}
    districts: dict[str, str] = {}
    for number, row in enumerate(rows, start=2):
        missing = [c for c in REQUIRED if c not in row]
        if missing:
            raise CrosswalkError(reason=f"missing column(s) {', '.join(missing)}")
        old, new = _text(row["old_code"]), _text(row["new_code"])
        if not new:
            raise CrosswalkError(reason=f"row {number} has no new_code")
        if not old:
            districts[_text(row.get("old_district_code"))] = new
            continue
        grouped.setdefault(old, []).append(row)
    return Crosswalk(
        {old: _entry(old, group) for old, group in sorted(grouped.items())}, districts
    )


def recode(
    codes: t.Iterable[object],
    crosswalk: Crosswalk,
    *,
    valid_codes: t.Iterable[str] = (),
) -> pd.DataFrame:
    """Map commune codes to 2025 codes.

    Parameters
    ----------
    codes : iterable of str
        Codes as recorded; a Series keeps its index.
    crosswalk : Crosswalk
    valid_codes : iterable of str, optional
        The 2025 codes of the boundary set. A code found there and not in the
        crosswalk is kept as it is.

    Returns
    -------
    pandas.DataFrame
        ``code`` (the 2025 code or None), ``relation`` (``whole``, ``part``,
        ``current`` or ``unknown``) and ``candidates`` (``;``-joined, for ``part``).

    Notes
    -----
    In Đà Nẵng every new code is the code of the old commune that kept the seat,
    and maps to itself, so a 2025 code passes through the table unchanged. Codes
    are not self-describing in general: give this function only codes recorded
    before 1 July 2025 if another province's table breaks that property.
    """
    series = (
        codes if isinstance(codes, pd.Series) else pd.Series(list(codes), dtype=object)
    )
    valid = set(valid_codes)
    out_code, relation, candidates = [], [], []
    for raw in series:
        code = _text(raw)
        entry = crosswalk.entries.get(code)
        if entry is not None:
            split = entry.relation == "part"
            row = (
                entry.new_code,
                entry.relation,
                ";".join(entry.candidates) if split else "",
            )
        elif code in valid:
            row = (code, "current", "")
        else:
            row = (None, "unknown", "")
        out_code.append(row[0])
        relation.append(row[1])
        candidates.append(row[2])
    return pd.DataFrame(
        {
            "code": pd.Series(out_code, dtype=object, index=series.index),
            "relation": pd.Series(relation, dtype=object, index=series.index),
            "candidates": pd.Series(candidates, dtype=object, index=series.index),
        }
    )


def _entry(old: str, group: list[t.Mapping[str, t.Any]]) -> CrosswalkEntry:
    kinds = {_text(r["relation"]).split(" ")[0] for r in group}
    news = sorted({_text(r["new_code"]) for r in group})
    if kinds == {"whole"}:
        if len(news) > 1:
            raise CrosswalkError(reason=f"{old} maps whole to {', '.join(news)}")
        row = group[0]
        return CrosswalkEntry(
            old,
            news[0],
            "whole",
            (news[0],),
            _text(row.get("old_name")),
            _text(row.get("new_name")),
        )
    if kinds != {"part"}:
        raise CrosswalkError(reason=f"{old} is mapped both whole and part")
    marked = sorted(
        {_text(r["new_code"]) for r in group if "default" in _text(r["relation"])}
    )
    chosen = marked[0] if len(marked) == 1 else news[0]
    row = next(r for r in group if _text(r["new_code"]) == chosen)
    return CrosswalkEntry(
        old,
        chosen,
        "part",
        tuple(news),
        _text(row.get("old_name")),
        _text(row.get("new_name")),
    )


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()
