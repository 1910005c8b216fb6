"""Personal data over REST and OData: what a role without ``pii.read`` gets.

Viewers (``submission.read`` without ``pii.read``) get the submission XML with the
restricted groups (``pii``, ``link``) emptied, OData without them, and 403.1 for files
named inside them; managers and administrators keep the stored bytes.
"""

from __future__ import annotations

import hashlib
import uuid

import pytest
import sqlalchemy as sa
from defusedxml.ElementTree import fromstring

from server.db import db
from server.exports import RESTRICTED_GROUPS
from server.models import Submission, SubmissionDef
from server.redact import RedactionError, redact, restricted_path
from sync import local_name
from tests import factories
from tests import mission_data as md
from tests.api.conftest import assert_problem
from tests.test_mission_forms import (  # noqa: F401  (fixtures)
    Case,
    convert_each_workbook_once,
    mission,
    submit_like_collect,
)

NAME, PHONE = md.VICTIM_WITH_CONSENT["pii/full_name"], "0905123456"
CODE = str(md.VICTIM_WITHOUT_CONSENT_CODED["link/link_code"])


# --- the pure rewrite ---------------------------------------------------------------

STORED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<data xmlns:orx="http://openrosa.org/xforms" id="f" version="1">'
    b"<consent>yes</consent>"
    b'<pii note="x>y"><full_name>H\xe1\xbb\x93 Th\xe1\xbb\x8b Lan</full_name>'
    b"<phone>0905123456</phone><notes><![CDATA[<b>secret</b>]]><!-- c --></notes>"
    b"<empty/><kin><name>A &amp; B</name></kin><kin><name>C</name></kin></pii>"
    b"<link><link_code>AT2009</link_code></link>"
    b"<case><pii>a nested group of that name is not restricted</pii></case>"
    b"<meta><orx:instanceID>uuid:1</orx:instanceID></meta></data>"
)


def test_redact_empties_restricted_groups_and_keeps_every_other_byte():
    out = redact(STORED, RESTRICTED_GROUPS)
    assert out == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<data xmlns:orx="http://openrosa.org/xforms" id="f" version="1">'
        b"<consent>yes</consent>"
        b"<pii><full_name/><phone/><notes/><empty/><kin><name/></kin><kin><name/></kin>"
        b"</pii><link><link_code/></link>"
        b"<case><pii>a nested group of that name is not restricted</pii></case>"
        b"<meta><orx:instanceID>uuid:1</orx:instanceID></meta></data>"
    )
    assert fromstring(out) is not None


def test_redact_keeps_namespace_declarations_and_self_closed_groups():
    xml = (
        b'<data><x:pii xmlns:x="urn:x" secret="Lan"><x:a>s</x:a></x:pii>'
        b'<link status="given"/><v>1</v></data>'
    )
    out = redact(xml, RESTRICTED_GROUPS)
    assert out == b'<data><x:pii xmlns:x="urn:x"><x:a/></x:pii><link/><v>1</v></data>'
    assert redact(b"<data><v>1</v></data>", RESTRICTED_GROUPS) == (
        b"<data><v>1</v></data>"
    )


@pytest.mark.parametrize(
    "xml",
    [
        b'<!DOCTYPE d [<!ENTITY e "Lan">]><data><pii><n>&e;</n></pii></data>',
        b"<data><pii><n>Lan</n></pii>",
    ],
    ids=["entity", "truncated"],
)
def test_redact_refuses_what_it_cannot_read(xml):
    with pytest.raises(RedactionError):
        redact(xml, RESTRICTED_GROUPS)


@pytest.mark.parametrize(
    ("path", "restricted"),
    [
        ("/data/pii/id_photo", True),
        ("/data/link/link_code", True),
        ("/data/photos/photo_1", False),
        ("/data/case/pii/photo", False),
        ("/data", False),
    ],
    ids=["pii", "link", "photos", "nested", "root"],
)
def test_restricted_path(path, restricted):
    assert restricted_path(path, RESTRICTED_GROUPS) is restricted


# --- the victim case over REST and OData --------------------------------------------


def _send(client, mission, values) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]  # noqa: F811
    """Send a victim_case record like Collect; (instanceID, the bytes sent)."""
    iid = f"uuid:{uuid.uuid4()}"
    xml, _ = Case("victim_case", values, "").record(mission.xforms["victim_case"], iid)
    r = submit_like_collect(client, mission.key_base, xml, {}, "collect:test")
    assert r.status_code == 201, r.data
    return iid, xml


def _url(mission, iid: str) -> str:  # type: ignore[no-untyped-def]  # noqa: F811
    return f"/v1/projects/{mission.project_id}/forms/victim_case/submissions/{iid}"


