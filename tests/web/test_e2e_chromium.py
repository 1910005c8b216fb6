"""End to end in a real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; no browser is ever downloaded): log in, dashboard, map and a commune
click, approve a submission, decide and undo a duplicate, upload a broken XLSForm,
export CSV, pages without JavaScript. Every request the browser makes is recorded
and must go to 127.0.0.1. Screenshots go to ``test-artifacts/web/`` (not committed).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import threading
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from server.db import db
from tests.api.builders import xlsx
from tests.web.conftest import LA_EE, PASSWORD, make_web_user

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or ""
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
MAX_DASHBOARD_BYTES = 500_000

try:
    import playwright.sync_api as pw
except ImportError:  # pragma: no cover - the dev extra installs it
    pw = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM,
        reason="Debian's chromium is not installed (apt-get install chromium): "
        "the end-to-end browser tests are skipped",
    ),
    pytest.mark.skipif(pw is None, reason="playwright (dev extra) is not installed"),
]


@pytest.fixture
def live(app):  # type: ignore[no-untyped-def]
    """The test app served by werkzeug in a thread on 127.0.0.1 (a free port)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def chromium(tmp_path):  # type: ignore[no-untyped-def]
    """Headless Chromium with a fresh profile (Playwright's own temp user data dir)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=FLAGS, timeout=30_000
        )
        yield browser
        browser.close()


class Recorder:
    """Every request a page makes, and the bytes of every response."""

    def __init__(self, page: t.Any) -> None:
        self.urls: list[str] = []
        self.bytes = 0
        page.on("request", lambda r: self.urls.append(r.url))
        page.on("response", self._response)

    def _response(self, response: t.Any) -> None:
        try:
            self.bytes += len(response.body())
        except Exception:  # noqa: BLE001 - redirects have no body
            pass

    def reset(self) -> None:
        self.urls.clear()
        self.bytes = 0

    def hosts(self) -> set[str]:
        return {
            urlsplit(u).hostname or ""
            for u in self.urls
            if not u.startswith(("data:", "blob:", "about:"))
        }


def _shot(page: t.Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _broken_xlsform(path: Path) -> Path:
    data = xlsx(
        form_id="broken",
        survey=[
            ("type", "name", "label"),
            ("text", "village", "Village"),
            ("integr", "total", "Total"),
        ],
    )
    path.write_bytes(data)
    return path


def test_supervisor_in_a_real_browser(app, seed, field_data, live, chromium, tmp_path):
    make_web_user(app, "tinh@example.org", "province", seed.project_id)
    p = seed.project_id
    context = chromium.new_context(
        locale="vi-VN", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    rec = Recorder(page)

    # The login page, then the dashboard: nothing leaves the machine.
    page.goto(live + "/")
    assert page.locator("form input[name=password]").count() == 1
    _shot(page, "01-login")
    page.fill("input[name=email]", "tinh@example.org")
    page.fill("input[name=password]", PASSWORD)
    rec.reset()
    page.click("button[type=submit].primary")
    page.wait_for_selector("section.indicators")
    page.wait_for_load_state("load")
    assert rec.bytes < MAX_DASHBOARD_BYTES, rec.bytes
    (ARTIFACTS / "dashboard-weight.txt").write_text(f"{rec.bytes} bytes\n")
    assert page.locator(".indicator").count() == 3
    _shot(page, "02-dashboard")

    # English switch and back.
    page.click("a[hreflang=en]")
    assert page.locator("nav.main").inner_text().startswith("Dashboard")
    page.click("a[hreflang=vi]")

    # The map: click La Êê, read its figures.
    page.goto(f"{live}/projects/{p}/map?period=2026-Q4")
    with page.expect_response(lambda r: "points.geojson" in r.url) as points:
        page.wait_for_selector("#map[data-ready='1']")
    assert len(points.value.json()["features"]) == 1  # La Êê's session, by GPS
    page.wait_for_selector(".session-point, .marker-cluster", state="attached")
    page.locator(f"path.commune[data-code='{LA_EE}']").click(force=True)
    info = page.locator("#commune-info")
    info.locator("h2").wait_for()
    assert LA_EE in info.inner_text()
    _shot(page, "03-map")

    # Approve a submission.
    case = field_data["la_case"]
    page.goto(f"{live}/projects/{p}/forms/victim_case/submissions/{case}")
    page.check("input[name=state][value=approved]")
    page.fill("textarea[name=comment]", "Đã kiểm tra với Hội Phụ nữ")
    page.click("form[action$='/review'] button[type=submit]")
    page.wait_for_selector(".flash.ok")
    _shot(page, "04-submission-approved")
    with app.app_context():
        from server.models import Submission

        state = db.session.execute(
            sa.select(Submission.review_state).where(Submission.instance_id == case)
        ).scalar_one()
    assert state == "approved"

    # Decide a duplicate, then undo it.
    page.goto(f"{live}/projects/{p}/duplicates")
    assert page.locator("section.cluster").count() >= 1
    _shot(page, "05-duplicates")
    page.locator("section.cluster button[value=same]").first.click()
    page.wait_for_selector(".flash.ok")
    page.locator("form[action$='/undo'] button").first.click()
    page.wait_for_selector(".flash.ok")
    _shot(page, "06-duplicate-undone")

    # Upload an XLSForm with a mistake: the message names the row.
    page.goto(f"{live}/projects/{p}/forms")
    page.set_input_files("input[type=file]", str(_broken_xlsform(tmp_path / "x.xlsx")))
    page.click("form[action$='/upload'] button[type=submit]")
    error = page.locator(".flash.error")
    error.wait_for()
    assert "integr" in error.inner_text()
    _shot(page, "07-xlsform-error")

    # Export CSV of the victim cases (no personal columns by default).
    page.goto(f"{live}/projects/{p}/forms/victim_case/submissions")
    with page.expect_download() as download:
        page.locator("p.downloads a", has_text="CSV").first.click()
    body = Path(download.value.path()).read_text(encoding="utf-8-sig")
    header = next(csv.reader(io.StringIO(body)))
    assert "instanceID" in header and not any(h.startswith("pii-") for h in header)
    assert case in body

    assert rec.hosts() == {"127.0.0.1"}, rec.hosts()
    context.close()


def test_pages_work_without_javascript(app, seed, field_data, live, chromium):
    make_web_user(app, "xa@example.org", "commune", seed.project_id, communes=[LA_EE])
    p = seed.project_id
    context = chromium.new_context(java_script_enabled=False, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    rec = Recorder(page)
    page.goto(live + "/login")
    page.fill("input[name=email]", "xa@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_selector("section.indicators")
    page.goto(f"{live}/projects/{p}/forms/victim_case/submissions")
    assert page.locator("table tbody tr").count() >= 1
    case = field_data["la_case"]
    page.goto(f"{live}/projects/{p}/forms/victim_case/submissions/{case}")
    page.check("input[name=state][value=hasIssues]")
    page.click("form[action$='/review'] button[type=submit]")
    page.wait_for_selector(".flash.ok")
    _shot(page, "08-no-javascript-review")
    page.goto(f"{live}/projects/{p}/map")
    assert page.locator("noscript img, img.map-png").count() >= 1
    # Another commune's case: not found, even by its exact URL.
    other = field_data["tg_session"]
    response = page.goto(
        f"{live}/projects/{p}/forms/outreach_session/submissions/{other}"
    )
    assert response is not None and response.status == 404
    _shot(page, "09-other-commune-404")
    assert rec.hosts() == {"127.0.0.1"}
    context.close()


def test_served_app_shows_the_login_page_with_nothing_leaving_the_machine(
    tmp_path, chromium
):
    """What `make run` does (outreach setup, then outreach serve with gunicorn), then
    a browser opens the start page and logs in: only 127.0.0.1 is ever asked."""
    from tests import live

    (tmp_path / "xlsforms").mkdir()
    server = live.make_server("sqlite", tmp_path, tmp_path / "xlsforms")
    try:
        password = live.admin_password(server.cli("setup"))
        server.start(workers=1)
        page = chromium.new_page()
        rec = Recorder(page)
        page.goto(server.url + "/")
        assert page.locator("input[name=password]").count() == 1
        assert "Đăng nhập" in page.title()
        page.fill("input[name=email]", "admin@localhost")
        page.fill("input[name=password]", password)
        page.click("button[type=submit].primary")
        page.wait_for_selector("section.indicators")
        _shot(page, "10-served-dashboard")
        assert rec.hosts() == {"127.0.0.1"}, rec.urls
        page.close()
    finally:
        server.stop()
