"""Web app tests: the real mission forms, sent like Collect, read through the pages.

``web`` logs in through the login form (CSRF token and all) and posts forms with the
session's token, as a browser does.
"""

from __future__ import annotations

import os
import re
import typing as t
from pathlib import Path

import pytest

from server.db import db
from tests import mission_data as md
from tests.dedup.conftest import RULES_DIR, run_jobs, victim  # noqa: F401
from tests.server_geo.conftest import (  # noqa: F401  (fixtures, builders)
    IN_LA_EE,
    Phone,
    case_values,
    phone,
    session_values,
)
from tests.test_mission_forms import (  # noqa: F401  (fixtures)
    Mission,
    convert_each_workbook_once,
)

PASSWORD = "a long enough password"
TAY_GIANG, LA_EE, HUNG_SON = md.TAY_GIANG, md.LA_EE, md.HUNG_SON
WEB_FORMS = ("outreach_session", "victim_case", "staff_training")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def dedup_rules(app):  # type: ignore[no-untyped-def]
    app.config["DEDUP_RULES_DIR"] = str(RULES_DIR)
    return RULES_DIR


def make_web_user(
    app: t.Any,
    email: str,
    role: str | None,
    project_id: int,
    communes: t.Sequence[str] = (),
    admin: bool = False,
) -> None:
    """A web user with a role in the project (and communes for ``commune``)."""
    from server.cli import create_user
    from server.models import ProjectRole, ProjectRoleCommune

    with app.app_context():
        user = create_user(email, PASSWORD, admin=admin)
        if role:
            db.session.add(
                ProjectRole(actor_id=user.actor_id, project_id=project_id, role=role)
            )
        for code in communes:
            db.session.add(
                ProjectRoleCommune(
                    actor_id=user.actor_id, project_id=project_id, commune=code
                )
            )
        db.session.commit()


class Browser:
    """A logged-in test client that posts forms with the page's CSRF token."""

    def __init__(self, client: t.Any) -> None:
        self.client = client
        self.token = ""

    def login(self, email: str, password: str = PASSWORD) -> t.Any:
        page = self.client.get("/login")
        token = _CSRF.search(page.get_data(as_text=True)).group(1)
        response = self.client.post(
            "/login",
            data={"csrf_token": token, "email": email, "password": password},
        )
        if response.status_code == 302:
            self.refresh_token()
        return response

    def refresh_token(self, path: str = "/") -> None:
        page = self.client.get(path, follow_redirects=True)
        found = _CSRF.search(page.get_data(as_text=True))
        self.token = found.group(1) if found else ""

    def get(self, path: str, **kwargs: t.Any) -> t.Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs: t.Any) -> t.Any:
        body = {"csrf_token": self.token, **(data or {})}
        return self.client.post(path, data=body, **kwargs)


@pytest.fixture
def browser(app):  # type: ignore[no-untyped-def]
    """A fresh cookie jar per call: ``browser()`` gives another user's browser."""

    def make() -> Browser:
        return Browser(app.test_client())

    return make


@pytest.fixture
def mission(app, seed) -> Mission:  # type: ignore[no-untyped-def]
    """The three mission forms published (whatever their version) and a phone."""
    from server.cli import create_app_user
    from server.forms import publish_file

    forms, xforms = {}, {}
    folder = Path(os.environ.get("WEB_TEST_FORMS_DIR") or md.FORMS_DIR)
    with app.app_context():
        for form_id in WEB_FORMS:
            form, form_def, _changed = publish_file(
                seed.project_id, folder / f"{form_id}.xlsx"
            )
            forms[form_id], xforms[form_id] = form.id, form_def.xml
        _key, token = create_app_user(
            seed.project_id, "Máy Hội Phụ nữ xã La Êê", list(forms.values())
        )
        db.session.commit()
    return Mission(seed.project_id, token, forms, xforms)


@pytest.fixture
def field_data(app, mission, phone):  # type: ignore[no-untyped-def]  # noqa: F811
    """Sessions in Tây Giang and La Êê, a consenting victim case in La Êê, a case
    without a commune (abroad), and the duplicate of the La Êê case (jobs run)."""
    ids = {
        "tg_session": phone.send(
            "outreach_session", session_values("2026-11-20", TAY_GIANG, None)
        ),
        "la_session": phone.send(
            "outreach_session", session_values("2026-11-21", LA_EE, IN_LA_EE)
        ),
        "la_case": phone.send("victim_case", victim()),
        "abroad_case": phone.send(
            "victim_case",
            case_values("DN-2026-00999", "2026-11-10", None, "medical", "medical"),
        ),
    }
    from tests.dedup.conftest import second_registration

    ids["la_case_again"] = phone.send("victim_case", second_registration())
    run_jobs(app)
    return ids
