"""Two phones edit the same case offline; uploads arrive in any order.

The expected outcomes below are worked out by hand from reference section 8 (Central's
rules), not read off the implementation. Notation: ``vN`` is server version N; a
phone's update ``A1`` is its first offline edit, ``A2`` its second.

Both phones download the list while the case is at v1, so Collect gives every update
``trunkVersion=1`` and the phone's own ``branchId``; ``A1``/``B1`` carry
``baseVersion=1`` and ``A2``/``B2`` ``baseVersion=2`` (the local version after the
first edit). The server finds each update's base:

- ``baseVersion == trunkVersion`` (A1, B1): the base is the trunk version, v1;
- otherwise (A2, B2): the version made from the same branch with
  ``branchBaseVersion = baseVersion - 1 = 1``, i.e. the server version A1 (or B1)
  became. If that has not arrived, the update waits in the backlog and is applied as
  soon as its predecessor is.

Applying: the new version is current + 1 and the properties sent overwrite. If the
base is not the current version, the server compares what changed between base and
current with what the phone sent: a property in both with a different value makes the
conflict ``hard``, otherwise ``soft``. A branch interrupted by another branch's version
is ``soft``. A conflict is never downgraded.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from server.db import db
from tests.entities import builders
from tests.entities.conftest import case_values

START = {"risk": "high", "status": "active", "next_visit": "2026-12-01"}

# Scenario "overlap": both phones change ``risk`` (different values).
OVERLAP = {
    "A1": {"risk": "medium"},
    "A2": {"next_visit": "2026-12-15"},
    "B1": {"risk": "low"},
    "B2": {"status": "closed"},
}
# Scenario "disjoint": the phones touch different properties.
DISJOINT = {
    "A1": {"risk": "medium"},
    "A2": {"next_visit": "2026-12-15"},
    "B1": {"status": "closed"},
    "B2": {"services": "housing"},
}

# (scenario, upload order) -> (final version, conflict, final data changes,
#                              conflictingProperties per version 2..5)
EXPECTED = {
    # A1: base v1 = current v1 -> v2, no conflict.
    # A2: base = A1's v2 = current -> v3; not interrupted (no other branch) -> none.
    # B1: base v1, current v3; changed since v1: risk (medium), next_visit;
    #     B1 sends risk=low -> overlap, different -> v4 HARD, conflicting [risk].
    # B2: base = B1's v4 = current; interrupted by A's v2, v3 -> soft, but hard stays.
    ("overlap", "A1 A2 B1 B2"): (
        5,
        "hard",
        {"risk": "low", "next_visit": "2026-12-15", "status": "closed"},
        [None, None, ["risk"], None],
    ),
    # A1 -> v2. B1: base v1, current v2, changed: risk=medium; B1 risk=low -> v3 HARD.
    # A2: base A1's v2, current v3, changed since v2: risk (low); A2 sends next_visit
    #     -> no overlap: conflicting [] (soft), but the entity stays hard -> v4.
    # B2: base B1's v3, current v4, changed: next_visit; B2 sends status -> [] -> v5.
    ("overlap", "A1 B1 A2 B2"): (
        5,
        "hard",
        {"risk": "low", "next_visit": "2026-12-15", "status": "closed"},
        [None, ["risk"], [], []],
    ),
    # A2 first: its predecessor (branch A, branchBaseVersion 1) is missing -> held.
    # A1 -> v2 and releases A2 -> v3 (as in order 1). B2 held; B1 -> v4 HARD
    # (as in order 1) and releases B2 -> v5 (interrupted, stays hard).
    ("overlap", "A2 A1 B2 B1"): (
        5,
        "hard",
        {"risk": "low", "next_visit": "2026-12-15", "status": "closed"},
        [None, None, ["risk"], None],
    ),
    # B2 held; A2 held; B1: base v1 = current -> v2 risk=low, no conflict, releases
    # B2 -> v3 (base v2 = current, no other branch yet) no conflict. A1: base v1,
    # current v3, changed since v1: risk (low), status; A1 risk=medium -> v4 HARD,
    # releases A2: base A1's v4 = current; interrupted (B's v2, v3) -> stays hard, v5.
    ("overlap", "B2 A2 B1 A1"): (
        5,
        "hard",
        {"risk": "medium", "next_visit": "2026-12-15", "status": "closed"},
        [None, None, ["risk"], None],
    ),
    # Disjoint edits: every comparison finds no overlap -> soft, never hard.
    # Order 1: A1 v2, A2 v3 (none); B1 base v1 vs current v3 changed {risk,
    # next_visit}, sent {status} -> v4 SOFT []; B2 -> v5 interrupted -> soft.
    ("disjoint", "A1 A2 B1 B2"): (
        5,
        "soft",
        {
            "risk": "medium",
            "next_visit": "2026-12-15",
            "status": "closed",
            "services": "housing",
        },
        [None, None, [], None],
    ),
    # A1 v2; B1 vs v2 changed {risk}, sent {status} -> v3 SOFT []; A2 base v2 vs v3
    # changed {status}, sent {next_visit} -> v4 [] ; B2 base v3 vs v4 changed
    # {next_visit}, sent {services} -> v5 [].
    ("disjoint", "A1 B1 A2 B2"): (
        5,
        "soft",
        {
            "risk": "medium",
            "next_visit": "2026-12-15",
            "status": "closed",
            "services": "housing",
        },
        [None, [], [], []],
    ),
    ("disjoint", "A2 A1 B2 B1"): (
        5,
        "soft",
        {
            "risk": "medium",
            "next_visit": "2026-12-15",
            "status": "closed",
            "services": "housing",
        },
        [None, None, [], None],
    ),
}


def _start(cases) -> str:  # type: ignore[no-untyped-def]
    uuid = builders.new_uuid()
    cases.submit(builders.intake_xml(uuid, {**case_values(), **START}))
    return uuid


@pytest.mark.parametrize(
    ("scenario", "order"),
    list(EXPECTED),
    ids=[f"{s}:{o.replace(' ', '-')}" for s, o in EXPECTED],
)
def test_two_phones_offline(cases, scenario, order):
    uuid = _start(cases)
    edits = {"overlap": OVERLAP, "disjoint": DISJOINT}[scenario]
    phones = {"A": builders.Phone("A"), "B": builders.Phone("B")}
    for phone in phones.values():  # both sync while the case is at v1
        phone.download(cases.csv())
        assert phone.entities[uuid].version == 1
    # Each phone edits twice offline (in its own order: 1 then 2).
    xml = {}
    for name in ("A1", "A2", "B1", "B2"):
        xml[name] = phones[name[0]].update(uuid, edits[name])
    assert phones["A"].entities[uuid].version == 3  # local versions were bumped
    for name in order.split():
        cases.submit(xml[name])
    version, conflict, changes, conflicting = EXPECTED[(scenario, order)]
    entity = cases.entity(uuid)
    current = entity["currentVersion"]
    assert (current["version"], entity["conflict"]) == (version, conflict)
    expected_data = {k: v for k, v in case_values().items() if k != "full_name"}
    expected_data.update(START)
    expected_data.update(changes)
    assert current["data"] == expected_data
    versions = cases.versions(uuid)
    assert [v["version"] for v in versions] == list(range(1, version + 1))
    assert [v["conflictingProperties"] for v in versions[1:]] == conflicting
    assert cases.errors() == []
    # Every held update was applied; nothing is left waiting.
    from server.entity_models import EntityBacklog

    with cases.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EntityBacklog.id))) == 0


def test_phone_that_synced_after_the_other_has_no_conflict(cases):
    """B downloads after A's edits arrived: trunk 3, base 3 = current -> clean."""
    uuid = _start(cases)
    a, b = builders.Phone("A"), builders.Phone("B")
    a.download(cases.csv())
    cases.submit(a.update(uuid, {"risk": "medium"}))
    cases.submit(a.update(uuid, {"risk": "low"}))
    b.download(cases.csv())
    assert b.entities[uuid].version == 3
    cases.submit(b.update(uuid, {"risk": "high"}))
    entity = cases.entity(uuid)
    assert (entity["currentVersion"]["version"], entity["conflict"]) == (4, None)


