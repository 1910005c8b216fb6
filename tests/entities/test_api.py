"""Central's REST API for datasets and entities (JSON shapes as Central's)."""

from __future__ import annotations

from tests.entities import builders
from tests.entities.conftest import LA_EE, case_values


def _post(cases, body):  # type: ignore[no-untyped-def]
    return cases.client.post(
        f"{cases.api}/datasets/cases/entities",
        json=body,
        headers={**cases.admin(), "User-Agent": "pyodk v1.3"},
    )


def test_datasets_listing_and_creation(cases):
    admin = cases.admin()
    [item] = cases.client.get(f"{cases.api}/datasets", headers=admin).get_json()
    assert set(item) >= {"name", "projectId", "createdAt", "approvalRequired"}
    assert (item["name"], item["approvalRequired"]) == ("cases", False)
    cases.submit(builders.intake_xml(builders.new_uuid(), case_values()))
    r = cases.client.get(
        f"{cases.api}/datasets", headers={**admin, "X-Extended-Metadata": "true"}
    )
    assert (r.get_json()[0]["entities"], r.get_json()[0]["conflicts"]) == (1, 0)

    r = cases.client.post(
        f"{cases.api}/datasets", json={"name": "villages"}, headers=admin
    )
    assert r.status_code == 200 and r.get_json()["name"] == "villages"
    r = cases.client.post(
        f"{cases.api}/datasets", json={"name": "villages"}, headers=admin
    )
    assert r.status_code == 409
    r = cases.client.post(
        f"{cases.api}/datasets",
        json={"name": "households", "approvalRequired": True},
        headers=admin,
    )
    assert r.status_code == 501
    r = cases.client.post(
        f"{cases.api}/datasets/villages/properties",
        json={"name": "hamlet"},
        headers=admin,
    )
    assert r.get_json() == {"success": True}
    r = cases.client.post(
        f"{cases.api}/datasets/villages/properties", json={"name": "__x"}, headers=admin
    )
    assert r.status_code == 400
    r = cases.client.get(f"{cases.api}/datasets/villages", headers=admin)
    assert [p["name"] for p in r.get_json()["properties"]] == ["hamlet"]
    # app users never reach REST data
    r = cases.client.get(f"{cases.key_base}/datasets")
    assert r.status_code in (403, 404)


def test_create_read_update_delete(cases):
    uuid = builders.new_uuid()
    r = _post(cases, {"uuid": uuid, "label": "DN-2026-00500", "data": {"risk": "low"}})
    assert r.status_code == 200, r.data
    body = r.get_json()
    assert body["uuid"] == uuid and body["currentVersion"]["version"] == 1
    assert body["currentVersion"]["userAgent"] == "pyodk v1.3"
    assert _post(cases, {"label": "x", "data": {"nope": "1"}}).status_code == 400
    assert _post(cases, {"label": "x", "data": {"risk": 3}}).status_code == 400
    assert _post(cases, {"data": {"risk": "x"}}).status_code == 400  # label required
    r = _post(cases, {"uuid": uuid, "label": "again", "data": {}})
    assert r.status_code == 409 and r.get_json()["code"] == 409.3

    listing = cases.client.get(
        f"{cases.api}/datasets/cases/entities", headers=cases.admin()
    ).get_json()
    assert [e["uuid"] for e in listing] == [uuid]
    assert "data" not in listing[0]["currentVersion"]

    url = f"{cases.api}/datasets/cases/entities/{uuid}"
    r = cases.client.patch(url, json={"data": {"risk": "high"}}, headers=cases.admin())
    assert r.status_code == 409 and r.get_json()["code"] == 409.15  # no baseVersion
    r = cases.client.patch(
        f"{url}?baseVersion=2", json={"data": {"risk": "high"}}, headers=cases.admin()
    )
    assert r.status_code == 409
    r = cases.client.patch(
        f"{url}?baseVersion=1", json={"data": {"risk": "high"}}, headers=cases.admin()
    )
    assert r.status_code == 200
    current = r.get_json()["currentVersion"]
    assert (current["version"], current["label"], current["data"]) == (
        2,
        "DN-2026-00500",
        {"risk": "high"},
    )
    assert current["baseVersion"] == 1
    r = cases.client.patch(
        f"{url}?force=true", json={"label": "DN-2026-00501"}, headers=cases.admin()
    )
    assert r.get_json()["currentVersion"]["version"] == 3
    r = cases.client.delete(url, headers=cases.admin())
    assert r.get_json() == {"success": True}
    assert cases.client.get(url, headers=cases.admin()).status_code == 404
    # a deleted entity's UUID cannot be reused
    r = _post(cases, {"uuid": uuid, "label": "x", "data": {}})
    assert r.status_code == 409 and r.get_json()["code"] == 409.19


