"""Fixtures: the seed project with an intake form that creates ``cases`` entities, a
follow-up form that updates them offline, and helpers to submit and run the jobs."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from server.db import db
from tests.entities import builders

LA_EE, TAY_GIANG = "20698", "20455"


@dataclass
class Cases:
    """The project, its forms, and ways in: the seed phone and the admin."""

    app: t.Any
    client: t.Any
    openrosa: t.Any
    seed: t.Any
    forms: dict[str, int]
    _admin: dict[str, str] | None = None

    @property
    def project_id(self) -> int:
        return self.seed.project_id

    @property
    def key_base(self) -> str:
        return self.seed.key_base

    @property
    def api(self) -> str:
        return f"/v1/projects/{self.project_id}"

    def submit(self, xml: bytes, *, run: bool = True) -> None:
        """POST like Collect (201 expected), then run the jobs as the worker would."""
        r = self.openrosa.submit(xml)
        assert r.status_code == 201, r.data
        if run:
            self.run_jobs()

    def run_jobs(self) -> int:
        from server import jobs

        with self.app.app_context():
            ran = jobs.run_pending()
            db.session.remove()
        return ran

    def admin(self) -> dict[str, str]:
        """Bearer headers for the seed's administrator (one login per test)."""
        if self._admin is not None:
            return self._admin
        r = self.client.post(
            "/v1/sessions",
            json={"email": self.seed.admin_email, "password": self.seed.admin_password},
        )
        assert r.status_code == 200, r.data
        self._admin = {"Authorization": f"Bearer {r.get_json()['token']}"}
        return self._admin

    def entity(self, uuid: str) -> dict[str, t.Any]:
        r = self.client.get(
            f"{self.api}/datasets/cases/entities/{uuid}", headers=self.admin()
        )
        assert r.status_code == 200, r.data
        return r.get_json()

    def versions(self, uuid: str) -> list[dict[str, t.Any]]:
        r = self.client.get(
            f"{self.api}/datasets/cases/entities/{uuid}/versions", headers=self.admin()
        )
        assert r.status_code == 200, r.data
        return r.get_json()

    def csv(self, base: str | None = None, headers: dict | None = None) -> bytes:
        r = self.client.get(
            f"{base or self.key_base}/forms/followup/attachments/cases.csv",
            headers={"X-OpenRosa-Version": "1.0", **(headers or {})},
        )
        assert r.status_code == 200, r.data
        return r.data

    def errors(self) -> list[dict[str, t.Any]]:
        from server.models import Audit

        with self.app.app_context():
            rows = db.session.scalars(
                sa.select(Audit.details)
                .where(Audit.action == "entity.error")
                .order_by(Audit.id)
            ).all()
            db.session.remove()
        return list(rows)

    def set_communes(self, *communes: str) -> None:
        from server.entities import lists
        from server.models import FieldKey

        with self.app.app_context():
            actor_id = db.session.scalars(sa.select(FieldKey.actor_id)).first()
            lists.set_communes(actor_id, communes)
            db.session.commit()


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch):  # type: ignore[no-untyped-def]
    """Cheap password hashes here (scrypt costs ~0.35 s per seeded test and login)."""
    import functools

    from werkzeug.security import generate_password_hash

    import server.auth

    monkeypatch.setattr(
        server.auth,
        "generate_password_hash",
        functools.partial(generate_password_hash, method="pbkdf2:sha256:1000"),
    )


@pytest.fixture
def cases(app, client, seed, openrosa) -> Cases:  # type: ignore[no-untyped-def]
    """intake (creates), followup (updates) and upsert published; the seed phone is
    assigned to all three and serves La Êê."""
    from server.models import Assignment, FieldKey

    forms = {}
    with app.app_context():
        for name, md in (
            ("intake", builders.INTAKE_MD),
            ("followup", builders.FOLLOWUP_MD),
            ("upsert", builders.UPSERT_MD),
        ):
            forms[name], _ = builders.publish(seed.project_id, md)
        actor_id = db.session.scalars(sa.select(FieldKey.actor_id)).first()
        for form_id in forms.values():
            db.session.add(Assignment(form_id=form_id, actor_id=actor_id, role_id=2))
        db.session.commit()
    result = Cases(app, client, openrosa, seed, forms)
    result.set_communes(LA_EE)
    return result


def case_values(code: str = "DN-2026-00123", commune: str = LA_EE) -> dict[str, str]:
    """An intake's answers: safe properties only (full_name is not saved)."""
    return {
        "case_code": code,
        "commune": commune,
        "risk": "high",
        "status": "active",
        "next_visit": "2026-12-01",
        "services": "medical legal_aid",
        "full_name": "Hồ Thị Lan",
    }