def test_resolve_clears_the_conflict_and_it_can_come_back(cases):
    uuid = _start(cases)
    a, b = builders.Phone("A"), builders.Phone("B")
    a.download(cases.csv())
    b.download(cases.csv())
    cases.submit(a.update(uuid, {"risk": "medium"}))
    cases.submit(b.update(uuid, {"risk": "low"}))
    assert cases.entity(uuid)["conflict"] == "hard"
    versions = cases.versions(uuid)
    assert versions[-1]["conflict"] == "hard" and versions[1]["lastGoodVersion"]
    assert versions[-1]["source"]["submission"]["instanceId"].startswith("uuid:")
    api = f"{cases.api}/datasets/cases/entities/{uuid}"
    admin = cases.admin()
    r = cases.client.patch(f"{api}?resolve=true&baseVersion=2", json={}, headers=admin)
    assert r.status_code == 409 and r.get_json()["code"] == 409.15
    r = cases.client.patch(
        f"{api}?resolve=true&baseVersion=3",
        json={"data": {"risk": "medium"}},
        headers=admin,
    )
    assert r.status_code == 200, r.data
    body = r.get_json()
    assert (body["conflict"], body["currentVersion"]["version"]) == (None, 4)
    assert cases.versions(uuid)[2]["resolved"] is True
    r = cases.client.patch(f"{api}?resolve=true&baseVersion=4", headers=admin)
    assert r.status_code == 400 and r.get_json()["code"] == 400.32
    # A late edit from A's old branch (base = its v2, current v4) conflicts again.
    # Since v2 risk went low then back to medium, so it is unchanged since A's base:
    # no overlap with what A sends -> soft (not hard).
    cases.submit(a.update(uuid, {"risk": "high"}))
    entity = cases.entity(uuid)
    assert (entity["conflict"], entity["currentVersion"]["data"]["risk"]) == (
        "soft",
        "high",
    )


