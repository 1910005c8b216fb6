"""OpenRosa contract through the Flask test client (reference sections 1-5)."""

from __future__ import annotations

import hashlib
import io
import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import Audit, Submission, SubmissionAttachment, SubmissionDef
from tests import factories

OR = {"X-OpenRosa-Version": "1.0"}
NS_LIST = "{http://openrosa.org/xforms/xformsList}"
NS_RESP = "{http://openrosa.org/http/response}"


def _message(response) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    root = ET.fromstring(response.data)
    assert root.tag == f"{NS_RESP}OpenRosaResponse"
    msg = root.find(f"{NS_RESP}message")
    assert msg is not None
    return msg.get("nature") or "", msg.text or ""


def _counts(app) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return (
            db.session.scalar(sa.select(sa.func.count()).select_from(Submission)),
            db.session.scalar(sa.select(sa.func.count()).select_from(SubmissionDef)),
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(SubmissionAttachment)
                .where(SubmissionAttachment.blob_sha.is_not(None))
            ),
        )


def _photo_xml(instance_id: str | None = None, **kw) -> bytes:  # type: ignore[no-untyped-def]
    fields = {
        "village": "Bản Ta Lang",
        "total": "12",
        "photo1": "a.jpg",
        "photo2": "b.jpg",
    }
    fields.update(kw.pop("fields", {}))
    return factories.submission_xml(instance_id=instance_id, fields=fields, **kw)


def test_openrosa_headers_on_every_response(client, seed):
    r = client.get(f"{seed.key_base}/formList", headers=OR)
    assert r.status_code == 200
    assert r.headers["X-OpenRosa-Version"] == "1.0"
    assert r.headers["X-OpenRosa-Accept-Content-Length"] == "100000000"
    assert r.headers["Content-Type"].startswith("text/xml")
    assert r.headers["Date"].endswith("GMT")


def test_form_list_hash_matches_download_and_urls_keep_the_key(client, seed):
    r = client.get(f"{seed.key_base}/formList", headers=OR)
    root = ET.fromstring(r.data)
    forms = root.findall(f"{NS_LIST}xform")
    assert len(forms) == 1
    url = forms[0].find(f"{NS_LIST}downloadUrl").text
    assert f"/v1/key/{seed.token}/projects/{seed.project_id}/forms/photos.xml" in url
    assert forms[0].find(f"{NS_LIST}manifestUrl") is None  # no media referenced
    download = client.get(url.replace("http://localhost", ""), headers=OR)
    assert download.status_code == 200
    expected = "md5:" + hashlib.md5(download.data).hexdigest()
    assert forms[0].find(f"{NS_LIST}hash").text == expected
    again = client.get(
        url.replace("http://localhost", ""),
        headers={**OR, "If-None-Match": download.headers["ETag"]},
    )
    assert again.status_code == 304


def test_form_list_honours_form_id_filter(client, seed):
    r = client.get(f"{seed.key_base}/formList?formID=nope", headers=OR)
    assert ET.fromstring(r.data).findall(f"{NS_LIST}xform") == []
    r = client.get(f"{seed.key_base}/formList?formID=photos", headers=OR)
    assert len(ET.fromstring(r.data).findall(f"{NS_LIST}xform")) == 1


def test_missing_openrosa_header_is_400_with_openrosa_body(client, seed):
    r = client.get(f"{seed.key_base}/formList")
    assert r.status_code == 400
    nature, text = _message(r)
    assert nature == "error" and "X-OpenRosa-Version" in text


@pytest.mark.parametrize(
    ("token", "status"),
    [("x" * 64, 403), ("short", 403)],
    ids=["unknown-token", "garbage"],
)
def test_invalid_key_is_403_not_401(client, seed, token, status):
    r = client.get(f"/v1/key/{token}/projects/{seed.project_id}/formList", headers=OR)
    assert r.status_code == status
    assert "WWW-Authenticate" not in r.headers


