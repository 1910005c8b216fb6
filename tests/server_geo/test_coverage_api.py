"""Coverage over REST: real forms sent over OpenRosa, real 2025 communes and border.

The scenario (2026-Q3), with the five Laos-border communes and Avương (a victim case
in Q2) high-risk:

- sessions: Tây Giang (GPS agrees), La Êê chosen but the fix is in Tây Giang (the
  mission record's own point: a mismatch, the point counts), Hùng Sơn without a fix,
  La Êê with a fix in Laos (outside every commune: the form's commune counts), Đắc
  Pring on 30 June (Q2), Hùng Sơn deleted, a draft, La Dêê sent then edited (counted
  once, edited values);
- victim cases: three in La Êê (served, not served, no needs), one living abroad,
  one in Avương in Q2;
- trainings: two events whose rosters share one person (counted once).
"""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import Submission, SubmissionDef, utcnow
from tests import mission_data as md
from tests.server_geo.conftest import (
    IN_HUNG_SON,
    IN_LAOS,
    IN_TAY_GIANG,
    assert_problem,
    case_values,
    session_values,
    training_values,
)

TAY_GIANG, HUNG_SON, LA_EE = md.TAY_GIANG, md.HUNG_SON, md.LA_EE
LA_DEE, DAC_PRING, AVUONG = "20704", "20716", "20458"
MISSION_POINT = md.OUTREACH_SESSION["session/gps"]  # in Tây Giang, not La Êê
Q3 = "period=2026-Q3"


def _base(mission) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/projects/{mission.project_id}/coverage"


def _flag(app, instance_id: str, **values) -> None:  # type: ignore[no-untyped-def]
    """Change a stored submission the way other features would (delete, draft)."""
    with app.app_context():
        sub = db.session.scalars(
            sa.select(Submission).where(Submission.instance_id == instance_id)
        ).one()
        for key, value in values.items():
            setattr(sub, key, value)
        if "draft" in values:
            db.session.execute(
                sa.update(SubmissionDef)
                .where(SubmissionDef.submission_id == sub.id)
                .values(draft=values["draft"])
            )
        db.session.commit()


@pytest.fixture
def scenario(app, phone, real_boundaries):  # type: ignore[no-untyped-def]
    """The records of the module docstring; returns name -> instanceID."""
    from server import coverage_settings

    ids = {
        "tay_giang": phone.send(
            "outreach_session",
            session_values("2026-07-15", TAY_GIANG, IN_TAY_GIANG, 40, 12),
        ),
        "mismatch": phone.send(
            "outreach_session", session_values("2026-08-03", LA_EE, MISSION_POINT)
        ),
        "no_fix": phone.send(
            "outreach_session", session_values("2026-08-20", HUNG_SON, None)
        ),
        "in_laos": phone.send(
            "outreach_session", session_values("2026-09-02", LA_EE, IN_LAOS)
        ),
        "june": phone.send(
            "outreach_session", session_values("2026-06-30", DAC_PRING, None)
        ),
        "deleted": phone.send(
            "outreach_session", session_values("2026-09-10", HUNG_SON, IN_HUNG_SON)
        ),
        "draft": phone.send(
            "outreach_session", session_values("2026-09-11", AVUONG, None)
        ),
    }
    first = phone.send(
        "outreach_session", session_values("2026-09-12", LA_DEE, None, 20, 8)
    )
    ids["edited"] = phone.edit(
        "outreach_session", first, session_values("2026-09-12", LA_DEE, None, 25, 8)
    )
    ids["edited_logical"] = first
    _flag(phone.client.application, ids["deleted"], deleted_at=utcnow())
    _flag(phone.client.application, ids["draft"], draft=True)
    for code, day, commune, needs, services in [
        (
            "BPTG-2026-101",
            "2026-07-20",
            LA_EE,
            "essentials medical",
            "essentials medical",
        ),
        ("BPTG-2026-102", "2026-08-11", LA_EE, "essentials legal_aid", "essentials"),
        ("BPTG-2026-103", "2026-09-01", LA_EE, "none", ""),
        ("DN-2026-00190", "2026-08-30", None, "travel_home", "travel_home"),
        ("BPTG-2026-044", "2026-05-10", AVUONG, "medical", "medical"),
    ]:
        phone.send("victim_case", case_values(code, day, commune, needs, services))
    people = [
        ("Hồ Thị Lan", "womens_union", TAY_GIANG),
        ("Bh'riu Liếc", "border_guard", HUNG_SON),
        ("Zơrâm Thị Nhung", "commune_officials", LA_EE),
        ("Nguyễn Đức Thắng", "police", ""),
    ]
    phone.send("staff_training", training_values("2026-08-05", people))
    again = [
        ("hồ thị  LAN", "womens_union", TAY_GIANG),
        ("A Lăng Vân", "police", TAY_GIANG),
    ]
    phone.send("staff_training", training_values("2026-09-15", again))
    with app.app_context():
        coverage_settings.set_roster(
            phone.mission.project_id, {TAY_GIANG: 3, HUNG_SON: 2, "": 5}
        )
        db.session.commit()
    return ids


