"""pyODK 1.3's entity calls, unmodified, against this server over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import open_pyodk
from tests.entities import builders
from tests.entities.conftest import LA_EE, TAY_GIANG, case_values

pyodk_client = pytest.importorskip("pyodk.client")


@pytest.fixture
def odk(live_server: str, cases, tmp_path: Path):  # type: ignore[no-untyped-def]
    client = open_pyodk(live_server, cases.seed, tmp_path)
    yield client
    client.close()


def test_pyodk_entity_calls(odk, cases):
    uuid = builders.new_uuid()
    cases.submit(builders.intake_xml(uuid, case_values()))

    [cases_list] = odk.entity_lists.list()
    assert (cases_list.name, cases_list.approvalRequired) == ("cases", False)
    got = odk.entity_lists.get("cases")
    assert [p.name for p in got.properties] == list(builders.PROPS)
    assert odk.entity_lists.add_property("reviewer_note", entity_list_name="cases")

    [entity] = odk.entities.list(entity_list_name="cases")
    assert entity.uuid == uuid and entity.currentVersion.version == 1

    created = odk.entities.create(
        label="DN-2026-00777 · Tây Giang",
        data={"case_code": "DN-2026-00777", "commune": TAY_GIANG, "risk": "low"},
        entity_list_name="cases",
    )
    assert created.currentVersion.data["risk"] == "low"
    updated = odk.entities.update(
        created.uuid,
        entity_list_name="cases",
        data={"risk": "medium"},
        base_version=1,
    )
    assert updated.currentVersion.version == 2
    forced = odk.entities.update(
        created.uuid, entity_list_name="cases", label="renamed", force=True
    )
    assert (forced.currentVersion.version, forced.currentVersion.label) == (
        3,
        "renamed",
    )
    with pytest.raises(Exception, match="409.15"):
        odk.entities.update(
            created.uuid, entity_list_name="cases", data={"risk": "x"}, base_version=1
        )

    table = odk.entities.get_table(entity_list_name="cases", count=True)
    assert table["@odata.count"] == 2
    row = next(r for r in table["value"] if r["__id"] == created.uuid)
    assert row["__system"]["version"] == 3 and row["risk"] == "medium"

    assert odk.entities.create_many(
        [
            {"label": "DN-2026-00801", "case_code": "DN-2026-00801", "commune": LA_EE},
            {"label": "DN-2026-00802", "case_code": "DN-2026-00802", "commune": LA_EE},
        ],
        entity_list_name="cases",
        create_source="import.csv",
        source_size="2",
    )
    # merge: match on case_code; update one, add one, leave the rest
    actions = odk.entities.merge(
        [
            {"label": "DN-2026-00801", "case_code": "DN-2026-00801", "risk": "high"},
            {"label": "DN-2026-00900", "case_code": "DN-2026-00900", "risk": "low"},
        ],
        entity_list_name="cases",
        match_keys=["case_code"],
        add_new_properties=False,
    )
    assert len(actions.to_insert) == 1 and len(actions.to_update) == 1
    table = odk.entities.get_table(entity_list_name="cases")["value"]
    by_code = {r["case_code"]: r for r in table}
    assert by_code["DN-2026-00801"]["risk"] == "high"
    assert by_code["DN-2026-00801"]["__system"]["version"] == 2
    assert "DN-2026-00900" in by_code

    assert odk.entities.delete(created.uuid, entity_list_name="cases")
    assert created.uuid not in {
        e.uuid for e in odk.entities.list(entity_list_name="cases")
    }
