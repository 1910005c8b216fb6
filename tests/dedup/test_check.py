"""The incremental check (a job per stored version) and the batch scan command."""

from __future__ import annotations

import sqlalchemy as sa

from server import dedup
from server.cli import main
from server.db import db
from server.dedup_models import DedupKey, DedupPair
from server.models import Job, Submission
from tests.dedup.conftest import run_jobs, session, victim

# The district worker's report of the mission session: 120 m away, three fewer
# people counted, the village typed without diacritics, another phone.
DISTRICT = {
    "deviceid": "collect:Dq1Xw9Ce3Rv7Tb5n",
    "username": "Cán bộ huyện Tây Giang",
    "session/village": "Ban Pa Ai",
    "session/gps": "15.75528 107.4521 690.0 5.0",
    "participants/n_total": "42",
    "participants/n_women": "17",
    "participants/n_girls": "8",
    "participants/n_men": "11",
    "participants/n_boys": "4",
    "participants/n_ethnic_minority": "39",
}


def _sub_id(app, instance_id: str) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(
            sa.select(Submission.id).where(Submission.instance_id == instance_id)
        )


def _pairs(app) -> list[tuple[int, int, str]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return [
            tuple(r)
            for r in db.session.execute(
                sa.select(DedupPair.a_id, DedupPair.b_id, DedupPair.decision)
            ).all()
        ]


def _keys(app, sub_id: int) -> set[str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return set(
            db.session.scalars(
                sa.select(DedupKey.key).where(DedupKey.submission_id == sub_id)
            )
        )


def test_re_reported_session_is_paired_with_reasons(app, admin, mission, phone):  # type: ignore[no-untyped-def]
    first = phone.send("outreach_session", session())
    second = phone.send("outreach_session", session(**DISTRICT))
    with app.app_context():  # the 201s did not wait for the check
        kinds = db.session.scalars(sa.select(Job.kind)).all()
    assert kinds.count("dedup.check") == 2 and _pairs(app) == []
    assert run_jobs(app) == 2
    a, b = sorted((_sub_id(app, first), _sub_id(app, second)))
    assert _pairs(app) == [(a, b, "match")]
    assert {k.split(":")[0] for k in _keys(app, b)} == {
        "commune_day",
        "gps_day",
        "village_day",
    }
    clusters = admin.get(
        f"/v1/projects/{mission.project_id}/duplicates?form=outreach_session&lang=en"
    ).get_json()
    (link,) = clusters[0]["links"]
    assert link["summary"].startswith("same session date, same commune")
    assert "same village after removing diacritics and prefixes" in link["summary"]
    assert (
        "120 m apart" in link["summary"] and "participants 45 vs 42" in link["summary"]
    )
    assert "reported by different people" in link["summary"]


def test_an_edit_replaces_the_keys_and_pairs_of_its_submission(app, mission, phone):  # type: ignore[no-untyped-def]
    first = phone.send("outreach_session", session())
    second = phone.send("outreach_session", session(**DISTRICT))
    run_jobs(app)
    sub = _sub_id(app, second)
    before = _keys(app, sub)
    assert len(_pairs(app)) == 1
    # the district worker corrects the date: a week later, so another session
    later = {"session/session_date": "2026-11-27", "today": "2026-11-27"}
    phone.edit("outreach_session", second, session(**DISTRICT, **later))
    assert run_jobs(app) == 1
    after = _keys(app, sub)
    assert after and after.isdisjoint(before)  # the same logical submission, rekeyed
    assert _pairs(app) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DedupKey)) == (
            len(after) + len(_keys(app, _sub_id(app, first)))
        )


def test_keys_shared_by_more_than_max_block_submissions_are_skipped(
    app, mission, phone
):  # type: ignore[no-untyped-def]
    first = phone.send("outreach_session", session())
    phone.send("outreach_session", session(**DISTRICT))
    run_jobs(app)
    sub = _sub_id(app, first)
    with app.app_context():
        rules = dedup.rules_for("outreach_session")
        probes = set(
            db.session.scalars(
                sa.select(DedupKey.key).where(DedupKey.submission_id == sub)
            )
        )
        form_id = mission.forms["outreach_session"]
        assert len(dedup.candidate_ids(form_id, probes, rules.max_block)) == 2
        # every key shared by the two is over a block of 1: only its own keys remain
        assert dedup.candidate_ids(form_id, probes, max_block=1) <= {sub}


def test_forms_without_rules_get_no_job(app, openrosa, mission):  # type: ignore[no-untyped-def]
    from tests import factories

    assert openrosa.submit(factories.submission_xml()).status_code == 201
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_scan_command_recomputes_keys_and_pairs(app, runner, mission, phone):  # type: ignore[no-untyped-def]
    phone.send("outreach_session", session())
    phone.send("outreach_session", session(**DISTRICT))
    phone.send("victim_case", victim())
    with app.app_context():  # stored before dedup was set up: no job ever ran
        db.session.execute(sa.delete(Job))
        db.session.commit()

    status = runner.invoke(main, ["dedup", "status"], catch_exceptions=False)
    assert status.exit_code == 0, status.output
    assert "yes: 2 never checked" in status.output

    result = runner.invoke(main, ["dedup", "scan"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = {line.split()[1]: line.split() for line in result.output.splitlines()[1:]}
    assert set(lines) == {"outreach_session", "victim_case", "staff_training"}
    records, keys, _over, candidates, match, possible = lines["outreach_session"][2:8]
    assert (records, match, possible) == ("2", "1", "0")
    assert int(keys) >= 6 and int(candidates) >= 1
    assert lines["victim_case"][2] == "1"
    assert len(_pairs(app)) == 1

    again = runner.invoke(main, ["dedup", "scan", "--form", "outreach_session"])
    assert again.exit_code == 0 and len(again.output.splitlines()) == 2
    assert len(_pairs(app)) == 1  # recomputed, not added
    status = runner.invoke(main, ["dedup", "status", "--form", "outreach_session"])
    assert status.output.splitlines()[1].endswith("no")

    missing = runner.invoke(main, ["dedup", "scan", "--form", "nope"])
    assert missing.exit_code == 1 and "no published form" in missing.output