def test_anonymous_preflight_gets_a_challenge(client, seed):
    r = client.head(f"/v1/projects/{seed.project_id}/submission", headers=OR)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_preflight_with_key_is_204(client, seed):
    r = client.head(f"{seed.key_base}/submission", headers=OR)
    assert r.status_code == 204
    assert r.headers["X-OpenRosa-Accept-Content-Length"] == "100000000"


def test_basic_auth_web_user_can_list_and_submit(client, seed, openrosa):
    import base64

    cred = base64.b64encode(
        f"{seed.admin_email}:{seed.admin_password}".encode()
    ).decode()
    base = f"/v1/projects/{seed.project_id}"
    hdrs = {"Authorization": f"Basic {cred}"}
    r = client.get(f"{base}/formList", headers={**OR, **hdrs})
    assert r.status_code == 200 and b"photos" in r.data
    r = openrosa.submit(_photo_xml(), base=base, headers=hdrs)
    assert r.status_code == 201
    bad = base64.b64encode(f"{seed.admin_email}:wrong".encode()).decode()
    r = client.get(f"{base}/formList", headers={**OR, "Authorization": f"Basic {bad}"})
    assert r.status_code == 401


def test_submission_outcome_table(app, openrosa):
    iid = factories.new_instance_id()
    xml = _photo_xml(iid)
    # new
    r = openrosa.submit(xml, {"a.jpg": b"photo-a"})
    assert r.status_code == 201
    assert _message(r) == ("", "full submission upload was successful!")
    assert _counts(app) == (1, 1, 1)
    # identical resend with the missing attachment: 201, attachment stored, one submission
    r = openrosa.submit(xml, {"b.jpg": b"photo-b"})
    assert r.status_code == 201
    assert _counts(app) == (1, 1, 2)
    # identical resend again: idempotent
    r = openrosa.submit(xml, {"a.jpg": b"photo-a", "b.jpg": b"photo-b"})
    assert r.status_code == 201
    assert _counts(app) == (1, 1, 2)
    # same instanceID, different XML: 409
    r = openrosa.submit(_photo_xml(iid, fields={"total": "13"}))
    assert r.status_code == 409
    assert _message(r)[0] == "error"
    assert _counts(app) == (1, 1, 2)


def test_split_upload_merges_attachments(app, openrosa):
    xml = _photo_xml()
    r1 = openrosa.submit(xml, {"a.jpg": b"A" * 1000}, extra={"*isIncomplete*": "yes"})
    r2 = openrosa.submit(xml, {"b.jpg": b"B" * 1000})
    assert (r1.status_code, r2.status_code) == (201, 201)
    assert _counts(app) == (1, 1, 2)


def test_unexpected_parts_are_ignored(app, openrosa):
    r = openrosa.submit(_photo_xml(), {"a.jpg": b"a", "stray.txt": b"not expected"})
    assert r.status_code == 201
    with app.app_context():
        names = db.session.scalars(sa.select(SubmissionAttachment.name)).all()
    assert sorted(names) == ["a.jpg", "b.jpg"]


def test_edit_creates_version_and_carries_attachments(app, openrosa):
    first = factories.new_instance_id()
    assert (
        openrosa.submit(_photo_xml(first), {"a.jpg": b"a", "b.jpg": b"b"}).status_code
        == 201
    )
    second = factories.new_instance_id()
    edit = _photo_xml(second, deprecated_id=first, fields={"total": "15"})
    r = openrosa.submit(edit, {"b.jpg": b"b2"})
    assert r.status_code == 201
    with app.app_context():
        sub = db.session.scalars(sa.select(Submission)).one()
        assert sub.instance_id == first and sub.review_state == "edited"
        defs = db.session.scalars(
            sa.select(SubmissionDef).order_by(SubmissionDef.id)
        ).all()
        assert [(d.instance_id, d.current) for d in defs] == [
            (first, False),
            (second, True),
        ]
        slots = dict(
            db.session.execute(
                sa.select(
                    SubmissionAttachment.name, SubmissionAttachment.blob_sha
                ).where(SubmissionAttachment.submission_def_id == defs[1].id)
            ).all()
        )
        assert slots["a.jpg"] == hashlib.sha256(b"a").hexdigest()  # carried over
        assert slots["b.jpg"] == hashlib.sha256(b"b2").hexdigest()  # replaced
        actions = db.session.scalars(sa.select(Audit.action)).all()
        assert "submission.update.version" in actions
    # resending the edit is idempotent; editing the old version again is stale (409.9)
    assert openrosa.submit(edit).status_code == 201
    stale = _photo_xml(factories.new_instance_id(), deprecated_id=first)
    assert openrosa.submit(stale).status_code == 409
    # resending the edited-away original is 409 too (Central 409.9)
    assert openrosa.submit(_photo_xml(first)).status_code == 409


