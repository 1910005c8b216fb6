"""Case conflicts page: two phones update the same case offline; the supervisor
sees the versions side by side and resolves, keeping a version's values. A commune
supervisor sees only the cases of its communes."""

from __future__ import annotations

import re

import pytest

from tests.entities import builders
from tests.entities.conftest import LA_EE, TAY_GIANG, case_values, cases  # noqa: F401
from tests.web.conftest import make_web_user


@pytest.fixture
def conflict(cases):  # type: ignore[no-untyped-def]  # noqa: F811
    uuid = builders.new_uuid()
    cases.submit(builders.intake_xml(uuid, case_values()))
    a, b = builders.Phone("A"), builders.Phone("B")
    a.download(cases.csv())
    b.download(cases.csv())
    cases.submit(a.update(uuid, {"risk": "medium"}))
    cases.submit(b.update(uuid, {"risk": "low"}))
    assert cases.entity(uuid)["conflict"] == "hard"
    return uuid


def test_conflict_side_by_side_and_resolved(app, seed, browser, cases, conflict):  # noqa: F811
    make_web_user(app, "tinh@example.org", "province", seed.project_id)
    tinh = browser()
    tinh.login("tinh@example.org")
    p = seed.project_id
    dashboard = tinh.get(f"/projects/{p}/").get_data(as_text=True)
    assert re.search(r"<strong>1</strong> xung đột hồ sơ", dashboard)
    page = tinh.get(f"/projects/{p}/conflicts").get_data(as_text=True)
    assert "DN-2026-00123" in page and "medium" in page and "low" in page
    action = re.search(r'action="([^"]+/conflicts/cases/[^"]+)"', page).group(1)
    r = tinh.post(action, {"take_version": "2"})  # keep phone A's answer
    assert r.status_code == 302
    entity = cases.entity(conflict)
    assert entity["conflict"] is None
    assert entity["currentVersion"]["data"]["risk"] == "medium"
    assert "Không có xung đột hồ sơ nào" in tinh.get(
        f"/projects/{p}/conflicts"
    ).get_data(as_text=True)


def test_commune_supervisor_sees_only_its_cases(app, seed, browser, conflict):
    make_web_user(app, "tg@example.org", "commune", seed.project_id, [TAY_GIANG])
    make_web_user(app, "la@example.org", "commune", seed.project_id, [LA_EE])
    p = seed.project_id
    tg, la = browser(), browser()
    tg.login("tg@example.org")
    la.login("la@example.org")
    assert "DN-2026-00123" not in tg.get(f"/projects/{p}/conflicts").get_data(
        as_text=True
    )
    assert tg.post(f"/projects/{p}/conflicts/cases/{conflict}", {}).status_code == 404
    assert "DN-2026-00123" in la.get(f"/projects/{p}/conflicts").get_data(as_text=True)
