"""GET|POST /v1/projects, GET /v1/projects/{p}."""

from __future__ import annotations

import sqlalchemy as sa

from server.db import db
from server.models import Audit
from tests import factories
from tests.api.conftest import assert_problem

PROJECT_FIELDS = {
    "id",
    "name",
    "description",
    "archived",
    "keyId",
    "createdAt",
    "updatedAt",
    "deletedAt",
}


def test_list_projects_admin_sees_all(admin, seed):
    r = admin.get("/v1/projects")
    assert r.status_code == 200
    [project] = r.get_json()
    assert set(project) == PROJECT_FIELDS
    assert project["id"] == seed.project_id
    assert project["name"] == "Tây Giang"
    assert project["archived"] is False
    assert project["createdAt"].endswith("Z")


def test_list_projects_extended_counts(admin, openrosa):
    openrosa.submit(factories.submission_xml())
    r = admin.get("/v1/projects", headers={"X-Extended-Metadata": "true"})
    [project] = r.get_json()
    assert project["forms"] == 1
    assert project["appUsers"] == 1
    assert project["lastSubmission"].endswith("Z")


def test_create_project_and_read_it(app, admin):
    r = admin.post("/v1/projects", json={"name": "Hòa Vang", "description": "District"})
    assert r.status_code == 200
    created = r.get_json()
    assert created["name"] == "Hòa Vang" and created["description"] == "District"
    r = admin.get(
        f"/v1/projects/{created['id']}", headers={"X-Extended-Metadata": "true"}
    )
    body = r.get_json()
    assert (
        body["forms"] == 0 and body["appUsers"] == 0 and body["lastSubmission"] is None
    )
    assert "project.read" in body["verbs"]
    with app.app_context():
        actions = db.session.execute(sa.select(Audit.action, Audit.actee_id)).all()
    assert ("project.create", str(created["id"])) in actions


def test_create_project_validates_name(admin):
    assert_problem(admin.post("/v1/projects", json={"description": "x"}), 400.8)
    assert_problem(admin.post("/v1/projects", json={"name": ""}), 400.8)
    assert_problem(admin.post("/v1/projects", data="nope"), 400.1)


def test_create_project_admin_only(as_role, app_user, anon):
    assert_problem(as_role("manager").post("/v1/projects", json={"name": "x"}), 403.1)
    assert_problem(app_user.post("/v1/projects", json={"name": "x"}), 403.1)
    assert_problem(anon.post("/v1/projects", json={"name": "x"}), 401.4)


def test_project_roles_see_only_their_projects(admin, as_role, seed):
    admin.post("/v1/projects", json={"name": "Other"})
    viewer = as_role("viewer")
    assert [p["id"] for p in viewer.get("/v1/projects").get_json()] == [seed.project_id]
    assert viewer.get(f"/v1/projects/{seed.project_id}").status_code == 200
    assert_problem(viewer.get(f"/v1/projects/{seed.project_id + 1}"), 403.1)
    nobody = as_role(None)
    assert nobody.get("/v1/projects").get_json() == []
    assert_problem(nobody.get(f"/v1/projects/{seed.project_id}"), 403.1)


def test_project_not_found_and_app_user_denied(admin, app_user, seed):
    assert_problem(admin.get("/v1/projects/999"), 404.1)
    assert_problem(app_user.get("/v1/projects"), 403.1)
    assert_problem(app_user.get(f"/v1/projects/{seed.project_id}"), 403.1)
