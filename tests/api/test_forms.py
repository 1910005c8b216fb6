"""Forms over REST: list, create (XML/XLSForm), read, state, versions, media list."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from server.db import db
from server.models import Audit, Form
from tests import factories
from tests.api.builders import XLSX_TYPE, xlsx
from tests.api.conftest import assert_problem

XML = {"Content-Type": "application/xml"}
XLSX = {"Content-Type": XLSX_TYPE}
FORM_FIELDS = {
    "projectId",
    "xmlFormId",
    "state",
    "enketoId",
    "enketoOnceId",
    "name",
    "version",
    "keyId",
    "hash",
    "sha",
    "sha256",
    "draftToken",
    "publishedAt",
    "createdAt",
    "updatedAt",
}


def _forms(seed) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/projects/{seed.project_id}/forms"


def test_list_forms(admin, seed):
    r = admin.get(_forms(seed))
    assert r.status_code == 200
    [form] = r.get_json()
    assert set(form) == FORM_FIELDS
    assert form["xmlFormId"] == "photos" and form["state"] == "open"
    assert form["hash"] == hashlib.md5(factories.xform()).hexdigest()
    assert form["enketoId"] is None and form["keyId"] is None
    assert form["publishedAt"].endswith("Z")


def test_get_form_extended(admin, seed, openrosa):
    openrosa.submit(factories.submission_xml())
    r = admin.get(f"{_forms(seed)}/photos", headers={"X-Extended-Metadata": "true"})
    body = r.get_json()
    assert body["submissions"] == 1
    assert body["reviewStates"] == {"received": 1, "hasIssues": 0, "edited": 0}
    assert body["lastSubmission"].endswith("Z")
    assert body["version"] == "1" and body["name"] == "Photos"


def test_create_form_from_xml_as_draft_then_publish(app, admin, seed):
    xml = factories.xform("census", "2024", "Census")
    r = admin.post(_forms(seed), data=xml, headers=XML)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["xmlFormId"] == "census" and body["version"] == "2024"
    assert body["publishedAt"] is None and body["draftToken"]
    assert body["hash"] == hashlib.md5(xml).hexdigest()
    # a never-published form shows in the list to managers, with its draft
    assert "census" in [f["xmlFormId"] for f in admin.get(_forms(seed)).get_json()]
    assert admin.post(f"{_forms(seed)}/census/draft/publish").get_json() == {
        "success": True
    }
    body = admin.get(f"{_forms(seed)}/census").get_json()
    assert body["publishedAt"] is not None and body["draftToken"] is None
    assert admin.get(f"{_forms(seed)}/census.xml").data == xml
    with app.app_context():
        actions = [a for (a,) in db.session.execute(sa.select(Audit.action))]
    assert "form.create" in actions and "form.update.publish" in actions


def test_create_form_from_xlsx_with_publish_and_fallback_id(admin, seed):
    r = admin.post(
        f"{_forms(seed)}?publish=true&ignoreWarnings=true",
        data=xlsx(form_id=None),
        headers={**XLSX, "X-XlsForm-FormId-Fallback": "uuid%3Afallback-id"},
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["xmlFormId"] == "uuid:fallback-id"
    assert body["publishedAt"] is not None
    xml = admin.get(f"{_forms(seed)}/uuid:fallback-id.xml").data
    assert b'id="uuid:fallback-id"' in xml and b"<data " in xml


def test_create_form_xlsx_id_in_settings_wins_over_fallback(admin, seed):
    r = admin.post(
        f"{_forms(seed)}?ignoreWarnings=true",
        data=xlsx(form_id="households"),
        headers={**XLSX, "X-XlsForm-FormId-Fallback": "ignored"},
    )
    assert r.get_json()["xmlFormId"] == "households"


def test_create_form_warnings_need_ignore(app, admin, seed):
    r = admin.post(_forms(seed), data=xlsx(), headers=XLSX)
    assert_problem(r, 400.16)
    assert "max-pixels" in r.get_json()["details"]["warnings"]["xlsFormWarnings"][0]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Form)) == 1


def test_create_form_errors(admin, seed):
    assert_problem(admin.post(_forms(seed), data=factories.xform(), headers=XML), 409.3)
    assert_problem(admin.post(_forms(seed), data=b"<not xml", headers=XML), 400.1)
    assert_problem(admin.post(_forms(seed), data=b"", headers=XML), 400.1)
    assert_problem(
        admin.post(_forms(seed), data=b"PK\x03\x04junk", headers=XLSX), 400.15
    )
    bad = factories.xform("report.xml", "1", "Report")
    assert_problem(admin.post(_forms(seed), data=bad, headers=XML), 400.8)
    assert_problem(admin.post("/v1/projects/99/forms", data=bad, headers=XML), 404.1)


def test_patch_form_state(app, admin, seed):
    r = admin.patch(f"{_forms(seed)}/photos", json={"state": "closing"})
    assert r.status_code == 200 and r.get_json()["state"] == "closing"
    assert_problem(admin.patch(f"{_forms(seed)}/photos", json={"state": "gone"}), 400.8)
    assert_problem(admin.patch(f"{_forms(seed)}/nope", json={"state": "open"}), 404.1)
    with app.app_context():
        details = db.session.execute(
            sa.select(Audit.details).where(Audit.action == "form.update")
        ).scalar()
    assert details == {"state": "closing"}


def test_versions_newest_first(admin, seed):
    admin.post(f"{_forms(seed)}/photos/draft")
    admin.post(f"{_forms(seed)}/photos/draft/publish?version=2")
    versions = admin.get(f"{_forms(seed)}/photos/versions").get_json()
    assert [v["version"] for v in versions] == ["2", "1"]


def test_attachments_list_for_published_version(admin, seed):
    xml = factories.xform("media", "1", "Media", template=factories.MEDIA_FORM_MD)
    admin.post(f"{_forms(seed)}?publish=true", data=xml, headers=XML)
    [att] = admin.get(f"{_forms(seed)}/media/attachments").get_json()
    assert att["name"] == "communes.csv" and att["type"] == "file"
    assert att["exists"] is False and att["blobExists"] is False
    assert att["datasetExists"] is False and att["updatedAt"].endswith("Z")


def test_form_permissions(as_role, app_user, anon, seed):
    viewer = as_role("viewer")
    assert viewer.get(_forms(seed)).status_code == 200
    assert viewer.get(f"{_forms(seed)}/photos").status_code == 200
    assert_problem(
        viewer.post(_forms(seed), data=factories.xform("x"), headers=XML), 403.1
    )
    assert_problem(
        viewer.patch(f"{_forms(seed)}/photos", json={"state": "closed"}), 403.1
    )
    assert_problem(app_user.get(_forms(seed)), 403.1)
    assert_problem(app_user.get(f"{_forms(seed)}/photos"), 403.1)
    assert_problem(anon.get(_forms(seed)), 401.4)
    manager = as_role("manager")
    r = manager.post(_forms(seed), data=factories.xform("mgr"), headers=XML)
    assert r.status_code == 200
    # a never-published form is hidden from roles that cannot update forms
    assert "mgr" not in [f["xmlFormId"] for f in viewer.get(_forms(seed)).get_json()]
    assert_problem(viewer.get(f"{_forms(seed)}/mgr"), 403.1)