def test_coverage_json_counts_each_live_submission_once(admin, mission, scenario):  # type: ignore[no-untyped-def]
    r = admin.get(f"{_base(mission)}?{Q3}&lang=en")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["period"] == {
        "label": "2026-Q3",
        "start": "2026-07-01",
        "end": "2026-09-30",
    }
    assert body["as_of"] == "2026-09-30"
    assert body["boundary_set"]["name"] == "Xã/phường 2025 (50 m)"
    assert body["boundary_set"]["approximate"] is False
    assert body["border"] == ["Việt Nam – Lào"]
    assert body["data_time"].endswith("+07:00")
    rows = {row["code"]: row for row in body["communes"]}
    assert len(rows) == 94
    risky = {c for c, row in rows.items() if row["high_risk"]}
    assert risky == {HUNG_SON, TAY_GIANG, LA_EE, LA_DEE, DAC_PRING, AVUONG}
    assert rows[HUNG_SON]["risk_reasons"] == ["border"]
    assert rows[AVUONG]["risk_reasons"] == ["victim_cases"]
    assert rows[LA_EE]["risk_reasons"] == ["border", "victim_cases"]
    # GPS first: the mismatched session counts in Tây Giang, where the point is
    tg = rows[TAY_GIANG]
    assert (tg["sessions"], tg["participants"], tg["women_girls"]) == (2, 70, 32)
    assert rows[LA_EE]["sessions"] == 1  # the fix in Laos falls back to the form
    assert rows[HUNG_SON]["sessions"] == 1  # the deleted one is gone
    assert rows[AVUONG]["sessions"] == 0  # the draft is not data
    assert (rows[LA_DEE]["sessions"], rows[LA_DEE]["participants"]) == (1, 25)
    assert rows[DAC_PRING]["sessions"] == 0
    assert rows[DAC_PRING]["last_session"] == "2026-06-30"
    assert rows[TAY_GIANG]["trainees"] == 64  # two events' headcounts
    assert rows[TAY_GIANG]["staff_trained"] == 2  # Lan once, Vân
    # small victim counts never leave the server
    assert rows[LA_EE]["victim_cases"] == "<5"
    assert rows[LA_EE]["victims_with_needs"] == "<5"
    assert rows[TAY_GIANG]["victim_cases"] == 0
    assert body["unplaced"] == {"sessions": 0, "cases": "<5"}
    sessions, victims, staff = body["indicators"]
    assert (sessions["numerator"], sessions["denominator"], sessions["percent"]) == (
        4,
        6,
        66.7,
    )
    assert sessions["label"].startswith("% of high-risk communes")
    assert (victims["numerator"], victims["denominator"], victims["percent"]) == (
        "<5",
        "<5",
        None,
    )
    assert "1 without assessed needs" in victims["note"]
    assert (staff["numerator"], staff["denominator"], staff["percent"]) == (4, 10, 40.0)
    assert "1 trainees from units without a roster" in staff["note"]
    assert body["review_count"] == 2
    text = json.dumps(body, ensure_ascii=False)
    for secret in ("Hồ Thị Lan", "Bh'riu", "BPTG-2026", "uuid:"):
        assert secret not in text


