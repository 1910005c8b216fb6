"""Old → new commune codes, including the split (``part``) rule."""

from __future__ import annotations

import io

import pytest

from geo import CrosswalkError, build_crosswalk, read_crosswalk, recode

HEADER = "old_province,old_district_code,old_district,old_code,old_name,new_code,new_name,relation\n"
CSV = HEADER + (
    "P,1,D,100,Old A,100,New A,whole\n"
    "P,1,D,101,Old B,100,New A,whole\n"
    "P,1,D,102,Old C,200,New B,part\n"
    "P,1,D,102,Old C,100,New A,part\n"
    "P,1,D,103,Old D,300,New C,part (default)\n"
    "P,1,D,103,Old D,200,New B,part\n"
    "P,9,Island district,,,400,New D,whole (island district)\n"
)


def _crosswalk():
    return read_crosswalk(io.StringIO(CSV))


def test_whole_rows_map_one_to_one():
    entry = _crosswalk().resolve("101")
    assert (entry.new_code, entry.relation, entry.candidates) == (
        "100",
        "whole",
        ("100",),
    )
    assert entry.old_name == "Old B"


def test_split_goes_to_the_default_row():
    entry = _crosswalk().resolve("103")
    assert (entry.new_code, entry.relation, entry.candidates) == (
        "300",
        "part",
        ("200", "300"),
    )


def test_split_without_default_goes_to_lowest_new_code():
    entry = _crosswalk().resolve("102")
    assert (entry.new_code, entry.relation, entry.candidates) == (
        "100",
        "part",
        ("100", "200"),
    )


def test_district_only_rows_are_kept_apart():
    crosswalk = _crosswalk()
    assert crosswalk.districts == {"9": "400"}
    assert crosswalk.resolve("") is None


def test_recode_series_keeps_index_and_explains():
    import pandas as pd

    codes = pd.Series(["101", " 103", "300", "999", None], index=[10, 11, 12, 13, 14])
    out = recode(codes, _crosswalk(), valid_codes=["100", "200", "300"])
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert out["code"].tolist() == ["100", "300", "300", None, None]
    assert out["relation"].tolist() == [
        "whole",
        "part",
        "current",
        "unknown",
        "unknown",
    ]
    assert out["candidates"].tolist() == ["", "200;300", "", "", ""]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "P,1,D,100,A,100,X,whole\nP,1,D,100,A,200,Y,whole\n",
            "maps whole to 100, 200",
        ),
        ("P,1,D,100,A,100,X,whole\nP,1,D,100,A,200,Y,part\n", "both whole and part"),
        ("P,1,D,100,A,,X,whole\n", "no new_code"),
    ],
    ids=["two-wholes", "whole-and-part", "no-new-code"],
)
def test_contradictions_are_errors(rows, message):
    with pytest.raises(CrosswalkError, match=message) as err:
        read_crosswalk(io.StringIO(HEADER + rows))
    assert err.value.code == "geo.crosswalk_invalid"


def test_missing_columns():
    with pytest.raises(CrosswalkError, match="relation"):
        build_crosswalk([{"old_code": "1", "new_code": "2"}])


def test_shared_crosswalk_hoa_lien(shared_data):
    """The real table: 280 old communes; Hòa Liên (20296) was split, default Liên Chiểu."""
    crosswalk = read_crosswalk(shared_data / "old_to_new_2025_quangnam_danang.csv")
    assert len(crosswalk.entries) == 280
    hoa_lien = crosswalk.resolve("20296")
    assert (hoa_lien.new_code, hoa_lien.candidates) == ("20197", ("20194", "20197"))
    assert crosswalk.resolve("20449").new_code == "20455"  # Lăng → Tây Giang
    assert crosswalk.districts == {"498": "20333"}  # Hoàng Sa
    parts = [e for e in crosswalk.entries.values() if e.relation == "part"]
    assert [e.old_code for e in parts] == ["20296"]
