"""Period strings: year, quarter, month."""

from datetime import date

import pytest

from geo import InvalidPeriodError, parse_period


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        ("2026", "2026", date(2026, 1, 1), date(2027, 1, 1)),
        ("2026-Q3", "2026-Q3", date(2026, 7, 1), date(2026, 10, 1)),
        ("2026-q4", "2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
        (" 2026-07 ", "2026-07", date(2026, 7, 1), date(2026, 8, 1)),
        ("2026-12", "2026-12", date(2026, 12, 1), date(2027, 1, 1)),
    ],
    ids=["year", "quarter", "lower-q-year-end", "month-spaces", "december"],
)
def test_parse_period_ranges(text, label, start, end):
    period = parse_period(text)
    assert (period.label, period.start, period.end) == (label, start, end)
    assert period.contains(start) and not period.contains(end)
    assert period.last_day < end


@pytest.mark.parametrize(
    "text", ["2026-Q5", "2026-13", "2026-7", "26", "2026-W27", "", None]
)
def test_parse_period_rejects(text):
    with pytest.raises(InvalidPeriodError) as err:
        parse_period(text)
    assert err.value.code == "geo.period_invalid"
