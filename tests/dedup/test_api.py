"""The duplicate review over HTTP: OpenRosa in, the queue, decisions, indicators.

The issue's acceptance test is the first one: two registrations of one woman arrive
from two phones, the job finds the pair, a manager decides "same", the coverage
indicator counts her once while both records stay retrievable, and undo restores
the count.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from server.db import db
from server.models import Audit
from tests import mission_data as md
from tests.dedup.conftest import (
    assert_problem,
    case_values,
    run_jobs,
    second_registration,
    victim,
)

Q4 = "period=2026-Q4"
TAY_GIANG, HUNG_SON = md.TAY_GIANG, md.HUNG_SON


def _dup(mission) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/projects/{mission.project_id}/duplicates"


def _sub(mission, instance_id: str) -> str:  # type: ignore[no-untyped-def]
    base = f"/v1/projects/{mission.project_id}/forms/victim_case/submissions"
    return f"{base}/{instance_id}"


def _victims_denominator(admin, mission) -> int:  # type: ignore[no-untyped-def]
    r = admin.get(f"/v1/projects/{mission.project_id}/coverage?{Q4}&lang=en")
    assert r.status_code == 200, r.get_json()
    victims = r.get_json()["indicators"][1]
    assert victims["key"] == "victims_needs_served"
    return victims["denominator"]


def test_near_duplicate_victims_decided_same_count_once_and_undo_restores(
    app, admin, mission, phone
):  # type: ignore[no-untyped-def]
    first = phone.send("victim_case", victim())
    second = phone.send("victim_case", second_registration())
    # four other people (no consent, so no names) in other places and weeks
    for i, (commune, day) in enumerate(
        [
            (TAY_GIANG, "2026-10-03"),
            (HUNG_SON, "2026-10-17"),
            (TAY_GIANG, "2026-10-24"),
            (HUNG_SON, "2026-11-05"),
        ]
    ):
        phone.send(
            "victim_case",
            case_values(f"BPTG-2026-2{i}", day, commune, "medical", "medical"),
        )
    assert run_jobs(app) == 6

    r = admin.get(_dup(mission))
    assert r.status_code == 200, r.get_json()
    clusters = r.get_json()
    assert len(clusters) == 1 and r.headers["X-Total-Count"] == "1"
    found = clusters[0]
    assert found["formId"] == "victim_case" and found["decision"] == "match"
    assert {m["instanceId"] for m in found["members"]} == {first, second}
    member = next(m for m in found["members"] if m["instanceId"] == first)
    assert member["instanceName"] == md.VICTIM_WITH_CONSENT_NAME
    assert member["submitter"]["displayName"] == "Máy Hội Phụ nữ xã La Êê"
    assert member["reviewState"] is None and member["duplicateOf"] is None
    (link,) = found["links"]
    assert {link["a"], link["b"]} == {first, second}
    assert link["status"] == "pending" and link["score"] >= 0.95
    assert "họ tên trùng khi bỏ dấu" in link["summary"]  # Vietnamese by default
    codes = {r["code"] for r in link["reasons"]}
    assert {"person_name.folded", "year.same", "commune.same"} <= codes
    english = admin.get(f"{_dup(mission)}?lang=en").get_json()[0]["links"][0]
    assert "names match after removing diacritics" in english["summary"]
    # reasons name relations, never the person: no name, phone, ID or village
    text = json.dumps(clusters, ensure_ascii=False)
    for value in (*md.PII_VALUES, "Ho Thi Lan", "2003"):
        assert value not in text

    assert _victims_denominator(admin, mission) == 6
    r = admin.post(
        f"{_dup(mission)}/decisions",
        json={"verdict": "same", "primary": first, "members": [first, second]},
    )
    assert r.status_code == 200, r.get_json()
    decision = r.get_json()
    assert (decision["verdict"], decision["primary"]) == ("same", first)
    assert sorted(decision["members"]) == sorted([first, second])
    assert decision["undoneAt"] is None and decision["formId"] == "victim_case"

    assert admin.get(_dup(mission)).get_json() == []  # decided: off the queue
    assert _victims_denominator(admin, mission) == 5  # she counts once
    # both records stay stored and retrievable; the second says whose duplicate it is
    dup = admin.get(_sub(mission, second))
    assert dup.status_code == 200 and dup.get_json()["duplicateOf"] == first
    assert admin.get(_sub(mission, first)).get_json()["duplicateOf"] is None
    assert admin.get(f"{_sub(mission, second)}.xml").status_code == 200
    listing = admin.get(_sub(mission, "")[:-1]).get_json()
    assert len(listing) == 6
    assert {s["instanceId"]: s["duplicateOf"] for s in listing}[second] == first

    r = admin.delete(f"{_dup(mission)}/decisions/{decision['id']}")
    assert r.status_code == 200 and r.get_json() == {"success": True}
    assert _victims_denominator(admin, mission) == 6
    assert admin.get(_sub(mission, second)).get_json()["duplicateOf"] is None
    again = admin.get(_dup(mission)).get_json()  # undecided again: back in the queue
    assert [{m["instanceId"] for m in c["members"]} for c in again] == [{first, second}]
    history = admin.get(f"{_dup(mission)}/decisions").get_json()
    assert [(d["id"], d["verdict"]) for d in history] == [(decision["id"], "same")]
    assert history[0]["undoneAt"] is not None and history[0]["undoneBy"] is not None
    assert_problem(admin.delete(f"{_dup(mission)}/decisions/{decision['id']}"), 409.31)
    with app.app_context():
        actions = db.session.scalars(
            sa.select(Audit.action)
            .where(Audit.action.like("dedup.%"))
            .order_by(Audit.id)
        ).all()
    assert actions == ["dedup.decision.create", "dedup.decision.undo"]
