"""Reporting periods: a year (``2026``), quarter (``2026-Q3``), month (``2026-07``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from geo.errors import InvalidPeriodError

__all__ = ["Period", "parse_period"]

_PATTERN = re.compile(r"^(\d{4})(?:-(?:[Qq]([1-4])|(0[1-9]|1[0-2])))?$")


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open date range ``[start, end)`` with its canonical label."""

    label: str
    start: date
    end: date  # exclusive

    @property
    def last_day(self) -> date:
        """The last day inside the period."""
        return self.end - timedelta(days=1)

    def contains(self, day: date) -> bool:
        """Whether ``day`` falls inside the period."""
        return self.start <= day < self.end


def parse_period(text: str) -> Period:
    """Parse a period string.

    Parameters
    ----------
    text : str
        ``"2026"`` (calendar year), ``"2026-Q3"`` (quarter; ``q`` accepted) or
        ``"2026-07"`` (month). Surrounding whitespace is ignored.

    Returns
    -------
    Period
        With a canonical ``label`` (``"2026-Q3"``), ``start`` and exclusive ``end``.

    Raises
    ------
    InvalidPeriodError
        For anything else (weeks, ranges, day dates, years before 1900).

    Examples
    --------
    >>> parse_period("2026-q3").label
    '2026-Q3'
    >>> parse_period("2026-07").end
    datetime.date(2026, 8, 1)
    """
    match = _PATTERN.match(text.strip()) if isinstance(text, str) else None
    if match is None or int(match.group(1)) < 1900:
        raise InvalidPeriodError(value=text)
    year = int(match.group(1))
    quarter, month = match.group(2), match.group(3)
    if quarter:
        first = 3 * (int(quarter) - 1) + 1
        return Period(
            f"{year}-Q{quarter}", date(year, first, 1), _month_after(year, first + 2)
        )
    if month:
        return Period(
            f"{year}-{month}", date(year, int(month), 1), _month_after(year, int(month))
        )
    return Period(str(year), date(year, 1, 1), date(year + 1, 1, 1))


def _month_after(year: int, month: int) -> date:
    """First day of the month after ``month``."""
    return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
