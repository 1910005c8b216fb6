"""App users and form assignments (pyODK's projects.create_app_users)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import sqlalchemy as sa

from server.db import db
from server.models import Audit
from tests import factories
from tests.api.conftest import assert_problem

OR = {"X-OpenRosa-Version": "1.0"}
NS_LIST = "{http://openrosa.org/xforms/xformsList}"


def _users(seed) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/projects/{seed.project_id}/app-users"


def _assign(seed, form_id: str = "photos") -> str:  # type: ignore[no-untyped-def]
    return f"/v1/projects/{seed.project_id}/forms/{form_id}/assignments"


def _form_ids(client, token: str, project_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    r = client.get(f"/v1/key/{token}/projects/{project_id}/formList", headers=OR)
    assert r.status_code == 200, r.data
    return [
        x.findtext(f"{NS_LIST}formID")
        for x in ET.fromstring(r.data).iter(f"{NS_LIST}xform")
    ]


def test_create_app_user_shows_token_once(client, admin, seed):
    r = admin.post(_users(seed), json={"displayName": "Phone 2"})
    assert r.status_code == 200
    user = r.get_json()
    assert user["type"] == "field_key" and user["displayName"] == "Phone 2"
    assert user["projectId"] == seed.project_id and len(user["token"]) == 64
    listed = admin.get(_users(seed)).get_json()
    assert [u["displayName"] for u in listed] == ["Phone 2", "Phone 1"]
    assert all(u["token"] is None for u in listed)  # stored hashed: never shown again
    # the new key works for Collect, but lists nothing until assigned
    assert _form_ids(client, user["token"], seed.project_id) == []


def test_assign_and_unassign(client, admin, seed):
    user = admin.post(_users(seed), json={"displayName": "Phone 2"}).get_json()
    r = admin.post(f"{_assign(seed)}/2/{user['id']}")
    assert r.get_json() == {"success": True}
    assert _form_ids(client, user["token"], seed.project_id) == ["photos"]
    assigned = admin.get(_assign(seed)).get_json()
    assert {"actorId": user["id"], "roleId": 2} in assigned
    actors = admin.get(f"{_assign(seed)}/2").get_json()
    assert user["id"] in [a["id"] for a in actors]
    assert_problem(admin.post(f"{_assign(seed)}/2/{user['id']}"), 409.3)
    assert admin.delete(f"{_assign(seed)}/2/{user['id']}").status_code == 200
    assert _form_ids(client, user["token"], seed.project_id) == []
    assert_problem(admin.delete(f"{_assign(seed)}/2/{user['id']}"), 404.1)


def test_assignment_errors(admin, seed):
    user = admin.post(_users(seed), json={"displayName": "Phone 2"}).get_json()
    assert_problem(admin.post(f"{_assign(seed)}/1/{user['id']}"), 404.1)  # only role 2
    assert_problem(admin.get(f"{_assign(seed)}/5"), 404.1)
    assert_problem(admin.post(f"{_assign(seed)}/2/9999"), 404.1)
    assert_problem(admin.post(f"{_assign(seed, 'nope')}/2/{user['id']}"), 404.1)
    me = admin.get("/v1/users/current").get_json()["id"]  # web users are not app users
    assert_problem(admin.post(f"{_assign(seed)}/2/{me}"), 404.1)


def test_delete_app_user_revokes_key(app, client, admin, openrosa, seed):
    [phone] = admin.get(_users(seed)).get_json()
    assert admin.delete(f"{_users(seed)}/{phone['id']}").get_json() == {"success": True}
    assert admin.get(_users(seed)).get_json() == []
    r = openrosa.submit(factories.submission_xml())
    assert r.status_code == 403
    assert_problem(admin.delete(f"{_users(seed)}/{phone['id']}"), 404.1)
    with app.app_context():
        actions = [a for (a,) in db.session.execute(sa.select(Audit.action))]
    assert "field_key.delete" in actions


def test_revoke_via_sessions(client, admin, seed):
    user = admin.post(_users(seed), json={"displayName": "Phone 2"}).get_json()
    assert admin.delete(f"/v1/sessions/{user['token']}").status_code == 200
    r = client.get(
        f"/v1/key/{user['token']}/projects/{seed.project_id}/formList", headers=OR
    )
    assert r.status_code == 403


def test_app_user_validation_and_permissions(admin, as_role, app_user, anon, seed):
    assert_problem(admin.post(_users(seed), json={}), 400.8)
    assert_problem(admin.post(_users(seed), json={"displayName": ""}), 400.8)
    assert_problem(admin.get("/v1/projects/99/app-users"), 404.1)
    viewer = as_role("viewer")
    assert_problem(viewer.get(_users(seed)), 403.1)
    assert_problem(viewer.post(_users(seed), json={"displayName": "x"}), 403.1)
    assert_problem(viewer.post(f"{_assign(seed)}/2/1"), 403.1)
    assert_problem(app_user.get(_users(seed)), 403.1)
    assert_problem(app_user.get(_assign(seed)), 403.1)
    assert_problem(anon.get(_users(seed)), 401.4)
    manager = as_role("manager")
    assert (
        manager.post(_users(seed), json={"displayName": "By manager"}).status_code
        == 200
    )
