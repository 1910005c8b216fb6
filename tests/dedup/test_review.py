"""Decisions: what they refuse, what "never" means, chains, permissions, errors."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server import dedup
from server.db import db
from server.models import Submission, utcnow
from tests import mission_data as md
from tests.dedup.conftest import assert_problem, run_jobs, session
from tests.dedup.test_check import DISTRICT

# A third report of the same session: the worker typed the paper sheet in again.
RETYPED = {
    "deviceid": "collect:Vx8Qm2LrT4pYzA91",
    "session/gps": "15.7560 107.4530 710.0 8.0",
    "participants/n_total": "44",
    "participants/n_women": "18",
    "participants/n_girls": "8",
}


@pytest.fixture
def three(app, mission, phone):  # type: ignore[no-untyped-def]
    """Three reports of one session: instanceIds a, b, c (in arrival order)."""
    ids = [
        phone.send("outreach_session", session()),
        phone.send("outreach_session", session(**DISTRICT)),
        phone.send("outreach_session", session(**RETYPED)),
    ]
    run_jobs(app)
    return ids


def _url(mission, tail: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/v1/projects/{mission.project_id}/duplicates{tail}"


def _decide(api, mission, verdict: str, members, primary=None):  # type: ignore[no-untyped-def]
    body = {"verdict": verdict, "members": members}
    if primary is not None:
        body["primary"] = primary
    return api.post(_url(mission, "/decisions"), json=body)


def _members(api, mission) -> list[set[str]]:  # type: ignore[no-untyped-def]
    return [
        {m["instanceId"] for m in c["members"]} for c in api.get(_url(mission)).json
    ]


def test_three_reports_form_one_cluster_and_decisions_keep_it_consistent(
    app, admin, mission, three
):  # type: ignore[no-untyped-def]
    a, b, c = three
    assert _members(admin, mission) == [{a, b, c}]
    first = _decide(admin, mission, "same", [b], primary=a).json
    # c still joins the cluster through undecided pairs: it waits, b is confirmed
    (cluster,) = admin.get(_url(mission)).json
    statuses = {frozenset((x["a"], x["b"])): x["status"] for x in cluster["links"]}
    assert statuses[frozenset((a, b))] == "confirmed"
    assert "pending" in statuses.values()
    dup_of = {m["instanceId"]: m["duplicateOf"] for m in cluster["members"]}
    assert dup_of == {a: None, b: a, c: None}

    # b is a's duplicate: it cannot be a primary, nor someone else's duplicate
    assert_problem(_decide(admin, mission, "same", [c], primary=b), 409.30)
    assert_problem(_decide(admin, mission, "same", [b], primary=c), 409.30)
    assert_problem(_decide(admin, mission, "different", [a, b]), 409.30)
    assert_problem(_decide(admin, mission, "same", [a, b], primary=a), 409.30)
    second = _decide(admin, mission, "same", [a, b, c], primary=a)
    assert second.status_code == 200, second.json
    assert admin.get(_url(mission)).json == []
    with app.app_context():
        assert len(dedup.excluded(mission.project_id)) == 2
    # undoing the first leaves the second: b is undecided again, c stays linked
    admin.delete(_url(mission, f"/decisions/{first['id']}"))
    (cluster,) = admin.get(_url(mission)).json
    dup_of = {m["instanceId"]: m["duplicateOf"] for m in cluster["members"]}
    assert dup_of == {a: None, b: None, c: a}


def test_different_is_never_proposed_again_even_after_an_edit(
    app, admin, mission, phone, three
):  # type: ignore[no-untyped-def]
    a, b, c = three
    r = _decide(admin, mission, "different", [a, b, c])
    assert r.status_code == 200 and r.json["primary"] is None
    assert admin.get(_url(mission)).json == []
    # b is edited (new version, same logical submission): its pairs are rescored
    phone.edit("outreach_session", b, session(**DISTRICT, notes="Sửa số liệu"))
    assert run_jobs(app) == 1
    assert admin.get(_url(mission)).json == []
    assert_problem(_decide(admin, mission, "different", [a, b]), 409.30)
    # a "same" that would join a pair marked different is refused
    assert_problem(_decide(admin, mission, "same", [b], primary=a), 409.30)
    admin.delete(_url(mission, f"/decisions/{r.json['id']}"))
    assert _members(admin, mission) == [{a, b, c}]


def test_a_deleted_primary_does_not_hide_its_cluster(app, admin, mission, three):  # type: ignore[no-untyped-def]
    a, b, c = three
    _decide(admin, mission, "same", [b, c], primary=a)
    with app.app_context():
        ids = dict(
            db.session.execute(sa.select(Submission.instance_id, Submission.id)).all()
        )
        assert dedup.excluded(mission.project_id) == {ids[b], ids[c]}
        db.session.execute(
            sa.update(Submission)
            .where(Submission.id == ids[a])
            .values(deleted_at=utcnow())
        )
        db.session.commit()
        # the earliest live member stands for the session now
        assert dedup.excluded(mission.project_id) == {ids[c]}


def test_viewers_read_the_queue_managers_decide_app_users_never(
    admin, mission, three, as_role, app_user, anon
):  # type: ignore[no-untyped-def]
    a, b, _c = three
    viewer = as_role("viewer")
    assert viewer.get(_url(mission)).status_code == 200
    assert viewer.get(_url(mission, "/decisions")).status_code == 200
    assert_problem(_decide(viewer, mission, "same", [b], primary=a), 403.1)
    assert_problem(as_role("formfill").get(_url(mission)), 403.1)
    assert_problem(app_user.get(_url(mission)), 403.1)
    assert_problem(_decide(app_user, mission, "same", [b], primary=a), 403.1)
    assert_problem(anon.get(_url(mission)), 401.4)
    manager = as_role("manager")
    r = _decide(manager, mission, "same", [b], primary=a)
    assert r.status_code == 200 and r.json["actor"]["displayName"] == "manager"
    assert_problem(viewer.delete(_url(mission, f"/decisions/{r.json['id']}")), 403.1)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"members": ["x", "y"]}, 400.2),
        ({"verdict": "maybe", "members": ["x", "y"]}, 400.8),
        ({"verdict": "same", "members": ["{b}"]}, 400.2),
        ({"verdict": "different", "members": "{a}"}, 400.8),
        ({"verdict": "different", "members": ["{a}"]}, 400.8),
        ({"verdict": "different", "members": ["{a}", "uuid:nope"]}, 404.1),
        ({"verdict": "same", "primary": "{a}", "members": ["{a}"]}, 400.8),
        (
            {"verdict": "same", "primary": "{a}", "members": ["{b}"], "formId": "x"},
            404.1,
        ),
    ],
    ids=[
        "no-verdict",
        "bad-verdict",
        "no-primary",
        "not-a-list",
        "one-member",
        "unknown",
        "only-primary",
        "other-form",
    ],
)
def test_bad_decisions_get_central_problems(admin, mission, three, body, code):  # type: ignore[no-untyped-def]
    a, b, _c = three
    names = {"{a}": a, "{b}": b}
    filled = {
        k: ([names.get(x, x) for x in v] if isinstance(v, list) else names.get(v, v))
        for k, v in body.items()
    }
    assert_problem(admin.post(_url(mission, "/decisions"), json=filled), code)


def test_queue_errors(admin, mission):  # type: ignore[no-untyped-def]
    assert_problem(admin.get(_url(mission, "?lang=fr")), 400.8)
    assert_problem(admin.get(_url(mission, "?form=nope")), 404.1)
    assert_problem(admin.get("/v1/projects/999/duplicates"), 404.1)
    assert_problem(admin.delete(_url(mission, "/decisions/999")), 404.1)
    assert admin.get(_url(mission, "?form=photos")).json == []  # no rules: no queue


def test_commune_supervisors_see_and_decide_only_their_communes(
    app, client, mission, three
):  # type: ignore[no-untyped-def]
    from server.models import ProjectRoleCommune, User
    from tests.api.conftest import Api, login, make_user

    a, b, _c = three  # all three in La Êê

    def supervisor(email: str, commune: str) -> Api:
        make_user(app, email, "commune", mission.project_id)
        with app.app_context():
            actor = db.session.scalar(
                sa.select(User.actor_id).where(User.email == email)
            )
            db.session.add(
                ProjectRoleCommune(
                    actor_id=actor, project_id=mission.project_id, commune=commune
                )
            )
            db.session.commit()
        return Api(client, login(client, email, "a long enough password"))

    la_ee = supervisor("la-ee@example.org", md.LA_EE)
    tay_giang = supervisor("tay-giang@example.org", md.TAY_GIANG)
    assert tay_giang.get(_url(mission)).json == []
    assert_problem(_decide(tay_giang, mission, "same", [b], primary=a), 404.1)
    assert len(la_ee.get(_url(mission)).json) == 1
    r = _decide(la_ee, mission, "same", [b], primary=a)
    assert r.status_code == 200, r.json
    assert tay_giang.get(_url(mission, "/decisions")).json == []
    assert_problem(tay_giang.delete(_url(mission, f"/decisions/{r.json['id']}")), 404.1)
    assert la_ee.delete(_url(mission, f"/decisions/{r.json['id']}")).status_code == 200
