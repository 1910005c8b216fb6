"""Coverage tests: the real mission forms, filled and sent over OpenRosa, on real
boundaries (read in place from ../shared/data; skipped with a reason when absent)."""

from __future__ import annotations

import copy
import typing as t
import uuid

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
from tests.geo.conftest import SHARED_ENV, shared_data_dir
from tests.test_mission_forms import (  # noqa: F401  (fixtures)
    Case,
    convert_each_workbook_once,
    mission,
    submit_like_collect,
)

SHORT_NAMES = md.commune_short_names()
# Points inside communes of the simplified 2025 polygons (representative points).
IN_TAY_GIANG = "15.87523 107.48875 650 4.0"
IN_HUNG_SON = "15.81134 107.30394 900 6.5"
IN_LA_EE = "15.66022 107.35245 700 3.2"
IN_LAOS = "15.70 107.00 0 5"  # west of the border: in no commune


@pytest.fixture(scope="session")
def shared_data():  # type: ignore[no-untyped-def]
    """The shared boundary data folder; skips when it is absent."""
    path = shared_data_dir()
    if not (path / "danang2025_communes.geojson").is_file():
        pytest.skip(
            f"shared boundary data not found at {path} "
            f"(set {SHARED_ENV} to the folder with danang2025_communes*.geojson)"
        )
    return path


def session_values(
    day: str, commune: str, gps: str | None, n_total: int = 30, women: int = 10
) -> dict[str, t.Any]:
    """An outreach session like the mission one, on another day, place and size."""
    values = copy.deepcopy(md.OUTREACH_SESSION)
    girls, men, boys = 5, n_total - women - 5 - 5, 5
    values.update(
        {
            "today": day,
            "start": f"{day}T08:00:00.000+07:00",
            "end": f"{day}T10:00:00.000+07:00",
            "session/session_date": day,
            "session/commune": commune,
            "session/gps": gps or "",
            "participants/n_total": str(n_total),
            "participants/n_women": str(women),
            "participants/n_girls": str(girls),
            "participants/n_men": str(men),
            "participants/n_boys": str(boys),
            "participants/n_ethnic_minority": str(n_total - 2),
            "n_by_sex": str(n_total),
            "n_unsorted": "0",
            "participants/unsorted_note": None,
            "n_women_girls": str(women + girls),
            "commune_name": SHORT_NAMES.get(commune, ""),
        }
    )
    return values


def case_values(
    code: str, day: str, commune: str | None, needs: str, services: str
) -> dict[str, t.Any]:
    """An anonymous victim case (no consent, so no ``pii``), like the mission one."""
    values = copy.deepcopy(md.VICTIM_WITHOUT_CONSENT)
    need_set, served = set(needs.split()), set(services.split())
    if needs == "none":
        status = "no_needs"
    else:
        status = "yes" if need_set <= served else "no"
    values.update(
        {
            "case/case_code": code,
            "case/id_date": day,
            "profile/residence_province": "48" if commune else "abroad",
            "profile/commune": commune,
            "needs": needs,
            "services": None if needs == "none" else services,
            "n_needs": "0" if needs == "none" else str(len(need_set)),
            "n_services": str(len(served) if services else 0),
            "all_needs_served": status,
            "commune_name": SHORT_NAMES.get(commune or "", ""),
        }
    )
    return values


def training_values(day: str, people: list[tuple[str, str, str]]) -> dict[str, t.Any]:
    """A training in Tây Giang whose roster lists (name, agency, commune)."""
    values = copy.deepcopy(md.STAFF_TRAINING)
    template = values["trainee"][0]
    values.update(
        {
            "today": day,
            "event/training_date": day,
            "trainee": [
                {
                    **template,
                    "trainee_name": name,
                    "trainee_agency": agency,
                    "trainee_commune": commune,
                }
                for name, agency, commune in people
            ],
            "n_roster": str(len(people)),
        }
    )
    return values


class Phone:
    """Fills the mission forms and sends them like Collect."""

    def __init__(self, client: t.Any, forms: t.Any) -> None:
        self.client, self.mission = client, forms

    def send(self, form_id: str, values: dict[str, t.Any]) -> str:
        """Submit one record; returns its instanceID."""
        instance_id = f"uuid:{uuid.uuid4()}"
        xml, _ = Case(form_id, values, "").record(
            self.mission.xforms[form_id], instance_id
        )
        r = submit_like_collect(
            self.client, self.mission.key_base, xml, {}, str(values["deviceid"])
        )
        assert r.status_code == 201, r.data
        return instance_id

    def edit(self, form_id: str, old_id: str, values: dict[str, t.Any]) -> str:
        """Send an edited version (Collect adds deprecatedID = the old instanceID)."""
        new_id = f"uuid:{uuid.uuid4()}"
        xml, _ = Case(form_id, values, "").record(self.mission.xforms[form_id], new_id)
        xml = xml.replace(
            f"<instanceID>{new_id}</instanceID>".encode(),
            f"<instanceID>{new_id}</instanceID>"
            f"<deprecatedID>{old_id}</deprecatedID>".encode(),
        )
        r = submit_like_collect(
            self.client, self.mission.key_base, xml, {}, str(values["deviceid"])
        )
        assert r.status_code == 201, r.data
        return new_id


@pytest.fixture
def phone(client, mission) -> Phone:  # type: ignore[no-untyped-def]  # noqa: F811
    return Phone(client, mission)


@pytest.fixture
def real_boundaries(app, shared_data):  # type: ignore[no-untyped-def]
    """The simplified 2025 communes, the Laos border and the crosswalk, imported."""
    from server import boundaries
    from server.db import db

    with app.app_context():
        boundaries.import_boundary_set(
            shared_data / "danang2025_communes_simplified.geojson",
            name="Xã/phường 2025 (50 m)",
        )
        boundaries.import_border(
            shared_data / "laos_border_quangnam_derived.geojson", name="Việt Nam – Lào"
        )
        boundaries.import_crosswalk(shared_data / "old_to_new_2025_quangnam_danang.csv")
        db.session.commit()
    return shared_data
