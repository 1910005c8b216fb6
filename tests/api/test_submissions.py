"""Submissions over REST: list, read, XML, create, edit (PUT), review, versions."""

from __future__ import annotations

import sqlalchemy as sa

from server.db import db
from server.models import Audit, Submission
from tests import factories
from tests.api.conftest import assert_problem

XML = {"Content-Type": "application/xml"}
SUB_FIELDS = {
    "instanceId",
    "submitterId",
    "deviceId",
    "userAgent",
    "instanceName",
    "reviewState",
    "createdAt",
    "updatedAt",
    "deletedAt",
    "duplicateOf",  # not Central's: the record a reviewer linked it to (dedup)
}


def _subs(seed) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/projects/{seed.project_id}/forms/photos/submissions"


def _xml(instance_id: str, **kw) -> bytes:  # type: ignore[no-untyped-def]
    fields = {"village": "Bản A Ur", "total": "4", "photo1": "a.jpg"}
    fields.update(kw.pop("fields", {}))
    return factories.submission_xml(instance_id=instance_id, fields=fields, **kw)


def test_list_and_get_openrosa_submissions(admin, openrosa, seed):
    first, second = (
        "uuid:11111111-0000-4000-8000-000000000001",
        factories.new_instance_id(),
    )
    assert (
        openrosa.submit(
            _xml(first, instance_name="House 1"),
            headers={"User-Agent": "Collect/2024.3"},
        ).status_code
        == 201
    )
    assert openrosa.submit(_xml(second)).status_code == 201
    r = admin.get(_subs(seed))
    assert r.status_code == 200
    subs = r.get_json()
    assert [s["instanceId"] for s in subs] == [second, first]  # newest first
    sub = subs[1]
    assert set(sub) == SUB_FIELDS
    assert sub["reviewState"] is None  # stored as "received"
    assert sub["instanceName"] == "House 1"
    assert sub["userAgent"] == "Collect/2024.3"
    assert isinstance(sub["submitterId"], int)
    one = admin.get(f"{_subs(seed)}/{first}").get_json()
    assert one == sub
    ext = admin.get(
        f"{_subs(seed)}/{first}", headers={"X-Extended-Metadata": "true"}
    ).get_json()
    assert ext["currentVersion"]["instanceId"] == first
    assert ext["currentVersion"]["current"] is True
    assert ext["submitter"]["displayName"] == "Phone 1"
    assert ext["formVersion"] == "1"


def test_get_xml_exact_bytes(admin, openrosa, seed):
    iid = factories.new_instance_id()
    xml = _xml(iid)
    openrosa.submit(xml)
    r = admin.get(f"{_subs(seed)}/{iid}.xml")
    assert r.status_code == 200 and r.data == xml
    assert r.headers["Content-Type"].startswith("application/xml")
    assert_problem(admin.get(f"{_subs(seed)}/uuid:nope.xml"), 404.1)
    assert_problem(admin.get(f"{_subs(seed)}/uuid:nope"), 404.1)


def test_create_over_rest(app, admin, seed):
    iid = factories.new_instance_id()
    r = admin.post(f"{_subs(seed)}?deviceID=pyodk-1", data=_xml(iid), headers=XML)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["instanceId"] == iid and body["deviceId"] == "pyodk-1"
    assert body["reviewState"] is None
    # an identical resend is idempotent (ingest's dedup table)
    again = admin.post(f"{_subs(seed)}?deviceID=pyodk-1", data=_xml(iid), headers=XML)
    assert again.status_code == 200 and again.get_json()["instanceId"] == iid
    changed = _xml(iid, fields={"village": "Other"})
    assert_problem(admin.post(_subs(seed), data=changed, headers=XML), 409.1)
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 1
        )


def test_create_errors(admin, seed):
    other_form = factories.submission_xml(form_id="other")
    assert_problem(admin.post(_subs(seed), data=other_form, headers=XML), 400.8)
    assert_problem(admin.post(_subs(seed), data=b"<broken", headers=XML), 400.1)
    unknown_version = factories.submission_xml(version="77")
    assert_problem(admin.post(_subs(seed), data=unknown_version, headers=XML), 404.6)
    base = f"/v1/projects/{seed.project_id}/forms"
    assert_problem(
        admin.post(f"{base}/nope/submissions", data=b"<x/>", headers=XML), 404.1
    )
    admin.patch(f"{base}/photos", json={"state": "closed"})
    assert_problem(
        admin.post(_subs(seed), data=_xml(factories.new_instance_id()), headers=XML),
        409.2,
    )


