"""Commune adjacency from the stored boundary set, bound into the rule sets."""

from __future__ import annotations

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely.geometry import box

import geo
from server.db import db
from server.dedup import rules_for, scan_form
from server.dedup_models import DedupPair
from tests.dedup.test_scan import FORM, _store, _xml
from tests.server_geo.conftest import real_boundaries, shared_data  # noqa: F401

TRA_MY, TRA_TAN, NAM_TRA_MY = "20900", "20923", "20944"  # Trà My touches Trà Tân only


def test_commune_neighbours_share_a_border_or_a_corner():  # type: ignore[no-untyped-def]
    areas = gpd.GeoDataFrame(
        {"code": ["a", "b", "c", "d"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 1, 3, 2), box(5, 5, 6, 6)],
        crs="EPSG:4326",
    )
    assert geo.commune_neighbours(areas) == {
        "a": frozenset({"b"}),
        "b": frozenset({"a", "c"}),
        "c": frozenset({"b"}),
    }


def test_without_a_stored_boundary_set_no_commune_has_neighbours(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        assert rules_for(FORM).neighbours == {}


def test_the_stored_set_gives_the_rules_their_neighbours(app, real_boundaries):  # type: ignore[no-untyped-def]  # noqa: F811
    with app.app_context():
        neighbours = rules_for(FORM).neighbours
        victim = rules_for("victim_case").neighbours
    assert len(neighbours) == 92 and victim == neighbours  # 94 but two islands
    assert sum(len(v) for v in neighbours.values()) == 2 * 237
    assert all(
        code in neighbours[other] for code in neighbours for other in neighbours[code]
    )
    assert TRA_TAN in neighbours[TRA_MY] and NAM_TRA_MY not in neighbours[TRA_MY]


def _two_reports(app, mission, commune_b: str) -> list[DedupPair]:  # type: ignore[no-untyped-def]
    """One session reported in Trà My and again in ``commune_b``, no GPS fix."""
    fields = {
        "session_date": "2026-07-03",
        "commune": TRA_MY,
        "village": "Thôn 2",
        "gps": "",
        "format": "village_meeting",
        "topics": "lures hotlines",
        "n_total": "40",
        "n_women": "12",
        "n_girls": "8",
        "n_men": "12",
        "n_boys": "8",
        "n_ethnic_minority": "30",
        "username": "xa",
        "deviceid": "collect:1",
    }
    other = dict(fields, commune=commune_b, username="huyen", deviceid="collect:2")
    form_id = mission.forms[FORM]
    with app.app_context():
        paths = rules_for(FORM).field_paths
        _store(form_id, _xml(fields, paths, 0), 1)
        _store(form_id, _xml(other, paths, 0), 2)
        db.session.commit()
        scan_form(form_id)
        db.session.commit()
        return list(db.session.scalars(sa.select(DedupPair)))


def test_a_session_reported_in_the_neighbouring_commune_is_found(  # type: ignore[no-untyped-def]
    app,
    mission,
    real_boundaries,  # noqa: F811
):
    (pair,) = _two_reports(app, mission, TRA_TAN)
    commune = next(r for r in pair.reasons if r["field"] == "commune")
    assert commune["level"] == "neighbour" and pair.decision == "match"


@pytest.mark.parametrize("commune", [TRA_TAN, NAM_TRA_MY], ids=["neighbour", "far"])
def test_without_boundaries_or_across_far_communes_it_is_not(app, mission, commune):  # type: ignore[no-untyped-def]
    assert _two_reports(app, mission, commune) == []
