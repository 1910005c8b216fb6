"""Coverage per commune and period, and the three plan indicators."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo import (
    MissingColumnError,
    VictimLocationError,
    compute_coverage,
    parse_period,
    plan_indicators,
)

Q3 = parse_period("2026-Q3")

SESSIONS = pd.DataFrame(
    {
        "commune": ["A", "A", "B", "B", None, "C"],
        "date": [
            "2026-07-03",
            "2026-08-20",
            "2026-06-30",
            "2026-09-30",
            "2026-07-05",
            "2026-10-01",
        ],
        "n_total": [40, 10, 25, 5, 9, 3],
        "n_women": [10, 2, 5, 1, 1, 1],
        "n_girls": [5, 1, 0, 0, 0, 0],
        "n_ethnic_minority": [30, None, 25, 5, 0, 0],
    }
)
CASES = pd.DataFrame(
    {
        "commune": ["A", "A", "B", None, "C", "D"],
        "id_date": [
            "2026-07-10",
            "2026-09-01",
            "2026-08-01",
            "2026-08-15",
            "2026-01-05",
            "2026-11-01",
        ],
        "all_needs_served": ["yes", "no", "no_needs", "yes", "yes", "no"],
    }
)


def _coverage(areas, **kwargs):
    kwargs.setdefault("sessions", SESSIONS)
    kwargs.setdefault("cases", CASES)
    return compute_coverage(areas, Q3, **kwargs)


def _row(cov, code):
    return cov.by_commune.set_index("code").loc[code]


def test_session_counts_in_period_only(areas):
    cov = _coverage(areas)
    a, b, c = _row(cov, "A"), _row(cov, "B"), _row(cov, "C")
    assert (
        a["sessions"],
        a["participants"],
        a["women_girls"],
        a["ethnic_minority"],
    ) == (2, 50, 18, 30)
    assert (b["sessions"], b["participants"]) == (1, 5)  # June is outside Q3
    assert c["sessions"] == 0  # 1 October is outside Q3
    assert cov.unplaced["sessions"] == 1


def test_days_since_last_session_counts_from_period_end_or_as_of(areas):
    cov = _coverage(areas)
    assert cov.as_of == date(2026, 9, 30)
    assert _row(cov, "A")["last_session"] == "2026-08-20"
    assert _row(cov, "A")["days_since_last_session"] == 41
    assert _row(cov, "B")["days_since_last_session"] == 0
    assert pd.isna(_row(cov, "D")["days_since_last_session"])
    early = _coverage(areas, as_of=date(2026, 9, 1))
    assert early.as_of == date(2026, 9, 1)
    assert (
        _row(early, "B")["last_session"] == "2026-06-30"
    )  # before the period still counts
    assert _row(early, "B")["days_since_last_session"] == 63
    assert _row(early, "B")["sessions"] == 0


def test_victim_counts_and_high_risk_reason(areas):
    cov = _coverage(areas)
    a = _row(cov, "A")
    assert (a["victim_cases"], a["victims_with_needs"], a["victims_all_served"]) == (
        2,
        2,
        1,
    )
    assert _row(cov, "B")["victims_with_needs"] == 0
    # C had a case in January (before the period): still a commune with victims
    assert _row(cov, "C")["risk_reasons"] == "victim_cases"
    assert _row(cov, "C")["victim_cases"] == 0
    assert _row(cov, "D")["risk_reasons"] == ""  # its case is after the period
    assert cov.unplaced["cases"] == 1


def test_indicators_have_numerators_and_denominators(areas):
    cov = _coverage(areas, border_codes=["D"], marked={"B": "chợ biên giới"})
    sessions, victims, staff = cov.indicators
    # high-risk: A, B, C (victims), B (marked), D (border); with a session: A, B
    assert (sessions.key, sessions.numerator, sessions.denominator) == (
        "sessions_high_risk",
        2,
        4,
    )
    assert sessions.percent == 50.0
    # Q3 cases: A yes, A no, B no_needs, (no commune) yes -> 2 served of 3 with needs
    assert (victims.numerator, victims.denominator, victims.victim_based) == (
        2,
        3,
        True,
    )
    assert "1 without assessed needs" in victims.note
    assert (staff.numerator, staff.denominator, staff.percent) == (0, None, None)
    assert "no staff roster" in staff.note


def test_staff_indicator_uses_the_roster_as_denominator(areas):
    trainees = pd.DataFrame(
        {
            "trainee_id": ["t1", "t2", "t3", "t1", "t4", "t5", "t6"],
            "commune": ["A", "A", "A", "B", "", "X", "B"],
            "date": ["2026-05-01"] * 6 + ["2026-12-01"],
        }
    )
    events = pd.DataFrame(
        {
            "commune": ["A", "A"],
            "date": ["2026-07-01", "2026-05-01"],
            "n_trainees": [12, 30],
        }
    )
    cov = _coverage(
        areas,
        trainees=trainees,
        training_events=events,
        staff_roster={"A": 2, "B": 4, "": 10},
    )
    staff = cov.indicators[2]
    # A: 3 trained, roster 2 -> 2; B: t1 counted once (in A), t6 is after the period;
    # city level 1; X has no roster
    assert (staff.numerator, staff.denominator) == (3, 16)
    assert "1 trained beyond the roster" in staff.note
    assert "1 trainees from units without a roster" in staff.note
    assert _row(cov, "A")["staff_trained"] == 3
    assert _row(cov, "A")["staff_roster"] == 2
    assert _row(cov, "A")["trainees"] == 12  # event headcount in the period


def test_victim_locations_are_refused(areas):
    with pytest.raises(VictimLocationError) as err:
        _coverage(areas, cases=CASES.assign(lat=15.0, lon=107.0))
    assert err.value.code == "geo.victim_location"
    located = gpd.GeoDataFrame(CASES, geometry=[shapely.Point(0, 0)] * len(CASES))
    with pytest.raises(VictimLocationError):
        _coverage(areas, cases=located)


def test_missing_columns_and_empty_inputs(areas):
    with pytest.raises(MissingColumnError, match="n_girls"):
        _coverage(areas, sessions=SESSIONS.drop(columns="n_girls"))
    cov = compute_coverage(areas, Q3)
    assert cov.by_commune["sessions"].sum() == 0
    assert [i.denominator for i in cov.indicators] == [0, 0, None]
    assert [i.percent for i in cov.indicators] == [None, None, None]
    assert list(cov.by_commune["code"]) == ["A", "B", "C", "D"]


def test_plan_indicators_directly():
    table = pd.DataFrame({"high_risk": [True, True, False], "sessions": [0, 3, 5]})
    cases = pd.DataFrame({"all_needs_served": ["yes", "YES ", "no", "no_needs"]})
    trainees = pd.DataFrame({"trainee_id": ["a"], "commune": [""]})
    first, second, third = plan_indicators(
        table, cases=cases, trainees=trainees, staff_roster={"": 4}
    )
    assert (first.numerator, first.denominator) == (1, 2)
    assert (second.numerator, second.denominator, second.percent) == (2, 3, 66.7)
    assert (third.numerator, third.denominator, third.percent) == (1, 4, 25.0)
