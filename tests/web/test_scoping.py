"""A commune supervisor cannot read another commune's submissions: not by guessing
page URLs, attachment URLs or exports, not through the REST API or OData with its
session cookie or a bearer token. Viewers (figures only) see no row at all."""

from __future__ import annotations

import csv
import io

import pytest

from tests.web.conftest import LA_EE, PASSWORD, TAY_GIANG, make_web_user


@pytest.fixture
def users(app, seed):  # type: ignore[no-untyped-def]
    make_web_user(app, "laee@example.org", "commune", seed.project_id, [LA_EE])
    make_web_user(app, "tinh@example.org", "province", seed.project_id)
    make_web_user(app, "xem@example.org", "aggregate", seed.project_id)
    return seed.project_id


def _page(p: int, form: str, iid: str, tail: str = "") -> str:
    return f"/projects/{p}/forms/{form}/submissions/{iid}{tail}"


def test_commune_supervisor_sees_only_its_communes_in_pages(users, browser, field_data):
    p = users
    la = browser()
    assert la.login("laee@example.org").status_code == 302
    # its own commune: the session and the case
    assert (
        la.get(_page(p, "outreach_session", field_data["la_session"])).status_code
        == 200
    )
    assert la.get(_page(p, "victim_case", field_data["la_case"])).status_code == 200
    # another commune, and a case without a commune (abroad): not found, by URL
    for form, key in (
        ("outreach_session", "tg_session"),
        ("victim_case", "abroad_case"),
    ):
        assert la.get(_page(p, form, field_data[key])).status_code == 404
        assert (
            la.get(_page(p, form, field_data[key], "/attachments/x.jpg")).status_code
            == 404
        )
        r = la.post(_page(p, form, field_data[key], "/review"), {"state": "approved"})
        assert r.status_code == 404
    listing = la.get(f"/projects/{p}/forms/outreach_session/submissions").get_data(
        as_text=True
    )
    assert field_data["la_session"] in listing
    assert field_data["tg_session"] not in listing
    # filtering by the other commune gives nothing either
    other = la.get(
        f"/projects/{p}/forms/outreach_session/submissions?commune={TAY_GIANG}"
    ).get_data(as_text=True)
    assert field_data["tg_session"] not in other
    dashboard = la.get(f"/projects/{p}/?period=2026-Q4").get_data(as_text=True)
    assert field_data["tg_session"] not in dashboard
    assert field_data["abroad_case"] not in dashboard


def test_commune_supervisor_exports_only_its_communes(users, browser, field_data):
    p = users
    la = browser()
    la.login("laee@example.org")
    for form, mine, theirs in (
        ("outreach_session", "la_session", "tg_session"),
        ("victim_case", "la_case", "abroad_case"),
    ):
        body = la.get(f"/projects/{p}/forms/{form}/export.csv").get_data(as_text=True)
        assert field_data[mine] in body and field_data[theirs] not in body
        xlsx = la.get(f"/projects/{p}/forms/{form}/export.xlsx")
        assert xlsx.status_code == 200
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).active
        ids = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
        assert field_data[mine] in ids and field_data[theirs] not in ids


def test_commune_supervisor_through_rest_and_odata(users, client, browser, field_data):
    """The same scope applies to the JSON API, with the cookie or with a token."""
    p = users
    la = browser()
    la.login("laee@example.org")
    base = f"/v1/projects/{p}/forms/outreach_session"
    token = client.post(
        "/v1/sessions", json={"email": "laee@example.org", "password": PASSWORD}
    ).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    for get in (
        lambda url: la.get(url),
        lambda url: client.get(url, headers=bearer),
    ):
        listed = [s["instanceId"] for s in get(f"{base}/submissions").get_json()]
        assert field_data["la_session"] in listed
        assert field_data["tg_session"] not in listed
        for tail in ("", ".xml", "/versions", "/attachments", "/comments"):
            r = get(f"{base}/submissions/{field_data['tg_session']}{tail}")
            assert r.status_code == 404, tail
        rows = get(f"{base}.svc/Submissions").get_json()["value"]
        assert [r["__id"] for r in rows] == [field_data["la_session"]]
        one = get(f"{base}.svc/Submissions('{field_data['tg_session']}')")
        assert one.status_code == 404
        count = get(f"{base}.svc/Submissions?$count=true&$top=0").get_json()
        assert count["@odata.count"] == 1


def test_cookie_requests_that_change_data_need_the_csrf_token(
    users, browser, field_data
):
    p = users
    la = browser()
    la.login("laee@example.org")
    url = f"/v1/projects/{p}/forms/victim_case/submissions/{field_data['la_case']}"
    refused = la.client.patch(url, json={"reviewState": "approved"})
    assert refused.status_code == 403
    ok = la.client.patch(
        url, json={"reviewState": "approved"}, headers={"X-CSRF-Token": la.token}
    )
    assert ok.status_code == 200
    other_site = la.client.patch(
        url,
        json={"reviewState": "rejected"},
        headers={"X-CSRF-Token": la.token, "Origin": "http://evil.example"},
    )
    assert other_site.status_code == 403


def test_viewer_sees_figures_but_no_rows(users, browser, field_data):
    p = users
    xem = browser()
    xem.login("xem@example.org")
    dashboard = xem.get(f"/projects/{p}/?period=2026-Q4")
    assert dashboard.status_code == 200
    text = dashboard.get_data(as_text=True)
    assert field_data["la_case"] not in text and "Hồ Thị Lan" not in text
    assert xem.get(f"/projects/{p}/map").status_code == 200
    assert (
        xem.get(f"/v1/projects/{p}/coverage.geojson?period=2026-Q4").status_code == 200
    )
    for path in (
        "forms/victim_case/submissions",
        f"forms/victim_case/submissions/{field_data['la_case']}",
        "forms/victim_case/export.csv",
        "duplicates",
        "conflicts",
        "map/points.geojson",
    ):
        assert xem.get(f"/projects/{p}/{path}").status_code == 403, path
    assert xem.get(f"/v1/projects/{p}/forms/victim_case/submissions").status_code == 403
    assert (
        xem.get(f"/v1/projects/{p}/forms/victim_case.svc/Submissions").status_code
        == 403
    )


def test_personal_fields_only_for_roles_allowed(users, browser, field_data):
    p = users
    case = field_data["la_case"]
    tinh = browser()
    tinh.login("tinh@example.org")
    page = tinh.get(_page(p, "victim_case", case)).get_data(as_text=True)
    assert "Hồ Thị Lan" in page
    plain = tinh.get(f"/projects/{p}/forms/victim_case/export.csv").get_data(
        as_text=True
    )
    header = next(csv.reader(io.StringIO(plain.lstrip("\ufeff"))))
    assert not any(h.startswith("pii") for h in header)
    assert "Hồ Thị Lan" not in plain
    full = tinh.get(f"/projects/{p}/forms/victim_case/export.csv?pii=1").get_data(
        as_text=True
    )
    assert "pii-full_name" in full and "Hồ Thị Lan" in full
    # the Central REST viewer reads rows but not personal fields in the web app
    from tests.web.conftest import make_web_user as make

    make(tinh.client.application, "central@example.org", "viewer", p)
    viewer = browser()
    viewer.login("central@example.org")
    page = viewer.get(_page(p, "victim_case", case)).get_data(as_text=True)
    assert "Hồ Thị Lan" not in page
    assert (
        viewer.get(f"/projects/{p}/forms/victim_case/export.csv?pii=1").status_code
        == 403
    )