def test_unknown_deprecated_id_is_404(openrosa):
    xml = _photo_xml(deprecated_id="uuid:never-seen")
    r = openrosa.submit(xml)
    assert r.status_code == 404
    assert "can't find" in _message(r)[1] or "cannot be found" in _message(r)[1]


@pytest.mark.parametrize(
    ("xml", "status"),
    [
        (factories.submission_xml(form_id="nope"), 404),
        (factories.submission_xml(version="999"), 404),
        (b'<data version="1"><meta><instanceID>uuid:x</instanceID></meta></data>', 400),
    ],
    ids=["unknown-form", "unknown-version", "no-form-id"],
)
def test_submission_lookup_errors(app, openrosa, xml, status):
    r = openrosa.submit(xml)
    assert r.status_code == status
    assert _message(r)[0] == "error"
    assert _counts(app) == (0, 0, 0)


def test_closed_form_is_409_and_closing_still_accepts(app, openrosa, seed):
    from server.models import Form

    for state, status in (("closing", 201), ("closed", 409)):
        with app.app_context():
            db.session.get(Form, seed.form_id).state = state
            db.session.commit()
        assert openrosa.submit(_photo_xml()).status_code == status


def test_submission_to_any_published_version(app, openrosa, seed):
    from server.forms import create_draft, publish_draft

    with app.app_context():
        form, _d, _w = create_draft(seed.project_id, factories.xform(version="2"))
        publish_draft(form)
        db.session.commit()
    assert openrosa.submit(_photo_xml(version="1")).status_code == 201
    assert openrosa.submit(_photo_xml(version="2")).status_code == 201
    assert _counts(app)[0] == 2


def test_app_user_sees_and_submits_only_assigned_forms(app, client, seed, openrosa):
    from server.forms import create_draft, publish_draft

    with app.app_context():
        form, _d, _w = create_draft(
            seed.project_id, factories.xform(form_id="other", title="Other")
        )
        publish_draft(form)
        db.session.commit()
    r = client.get(f"{seed.key_base}/formList", headers=OR)
    assert b"<formID>other</formID>" not in r.data
    assert client.get(f"{seed.key_base}/forms/other.xml", headers=OR).status_code == 403
    r = openrosa.submit(factories.submission_xml(form_id="other"))
    assert r.status_code == 403
    assert _counts(app)[0] == 0


def test_form_media_in_manifest_with_md5(app, client, seed):
    from server.forms import create_draft, publish_draft, set_attachment

    csv = "name,label\n20314,Tây Giang\n".encode()
    with app.app_context():
        form, draft, _w = create_draft(
            seed.project_id,
            factories.xform(form_id="media", template=factories.MEDIA_FORM_MD),
        )
        publish_draft(form)
        db.session.commit()
    base = f"/v1/projects/{seed.project_id}"
    import base64

    cred = base64.b64encode(
        f"{seed.admin_email}:{seed.admin_password}".encode()
    ).decode()
    hdrs = {**OR, "Authorization": f"Basic {cred}"}
    r = client.get(f"{base}/formList?formID=media", headers=hdrs)
    assert b"<manifestUrl>" in r.data
    r = client.get(f"{base}/forms/media/manifest", headers=hdrs)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/xml")
    assert b"mediaFile" not in r.data  # expected but not uploaded yet: omitted
    with app.app_context():
        from server.models import Form

        form = db.session.scalars(
            sa.select(Form).where(Form.xml_form_id == "media")
        ).one()
        set_attachment(form.current_def, "communes.csv", io.BytesIO(csv), "text/csv")
        db.session.commit()
    r = client.get(f"{base}/forms/media/manifest", headers=hdrs)
    root = ET.fromstring(r.data)
    ns = "{http://openrosa.org/xforms/xformsManifest}"
    media = root.findall(f"{ns}mediaFile")
    assert [m.find(f"{ns}filename").text for m in media] == ["communes.csv"]
    assert media[0].find(f"{ns}hash").text == "md5:" + hashlib.md5(csv).hexdigest()
    url = media[0].find(f"{ns}downloadUrl").text.replace("http://localhost", "")
    got = client.get(url, headers=hdrs)
    assert got.data == csv
    assert (
        client.get(
            url, headers={**hdrs, "If-None-Match": got.headers["ETag"]}
        ).status_code
        == 304
    )