def _age_backlog(app, seconds: int) -> None:  # type: ignore[no-untyped-def]
    """Move held entries and their wake-up jobs ``seconds`` into the past."""
    from server.entity_models import EntityBacklog
    from server.models import Job

    with app.app_context():
        delta = dt.timedelta(seconds=seconds)
        for row in db.session.scalars(sa.select(EntityBacklog)):
            row.logged_at -= delta
        for job in db.session.scalars(sa.select(Job).where(Job.done_at.is_(None))):
            if job.run_after is not None:
                job.run_after -= delta
        db.session.commit()


def test_update_whose_predecessor_never_arrives_is_applied_after_the_delay(cases):
    cases.app.config["ENTITY_BACKLOG_FORCE_SECONDS"] = 3600
    uuid = _start(cases)
    a = builders.Phone("A")
    a.download(cases.csv())
    lost = a.update(uuid, {"risk": "medium"})  # never uploaded (phone lost it)
    second = a.update(uuid, {"next_visit": "2027-01-10"})
    assert lost
    cases.submit(second)
    assert cases.entity(uuid)["currentVersion"]["version"] == 1  # held
    _age_backlog(cases.app, 1800)
    cases.run_jobs()
    assert cases.entity(uuid)["currentVersion"]["version"] == 1  # not yet due
    _age_backlog(cases.app, 1801)
    cases.run_jobs()
    entity = cases.entity(uuid)
    current = entity["currentVersion"]
    # Forced against the latest version (v1): base 1 = current, not interrupted.
    assert (current["version"], current["baseVersion"]) == (2, 1)
    assert current["data"]["next_visit"] == "2027-01-10"
    assert (current["branchBaseVersion"], current["trunkVersion"]) == (2, 1)
    assert entity["conflict"] is None and cases.errors() == []


