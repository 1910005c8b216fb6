"""Pages without JavaScript (all but the map), Vietnamese by default, page weight,
readable error pages, and the actions behind the forms: review, duplicates,
XLSForm upload, publish, phones, roles, audit log."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from server.db import db
from tests.api.builders import xlsx
from tests.web.conftest import LA_EE, make_web_user

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "server" / "static"
MAX_DASHBOARD_BYTES = 500_000


@pytest.fixture
def admin(app, seed, browser):  # type: ignore[no-untyped-def]
    make_web_user(app, "quantri@example.org", None, seed.project_id, admin=True)
    b = browser()
    assert b.login("quantri@example.org").status_code == 302
    return b


def _pages(p: int, ids: dict[str, str]) -> list[str]:
    return [
        f"/projects/{p}/?period=2026-Q4",
        f"/projects/{p}/forms",
        f"/projects/{p}/forms/victim_case",
        f"/projects/{p}/forms/victim_case/submissions",
        f"/projects/{p}/forms/victim_case/submissions?state=received&commune={LA_EE}"
        "&from=2026-01-01&to=2030-01-01",
        f"/projects/{p}/forms/victim_case/submissions/{ids['la_case']}",
        f"/projects/{p}/duplicates",
        f"/projects/{p}/conflicts",
        f"/projects/{p}/app-users",
        "/admin/audit",
        "/admin/users",
    ]


def test_every_page_but_the_map_works_without_javascript(admin, seed, field_data):
    for path in _pages(seed.project_id, field_data):
        r = admin.get(path)
        assert r.status_code == 200, path
        html = r.get_data(as_text=True)
        assert "<script" not in html, path
        assert re.search(r"(src|href)=\"https?://", html) is None, path  # all local
    html = admin.get(f"/projects/{seed.project_id}/map").get_data(as_text=True)
    assert "<noscript>" in html and "/coverage/map.png" in html
    assert re.findall(r'<script src="([^"]+)"', html) == [
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet.markercluster/leaflet.markercluster.js",
        "/static/map.js",
    ]


def test_dashboard_page_weight(admin, seed, field_data):
    html = admin.get(f"/projects/{seed.project_id}/?period=2026-Q4").data
    assets = re.findall(rb'(?:href|src)="(/static/[^"]+)"', html)
    total = len(html) + sum(len(admin.get(a.decode()).data) for a in assets)
    assert total < MAX_DASHBOARD_BYTES, total
    assert b"leaflet" not in html  # the map library loads on the map page only


def test_vendored_libraries_keep_their_licences():
    vendor = STATIC / "vendor"
    assert (vendor / "leaflet" / "LICENSE").is_file()
    assert (vendor / "leaflet.markercluster" / "MIT-LICENCE.txt").is_file()
    readme = (vendor / "README.md").read_text()
    assert "1.9.4" in readme and "1.5.3" in readme


def test_vietnamese_catalogue_is_complete():
    """Every message of the templates and views has a Vietnamese translation."""
    from babel.messages.extract import extract_from_dir

    method_map = [
        ("server/web/**.py", "python"),
        ("server/templates/**.html", "jinja2"),
    ]
    found = {
        msg[2] if isinstance(msg[2], str) else msg[2][0]
        for msg in extract_from_dir(
            str(ROOT), method_map, keywords={"_": None, "_l": None, "gettext": None}
        )
    }
    path = ROOT / "server/translations/vi/LC_MESSAGES/messages.po"
    with path.open("rb") as fh:
        catalogue = read_po(fh)
    missing = sorted(
        m for m in found if not (catalogue.get(m) and catalogue.get(m).string)
    )
    assert missing == []


def test_english_switch_translates_the_pages(admin, seed, field_data):
    p = seed.project_id
    vi = admin.get(f"/projects/{p}/?period=2026-Q4").get_data(as_text=True)
    assert "Tổng quan" in vi and "Bản ghi mới nhất" in vi
    en = admin.get(f"/projects/{p}/?period=2026-Q4&lang=en").get_data(as_text=True)
    assert "Dashboard" in en and "Latest submissions" in en and "Tổng quan" not in en
    # the submission page shows labels in the form's language matching the switch
    case = f"/projects/{p}/forms/victim_case/submissions/{field_data['la_case']}"
    assert "Review state" in admin.get(case).get_data(as_text=True)
    admin.get("/lang/vi")
    assert "Trạng thái duyệt" in admin.get(case).get_data(as_text=True)


def test_error_pages_are_readable_for_people_and_json_stays_json(admin, client):
    page = admin.get("/projects/1/forms/nope/submissions")
    assert page.status_code == 404 and "Không tìm thấy trang" in page.get_data(
        as_text=True
    )
    browser_404 = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert browser_404.status_code == 404
    assert browser_404.mimetype == "text/html"
    api = client.get("/v1/projects/999", headers={"Accept": "text/html"})
    assert api.mimetype == "application/json"
    anon = client.get("/projects/1/")
    assert anon.status_code == 302 and "/login" in anon.headers["Location"]


def test_review_and_comment_are_audited(admin, app, seed, field_data):
    from server.models import Audit, Comment, Submission

    p, case = seed.project_id, field_data["la_case"]
    url = f"/projects/{p}/forms/victim_case/submissions/{case}"
    r = admin.post(f"{url}/review", {"state": "hasIssues", "comment": "Thiếu ảnh"})
    assert r.status_code == 302
    assert admin.post(f"{url}/comments", {"body": "Đã gọi điện"}).status_code == 302
    page = admin.get(url).get_data(as_text=True)
    assert "Thiếu ảnh" in page and "Đã gọi điện" in page and "Có vấn đề" in page
    with app.app_context():
        state = db.session.execute(
            sa.select(Submission.review_state).where(Submission.instance_id == case)
        ).scalar_one()
        comments = db.session.execute(sa.select(sa.func.count(Comment.id))).scalar()
        actions = set(db.session.execute(sa.select(Audit.action)).scalars())
    assert state == "hasIssues" and comments == 2
    assert {"submission.update", "submission.comment.create"} <= actions


def test_duplicates_decide_and_undo(admin, app, seed, field_data):
    from server.dedup_models import DedupLink

    p = seed.project_id
    page = admin.get(f"/projects/{p}/duplicates").get_data(as_text=True)
    members = re.findall(r'name="member" value="(\d+)"', page)
    assert len(members) == 2
    assert "Vì sao giống nhau" in page
    r = admin.post(
        f"/projects/{p}/duplicates/decide",
        {"verdict": "same", "primary": members[0], "member": members},
    )
    assert r.status_code == 302
    with app.app_context():
        assert (
            db.session.execute(
                sa.select(sa.func.count(DedupLink.submission_id))
            ).scalar()
            == 1
        )
    page = admin.get(f"/projects/{p}/duplicates").get_data(as_text=True)
    assert "Không có bản trùng nào đang chờ" in page
    undo = re.search(r'action="([^"]+/undo)"', page).group(1)
    assert admin.post(undo).status_code == 302
    with app.app_context():
        assert (
            db.session.execute(
                sa.select(sa.func.count(DedupLink.submission_id))
            ).scalar()
            == 0
        )
    # "different" removes the cluster from the queue as well
    r = admin.post(
        f"/projects/{p}/duplicates/decide", {"verdict": "different", "member": members}
    )
    assert r.status_code == 302
    assert "Không có bản trùng nào" in admin.get(f"/projects/{p}/duplicates").get_data(
        as_text=True
    )


def test_xlsform_upload_errors_in_plain_words_then_draft_and_publish(admin, seed):
    p = seed.project_id
    broken = xlsx(
        form_id="broken",
        survey=[("type", "name", "label"), ("integr", "total", "Total")],
    )
    r = admin.client.post(
        f"/projects/{p}/forms/upload",
        data={
            "csrf_token": admin.token,
            "file": (__import__("io").BytesIO(broken), "b.xlsx"),
        },
        content_type="multipart/form-data",
    )
    text = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Không đọc được biểu mẫu" in text and "dòng 2" in text
    assert "“integr” không phải là loại câu hỏi" in text
    good = xlsx(form_id="households", version="1")
    r = admin.client.post(
        f"/projects/{p}/forms/upload",
        data={
            "csrf_token": admin.token,
            "file": (__import__("io").BytesIO(good), "h.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    page = admin.get(f"/projects/{p}/forms/households").get_data(as_text=True)
    assert "Phát hành bản nháp này" in page
    assert admin.post(f"/projects/{p}/forms/households/publish").status_code == 302
    assert (
        admin.post(
            f"/projects/{p}/forms/households/state", {"state": "closed"}
        ).status_code
        == 302
    )
    page = admin.get(f"/projects/{p}/forms/households").get_data(as_text=True)
    assert "Đã đóng" in page and "Phát hành bản nháp này" not in page


def test_phones_qr_code_and_revoke(admin, client, seed):
    p = seed.project_id
    r = admin.post(f"/projects/{p}/app-users", {"name": "Điện thoại La Êê 2"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "data:image/png;base64," in page
    url = re.search(r"(http://localhost/v1/key/[^<\s]+/projects/\d+)", page).group(1)
    key_path = url.replace("http://localhost", "")
    ok = client.get(f"{key_path}/formList", headers={"X-OpenRosa-Version": "1.0"})
    assert ok.status_code == 200
    listing = admin.get(f"/projects/{p}/app-users").get_data(as_text=True)
    assert url not in listing  # the key is shown once
    revoke = re.findall(r'action="([^"]+/revoke)"', listing)
    for action in revoke:
        assert admin.post(action).status_code == 302
    gone = client.get(f"{key_path}/formList", headers={"X-OpenRosa-Version": "1.0"})
    assert gone.status_code == 403


def test_admin_sets_roles_and_reads_the_audit_log(admin, app, seed, browser):
    r = admin.post("/admin/users", {"email": "moi@example.org", "name": "Cán bộ mới"})
    assert r.status_code == 302
    flashed = admin.get("/admin/users").get_data(as_text=True)
    password = re.search(
        r"chỉ hiện lần này, hãy trao riêng cho họ\): (\S+)</p>", flashed
    )
    assert password
    from server.models import User

    with app.app_context():
        actor_id = db.session.execute(
            sa.select(User.actor_id).where(User.email == "moi@example.org")
        ).scalar_one()
    r = admin.post(
        f"/admin/users/{actor_id}/role",
        {"project_id": str(seed.project_id), "role": "commune", "communes": LA_EE},
    )
    assert r.status_code == 302
    b = browser()
    assert b.login("moi@example.org", password.group(1)).status_code == 302
    home = b.get(f"/projects/{seed.project_id}/").get_data(as_text=True)
    assert "Giám sát viên cấp xã" in home
    assert b.get("/admin/audit").status_code == 403
    audit = admin.get("/admin/audit?action=user.role").get_data(as_text=True)
    assert "user.role.set" in audit


def test_static_assets_are_all_local():
    css = (STATIC / "app.css").read_text()
    assert "http" not in css and "@import" not in css
    js = (STATIC / "map.js").read_text()
    assert "http://" not in js and "https://" not in js
    assert "tileLayer" not in js  # no basemap tiles: works offline