def _leaves(xml: bytes, group: str) -> dict[str, str]:
    root = fromstring(xml)
    node = next(c for c in root if local_name(c.tag) == group)
    return {local_name(e.tag): e.text or "" for e in node.iter() if not len(e)}


@pytest.fixture
def viewer(as_role):  # type: ignore[no-untyped-def]
    return as_role("viewer")


@pytest.fixture
def manager(as_role):  # type: ignore[no-untyped-def]
    return as_role("manager")


def test_viewer_gets_xml_without_personal_data(app, client, mission, viewer, manager):  # noqa: F811
    iid, sent = _send(client, mission, dict(md.VICTIM_WITH_CONSENT))
    full = manager.get(f"{_url(mission, iid)}.xml")
    assert full.status_code == 200 and full.data == sent
    assert "X-Outreach-Redacted" not in full.headers
    assert full.headers["ETag"] == f'"{hashlib.sha256(sent).hexdigest()}"'

    r = viewer.get(f"{_url(mission, iid)}.xml")
    assert r.status_code == 200
    assert r.headers["X-Outreach-Redacted"] == "pii"
    assert r.headers["ETag"] != full.headers["ETag"]
    text = r.get_data(as_text=True)
    assert not [v for v in md.PII_VALUES if v in text]
    assert NAME not in text and PHONE not in text
    # the structure is there, every value empty; the rest is as sent
    assert _leaves(r.data, "pii").keys() == _leaves(sent, "pii").keys()
    assert set(_leaves(r.data, "pii").values()) == {""}
    assert _leaves(r.data, "case") == _leaves(sent, "case")
    assert "DN-2026-00123" in text
    # the stored bytes are untouched
    with app.app_context():
        stored = db.session.execute(
            sa.select(SubmissionDef.xml)
            .join(Submission, Submission.id == SubmissionDef.submission_id)
            .where(Submission.instance_id == iid)
        ).scalar_one()
    assert bytes(stored) == sent


def test_redacted_xml_is_cached_apart(client, mission, viewer, manager):  # noqa: F811
    iid, _sent = _send(client, mission, dict(md.VICTIM_WITH_CONSENT))
    url = f"{_url(mission, iid)}.xml"
    mine = viewer.get(url).headers["ETag"]
    assert viewer.get(url, headers={"If-None-Match": mine}).status_code == 304
    theirs = manager.get(url).headers["ETag"]
    again = viewer.get(url, headers={"If-None-Match": theirs})
    assert again.status_code == 200 and again.headers["ETag"] == mine
    assert "Authorization" in again.headers["Vary"]


def test_viewer_gets_no_linkage_code(client, mission, viewer, admin):  # noqa: F811
    iid, sent = _send(client, mission, dict(md.VICTIM_WITHOUT_CONSENT_CODED))
    assert CODE.encode() in sent
    r = viewer.get(f"{_url(mission, iid)}.xml")
    assert CODE not in r.get_data(as_text=True)
    assert _leaves(r.data, "link") == {"link_status": "", "link_code": ""}
    assert admin.get(f"{_url(mission, iid)}.xml").data == sent


def test_submission_json_carries_no_personal_data(client, mission, viewer):  # noqa: F811
    iid, _sent = _send(client, mission, dict(md.VICTIM_WITH_CONSENT))
    for path in (_url(mission, iid), f"{_url(mission, iid)}/versions"):
        for extended in ({}, {"X-Extended-Metadata": "true"}):
            r = viewer.get(path, headers=extended)
            assert r.status_code == 200
            text = r.get_data(as_text=True)
            assert not [v for v in md.PII_VALUES if v in text], path


def _feed(mission) -> str:  # type: ignore[no-untyped-def]  # noqa: F811
    return f"/v1/projects/{mission.project_id}/forms/victim_case.svc"


def test_viewer_odata_rows_leave_out_restricted_groups(
    client,
    mission,  # noqa: F811
    viewer,
    manager,
):
    consent, _ = _send(client, mission, dict(md.VICTIM_WITH_CONSENT))
    coded, _ = _send(client, mission, dict(md.VICTIM_WITHOUT_CONSENT_CODED))
    for path in ("/Submissions?$expand=*", f"/Submissions('{consent}')"):
        r = viewer.get(_feed(mission) + path)
        assert r.status_code == 200
        assert r.headers["X-Outreach-Redacted"] == "pii"
        text = r.get_data(as_text=True)
        assert not [v for v in [*md.PII_VALUES, CODE] if v in text]
        for row in r.get_json()["value"]:
            assert not RESTRICTED_GROUPS & set(row)
            assert row["case"]["case_code"] in ("DN-2026-00123", "BPTG-2026-017")
    assert_problem(
        viewer.get(_feed(mission) + "/Submissions?$select=pii/full_name"), 400.23
    )
    rows = {
        row["__id"]: row
        for row in manager.get(_feed(mission) + "/Submissions").get_json()["value"]
    }
    assert rows[consent]["pii"]["full_name"] == NAME
    assert rows[coded]["link"]["link_code"] == CODE
    assert "X-Outreach-Redacted" not in manager.get(_feed(mission)).headers


