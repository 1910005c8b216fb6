"""Central's draft-testing endpoints: Collect tries a draft; test data stays apart."""

from __future__ import annotations

import hashlib
import io
import xml.etree.ElementTree as ET

import sqlalchemy as sa

from server.db import db
from server.models import Submission
from tests import factories

OR = {"X-OpenRosa-Version": "1.0"}
NS = "{http://openrosa.org/xforms/xformsList}"


def _draft(app, seed):  # type: ignore[no-untyped-def]
    from server.forms import create_draft
    from server.models import Form

    with app.app_context():
        form = db.session.get(Form, seed.form_id)
        _form, draft, _w = create_draft(
            seed.project_id, factories.xform(version="2"), form=form
        )
        db.session.commit()
        return draft.draft_token


def _post(client, base, xml):  # type: ignore[no-untyped-def]
    return client.post(
        f"{base}/submission",
        headers=OR,
        content_type="multipart/form-data",
        data={"xml_submission_file": (io.BytesIO(xml), "submission.xml")},
    )


def test_collect_can_test_a_draft_without_touching_live_data(
    app, client, seed, openrosa
):
    token = _draft(app, seed)
    base = f"/v1/test/{token}/projects/{seed.project_id}/forms/photos/draft"
    listing = client.get(f"{base}/formList", headers=OR)
    assert listing.status_code == 200
    xform = ET.fromstring(listing.data).find(f"{NS}xform")
    assert xform.find(f"{NS}version").text == "2"
    url = xform.find(f"{NS}downloadUrl").text.replace("http://localhost", "")
    body = client.get(url, headers=OR)
    assert xform.find(f"{NS}hash").text == "md5:" + hashlib.md5(body.data).hexdigest()
    assert client.head(f"{base}/submission", headers=OR).status_code == 204
    iid = factories.new_instance_id()
    assert (
        _post(
            client, base, factories.submission_xml(version="2", instance_id=iid)
        ).status_code
        == 201
    )
    # the same instanceID on the live form is a separate, new submission
    assert (
        openrosa.submit(
            factories.submission_xml(version="1", instance_id=iid)
        ).status_code
        == 201
    )
    with app.app_context():
        rows = db.session.execute(
            sa.select(Submission.instance_id, Submission.draft)
        ).all()
    assert sorted(rows, key=lambda r: r[1]) == [(iid, False), (iid, True)]


def test_wrong_draft_token_is_404_4(app, client, seed):
    _draft(app, seed)
    r = client.get(
        f"/v1/test/{'x' * 64}/projects/{seed.project_id}/forms/photos/draft/formList",
        headers=OR,
    )
    assert r.status_code == 404 and b"draft testing" in r.data