def test_bulk_create(cases):
    body = {
        "entities": [
            {"label": f"DN-2026-{i:05d}", "data": {"commune": LA_EE, "risk": "low"}}
            for i in range(3)
        ],
        "source": {"name": "cases.csv", "size": 3},
    }
    r = _post(cases, body)
    assert r.get_json() == {"success": True}
    rows = cases.csv().decode().splitlines()
    assert len(rows) == 4
    assert _post(cases, {"entities": [], "source": {"name": "x"}}).status_code == 400
    assert _post(cases, {"entities": [{"label": "y", "data": {}}]}).status_code == 400


def test_odata_feed(cases):
    uuids = [builders.new_uuid() for _ in range(3)]
    for i, uuid in enumerate(uuids):
        cases.submit(builders.intake_xml(uuid, case_values(f"DN-2026-0000{i}")))
    svc = f"{cases.api}/datasets/cases.svc"
    admin = cases.admin()
    doc = cases.client.get(svc, headers=admin).get_json()
    assert doc["value"] == [
        {"name": "Entities", "kind": "EntitySet", "url": "Entities"}
    ]
    body = cases.client.get(
        f"{svc}/Entities?$count=true&$top=2", headers=admin
    ).get_json()
    assert body["@odata.count"] == 3 and len(body["value"]) == 2
    assert "$skip=2" in body["@odata.nextLink"]
    row = body["value"][0]
    assert row["__id"] == uuids[2]  # newest first
    assert set(row["__system"]) >= {
        "createdAt",
        "creatorId",
        "creatorName",
        "updates",
        "updatedAt",
        "version",
        "conflict",
    }
    assert row["__system"]["version"] == 1 and row["risk"] == "high"
    assert row["label"] == "DN-2026-00002 · 20698"
    r = cases.client.get(
        f"{svc}/Entities?$select=__id,risk&$filter=__system/conflict eq null",
        headers=admin,
    )
    assert r.get_json()["value"][0] == {"__id": uuids[2], "risk": "high"}
    r = cases.client.get(
        f"{svc}/Entities?$filter=__system/conflict eq 'hard'", headers=admin
    )
    assert r.get_json()["value"] == []
    r = cases.client.get(f"{svc}/Entities?$filter=__id eq '{uuids[0]}'", headers=admin)
    assert [v["__id"] for v in r.get_json()["value"]] == [uuids[0]]
    assert (
        cases.client.get(f"{svc}/Entities?$select=nope", headers=admin).status_code
        == 400
    )
    r = cases.client.get(f"{svc}/Entities?$filter=risk eq 'x'", headers=admin)
    assert r.status_code == 501


def test_versions_show_source_and_base(cases):
    uuid = builders.new_uuid()
    iid = "uuid:" + builders.new_uuid()
    cases.submit(builders.intake_xml(uuid, case_values(), instance_id=iid))
    versions = cases.versions(uuid)
    [v1] = versions
    assert v1["source"]["submission"]["instanceId"] == iid
    assert v1["current"] and v1["lastGoodVersion"] and v1["conflict"] is None
    assert v1["baseVersion"] is None and v1["creatorId"] is not None


def test_commune_supervisor_reads_only_its_communes_cases(cases):
    from tests.entities.conftest import TAY_GIANG
    from tests.web.conftest import PASSWORD, make_web_user

    ours, theirs = builders.new_uuid(), builders.new_uuid()
    assert _post(cases, {"uuid": ours, "label": "A", "data": {"commune": LA_EE}}).status_code == 200
    assert _post(cases, {"uuid": theirs, "label": "B", "data": {"commune": TAY_GIANG}}).status_code == 200
    make_web_user(cases.app, "laee@example.org", "commune", cases.project_id, [LA_EE])
    token = cases.client.post(
        "/v1/sessions", json={"email": "laee@example.org", "password": PASSWORD}
    ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{cases.api}/datasets/cases"
    listing = cases.client.get(f"{base}/entities", headers=headers).get_json()
    assert [e["uuid"] for e in listing] == [ours]
    assert cases.client.get(f"{base}/entities/{theirs}", headers=headers).status_code == 404
    assert cases.client.get(f"{base}/entities/{theirs}/versions", headers=headers).status_code == 404
    rows = cases.client.get(f"{base}.svc/Entities", headers=headers).get_json()["value"]
    assert [r["__id"] for r in rows] == [ours]
    # the administrator still sees both
    assert len(cases.client.get(f"{base}/entities", headers=cases.admin()).get_json()) == 2