# --- a file inside the pii group ----------------------------------------------------

ID_FORM_MD = """
| survey   |             |          |          |
|          | type        | name     | label    |
|          | text        | village  | Village  |
|          | image       | photo    | Photo    |
|          | begin group | pii      | Personal |
|          | text        | full_name | Name    |
|          | image       | id_photo | ID card  |
|          | end group   |          |          |
| settings |          |          |          |
|          | form_id  | version  | form_title |
|          | {form_id} | {version} | {title} |
"""


def _id_card_submission(app, admin, seed) -> str:  # type: ignore[no-untyped-def]
    from server.forms import create_draft, publish_draft

    with app.app_context():
        form, _draft, _w = create_draft(
            seed.project_id, factories.xform("idcards", template=ID_FORM_MD)
        )
        publish_draft(form)
        db.session.commit()
    iid = factories.new_instance_id()
    xml = (
        f'<data id="idcards" version="1"><village>Bản A Ur</village>'
        f"<photo>house.jpg</photo><pii><full_name>{NAME}</full_name>"
        f"<id_photo>card.jpg</id_photo></pii>"
        f"<meta><instanceID>{iid}</instanceID></meta></data>"
    ).encode()
    base = f"/v1/projects/{seed.project_id}/forms/idcards/submissions"
    r = admin.post(base, data=xml, headers={"Content-Type": "application/xml"})
    assert r.status_code == 200, r.data
    for name in ("house.jpg", "card.jpg"):
        r = admin.post(
            f"{base}/{iid}/attachments/{name}",
            data=name.encode(),
            headers={"Content-Type": "image/jpeg"},
        )
        assert r.status_code == 200, r.data
    return f"{base}/{iid}/attachments"


def test_viewer_cannot_download_a_restricted_file(app, admin, seed, as_role):
    files = _id_card_submission(app, admin, seed)
    viewer, manager = as_role("viewer"), as_role("manager")
    assert_problem(viewer.get(f"{files}/card.jpg"), 403.1)
    assert viewer.get(f"{files}/house.jpg").data == b"house.jpg"
    assert_problem(viewer.get(f"{files}/nothing.jpg"), 404.1)
    assert manager.get(f"{files}/card.jpg").data == b"card.jpg"
    assert admin.get(f"{files}/card.jpg").data == b"card.jpg"


# --- reads of personal data are audited ---------------------------------------------


def _pii_reads(app) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    from server.models import Audit

    with app.app_context():
        return [
            (actee_type, details)
            for actee_type, details in db.session.execute(
                sa.select(Audit.actee_type, Audit.details)
                .where(Audit.action == "submission.read.pii")
                .order_by(Audit.id)
            )
        ]


def test_reads_of_personal_data_are_audited(
    app,
    client,
    mission,  # noqa: F811
    viewer,
    manager,
):
    consent, _ = _send(client, mission, dict(md.VICTIM_WITH_CONSENT))
    anonymous, _ = _send(client, mission, dict(md.VICTIM_WITHOUT_CONSENT))
    viewer.get(f"{_url(mission, consent)}.xml")
    viewer.get(_feed(mission) + "/Submissions")
    manager.get(f"{_url(mission, anonymous)}.xml")  # the link group says "declined"
    assert len(_pii_reads(app)) == 1
    manager.get(f"{_url(mission, consent)}.xml")
    manager.get(_feed(mission) + "/Submissions")
    reads = _pii_reads(app)
    assert [(t, d["via"]) for t, d in reads] == [
        ("submission", "xml"),
        ("submission", "xml"),
        ("form", "odata"),
    ]
    assert reads[-1][1]["rows"] == 2
    assert not [v for v in md.PII_VALUES if v in str(reads)]


def test_restricted_file_downloads_are_audited(app, admin, seed, as_role):
    files = _id_card_submission(app, admin, seed)
    manager = as_role("manager")
    assert manager.get(f"{files}/house.jpg").status_code == 200
    assert _pii_reads(app) == []
    assert manager.get(f"{files}/card.jpg").status_code == 200
    assert [d["via"] for _t, d in _pii_reads(app)] == ["attachment"]
