"""REST helpers: a logged-in client per role, on top of the shared ``seed`` fixture."""

from __future__ import annotations

import typing as t

import pytest

from server.db import db


class Api:
    """The Flask test client with a Bearer token (what pyODK sends)."""

    def __init__(self, client: t.Any, token: str | None) -> None:
        self.client, self.token = client, token

    def _headers(self, headers: dict | None) -> dict:
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        merged.update(headers or {})
        return merged

    def get(self, path: str, headers: dict | None = None, **kw: t.Any):  # type: ignore[no-untyped-def]
        return self.client.get(path, headers=self._headers(headers), **kw)

    def post(self, path: str, headers: dict | None = None, **kw: t.Any):  # type: ignore[no-untyped-def]
        return self.client.post(path, headers=self._headers(headers), **kw)

    def put(self, path: str, headers: dict | None = None, **kw: t.Any):  # type: ignore[no-untyped-def]
        return self.client.put(path, headers=self._headers(headers), **kw)

    def patch(self, path: str, headers: dict | None = None, **kw: t.Any):  # type: ignore[no-untyped-def]
        return self.client.patch(path, headers=self._headers(headers), **kw)

    def delete(self, path: str, headers: dict | None = None, **kw: t.Any):  # type: ignore[no-untyped-def]
        return self.client.delete(path, headers=self._headers(headers), **kw)


def login(client: t.Any, email: str, password: str) -> str:
    r = client.post("/v1/sessions", json={"email": email, "password": password})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["token"]


def make_user(app: t.Any, email: str, role: str | None, project_id: int) -> None:
    """A non-admin web user with an optional project role."""
    from server.cli import create_user
    from server.models import ProjectRole

    with app.app_context():
        user = create_user(email, "a long enough password", admin=False)
        db.session.flush()
        if role:
            db.session.add(
                ProjectRole(actor_id=user.actor_id, project_id=project_id, role=role)
            )
        db.session.commit()


@pytest.fixture
def admin(client, seed) -> Api:  # type: ignore[no-untyped-def]
    return Api(client, login(client, seed.admin_email, seed.admin_password))


@pytest.fixture
def as_role(app, client, seed):  # type: ignore[no-untyped-def]
    """``as_role("viewer")`` -> an Api logged in as a user with that project role."""

    def make(role: str | None) -> Api:
        email = f"{role or 'nobody'}@example.org"
        make_user(app, email, role, seed.project_id)
        return Api(client, login(client, email, "a long enough password"))

    return make


@pytest.fixture
def app_user(client, seed) -> Api:  # type: ignore[no-untyped-def]
    """The seeded app user's key used as a Bearer token (Central accepts that)."""
    return Api(client, seed.token)


@pytest.fixture
def anon(client) -> Api:  # type: ignore[no-untyped-def]
    return Api(client, None)


def assert_problem(response: t.Any, code: float) -> None:
    """Status and Central code both match, and the body has Central's shape."""
    body = response.get_json()
    assert response.status_code == int(code), body
    assert body["code"] == code, body
    assert isinstance(body["message"], str)
