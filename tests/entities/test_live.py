"""The mission's case follow-up over real HTTP: ``outreach serve`` (gunicorn), its
background job thread making the entities, and what Collect checks on the wire.

``outreach setup`` publishes the real forms from ``xlsforms/``; a phone for La Êê
sends a ``victim_case`` intake as Collect writes it, downloads the ``cases`` list
through ``case_followup``'s manifest, and sends a follow-up visit offline-style.
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
import uuid as uuid_module
import xml.etree.ElementTree as ET
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
import requests

from tests import live
from tests import mission_data as md

pytestmark = pytest.mark.slow

OR = {"X-OpenRosa-Version": "1.0", "User-Agent": "org.odk.collect.android/v2025.2.3"}
NS = "{http://openrosa.org/xforms/xformsManifest}"
# Property columns follow the order properties were published (setup publishes
# case_followup before victim_case); Collect reads columns by name.
PROPERTIES = {
    "case_code",
    "commune",
    "sex",
    "age_band",
    "risk",
    "next_visit",
    "services_outstanding",
    "status",
    "last_contact",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    backend = "postgres" if os.environ.get("DATABASE_URL") else "sqlite"
    if backend == "postgres" and not live.postgres_available():
        pytest.skip("PostgreSQL not reachable")
    srv = live.make_server(
        backend, tmp_path_factory.mktemp("live-entities"), md.FORMS_DIR
    )
    try:
        srv.admin_password = live.admin_password(srv.cli("setup"))
        srv.start(workers=2)
        srv.key_url = live.parse_key_url(
            srv.cli(
                "app-user-create",
                "Máy xã La Êê",
                "--project",
                "1",
                "--url",
                srv.url,
                "--commune",
                md.LA_EE,
            )
        )
        yield srv
    finally:
        srv.stop()


def _admin(server) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = requests.post(
        f"{server.url}/v1/sessions",
        json={"email": "admin@localhost", "password": server.admin_password},
        timeout=10,
    )
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _post(url: str, xml: bytes) -> None:
    r = requests.post(
        f"{url}/submission?deviceID=collect:test",
        files=[("xml_submission_file", ("submission.xml", xml, "text/xml"))],
        headers=OR,
        timeout=30,
    )
    assert r.status_code == 201, r.text


def _wait(check: Callable[[], bool], what: str, seconds: float = 20) -> None:
    """Poll until the background job thread has done its work (bounded)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _intake(server, values: dict, entity_id: str) -> bytes:  # type: ignore[no-untyped-def]
    """A victim_case record built on the served XForm, with Collect's entity block."""
    from tests.test_mission_forms import Case

    xform = requests.get(f"{server.key_url}/forms/victim_case.xml", headers=OR).content
    xml, _ = Case("victim_case", values, "").record(
        xform, f"uuid:{uuid_module.uuid4()}"
    )
    block = f'<entity dataset="cases" create="1" id="{entity_id}">'
    assert xml.count(b"<entity>") == 1
    return xml.replace(b"<entity>", block.encode())


def _manifest(server) -> ET.Element:  # type: ignore[no-untyped-def]
    r = requests.get(f"{server.key_url}/forms/case_followup/manifest", headers=OR)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/xml")
    assert r.headers["X-OpenRosa-Version"] == "1.0"
    files = ET.fromstring(r.content).findall(f"{NS}mediaFile")
    return next(f for f in files if f.findtext(f"{NS}filename") == "cases.csv")


def test_case_follow_up_over_http(server):
    la_ee, tay_giang = str(uuid_module.uuid4()), str(uuid_module.uuid4())
    _post(server.key_url, _intake(server, md.VICTIM_WITH_CONSENT, la_ee))
    _post(server.key_url, _intake(server, md.VICTIM_WITHOUT_CONSENT, tay_giang))
    admin = _admin(server)
    api = f"{server.url}/v1/projects/1/datasets/cases/entities"
    _wait(
        lambda: len(requests.get(api, headers=admin, timeout=10).json()) == 2,
        "the two intakes to become entities",
    )

    entry = _manifest(server)
    assert entry.get("type") == "entityList"
    digest = entry.findtext(f"{NS}hash")
    assert re.fullmatch(r"md5:[0-9a-f]{32}", digest)
    download = entry.findtext(f"{NS}downloadUrl")
    integrity = entry.findtext(f"{NS}integrityUrl")
    key_path = urlsplit(server.key_url).path
    assert download == f"{server.key_url}/forms/case_followup/attachments/cases.csv"
    assert integrity == f"{server.key_url}/datasets/cases/integrity"
    assert "/v1/key/" in urlsplit(integrity).path and key_path in integrity

    r = requests.get(download, headers=OR, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    text = r.content.decode("utf-8")
    header = text.splitlines()[0].split(",")
    assert header[:3] == ["name", "label", "__version"]
    assert set(header[3:]) == PROPERTIES and len(header) == 12
    [row] = list(csv.DictReader(io.StringIO(text)))  # the Tây Giang case is not here
    assert (row["name"], row["__version"]) == (la_ee, "1")
    assert row["label"] == "DN-2026-00123 · La Êê · Lan"  # both consents given
    assert row["services_outstanding"] == "psychological legal_aid"
    assert not any(value in text for value in md.PII_VALUES)
    assert r.headers["ETag"] == f'"{digest[4:]}"'
    again = requests.get(
        download, headers={**OR, "If-None-Match": r.headers["ETag"]}, timeout=10
    )
    assert again.status_code == 304

    # A follow-up visit from this phone (Collect's values for a list synced at v1).
    branch = str(uuid_module.uuid4())
    visit = (
        f'<data id="case_followup" version="{md.VERSION}"><visit><case>{la_ee}</case>'
        "<visit_date>2026-11-27</visit_date><contact_mode>home_visit</contact_mode>"
        "<met>yes</met></visit><support><services_since>psychological"
        "</services_since><new_needs>none</new_needs><risk>low</risk></support>"
        "<plan><case_status>active</case_status><next_visit>2026-12-18</next_visit>"
        "</plan><services_outstanding>legal_aid</services_outstanding>"
        "<last_contact>2026-11-27</last_contact><meta>"
        f'<entity dataset="cases" id="{la_ee}" update="1" baseVersion="1" '
        f'trunkVersion="1" branchId="{branch}"/>'
        f"<instanceID>uuid:{uuid_module.uuid4()}</instanceID></meta></data>"
    ).encode()
    _post(server.key_url, visit)
    _wait(
        lambda: _manifest(server).findtext(f"{NS}hash") != digest,
        "the follow-up to change the list",
    )
    [row] = list(csv.DictReader(io.StringIO(requests.get(download, headers=OR).text)))
    assert (row["__version"], row["risk"], row["next_visit"]) == (
        "2",
        "low",
        "2026-12-18",
    )
    assert row["services_outstanding"] == "legal_aid"
    entity = requests.get(f"{api}/{la_ee}", headers=admin, timeout=10).json()
    assert entity["conflict"] is None
    assert entity["currentVersion"]["branchId"] == branch

    r = requests.get(f"{integrity}?id={la_ee},{uuid_module.uuid4()}", headers=OR)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/xml")
    assert r.headers["X-OpenRosa-Version"] == "1.0"
    found = ET.fromstring(r.content).findall("entities/entity")
    assert [(e.get("id"), e.findtext("deleted")) for e in found] == [(la_ee, "false")]
