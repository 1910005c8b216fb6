"""A submission's attachments and comments."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from server.db import db
from server.models import Audit
from tests import factories
from tests.api.conftest import assert_problem


def _sub(seed, iid: str) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/projects/{seed.project_id}/forms/photos/submissions/{iid}"


def _submit(openrosa, files=None) -> str:  # type: ignore[no-untyped-def]
    iid = factories.new_instance_id()
    fields = {"village": "Bản A Ur", "photo1": "a.jpg", "photo2": "b.jpg"}
    r = openrosa.submit(
        factories.submission_xml(instance_id=iid, fields=fields), files=files
    )
    assert r.status_code == 201
    return iid


def test_attachments_list_and_download(admin, openrosa, seed):
    iid = _submit(openrosa, {"a.jpg": b"jpeg-a"})
    r = admin.get(f"{_sub(seed, iid)}/attachments")
    assert r.get_json() == [
        {"name": "a.jpg", "exists": True},
        {"name": "b.jpg", "exists": False},
    ]
    r = admin.get(f"{_sub(seed, iid)}/attachments/a.jpg")
    assert r.status_code == 200 and r.data == b"jpeg-a"
    etag = hashlib.md5(b"jpeg-a").hexdigest()
    assert r.headers["ETag"] == f'"{etag}"'
    assert "attachment" in r.headers["Content-Disposition"]
    cached = admin.get(
        f"{_sub(seed, iid)}/attachments/a.jpg", headers={"If-None-Match": f'"{etag}"'}
    )
    assert cached.status_code == 304
    assert_problem(admin.get(f"{_sub(seed, iid)}/attachments/b.jpg"), 404.1)
    assert_problem(admin.get(f"{_sub(seed, iid)}/attachments/c.jpg"), 404.1)


def test_attachment_upload_fills_expected_slot_only(app, admin, openrosa, seed):
    iid = _submit(openrosa)
    r = admin.post(
        f"{_sub(seed, iid)}/attachments/b.jpg",
        data=b"jpeg-b",
        headers={"Content-Type": "image/jpeg"},
    )
    assert r.get_json() == {"success": True}
    assert admin.get(f"{_sub(seed, iid)}/attachments/b.jpg").data == b"jpeg-b"
    assert_problem(
        admin.post(f"{_sub(seed, iid)}/attachments/evil.sh", data=b"x"), 404.1
    )
    assert_problem(
        admin.post(f"{_sub(seed, 'uuid:nope')}/attachments/b.jpg", data=b"x"), 404.1
    )
    with app.app_context():
        details = (
            db.session.execute(
                sa.select(Audit.details)
                .where(
                    Audit.action == "submission.attachment.update",
                    Audit.actor_id.is_not(None),
                )
                .order_by(Audit.id.desc())
            )
            .scalars()
            .first()
        )
    assert details["name"] == "b.jpg" and details["replaced"] is False


def test_comments(admin, openrosa, seed):
    iid = _submit(openrosa)
    assert admin.get(f"{_sub(seed, iid)}/comments").get_json() == []
    r = admin.post(f"{_sub(seed, iid)}/comments", json={"body": "Cần kiểm tra lại"})
    assert r.status_code == 200
    comment = r.get_json()
    assert comment["body"] == "Cần kiểm tra lại" and isinstance(comment["actorId"], int)
    assert comment["createdAt"].endswith("Z")
    admin.post(f"{_sub(seed, iid)}/comments", json={"body": "second"})
    listed = admin.get(
        f"{_sub(seed, iid)}/comments", headers={"X-Extended-Metadata": "true"}
    ).get_json()
    assert [c["body"] for c in listed] == ["second", "Cần kiểm tra lại"]
    assert listed[0]["actor"]["id"] == comment["actorId"]
    assert_problem(admin.post(f"{_sub(seed, iid)}/comments", json={"body": ""}), 400.8)
    assert_problem(admin.post(f"{_sub(seed, iid)}/comments", json={}), 400.8)
    assert_problem(admin.get(f"{_sub(seed, 'uuid:nope')}/comments"), 404.1)


def test_parts_permissions(as_role, app_user, openrosa, seed):
    iid = _submit(openrosa, {"a.jpg": b"jpeg-a"})
    viewer = as_role("viewer")
    assert viewer.get(f"{_sub(seed, iid)}/attachments").status_code == 200
    assert viewer.get(f"{_sub(seed, iid)}/attachments/a.jpg").status_code == 200
    assert viewer.get(f"{_sub(seed, iid)}/comments").status_code == 200
    assert_problem(
        viewer.post(f"{_sub(seed, iid)}/comments", json={"body": "x"}), 403.1
    )
    assert_problem(
        viewer.post(f"{_sub(seed, iid)}/attachments/b.jpg", data=b"x"), 403.1
    )
    assert_problem(app_user.get(f"{_sub(seed, iid)}/attachments/a.jpg"), 403.1)
    assert_problem(app_user.get(f"{_sub(seed, iid)}/comments"), 403.1)