def test_urls_follow_forwarded_public_url(app, client, seed):
    app.config["PUBLIC_URL"] = "https://outreach.example.vn/"
    r = client.get(f"{seed.key_base}/formList", headers=OR)
    assert b"https://outreach.example.vn/v1/key/" in r.data


def test_refused_submission_writes_no_files_and_resend_skips_stored_ones(app, openrosa):
    from pathlib import Path

    root = Path(app.config["OUTREACH_DATA_DIR"])

    def files() -> set[str]:
        return (
            {p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()
        )

    iid = factories.new_instance_id()
    assert openrosa.submit(_photo_xml(iid), {"a.jpg": b"first"}).status_code == 201
    stored = files()
    r = openrosa.submit(
        _photo_xml(iid, fields={"total": "99"}), {"b.jpg": b"never stored"}
    )
    assert r.status_code == 409
    assert files() == stored
    assert (
        openrosa.submit(
            _photo_xml(iid), {"a.jpg": b"other bytes", "b.jpg": b"second"}
        ).status_code
        == 201
    )
    assert files() == stored | {hashlib.sha256(b"second").hexdigest()}


def test_postgres_new_submission_skips_begin_and_commit(app, openrosa, tmp_path):
    """PostgreSQL: a new submission is reads plus one statement, each in autocommit.

    libpq's own protocol trace of the request's connection shows what was sent: no
    ``BEGIN`` or ``COMMIT`` for a new submission, a transaction around an edit (several
    statements), and the connection goes back to the pool transactional.
    """
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("autocommit reads are a PostgreSQL path")
        engine = db.engine
    traces: list[io.TextIOWrapper] = []

    def trace(dbapi_connection, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
        out = open(tmp_path / f"trace{len(traces)}.txt", "w")  # noqa: SIM115
        traces.append(out)
        dbapi_connection.pgconn.trace(out.fileno())

    def sent() -> str:
        for out in traces:
            out.flush()
        text = "".join(p.read_text() for p in sorted(tmp_path.glob("trace*.txt")))
        for p in tmp_path.glob("trace*.txt"):
            p.write_text("")
        return text

    sa.event.listen(engine, "checkout", trace)
    try:
        first = factories.new_instance_id()
        assert openrosa.submit(_photo_xml(first), {"a.jpg": b"a"}).status_code == 201
        new = sent()
        assert "INSERT INTO submissions" in new  # the CTE went out, traced
        assert '"BEGIN' not in new and '"COMMIT"' not in new
        edit = _photo_xml(factories.new_instance_id(), deprecated_id=first)
        assert openrosa.submit(edit).status_code == 201
        edited = sent()
        assert '"BEGIN' in edited and '"COMMIT"' in edited
    finally:
        sa.event.remove(engine, "checkout", trace)
        for out in traces:
            out.close()
    assert _counts(app) == (1, 2, 2)  # a.jpg carried into the edit
    with app.app_context():
        pool = db.engine.pool
        held = [pool.connect() for _ in range(pool.checkedin())]
        try:
            assert held and not any(c.driver_connection.autocommit for c in held)
        finally:
            for c in held:
                c.close()
