"""Hostile and broken input: the right 4xx with an OpenRosa body, nothing stored."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import Blob, Submission
from tests import factories

OR = {"X-OpenRosa-Version": "1.0"}

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<data id="photos" version="1"><village>&xxe;</village>
<meta><instanceID>uuid:xxe</instanceID></meta></data>"""

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<data id="photos" version="1"><village>&lol3;</village>
<meta><instanceID>uuid:bomb</instanceID></meta></data>"""

DEEP = (
    b'<data id="photos" version="1">' + b"<g>" * 500 + b"x" + b"</g>" * 500 + b"</data>"
)


def _assert_openrosa_error(response, status):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.data
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    root = ET.fromstring(response.data)
    message = root.find("{http://openrosa.org/http/response}message")
    assert message is not None and message.get("nature") == "error" and message.text


def _nothing_stored(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 0
        )


@pytest.mark.parametrize(
    "xml",
    [
        XXE,
        BOMB,
        DEEP,
        b"",
        b"   ",
        b"<data id='photos'",
        b"\xff\xfe\x00<",
        b"not xml at all",
    ],
    ids=[
        "xxe",
        "entity-bomb",
        "too-deep",
        "empty",
        "blank",
        "truncated",
        "binary",
        "text",
    ],
)
def test_hostile_xml_is_400_and_stores_nothing(app, openrosa, xml):
    _assert_openrosa_error(openrosa.submit(xml), 400)
    _nothing_stored(app)
    # the server still serves
    assert openrosa.submit(factories.submission_xml()).status_code == 201


def test_missing_xml_part_is_400(app, client, seed):
    import io

    r = client.post(
        f"{seed.key_base}/submission",
        headers=OR,
        data={"photo.jpg": (io.BytesIO(b"x"), "photo.jpg")},
        content_type="multipart/form-data",
    )
    _assert_openrosa_error(r, 400)
    _nothing_stored(app)


def test_not_multipart_is_400(app, client, seed):
    r = client.post(
        f"{seed.key_base}/submission",
        headers=OR,
        data=factories.submission_xml(),
        content_type="text/xml",
    )
    _assert_openrosa_error(r, 400)
    _nothing_stored(app)


def test_truncated_multipart_is_400(app, client, seed):
    body = (
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="xml_submission_file"; '
        b'filename="submission.xml"\r\nContent-Type: text/xml\r\n\r\n'
        + factories.submission_xml()[:60]
    )
    r = client.post(
        f"{seed.key_base}/submission",
        headers=OR,
        data=body,
        content_type="multipart/form-data; boundary=BOUNDARY",
    )
    _assert_openrosa_error(r, 400)
    _nothing_stored(app)


def test_oversized_body_is_413(app, openrosa):
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    r = openrosa.submit(
        factories.submission_xml(fields={"photo1": "a.jpg"}), {"a.jpg": b"x" * 60_000}
    )
    _assert_openrosa_error(r, 413)
    _nothing_stored(app)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Blob)) == 0


def test_wrong_form_id_is_404(app, openrosa):
    _assert_openrosa_error(
        openrosa.submit(factories.submission_xml(form_id="../../etc")), 404
    )
    _nothing_stored(app)


def test_overlong_instance_id_is_400(app, openrosa):
    _assert_openrosa_error(
        openrosa.submit(factories.submission_xml(instance_id="uuid:" + "a" * 300)), 400
    )
    _nothing_stored(app)