def test_review_lists_gps_disagreements_without_names(admin, mission, scenario):  # type: ignore[no-untyped-def]
    r = admin.get(f"{_base(mission)}/review?{Q3}")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    got = {row["instance_id"]: row for row in body["sessions"]}
    assert set(got) == {scenario["mismatch"], scenario["in_laos"]}
    mismatch = got[scenario["mismatch"]]
    assert mismatch["reason"] == "gps_form_mismatch"
    assert (
        mismatch["form_commune"],
        mismatch["gps_commune"],
        mismatch["assigned"],
    ) == (
        LA_EE,
        TAY_GIANG,
        TAY_GIANG,
    )
    assert mismatch["distance_m"] > 1000
    assert mismatch["date"] == "2026-08-03"
    outside = got[scenario["in_laos"]]
    assert (outside["reason"], outside["assigned"], outside["gps_commune"]) == (
        "gps_outside_areas",
        LA_EE,
        None,
    )
    assert outside["distance_m"] is None
    assert "Bản Pà Ai" not in r.get_data(as_text=True)
    july = admin.get(f"{_base(mission)}/review?period=2026-07").get_json()
    assert july["count"] == 0
    assert admin.get(f"{_base(mission)}/review").get_json()["count"] == 2


def test_review_list_is_scoped_to_a_commune_supervisors_communes(
    app, client, seed, mission, scenario
):  # type: ignore[no-untyped-def]
    from tests.api.conftest import Api, login
    from tests.web.conftest import PASSWORD, make_web_user

    make_web_user(app, "laee@example.org", "commune", seed.project_id, [LA_EE])
    make_web_user(app, "hungson@example.org", "commune", seed.project_id, [HUNG_SON])
    la_ee = Api(client, login(client, "laee@example.org", PASSWORD))
    hung_son = Api(client, login(client, "hungson@example.org", PASSWORD))
    seen = {r["instance_id"] for r in la_ee.get(f"{_base(mission)}/review?{Q3}").get_json()["sessions"]}
    assert seen == {scenario["mismatch"], scenario["in_laos"]}  # chosen in La Êê
    assert hung_son.get(f"{_base(mission)}/review?{Q3}").get_json()["sessions"] == []


def test_geojson_and_csv_suppress_small_victim_counts(admin, mission, scenario):  # type: ignore[no-untyped-def]
    r = admin.get(f"{_base(mission)}.geojson?{Q3}")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    doc = json.loads(r.data)
    assert doc["type"] == "FeatureCollection" and doc["period"] == "2026-Q3"
    assert doc["boundary_set"]["approximate"] is False
    props = {f["properties"]["code"]: f["properties"] for f in doc["features"]}
    assert props[LA_EE]["victim_cases"] == "<5"
    assert props[LA_EE]["risk_reasons"] == ["border", "victim_cases"]
    assert doc["indicators"][1]["numerator"] == "<5"
    assert doc["features"][0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}

    r = admin.get(f"{_base(mission)}.csv?{Q3}")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "coverage-2026-Q3.csv" in r.headers["Content-Disposition"]
    rows = {
        row["code"]: row
        for row in csv.DictReader(io.StringIO(r.data.decode("utf-8-sig")))
    }
    assert rows[LA_EE]["victim_cases"] == "<5"
    assert rows[TAY_GIANG]["sessions"] == "2"
    assert rows[TAY_GIANG]["victim_cases"] == "0"

    r = admin.get(f"{_base(mission)}/indicators.csv?{Q3}&lang=en")
    lines = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert [x["key"] for x in lines] == [
        "sessions_high_risk",
        "victims_needs_served",
        "staff_trained",
    ]
    assert (lines[1]["numerator"], lines[1]["percent"]) == ("<5", "")


def test_excluded_submissions_hook_drops_flagged_duplicates(
    app, admin, mission, scenario, monkeypatch
):  # type: ignore[no-untyped-def]
    import server.coverage

    with app.app_context():
        flagged = db.session.scalar(
            sa.select(Submission.id).where(
                Submission.instance_id == scenario["tay_giang"]
            )
        )
    monkeypatch.setattr(
        server.coverage, "excluded_submission_ids", lambda project_id: {flagged}
    )
    rows = admin.get(f"{_base(mission)}?{Q3}").get_json()["communes"]
    assert next(r for r in rows if r["code"] == TAY_GIANG)["sessions"] == 1


