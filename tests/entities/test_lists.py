"""Entity lists for Collect: manifest entry, CSV, hash/ETag, integrity, commune filter.

Reference section 3: an entity list is a ``<mediaFile type="entityList">`` with an
``md5:`` hash and an absolute ``integrityUrl``; Collect re-downloads when the hash
changes, so it must change exactly when the list *as served to that phone* changes.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

from tests.entities import builders
from tests.entities.conftest import LA_EE, TAY_GIANG, case_values

OR = {"X-OpenRosa-Version": "1.0"}
NS = "{http://openrosa.org/xforms/xformsManifest}"
HEADER = ["name", "label", "__version", *builders.PROPS]


def _manifest(cases, base=None):  # type: ignore[no-untyped-def]
    r = cases.client.get(
        f"{base or cases.key_base}/forms/followup/manifest", headers=OR
    )
    assert r.status_code == 200, r.data
    assert r.headers["Content-Type"].startswith("text/xml")
    assert r.headers["X-OpenRosa-Version"] == "1.0"
    files = ET.fromstring(r.data).findall(f"{NS}mediaFile")
    return {f.findtext(f"{NS}filename"): f for f in files}


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def _create(cases, commune: str, code: str) -> str:  # type: ignore[no-untyped-def]
    uuid = builders.new_uuid()
    cases.submit(builders.intake_xml(uuid, case_values(code, commune)))
    return uuid


def _hash(cases) -> str:  # type: ignore[no-untyped-def]
    return _manifest(cases)["cases.csv"].findtext(f"{NS}hash")


def test_manifest_lists_the_entity_list_with_integrity_url(cases):
    _create(cases, LA_EE, "DN-2026-00001")
    entry = _manifest(cases)["cases.csv"]
    assert entry.get("type") == "entityList"
    assert re.fullmatch(r"md5:[0-9a-f]{32}", entry.findtext(f"{NS}hash"))
    base = f"http://localhost{cases.key_base}"  # absolute; the key carries through
    assert entry.findtext(f"{NS}downloadUrl") == (
        f"{base}/forms/followup/attachments/cases.csv"
    )
    assert entry.findtext(f"{NS}integrityUrl") == f"{base}/datasets/cases/integrity"
    r = cases.client.get(f"{cases.key_base}/formList", headers=OR)
    assert b"/forms/followup/manifest</manifestUrl>" in r.data


def test_csv_header_rows_etag_and_304(cases):
    uuid = _create(cases, LA_EE, "DN-2026-00001")
    r = cases.client.get(
        f"{cases.key_base}/forms/followup/attachments/cases.csv", headers=OR
    )
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert r.data.decode().splitlines()[0] == ",".join(HEADER)
    [row] = _rows(r.data)
    assert row["name"] == uuid and row["__version"] == "1"
    assert row["label"] == "DN-2026-00001 · 20698" and row["risk"] == "high"
    assert "full_name" not in row and "Hồ Thị Lan" not in r.data.decode()
    assert r.headers["ETag"] == f'"{_hash(cases)[4:]}"'  # the manifest hash
    again = cases.client.get(
        f"{cases.key_base}/forms/followup/attachments/cases.csv",
        headers={**OR, "If-None-Match": r.headers["ETag"]},
    )
    assert again.status_code == 304 and again.data == b""


def test_phone_gets_only_its_communes_and_hash_follows_its_list(cases):
    mine = _create(cases, LA_EE, "DN-2026-00001")
    other = _create(cases, TAY_GIANG, "DN-2026-00002")
    assert [r["name"] for r in _rows(cases.csv())] == [mine]
    # a web user (manager) gets the whole list
    web = _rows(cases.csv(f"/v1/projects/{cases.project_id}", cases.admin()))
    assert {r["name"] for r in web} == {mine, other}

    before = _hash(cases)
    # a change in Tây Giang does not touch the La Êê phone's list or hash
    cases.submit(cases_update(other, 1, {"risk": "low"}))
    assert _hash(cases) == before
    # a change to its own case does
    cases.submit(cases_update(mine, 1, {"risk": "low"}))
    changed = _hash(cases)
    assert changed != before
    # a supervisor moves the case to Tây Giang: it leaves the phone's list, and the
    # hash moves (the phone then drops it: integrity reports it deleted)
    r = cases.client.patch(
        f"{cases.api}/datasets/cases/entities/{mine}?baseVersion=2",
        json={"data": {"commune": TAY_GIANG}},
        headers=cases.admin(),
    )
    assert r.status_code == 200, r.data
    assert _rows(cases.csv()) == [] and _hash(cases) not in (before, changed)
    # a new La Êê case appears
    third = _create(cases, LA_EE, "DN-2026-00003")
    assert [r["name"] for r in _rows(cases.csv())] == [third]


def cases_update(uuid: str, base: int, values: dict[str, str]) -> bytes:
    """An online follow-up (no branch) based on version ``base``."""
    return builders.entity_xml(
        "followup", uuid, values, update="1", base_version=base, extra={"case": uuid}
    )


def test_app_user_without_communes_gets_no_cases_and_star_gets_all(cases):
    _create(cases, LA_EE, "DN-2026-00001")
    _create(cases, TAY_GIANG, "DN-2026-00002")
    cases.set_communes()
    data = cases.csv()
    assert data.decode().splitlines() == [",".join(HEADER)]  # least privilege
    empty = _hash(cases)
    cases.set_communes("*")
    assert len(_rows(cases.csv())) == 2 and _hash(cases) != empty
    cases.set_communes(LA_EE, TAY_GIANG)
    assert len(_rows(cases.csv())) == 2


def test_deleted_entity_leaves_the_list_and_changes_the_hash(cases):
    uuid = _create(cases, LA_EE, "DN-2026-00001")
    before = _hash(cases)
    r = cases.client.delete(
        f"{cases.api}/datasets/cases/entities/{uuid}", headers=cases.admin()
    )
    assert r.status_code == 200
    assert _rows(cases.csv()) == [] and _hash(cases) != before


def test_integrity_reports_deleted_and_out_of_scope_and_omits_unknown(cases):
    live = _create(cases, LA_EE, "DN-2026-00001")
    gone = _create(cases, LA_EE, "DN-2026-00002")
    elsewhere = _create(cases, TAY_GIANG, "DN-2026-00003")
    cases.client.delete(
        f"{cases.api}/datasets/cases/entities/{gone}", headers=cases.admin()
    )
    unknown = builders.new_uuid()
    url = f"{cases.key_base}/datasets/cases/integrity?id={live},{gone},{unknown},{elsewhere}"
    r = cases.client.get(url, headers=OR)
    assert r.status_code == 200, r.data
    assert r.headers["Content-Type"].startswith("text/xml")
    assert r.headers["X-OpenRosa-Version"] == "1.0"
    root = ET.fromstring(r.data)
    assert root.tag == "data"  # no namespace
    found = {
        e.get("id"): e.findtext("deleted") for e in root.findall("entities/entity")
    }
    assert found == {live: "false", gone: "true", elsewhere: "true"}
    # web users see the dataset as it is
    r = cases.client.get(
        f"/v1/projects/{cases.project_id}/datasets/cases/integrity?id={elsewhere}",
        headers={**OR, **cases.admin()},
    )
    assert b"<deleted>false</deleted>" in r.data
    # Collect always sends the OpenRosa header; Central demands it
    assert cases.client.get(url).status_code == 400


def test_integrity_needs_a_form_that_reads_the_list(cases, app):
    import sqlalchemy as sa

    from server.db import db
    from server.models import Assignment

    with app.app_context():
        db.session.execute(
            sa.delete(Assignment).where(Assignment.form_id == cases.forms["followup"])
        )
        db.session.commit()
    r = cases.client.get(f"{cases.key_base}/datasets/cases/integrity?id=x", headers=OR)
    assert r.status_code == 403


def test_communes_over_rest_and_cli(cases, runner):
    from server.cli import main

    r = cases.client.get(f"{cases.api}/app-users", headers=cases.admin())
    actor_id = r.get_json()[0]["id"]
    url = f"{cases.api}/app-users/{actor_id}/communes"
    assert cases.client.get(url, headers=cases.admin()).get_json() == [LA_EE]
    r = cases.client.put(url, json=[TAY_GIANG, LA_EE, LA_EE], headers=cases.admin())
    assert r.get_json() == sorted([TAY_GIANG, LA_EE])
    r = cases.client.put(url, json=["Tây Giang"], headers=cases.admin())
    assert r.status_code == 400
    assert cases.client.get(url, headers={}).status_code == 401

    out = runner.invoke(main, ["app-user-communes", str(actor_id)])
    assert f"{TAY_GIANG}, {LA_EE}" in out.output
    out = runner.invoke(main, ["app-user-communes", str(actor_id), "--clear"])
    assert "(none" in out.output
    out = runner.invoke(
        main,
        [
            "app-user-create",
            "Máy xã Tây Giang",
            "--project",
            str(cases.project_id),
            "--commune",
            TAY_GIANG,
            "--commune",
            "20443",
        ],
    )
    assert out.exit_code == 0, out.output
    assert f"Communes (cases on the phone): 20443, {TAY_GIANG}" in out.output
    r = cases.client.get(f"{cases.api}/app-users", headers=cases.admin())
    new_id = max(a["id"] for a in r.get_json())
    assert cases.client.get(
        f"{cases.api}/app-users/{new_id}/communes", headers=cases.admin()
    ).get_json() == ["20443", TAY_GIANG]