def test_forced_update_of_a_missing_entity_creates_it_then_the_create_conflicts(cases):
    """An offline create never reached the server but its update did: after the delay
    the update creates the entity ("auto generated" label). When the create finally
    arrives it is applied as an update and marked as a conflict."""
    cases.app.config["ENTITY_BACKLOG_FORCE_SECONDS"] = 60
    uuid, branch = builders.new_uuid(), builders.new_uuid()
    update = builders.entity_xml(
        "followup",
        uuid,
        {"risk": "medium"},
        update="1",
        base_version=1,
        trunk_version="",
        branch_id=branch,
    )
    cases.submit(update)
    _age_backlog(cases.app, 61)
    cases.run_jobs()
    entity = cases.entity(uuid)
    assert entity["currentVersion"]["label"] == "auto generated"
    assert entity["currentVersion"]["data"] == {"risk": "medium"}
    cases.submit(builders.intake_xml(uuid, {**case_values(), **START}))
    entity = cases.entity(uuid)
    current = entity["currentVersion"]
    assert current["version"] == 2 and entity["conflict"] == "hard"
    assert current["label"] == "DN-2026-00123 · 20698"
    assert "risk" in current["conflictingProperties"]
    assert "label" in current["conflictingProperties"]
    assert cases.versions(uuid)[1]["conflict"] == "hard"
    assert cases.errors() == []


def test_offline_create_then_update_arriving_backwards(cases):
    """The update (baseVersion 1, no trunk) waits for the create, then follows it."""
    uuid, branch = builders.new_uuid(), builders.new_uuid()
    update = builders.entity_xml(
        "followup",
        uuid,
        {"status": "closed"},
        update="1",
        base_version=1,
        trunk_version="",
        branch_id=branch,
    )
    cases.submit(update)
    r = cases.client.get(
        f"{cases.api}/datasets/cases/entities/{uuid}", headers=cases.admin()
    )
    assert r.status_code == 404
    cases.submit(builders.intake_xml(uuid, case_values()))
    entity = cases.entity(uuid)
    current = entity["currentVersion"]
    assert (current["version"], current["data"]["status"], entity["conflict"]) == (
        2,
        "closed",
        None,
    )
    assert (current["branchId"], current["branchBaseVersion"]) == (branch, 1)


def test_trunk_version_ahead_of_the_server_is_an_error(cases):
    uuid = _start(cases)
    xml = builders.entity_xml(
        "followup",
        uuid,
        {"risk": "low"},
        update="1",
        base_version=1,
        trunk_version=2,
        branch_id=builders.new_uuid(),
    )
    cases.submit(xml)
    [error] = cases.errors()
    assert error["problem"]["code"] == 404.9
    assert "trunkVersion=2" in error["errorMessage"]


def test_concurrent_workers_do_not_lose_updates(cases):
    """Two job workers apply updates of one entity at once: the lock serialises them."""
    import threading

    from server import jobs

    uuid = _start(cases)
    for i in range(6):  # six online updates, each based on the then-current version
        xml = builders.entity_xml(
            "followup", uuid, {"services": f"s{i}"}, update="1", base_version=1
        )
        cases.submit(xml, run=False)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with cases.app.app_context():
                while jobs.run_pending(limit=1):
                    pass
                db.session.remove()
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    cases.run_jobs()  # anything retried after a busy database
    assert errors == []
    versions = cases.versions(uuid)
    assert [v["version"] for v in versions] == list(range(1, 8))
    assert sorted(v["data"]["services"] for v in versions[1:]) == [
        f"s{i}" for i in range(6)
    ]
    # All but the first were based on v1 while services had changed since: hard.
    assert cases.entity(uuid)["conflict"] == "hard"
