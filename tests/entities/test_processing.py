"""Submissions into entities (reference section 8; Central's entity worker).

Each test submits over OpenRosa as Collect does, checks the 201 did not wait for the
entity, runs the job queue as the background worker would, then reads the result
through the REST API.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.db import db
from tests.entities import builders
from tests.entities.conftest import case_values


def test_publish_creates_dataset_properties_and_form_actions(cases):
    from server.entity_models import Dataset, DatasetFormDef

    with cases.app.app_context():
        dataset = db.session.scalars(sa.select(Dataset)).one()
        assert (dataset.name, dataset.filter_property) == ("cases", "commune")
        actions = {
            tuple(r.actions)
            for r in db.session.scalars(sa.select(DatasetFormDef)).all()
        }
    assert actions == {("create",), ("update",), ("create", "update")}
    r = cases.client.get(f"{cases.api}/datasets/cases", headers=cases.admin())
    body = r.get_json()
    assert [p["name"] for p in body["properties"]] == list(builders.PROPS)
    forms = {p["name"]: set(p["forms"]) for p in body["properties"]}
    assert forms["risk"] == {"intake", "followup", "upsert"}
    assert forms["case_code"] == {"intake"}
    assert [f["xmlFormId"] for f in body["linkedForms"]] == ["followup"]


def test_create_runs_as_a_job_with_only_the_saved_properties(cases):
    uuid = builders.new_uuid()
    cases.submit(builders.intake_xml(uuid, case_values()), run=False)
    r = cases.client.get(
        f"{cases.api}/datasets/cases/entities/{uuid}", headers=cases.admin()
    )
    assert r.status_code == 404  # the 201 never waits for entity processing
    assert cases.run_jobs() == 1
    entity = cases.entity(uuid)
    current = entity["currentVersion"]
    assert current["version"] == 1 and entity["conflict"] is None
    assert current["label"] == "DN-2026-00123 · 20698"
    assert current["data"] == {
        k: v for k, v in case_values().items() if k != "full_name"
    }
    assert "Hồ Thị Lan" not in str(entity)


def test_label_is_required_on_create_and_the_error_is_recorded(cases):
    uuid = builders.new_uuid()
    iid = "uuid:" + builders.new_uuid()
    cases.submit(builders.intake_xml(uuid, case_values(), label="  ", instance_id=iid))
    [error] = cases.errors()
    assert error["problem"]["code"] == 400.2 and error["instanceId"] == iid
    assert "label" in error["errorMessage"]
    r = cases.client.get(f"{cases.api}/entity-errors", headers=cases.admin())
    assert r.get_json()[0]["code"] == 400.2
    assert r.get_json()[0]["xmlFormId"] == "intake"
    r = cases.client.get(
        f"{cases.api}/datasets/cases/entities/{uuid}", headers=cases.admin()
    )
    assert r.status_code == 404


def test_existing_uuid_on_create_is_409_3(cases):
    uuid = builders.new_uuid()
    cases.submit(builders.intake_xml(uuid, case_values()))
    cases.submit(builders.intake_xml(uuid, case_values("DN-2026-00124")))
    [error] = cases.errors()
    assert error["problem"]["code"] == 409.3
    assert cases.entity(uuid)["currentVersion"]["data"]["case_code"] == "DN-2026-00123"


def test_action_the_form_does_not_declare_is_403_2(cases):
    uuid = builders.new_uuid()
    # the follow-up form only updates; a hand-made submission asks it to create
    xml = builders.entity_xml("followup", uuid, {"risk": "low"}, create="1", label="x")
    cases.submit(xml)
    [error] = cases.errors()
    assert error["problem"]["code"] == 403.2
    assert "permits the following actions: update" in error["errorMessage"]


def test_only_1_or_true_trigger_an_action(cases):
    uuid = builders.new_uuid()
    for flag in ("0", "false", "yes", ""):
        xml = builders.entity_xml("intake", uuid, case_values(), create=flag, label="x")
        cases.submit(xml)
    assert cases.errors() == []
    r = cases.client.get(
        f"{cases.api}/datasets/cases/entities/{uuid}", headers=cases.admin()
    )
    assert r.status_code == 404
    cases.submit(
        builders.entity_xml("intake", uuid, case_values(), create="true", label="x")
    )
    assert cases.entity(uuid)["currentVersion"]["version"] == 1


def test_update_before_create_when_both_are_set(cases):
    uuid = builders.new_uuid()
    both = {"create": "1", "update": "1", "base_version": 1}
    # not there yet: the update fails with 404.8, so it is created
    cases.submit(
        builders.entity_xml("upsert", uuid, {"risk": "low"}, label="Case low", **both)
    )
    assert cases.entity(uuid)["currentVersion"]["version"] == 1
    # there: the update applies (version 2), the create is not attempted
    cases.submit(
        builders.entity_xml("upsert", uuid, {"risk": "high"}, label="", **both)
    )
    current = cases.entity(uuid)["currentVersion"]
    assert (current["version"], current["data"], current["label"]) == (
        2,
        {"risk": "high"},
        "Case low",  # a blank incoming label keeps the old one
    )
    assert cases.errors() == []


def test_update_without_base_version_is_an_error_unless_create_is_set(cases):
    uuid = builders.new_uuid()
    cases.submit(builders.intake_xml(uuid, case_values()))
    cases.submit(builders.entity_xml("followup", uuid, {"risk": "low"}, update="1"))
    [error] = cases.errors()
    assert error["problem"]["code"] == 400.2 and "baseVersion" in error["errorMessage"]
    # an unknown base version without a branch: 404.9; an unknown entity: 404.8
    cases.submit(
        builders.entity_xml("followup", uuid, {"risk": "x"}, update="1", base_version=7)
    )
    other = builders.new_uuid()
    cases.submit(
        builders.entity_xml(
            "followup", other, {"risk": "x"}, update="1", base_version=1
        )
    )
    assert [e["problem"]["code"] for e in cases.errors()] == [400.2, 404.9, 404.8]


def test_edited_submission_is_not_reapplied_once_it_made_an_entity(cases):
    """Central skips a submission that already produced an entity version, whichever
    version of it did; an edit of one that failed is processed."""
    uuid = builders.new_uuid()
    first = "uuid:" + builders.new_uuid()
    cases.submit(builders.intake_xml(uuid, case_values(), instance_id=first))
    edit = builders.intake_xml(
        uuid,
        {**case_values(), "risk": "low"},
        instance_id="uuid:" + builders.new_uuid(),
        deprecated_id=first,
    )
    cases.submit(edit)
    current = cases.entity(uuid)["currentVersion"]
    assert (current["version"], current["data"]["risk"]) == (1, "high")
    assert cases.errors() == []

    broken_uuid, broken_id = builders.new_uuid(), "uuid:" + builders.new_uuid()
    cases.submit(
        builders.intake_xml(broken_uuid, case_values(), label="", instance_id=broken_id)
    )
    fixed = builders.intake_xml(
        broken_uuid,
        case_values("DN-2026-00125"),
        instance_id="uuid:" + builders.new_uuid(),
        deprecated_id=broken_id,
    )
    cases.submit(fixed)
    assert (
        cases.entity(broken_uuid)["currentVersion"]["label"] == "DN-2026-00125 · 20698"
    )


def test_draft_submissions_make_no_entities(cases):
    from server.forms import create_draft

    with cases.app.app_context():
        _form, draft, _w = create_draft(
            cases.project_id,
            builders.xform(builders.INTAKE_MD).replace(b'version="1"', b'version="2"'),
        )
        token = draft.draft_token
        db.session.commit()
    uuid = builders.new_uuid()
    xml = builders.intake_xml(uuid, case_values()).replace(
        b'version="1"', b'version="2"'
    )
    r = cases.openrosa.submit(
        xml, base=f"/v1/test/{token}/projects/{cases.project_id}/forms/intake/draft"
    )
    assert r.status_code == 201, r.data
    cases.run_jobs()
    r = cases.client.get(
        f"{cases.api}/datasets/cases/entities/{uuid}", headers=cases.admin()
    )
    assert r.status_code == 404 and cases.errors() == []
