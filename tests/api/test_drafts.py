"""Drafts the way pyODK's forms.create/forms.update drive them."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from server.db import db
from server.models import Audit, FormDef
from tests import factories
from tests.api.builders import XLSX_TYPE, xlsx
from tests.api.conftest import assert_problem

XML = {"Content-Type": "application/xml"}
CSV = b"name,label\nhv,H\xc3\xb2a Vang\n"


def _form(seed, form_id: str = "photos") -> str:  # type: ignore[no-untyped-def]
    return f"/v1/projects/{seed.project_id}/forms/{form_id}"


def _media_form(admin, seed) -> str:  # type: ignore[no-untyped-def]
    xml = factories.xform("media", "1", "Media", template=factories.MEDIA_FORM_MD)
    r = admin.post(f"/v1/projects/{seed.project_id}/forms", data=xml, headers=XML)
    assert r.status_code == 200
    return _form(seed, "media")


def test_empty_post_copies_published_version(admin, seed):
    assert admin.post(f"{_form(seed)}/draft").get_json() == {"success": True}
    draft = admin.get(f"{_form(seed)}/draft").get_json()
    assert draft["version"] == "1" and draft["publishedAt"] is None
    assert draft["draftToken"]
    assert admin.get(f"{_form(seed)}/draft.xml").data == factories.xform()
    # same version as the published one: publishing needs a new version
    assert_problem(admin.post(f"{_form(seed)}/draft/publish"), 409.6)
    assert admin.post(f"{_form(seed)}/draft/publish?version=2").status_code == 200
    form = admin.get(_form(seed)).get_json()
    assert form["version"] == "2"
    assert b'version="2"' in admin.get(f"{_form(seed)}.xml").data


def test_draft_from_new_definition(admin, seed):
    xml = factories.xform("photos", "3", "Photos v3")
    r = admin.post(f"{_form(seed)}/draft", data=xml, headers=XML)
    assert r.status_code == 200
    assert (
        admin.get(f"{_form(seed)}/draft").get_json()["hash"]
        == hashlib.md5(xml).hexdigest()
    )
    admin.post(f"{_form(seed)}/draft/publish")
    assert admin.get(_form(seed)).get_json()["name"] == "Photos v3"


def test_draft_must_keep_the_form_id(admin, seed):
    xml = factories.xform("other", "3")
    assert_problem(admin.post(f"{_form(seed)}/draft", data=xml, headers=XML), 400.8)


def test_draft_from_xlsx_warnings(admin, seed):
    data = xlsx(form_id="photos", version="9")
    headers = {"Content-Type": XLSX_TYPE}
    assert_problem(
        admin.post(f"{_form(seed)}/draft", data=data, headers=headers), 400.16
    )
    r = admin.post(
        f"{_form(seed)}/draft?ignoreWarnings=true", data=data, headers=headers
    )
    assert r.status_code == 200
    ext = admin.get(
        f"{_form(seed)}/draft", headers={"X-Extended-Metadata": "true"}
    ).get_json()
    assert ext["excelContentType"] == XLSX_TYPE


def test_draft_attachments_upload_and_carry_over(app, admin, seed):
    base = _media_form(admin, seed)
    [slot] = admin.get(f"{base}/draft/attachments").get_json()
    assert slot["name"] == "communes.csv" and slot["exists"] is False
    r = admin.post(
        f"{base}/draft/attachments/communes.csv",
        data=CSV,
        headers={"Content-Type": "text/csv"},
    )
    assert r.status_code == 200
    body = r.get_json()
    assert body["exists"] is True and body["hash"] == hashlib.md5(CSV).hexdigest()
    assert_problem(admin.post(f"{base}/draft/attachments/other.csv", data=b"x"), 404.1)
    admin.post(f"{base}/draft/publish")
    [att] = admin.get(f"{base}/attachments").get_json()
    assert att["exists"] is True and att["blobExists"] is True
    assert admin.get(f"{base}/attachments/communes.csv").data == CSV
    # a new draft copied from the published version keeps the file
    admin.post(f"{base}/draft")
    assert admin.get(f"{base}/draft/attachments").get_json()[0]["exists"] is True
    with app.app_context():
        details = db.session.execute(
            sa.select(Audit.details).where(Audit.action == "form.attachment.update")
        ).scalar()
    assert details["name"] == "communes.csv"


def test_delete_draft(app, admin, seed):
    admin.post(f"{_form(seed)}/draft")
    assert admin.delete(f"{_form(seed)}/draft").get_json() == {"success": True}
    assert_problem(admin.get(f"{_form(seed)}/draft"), 404.1)
    assert_problem(admin.delete(f"{_form(seed)}/draft"), 404.1)
    assert_problem(admin.post(f"{_form(seed)}/draft/publish"), 404.1)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FormDef)) == 1


def test_delete_draft_of_never_published_form(admin, seed):
    base = _media_form(admin, seed)
    assert_problem(admin.delete(f"{base}/draft"), 409.7)


def test_empty_draft_of_never_published_form_is_404(admin, seed):
    base = _media_form(admin, seed)
    assert_problem(admin.post(f"{base}/draft"), 404.1)


def test_draft_permissions(as_role, app_user, seed):
    viewer = as_role("viewer")
    for response in (
        viewer.post(f"{_form(seed)}/draft"),
        viewer.get(f"{_form(seed)}/draft"),
        viewer.post(f"{_form(seed)}/draft/publish"),
        viewer.delete(f"{_form(seed)}/draft"),
        viewer.post(f"{_form(seed)}/draft/attachments/a.csv", data=b"x"),
        app_user.post(f"{_form(seed)}/draft"),
    ):
        assert_problem(response, 403.1)
