"""Web login: cookie flags, CSRF on every form, rate limit kept in the database,
logout ending the server session, and an audit log without passwords or emails."""

from __future__ import annotations

import re

import sqlalchemy as sa

from server.db import db
from tests.web.conftest import PASSWORD, make_web_user

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _login_token(client) -> str:  # type: ignore[no-untyped-def]
    return _CSRF.search(client.get("/login").get_data(as_text=True)).group(1)


def test_login_page_is_vietnamese_with_english_switch(client):
    page = client.get("/")
    assert page.status_code == 302 and page.headers["Location"].endswith("/login")
    text = client.get("/login").get_data(as_text=True)
    assert 'lang="vi"' in text and "Đăng nhập" in text and "Mật khẩu" in text
    assert "<script" not in text
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in" in english and 'lang="en"' in english
    # the choice sticks for the session
    assert "Password" in client.get("/login").get_data(as_text=True)
    client.get("/lang/vi")
    assert "Mật khẩu" in client.get("/login").get_data(as_text=True)


def test_login_sets_a_safe_cookie_and_logout_ends_the_session(app, seed, client):
    make_web_user(app, "a@example.org", "province", seed.project_id)
    r = client.post(
        "/login",
        data={
            "csrf_token": _login_token(client),
            "email": "A@example.org",
            "password": PASSWORD,
            "next": "//evil.example/x",
        },
    )
    assert r.status_code == 302
    assert r.headers["Location"] == "/"  # never to another site
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on the LAN
    page = client.get(f"/projects/{seed.project_id}/", follow_redirects=True)
    assert page.status_code == 200
    stolen = client.get_cookie("outreach_session").value
    # logout without the form's token is refused; with it, the session ends
    assert client.post("/logout").status_code == 403
    token = _CSRF.search(page.get_data(as_text=True)).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    again = app.test_client()
    again.set_cookie("outreach_session", stolen)
    r = again.get(f"/projects/{seed.project_id}/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_secure_cookie_over_https(app, seed):
    make_web_user(app, "s@example.org", "province", seed.project_id)
    client = app.test_client()
    token = _CSRF.search(
        client.get("/login", base_url="https://localhost").get_data(as_text=True)
    ).group(1)
    r = client.post(
        "/login",
        base_url="https://localhost",
        data={"csrf_token": token, "email": "s@example.org", "password": PASSWORD},
    )
    assert "Secure" in r.headers["Set-Cookie"]


def test_every_form_needs_the_csrf_token(app, seed, browser, field_data):
    make_web_user(app, "t@example.org", "province", seed.project_id)
    b = browser()
    b.login("t@example.org")
    p = seed.project_id
    url = f"/projects/{p}/forms/victim_case/submissions/{field_data['la_case']}/review"
    assert b.client.post(url, data={"state": "approved"}).status_code == 403
    assert (
        b.client.post(url, data={"state": "approved", "csrf_token": "x"}).status_code
        == 403
    )
    forged = b.client.post(
        url,
        data={"state": "approved", "csrf_token": b.token},
        headers={"Origin": "http://evil.example"},
    )
    assert forged.status_code == 403
    assert b.post(url, {"state": "approved"}).status_code == 302
    # the login form too
    r = app.test_client().post(
        "/login", data={"email": "t@example.org", "password": PASSWORD}
    )
    assert r.status_code == 400


def test_failed_logins_are_rate_limited_in_the_database(app, seed):
    from server.models import Audit, LoginFailure

    make_web_user(app, "r@example.org", "province", seed.project_id)
    client = app.test_client()
    for _ in range(5):
        r = client.post(
            "/login",
            data={
                "csrf_token": _login_token(client),
                "email": "r@example.org",
                "password": "wrong password 123",
            },
        )
        assert r.status_code == 401
        assert "Sai email hoặc mật khẩu" in r.get_data(as_text=True)
    # even the right password is refused now, from this address for this email
    other_process = app.test_client()  # shares nothing but the database
    r = other_process.post(
        "/login",
        data={
            "csrf_token": _login_token(other_process),
            "email": "r@example.org",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 429
    # another account from the same address is not locked out
    make_web_user(app, "q@example.org", "province", seed.project_id)
    r = other_process.post(
        "/login",
        data={
            "csrf_token": _login_token(other_process),
            "email": "q@example.org",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 302
    with app.app_context():
        assert (
            db.session.execute(sa.select(sa.func.count(LoginFailure.id))).scalar() == 5
        )
        audits = db.session.execute(
            sa.select(Audit.action, Audit.actee_id, Audit.details).where(
                Audit.action.startswith("user.session")
            )
        ).all()
    actions = [a for a, _i, _d in audits]
    assert actions.count("user.session.failed") == 5
    assert "user.session.blocked" in actions and "user.session.create" in actions
    logged = repr(audits)
    assert "r@example.org" not in logged and "wrong password" not in logged