def test_old_commune_codes_go_through_the_crosswalk(
    admin, mission, phone, real_boundaries
):  # type: ignore[no-untyped-def]
    lang = "20449"  # Xã Lăng (huyện Tây Giang), merged into Tây Giang in 2025
    phone.send("outreach_session", session_values("2026-07-02", lang, None))
    body = admin.get(f"{_base(mission)}?{Q3}").get_json()
    rows = {row["code"]: row for row in body["communes"]}
    assert rows[TAY_GIANG]["sessions"] == 1
    assert body["unplaced"]["sessions"] == 0


def test_permissions_viewer_reads_aggregates_app_users_never(
    mission, scenario, as_role, app_user, anon
):  # type: ignore[no-untyped-def]
    url = f"{_base(mission)}?{Q3}"
    viewer = as_role("viewer")
    assert viewer.get(url).status_code == 200
    assert viewer.get(f"{_base(mission)}/review?{Q3}").status_code == 200
    assert viewer.get("/v1/boundary-sets").status_code == 200
    assert_problem(as_role("formfill").get(url), 403.1)
    assert_problem(app_user.get(url), 403.1)
    assert_problem(app_user.get("/v1/boundary-sets"), 403.1)
    assert_problem(anon.get(url), 401.4)
    assert_problem(anon.get(f"{_base(mission)}/map.png?{Q3}"), 401.4)
    assert_problem(anon.get("/v1/boundary-sets"), 401.4)
    key = f"/v1/key/{mission.token}/projects/{mission.project_id}/coverage?{Q3}"
    assert anon.get(key).status_code in (403, 404)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("period=2026-W31", 400.8),
        ("period=2026-13", 400.8),
        ("", 400.2),
        ("period=2026-Q3&set=Ranh giới 1999", 404.1),
        ("period=2026-Q3&lang=fr", 400.8),
    ],
    ids=["week", "month-13", "missing", "unknown-set", "bad-lang"],
)
def test_bad_requests_get_central_problems(admin, seed, query, code):  # type: ignore[no-untyped-def]
    r = admin.get(f"/v1/projects/{seed.project_id}/coverage?{query}")
    assert_problem(r, code)
    body = r.get_json()
    if code == 400.8 and "period" in query and "lang" not in query:
        assert body["details"] == {"field": "period", "value": query.split("=")[1]}
        assert "2026-Q3" in body["message"]
    assert_problem(admin.get(f"/v1/projects/999/coverage?{Q3}"), 404.1)


def test_boundary_sets_listing(admin, real_boundaries):  # type: ignore[no-untyped-def]
    body = admin.get("/v1/boundary-sets").get_json()
    assert [s["name"] for s in body["sets"]] == ["Xã/phường 2025 (50 m)"]
    assert body["sets"][0]["areas"] == 94
    assert body["sets"][0]["valid_from"] == "2025-07-01"
    assert body["borders"][0]["name"] == "Việt Nam – Lào"
    assert 137_000 < body["borders"][0]["length_m"] < 138_000
    assert body["fallback"] is None


def test_without_boundaries_the_approximate_areas_are_used_and_said(
    admin, mission, phone
):  # type: ignore[no-untyped-def]
    phone.send("outreach_session", session_values("2026-08-03", LA_EE, MISSION_POINT))
    body = admin.get(f"{_base(mission)}?{Q3}").get_json()
    assert body["boundary_set"]["approximate"] is True
    assert body["border"] == []
    rows = {row["code"]: row for row in body["communes"]}
    assert len(rows) == 94
    # approximate edges are guesses: the form's commune wins a disagreement
    assert rows[LA_EE]["sessions"] == 1
    listing = admin.get("/v1/boundary-sets").get_json()
    assert listing["sets"] == [] and listing["fallback"]["approximate"] is True

    r = admin.get(f"{_base(mission)}/map.png?{Q3}&lang=en")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.data.startswith(b"\x89PNG\r\n\x1a\n")
    again = admin.get(f"{_base(mission)}/map.png?{Q3}&lang=en")
    assert again.data == r.data  # cached: nothing changed
    phone.send("outreach_session", session_values("2026-08-04", LA_EE, None))
    changed = admin.get(f"{_base(mission)}/map.png?{Q3}&lang=en")
    assert changed.data.startswith(b"\x89PNG") and changed.data != r.data
