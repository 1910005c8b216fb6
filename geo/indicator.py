"""The plan's three indicators (plan 1522/KH-UBND), each with numerator and denominator.

1. ``sessions_high_risk``: high-risk communes with at least one outreach session in
   the period / all high-risk communes.
2. ``victims_needs_served``: victims identified in the period whose assessed needs
   were all served (``all_needs_served = yes``) / victims identified in the period
   with at least one assessed need (``yes`` + ``no``). Victims with ``no_needs``
   (no needs, or declined) are left out of both and counted in the note; a case
   without a commune (abroad, another province) still counts.
3. ``staff_trained``: distinct people on the training rosters (``trainees``, each
   ``trainee_id`` once, trained up to the end of the period) / the configured
   staff roster (``staff_roster``: support staff per commune, ``""`` for city level).
   Only trainees whose commune is in the roster count, and at most the roster size
   per commune (surplus is named in the note, usually a stale roster). Without a
   roster there is **no denominator**: the percentage is None rather than a
   flattering 100 % of the people who happened to be trained. Event headcounts
   (``n_trainees``) are not used: one person trained twice would count twice, and
   rosters may be partial, so the numerator is a lower bound.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import pandas as pd

__all__ = ["INDICATORS", "Indicator", "plan_indicators"]

INDICATORS = ("sessions_high_risk", "victims_needs_served", "staff_trained")


@dataclass(frozen=True, slots=True)
class Indicator:
    """One plan indicator; ``percent`` is None when there is no (or a zero) denominator.

    ``victim_based`` marks indicators counting victims, whose small numbers the
    writers suppress.
    """

    key: str
    numerator: int
    denominator: int | None
    note: str = ""
    victim_based: bool = False

    @property
    def percent(self) -> float | None:
        """``100 * numerator / denominator`` rounded to 0.1, or None."""
        if not self.denominator:
            return None
        return round(100.0 * self.numerator / self.denominator, 1)


def plan_indicators(
    by_commune: pd.DataFrame,
    *,
    cases: pd.DataFrame,
    trainees: pd.DataFrame,
    staff_roster: t.Mapping[str, int] | None,
) -> tuple[Indicator, ...]:
    """Compute the three indicators (see the module docstring for the definitions).

    Parameters
    ----------
    by_commune : DataFrame
        Per-commune coverage with ``high_risk`` and ``sessions``.
    cases : DataFrame
        Cases identified in the period (``all_needs_served``), placed or not.
    trainees : DataFrame
        Distinct trainees up to the period's end (``trainee_id``, ``commune``).
    staff_roster : mapping code -> int or None

    Returns
    -------
    tuple of Indicator
        In the order of :data:`INDICATORS`.
    """
    risky = by_commune.loc[by_commune["high_risk"].astype(bool)]
    first = Indicator(
        "sessions_high_risk", int((risky["sessions"] > 0).sum()), len(risky)
    )

    served = cases["all_needs_served"].astype(str).str.strip().str.lower()
    no_needs = int((served == "no_needs").sum())
    second = Indicator(
        "victims_needs_served",
        int((served == "yes").sum()),
        int(served.isin(["yes", "no"]).sum()),
        note=f"{no_needs} without assessed needs excluded" if no_needs else "",
        victim_based=True,
    )
    return first, second, _staff(trainees, staff_roster)


def _staff(trainees: pd.DataFrame, roster: t.Mapping[str, int] | None) -> Indicator:
    per_unit = trainees.groupby(trainees["commune"].fillna("").astype(str)).size()
    if not roster:
        return Indicator(
            "staff_trained",
            int(per_unit.sum()),
            None,
            note="no staff roster configured: no denominator",
        )
    sizes = pd.Series({str(k): int(v) for k, v in roster.items()}, dtype=int)
    trained = per_unit.reindex(sizes.index, fill_value=0)
    counted = trained.clip(upper=sizes)
    notes = []
    surplus = int((trained - counted).sum())
    if surplus:
        notes.append(f"{surplus} trained beyond the roster size not counted")
    outside = int(per_unit.drop(sizes.index, errors="ignore").sum())
    if outside:
        notes.append(f"{outside} trainees from units without a roster not counted")
    return Indicator(
        "staff_trained", int(counted.sum()), int(sizes.sum()), note="; ".join(notes)
    )
