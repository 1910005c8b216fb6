"""Duplicate review tests: the real mission forms, their real rule sets, sent over
OpenRosa like Collect; jobs run with ``jobs.run_pending()``."""

from __future__ import annotations

import copy
import typing as t

import pytest

from tests import mission_data as md
from tests.api.conftest import (  # noqa: F401  (fixtures)
    Api,
    admin,
    anon,
    app_user,
    as_role,
    assert_problem,
)
from tests.server_geo.conftest import (  # noqa: F401  (fixtures, builders)
    Phone,
    case_values,
    phone,
    session_values,
)
from tests.test_mission_forms import (  # noqa: F401  (fixtures)
    convert_each_workbook_once,
    mission,
)

RULES_DIR = md.FORMS_DIR / "dedup"


@pytest.fixture(autouse=True)
def dedup_rules(app):  # type: ignore[no-untyped-def]
    """The repository's rule sets (the app fixture points XLSFORMS_DIR elsewhere)."""
    app.config["DEDUP_RULES_DIR"] = str(RULES_DIR)
    return RULES_DIR


def run_jobs(app: t.Any) -> int:
    """Run every queued job now, as the worker thread would; how many were checks
    (other features queue their own jobs for the same submissions)."""
    import sqlalchemy as sa

    from server import jobs
    from server.db import db
    from server.models import Job

    done = sa.select(sa.func.count()).where(
        Job.kind == "dedup.check", Job.done_at.is_not(None), Job.failed.is_(False)
    )
    with app.app_context():
        before = db.session.scalar(done)
        jobs.run_pending()
        return db.session.scalar(done) - before


def victim(**changes: t.Any) -> dict[str, t.Any]:
    """The consenting mission case (Hồ Thị Lan, La Êê) with some answers changed."""
    values = copy.deepcopy(md.VICTIM_WITH_CONSENT)
    values.update(changes)
    return values


def second_registration() -> dict[str, t.Any]:
    """The same woman registered again by the women's union two days later: name
    typed without diacritics, another case code, another phone (device)."""
    return victim(
        **{
            "deviceid": "collect:Wm4Lp8Rt2Yq6Zx0c",
            "username": "Hội Phụ nữ xã La Êê",
            "case/case_code": "HPN-2026-0456",
            "case/id_date": "2026-11-22",
            "case/id_agency": "womens_union",
            "pii/full_name": "Ho Thi Lan",
            "pii/phone": "",
            "pii/id_type": "none",
            "pii/id_number": None,
        }
    )


def session(**changes: t.Any) -> dict[str, t.Any]:
    """The mission's outreach session (La Êê, 45 people) with some answers changed."""
    values = copy.deepcopy(md.OUTREACH_SESSION)
    values.update(changes)
    return values
