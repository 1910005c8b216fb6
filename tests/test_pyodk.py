"""pyODK 1.3, unmodified, against a real HTTP server running this app.

One walk through what a data manager's script does: log in, create a form from an
XLSForm, update it with a media file, create app users, submit over REST and over
OpenRosa (as Collect would), edit, review, comment and read everything back, including
the OData table. Nothing is mocked.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from tests.api.builders import xlsx
from tests.conftest import open_pyodk

pyodk_client = pytest.importorskip("pyodk.client")

CSV = "name,label\nhv,Hòa Vang\nhc,Hải Châu\n"


@pytest.fixture
def client(live_server: str, seed, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A logged-in pyODK client against the live server."""
    odk = open_pyodk(live_server, seed, tmp_path)
    yield odk
    odk.close()


def _instance(instance_id: str, village: str, deprecated_id: str | None = None) -> str:
    meta = f"<instanceID>{instance_id}</instanceID>"
    if deprecated_id:
        meta = f"<deprecatedID>{deprecated_id}</deprecatedID>{meta}"
    return (
        '<data id="households" version="1">'
        f"<village>{village}</village><total>5</total><photo>house.jpg</photo>"
        f"<commune>hv</commune><meta>{meta}</meta></data>"
    )


def test_pyodk_end_to_end(client, live_server: str, seed, tmp_path: Path):  # type: ignore[no-untyped-def]
    # login left a cached token that /users/current accepts
    assert (tmp_path / "pyodk_cache.toml").read_text().startswith("token")

    # projects
    [project] = client.projects.list()
    assert project.id == seed.project_id and project.name == "Tây Giang"
    assert client.projects.get().archived is False

    # create a form from an XLSForm file (media expected, warnings ignored by pyODK)
    form_path = tmp_path / "households.xlsx"
    form_path.write_bytes(xlsx(form_id="households", version="1", media="communes.csv"))
    form = client.forms.create(definition=form_path)
    assert form.xmlFormId == "households"
    assert {f.xmlFormId for f in client.forms.list()} == {"photos", "households"}
    published = client.forms.get("households")
    assert published.publishedAt is not None and published.state == "open"
    assert 'id="households"' in client.forms.get_xml("households")

    # update it with the media file: new draft, upload, publish with a new version
    csv_path = tmp_path / "communes.csv"
    csv_path.write_text(CSV, encoding="utf-8")
    client.forms.update(
        "households", attachments=[csv_path], version_updater=lambda v: "2"
    )
    assert client.forms.get("households").version == "2"
    media = client.get(
        f"projects/{seed.project_id}/forms/households/attachments"
    ).json()
    assert media == [{**media[0], "name": "communes.csv", "exists": True}]

    # app users assigned to the form; the token is only in the creation response
    [phone] = client.projects.create_app_users(
        display_names=["Phone A"], forms=["households"]
    )
    assert phone.token and phone.type == "field_key"

    # a submission over REST, with its photo
    photo = tmp_path / "house.jpg"
    photo.write_bytes(b"\xff\xd8\xff fake jpeg")
    root_id = f"uuid:{uuid.uuid4()}"
    created = client.submissions.create(
        xml=_instance(root_id, "Bản A Ur").replace('version="1"', 'version="2"'),
        form_id="households",
        device_id="pyodk-test",
        attachments=[photo],
    )
    assert created.instanceId == root_id and created.deviceId == "pyodk-test"
    assert [(a.name, a.exists) for a in created.attachments] == [("house.jpg", True)]

    # edit it (PUT with deprecatedID) with a comment, then review it
    new_id = f"uuid:{uuid.uuid4()}"
    client.submissions.edit(
        root_id,
        _instance(new_id, "Bản A Ur (sửa)", root_id).replace(
            'version="1"', 'version="2"'
        ),
        form_id="households",
        comment="fixed the village name",
    )
    assert client.submissions.get(root_id, form_id="households").reviewState == "edited"
    client.submissions.review(
        root_id, review_state="approved", form_id="households", comment="checked"
    )
    got = client.submissions.get(root_id, form_id="households")
    assert got.reviewState == "approved" and got.instanceName is None
    comments = client.submissions.list_comments(root_id, form_id="households")
    assert [c.body for c in comments] == ["checked", "fixed the village name"]

    # a submission from "Collect": multipart OpenRosa POST with the app user's key
    collect_id = f"uuid:{uuid.uuid4()}"
    r = requests.post(
        f"{live_server}/v1/key/{phone.token}/projects/{seed.project_id}/submission",
        headers={"X-OpenRosa-Version": "1.0"},
        params={"deviceID": "collect:abc"},
        files={
            "xml_submission_file": (
                "submission.xml",
                _instance(collect_id, "Hải Châu").encode(),
                "text/xml",
            ),
            "house.jpg": ("house.jpg", b"collect jpeg", "image/jpeg"),
        },
        timeout=30,
    )
    assert r.status_code == 201, r.text

    listed = client.submissions.list(form_id="households")
    assert [s.instanceId for s in listed] == [collect_id, root_id]
    from_collect = client.submissions.get(collect_id, form_id="households")
    assert (
        from_collect.submitterId == phone.id and from_collect.deviceId == "collect:abc"
    )
    assert from_collect.reviewState is None

    # the OData table pyODK users load into pandas
    table = client.submissions.get_table(form_id="households", count=True)
    assert table["@odata.count"] == 2
    rows = {row["__id"]: row for row in table["value"]}
    assert rows[root_id]["village"] == "Bản A Ur (sửa)"
    assert rows[root_id]["total"] == 5
    assert rows[root_id]["__system"]["edits"] == 1
    assert rows[root_id]["__system"]["reviewState"] == "approved"
    assert rows[collect_id]["__system"]["submitterId"] == str(phone.id)
    assert rows[collect_id]["__system"]["attachmentsPresent"] == 1
    assert rows[collect_id]["__system"]["formVersion"] == "1"
    recent = client.submissions.get_table(
        form_id="households", filter="__system/reviewState eq 'approved'", top=1
    )
    assert [row["__id"] for row in recent["value"]] == [root_id]

    # the photo as stored, and the exact current XML
    base = f"projects/{seed.project_id}/forms/households/submissions"
    assert (
        client.get(f"{base}/{collect_id}/attachments/house.jpg").content
        == b"collect jpeg"
    )
    assert "Bản A Ur (sửa)" in client.get(f"{base}/{root_id}.xml").text


def test_pyodk_errors_carry_central_codes(client, seed):  # type: ignore[no-untyped-def]
    from pyodk.errors import PyODKError

    with pytest.raises(PyODKError) as err:
        client.forms.get("missing")
    assert err.value.is_central_error(404.1)
    with pytest.raises(PyODKError) as err:
        client.submissions.review(
            "uuid:none", review_state="approved", form_id="photos"
        )
    assert err.value.is_central_error(404.1)