def test_edit_with_put(app, admin, openrosa, seed):
    root = factories.new_instance_id()
    openrosa.submit(_xml(root), files={"a.jpg": b"jpeg-a"})
    v2 = factories.new_instance_id()
    edit = _xml(v2, deprecated_id=root, fields={"village": "Sửa"})
    r = admin.put(f"{_subs(seed)}/{root}", data=edit, headers=XML)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["instanceId"] == root and body["reviewState"] == "edited"
    assert admin.get(f"{_subs(seed)}/{root}.xml").data == edit
    versions = admin.get(f"{_subs(seed)}/{root}/versions").get_json()
    assert [(v["instanceId"], v["current"]) for v in versions] == [
        (v2, True),
        (root, False),
    ]
    # the old attachment was carried over to the new version
    assert admin.get(f"{_subs(seed)}/{root}/attachments/a.jpg").data == b"jpeg-a"
    # editing the old copy again is stale
    stale = _xml(factories.new_instance_id(), deprecated_id=root)
    assert_problem(admin.put(f"{_subs(seed)}/{root}", data=stale, headers=XML), 409.9)
    with app.app_context():
        actions = [a for (a,) in db.session.execute(sa.select(Audit.action))]
    assert "submission.update.version" in actions


def test_put_errors(admin, openrosa, seed):
    root = factories.new_instance_id()
    openrosa.submit(_xml(root))
    no_dep = _xml(factories.new_instance_id())
    assert_problem(admin.put(f"{_subs(seed)}/{root}", data=no_dep, headers=XML), 400.19)
    reuse = _xml(root, deprecated_id=root, fields={"village": "x"})
    assert_problem(admin.put(f"{_subs(seed)}/{root}", data=reuse, headers=XML), 409.8)
    other = factories.new_instance_id()
    openrosa.submit(_xml(other))
    # the path must name the submission whose current version is deprecated
    cross = _xml(factories.new_instance_id(), deprecated_id=other)
    assert_problem(admin.put(f"{_subs(seed)}/{root}", data=cross, headers=XML), 409.9)
    missing = _xml(factories.new_instance_id(), deprecated_id="uuid:nope")
    assert_problem(
        admin.put(f"{_subs(seed)}/uuid:nope", data=missing, headers=XML), 404.1
    )


def test_review(app, admin, openrosa, seed):
    iid = factories.new_instance_id()
    openrosa.submit(_xml(iid))
    r = admin.patch(f"{_subs(seed)}/{iid}", json={"reviewState": "approved"})
    assert r.status_code == 200
    assert r.get_json()["reviewState"] == "approved" and r.get_json()["updatedAt"]
    for bad in ({"reviewState": "received"}, {"reviewState": None}, {}):
        assert_problem(admin.patch(f"{_subs(seed)}/{iid}", json=bad), 400.8)
    assert_problem(
        admin.patch(f"{_subs(seed)}/uuid:nope", json={"reviewState": "approved"}), 404.1
    )
    with app.app_context():
        details = db.session.execute(
            sa.select(Audit.details).where(Audit.action == "submission.update")
        ).scalar()
    assert details == {"reviewState": "approved"}


def test_submission_permissions(as_role, app_user, anon, openrosa, seed):
    iid = factories.new_instance_id()
    openrosa.submit(_xml(iid))
    viewer = as_role("viewer")
    assert viewer.get(_subs(seed)).status_code == 200
    assert viewer.get(f"{_subs(seed)}/{iid}.xml").status_code == 200
    assert_problem(
        viewer.patch(f"{_subs(seed)}/{iid}", json={"reviewState": "approved"}), 403.1
    )
    assert_problem(
        viewer.post(_subs(seed), data=_xml(factories.new_instance_id()), headers=XML),
        403.1,
    )
    edit = _xml(factories.new_instance_id(), deprecated_id=iid)
    assert_problem(viewer.put(f"{_subs(seed)}/{iid}", data=edit, headers=XML), 403.1)
    formfill = as_role("formfill")
    assert_problem(formfill.get(_subs(seed)), 403.1)
    r = formfill.post(_subs(seed), data=_xml(factories.new_instance_id()), headers=XML)
    assert r.status_code == 200
    assert_problem(app_user.get(_subs(seed)), 403.1)
    assert_problem(
        app_user.post(_subs(seed), data=_xml(factories.new_instance_id()), headers=XML),
        403.1,
    )
    assert_problem(anon.get(_subs(seed)), 401.4)
