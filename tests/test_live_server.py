"""A real `outreach serve` process (gunicorn, 4 workers) driven over HTTP like Collect."""

from __future__ import annotations

import hashlib
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from tests import factories, live

pytestmark = pytest.mark.slow

OR = {
    "X-OpenRosa-Version": "1.0",
    "User-Agent": "org.odk.collect.android/v2024.3.1 test",
}
NS_LIST = "{http://openrosa.org/xforms/xformsList}"
NS_MAN = "{http://openrosa.org/xforms/xformsManifest}"

FIELD_FORM_MD = """
| survey   |                     |          |          |
|          | type                | name     | label    |
|          | select_one_from_file communes.csv | commune | Xã |
|          | integer             | total    | Tổng số  |
|          | image               | photo1   | Ảnh 1    |
|          | image               | photo2   | Ảnh 2    |
| settings |          |          |          |
|          | form_id  | version  | form_title |
|          | {form_id} | {version} | {title} |
"""
COMMUNES = "name,label\n20314,Tây Giang\n20329,La Êê\n".encode()


@pytest.fixture(scope="module", params=live.backends())
def server(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    workdir = tmp_path_factory.mktemp(f"live-{request.param}")
    forms = workdir / "xlsforms"
    forms.mkdir()
    (forms / "field.xml").write_bytes(
        factories.xform(
            "field", "2026112801", "Buổi truyền thông", template=FIELD_FORM_MD
        )
    )
    (forms / "communes.csv").write_bytes(COMMUNES)
    srv = live.make_server(request.param, workdir, forms)
    try:
        setup_output = srv.cli("setup")
        srv.admin_password = live.admin_password(setup_output)
        srv.start(workers=4)
        srv.key_url = live.parse_key_url(
            srv.cli(
                "app-user-create", "Điện thoại 1", "--project", "1", "--url", srv.url
            )
        )
        yield srv
    finally:
        srv.stop()


def _post(
    url: str,
    xml: bytes,
    files: dict[str, bytes] | None = None,
    extra: dict[str, str] | None = None,
) -> requests.Response:
    parts = [("xml_submission_file", ("submission.xml", xml, "text/xml"))]
    parts += [
        (name, (name, data, "image/jpeg")) for name, data in (files or {}).items()
    ]
    parts += [(k, (None, v)) for k, v in (extra or {}).items()]
    return requests.post(
        f"{url}/submission?deviceID=collect:test", files=parts, headers=OR, timeout=30
    )


def _xml(
    instance_id: str, deprecated_id: str | None = None, total: str = "42"
) -> bytes:
    return factories.submission_xml(
        form_id="field",
        version="2026112801",
        instance_id=instance_id,
        deprecated_id=deprecated_id,
        fields={
            "commune": "20314",
            "total": total,
            "photo1": "p1.jpg",
            "photo2": "p2.jpg",
        },
    )


def test_collect_flow_end_to_end(server):
    base = server.key_url
    # formList → download (md5 matches) → manifest → media
    listing = requests.get(
        f"{base}/formList?deviceID=collect:test", headers=OR, timeout=10
    )
    assert listing.status_code == 200 and "text/xml" in listing.headers["Content-Type"]
    xform = ET.fromstring(listing.content).find(f"{NS_LIST}xform")
    assert xform.find(f"{NS_LIST}formID").text == "field"
    download = requests.get(
        xform.find(f"{NS_LIST}downloadUrl").text, headers=OR, timeout=10
    )
    assert download.status_code == 200
    assert (
        xform.find(f"{NS_LIST}hash").text
        == "md5:" + hashlib.md5(download.content).hexdigest()
    )
    manifest = requests.get(
        xform.find(f"{NS_LIST}manifestUrl").text, headers=OR, timeout=10
    )
    assert (
        manifest.status_code == 200 and "text/xml" in manifest.headers["Content-Type"]
    )
    media = ET.fromstring(manifest.content).findall(f"{NS_MAN}mediaFile")
    assert [m.find(f"{NS_MAN}filename").text for m in media] == ["communes.csv"]
    csv = requests.get(
        media[0].find(f"{NS_MAN}downloadUrl").text, headers=OR, timeout=10
    )
    assert (
        media[0].find(f"{NS_MAN}hash").text
        == "md5:" + hashlib.md5(csv.content).hexdigest()
    )
    assert csv.content == COMMUNES
    # HEAD preflight
    head = requests.head(f"{base}/submission", headers=OR, timeout=10)
    assert head.status_code == 204
    assert int(head.headers["X-OpenRosa-Accept-Content-Length"]) > 0

    before = server.count("submissions")
    iid = factories.new_instance_id()
    p1, p2 = b"\xff\xd8photo-one" * 500, b"\xff\xd8photo-two" * 500
    assert _post(base, _xml(iid), {"p1.jpg": p1, "p2.jpg": p2}).status_code == 201
    # identical resend: 201 and still one submission
    assert _post(base, _xml(iid), {"p1.jpg": p1, "p2.jpg": p2}).status_code == 201
    assert server.count("submissions") == before + 1
    # changed resend: 409 with an OpenRosa message
    changed = _post(base, _xml(iid, total="43"))
    assert changed.status_code == 409 and b"OpenRosaResponse" in changed.content
    # split upload across two POSTs
    split = factories.new_instance_id()
    r1 = _post(base, _xml(split), {"p1.jpg": p1}, extra={"*isIncomplete*": "yes"})
    r2 = _post(base, _xml(split), {"p2.jpg": p2})
    assert (r1.status_code, r2.status_code) == (201, 201)
    assert server.count("submissions") == before + 2
    assert (
        server.count(
            "submission_attachments a JOIN submission_defs d ON d.id = a.submission_def_id",
            f"WHERE d.instance_id = '{split}' AND a.blob_sha IS NOT NULL",
        )
        == 2
    )
    # edit via deprecatedID
    edited = factories.new_instance_id()
    assert _post(base, _xml(edited, deprecated_id=iid, total="44")).status_code == 201
    assert server.count("submissions") == before + 2
    assert (
        server.count(
            "submissions", f"WHERE instance_id = '{iid}' AND review_state = 'edited'"
        )
        == 1
    )
    assert (
        server.count(
            "submission_attachments a JOIN submission_defs d ON d.id = a.submission_def_id",
            f"WHERE d.instance_id = '{edited}' AND a.blob_sha IS NOT NULL",
        )
        == 2
    )


def test_twenty_identical_posts_race_to_one_submission(server):
    base = server.key_url
    iid = factories.new_instance_id()
    xml = _xml(iid)
    p1, p2 = b"race-photo-1" * 2000, b"race-photo-2" * 2000
    barrier = threading.Barrier(20)
    results: list[int] = []
    lock = threading.Lock()

    def fire() -> None:
        barrier.wait(timeout=30)
        status = _post(base, xml, {"p1.jpg": p1, "p2.jpg": p2}).status_code
        with lock:
            results.append(status)

    threads = [threading.Thread(target=fire) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == [201] * 20, server.log()[-3000:]
    assert server.count("submissions", f"WHERE instance_id = '{iid}'") == 1
    assert server.count("submission_defs", f"WHERE instance_id = '{iid}'") == 1
    sha1, sha2 = hashlib.sha256(p1).hexdigest(), hashlib.sha256(p2).hexdigest()
    assert server.count("blobs", f"WHERE sha256 IN ('{sha1}', '{sha2}')") == 2
    blob_root = Path(server.env["OUTREACH_DATA_DIR"])
    files = [p for p in blob_root.rglob("*") if p.is_file() and p.name in (sha1, sha2)]
    assert len(files) == 2
    assert not list((blob_root / "tmp").iterdir())  # no half-written leftovers
    assert "Traceback" not in server.log()


def test_oversized_body_over_real_http(server, tmp_path):
    """Above MAX_SUBMISSION_BYTES: an OpenRosa 413 the client can read, nothing stored."""
    small = live.make_server("sqlite", tmp_path, Path(server.env["XLSFORMS_DIR"]))
    small.env["MAX_SUBMISSION_BYTES"] = "200000"
    try:
        small.cli("setup")
        small.start(workers=1)
        base = live.parse_key_url(
            small.cli("app-user-create", "p", "--project", "1", "--url", small.url)
        )
        head = requests.head(f"{base}/submission", headers=OR, timeout=10)
        assert head.headers["X-OpenRosa-Accept-Content-Length"] == "200000"
        r = _post(base, _xml(factories.new_instance_id()), {"p1.jpg": b"x" * 300_000})
        assert r.status_code == 413
        assert b"OpenRosaResponse" in r.content and b"200000" in r.content
        big = hashlib.sha256(b"x" * 300_000).hexdigest()
        assert small.count("submissions") == 0
        assert small.count("blobs", f"WHERE sha256 = '{big}'") == 0
        assert _post(base, _xml(factories.new_instance_id())).status_code == 201
    finally:
        small.stop()


def test_server_still_serves_after_garbage(server):
    base = server.key_url
    bad = requests.post(
        f"{base}/submission",
        data=b"--x\r\ngarbage",
        headers={**OR, "Content-Type": "multipart/form-data; boundary=x"},
        timeout=10,
    )
    assert bad.status_code == 400 and b"OpenRosaResponse" in bad.content
    ok = _post(base, _xml(factories.new_instance_id()))
    assert ok.status_code == 201
