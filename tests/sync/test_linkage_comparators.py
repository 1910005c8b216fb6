"""sync.linkage.comparators: every comparator, with Vietnamese field-work examples."""

from __future__ import annotations

import pytest

from sync.linkage.comparators import COMPARATORS, haversine_m

NEIGHBOURS = {"20455": frozenset({"20458", "20443"}), "20458": frozenset({"20455"})}


def level(kind, a, b, params=None, fields=1):
    """Prepare two raw values and compare them; ``None`` when either is missing."""
    comparator = COMPARATORS[kind](params or {}, NEIGHBOURS)
    wrap = (lambda v: tuple(v)) if fields > 1 else (lambda v: (v,))
    pa, pb = comparator.prepare(wrap(a)), comparator.prepare(wrap(b))
    if pa is None or pb is None:
        return None
    return comparator.level(pa, pb)


def explain(kind, a, b, pii=False, params=None, fields=1):
    comparator = COMPARATORS[kind](params or {}, NEIGHBOURS)
    wrap = (lambda v: tuple(v)) if fields > 1 else (lambda v: (v,))
    pa, pb = comparator.prepare(wrap(a)), comparator.prepare(wrap(b))
    return comparator.explain(pa, pb, comparator.level(pa, pb), pii)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # the same victim, registered by the border guard and the women's union
        ("Hồ Thị Lan", "Hồ Thị Lan", "exact"),
        ("Hồ Thị Hoà", "Hồ Thị Hòa", "exact"),  # old and new tone placement
        ("HỒ THỊ LAN", "Hồ Thị Lan", "exact"),
        ("Hồ Thị Lan", "Ho Thi Lan", "folded"),
        ("Hồ Thị Lan", "Hoof Thij Lan", "folded"),  # Telex with the IME off
        ("Hồ Thị Lan", "Ho62 Thi5 Lan", "folded"),  # VNI with the IME off
        ("Nguyễn Thị Hương", "Nguyeenx Thij Huwowng", "folded"),
        ("A Lăng Văn Thắng", "Alăng Văn Thắng", "folded"),  # Cơ Tu family name spacing
        ("Zơrâm Thị Dung", "Zơ Râm Thị Dung", "folded"),
        ("Bh'riu Thị Hoa", "Bhriu Thi Hoa", "folded"),
        ("Hồ Thị Lan", "Lan Hồ Thị", "reordered"),  # given name first
        ("Hồ Thị Lan", "Thi Lan Ho", "reordered"),
        ("Hồ Thị Lan", "Hồ T. Lan", "abbreviated"),
        ("Hồ Thị Lan", "Hồ Lan", "abbreviated"),  # middle name left out
        ("Nguyễn Thị Thu Hà", "Ng. Thu Hà", "abbreviated"),
        ("Nguyễn Thị Hoa", "Nguyễn Thị Hòa", "accent_conflict"),
        ("Hồ Thị Lan", "Hồ Thị Lna", "typo"),
        ("Bríu Thị Hoa", "Brúi Thị Hoa", "typo"),  # a slip in the family name
        ("Nguyễn Thị Hoa", "Nguyễn Thi Hoa", "accent_conflict"),
        # sisters and namesakes: the given name decides
        ("Hồ Thị Lan", "Hồ Thị Hoa", "different"),
        ("Hồ Thị Lan", "Hồ Thị Lanh", "different"),
        (
            "Lê Thị Hằng",
            "Lê Thị Hạnh",
            "different",
        ),  # both real names, one letter apart
        ("Đinh Văn Dũng", "Đinh Văn Hùng", "different"),
        ("Hôih Thị Phơ", "Hôih Thị Mé", "different"),
    ],
)
def test_person_name(a, b, expected):
    assert level("person_name", a, b) == expected
    assert level("person_name", b, a) == expected  # symmetric


def test_person_name_reasons_say_how_without_the_names():
    assert explain("person_name", "Hồ Thị Lan", "Ho Thi Lan", pii=True) == {
        "via": "diacritics"
    }
    assert explain("person_name", "Hồ Thị Lan", "Hoof Thij Lan", pii=True) == {
        "via": "typing"
    }
    assert explain("person_name", "A Lăng Văn Thắng", "Alăng Văn Thắng", pii=True) == {
        "via": "spacing"
    }
    assert explain("person_name", "Hồ Thị Lan", "Hồ Thị Lna", pii=True) == {"edits": 1}


def test_person_name_missing():
    assert level("person_name", "", "Hồ Thị Lan") is None


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("2026-07-03", "2026-07-03", "same_day"),
        ("2026-07-03", "2026-07-04", "close"),
        ("2026-07-03", "2026-07-09", "near"),
        ("2026-07-03", "2026-08-03", "far"),
    ],
)
def test_date(a, b, expected):
    assert level("date", a, b) == expected


def test_date_explain():
    assert explain("date", "2026-07-03", "2026-07-04") == {
        "days": 1,
        "a": "2026-07-03",
        "b": "2026-07-04",
    }
    assert explain("date", "2026-07-03", "2026-07-04", pii=True) == {"days": 1}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (2004, 2004, "same"),
        (2004, "2005", "off_by_one"),
        (2004, 2006, "close"),
        (2004, 1998, "far"),
    ],
)
def test_year(a, b, expected):
    assert level("year", a, b) == expected


def test_year_explain_hides_personal_values():
    assert explain("year", 2004, 2005, pii=True) == {"diff": 1}
    assert explain("year", 2004, 2005) == {"diff": 1, "a": 2004, "b": 2005}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("20455", "20455", "same"),  # Tây Giang
        ("20455", "20458", "neighbour"),  # Tây Giang / Avương
        ("20458", "20443", "different"),  # not in the (partial) adjacency given
        ("20455", 20455, "same"),
    ],
)
def test_commune(a, b, expected):
    assert level("commune", a, b) == expected


def _point(lat, lon, metres_north, accuracy=5):
    return f"{lat + metres_north / 111_320:.7f} {lon} 400 {accuracy}"


@pytest.mark.parametrize(
    ("metres", "accuracy", "expected"),
    [
        (0, 5, "identical"),
        (80, 5, "same_place"),
        (120, 5, "same_place"),  # 120 m less 2 × 5 m accuracy … still > 100: see below
        (300, 5, "close"),
        (1200, 5, "area"),
        (5000, 5, "far"),
        (400, 40, "close"),  # 400 m, but each fix is ±40 m
    ],
)
def test_geopoint(metres, accuracy, expected):
    a = _point(15.9, 107.5, 0, accuracy)
    b = _point(15.9, 107.5, metres, accuracy)
    params = {"same_place": 110.0} if metres == 120 else None
    assert level("geopoint", a, b, params) == expected


def test_geopoint_explain_and_haversine():
    a, b = _point(15.9, 107.5, 0), _point(15.9, 107.5, 120)
    assert explain("geopoint", a, b) == {"metres": 120}
    assert haversine_m(16.0, 108.0, 16.0, 108.0) == 0
    assert 110_000 < haversine_m(16.0, 108.0, 17.0, 108.0) < 112_000


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Thôn Aur", "Thôn Aur", "exact"),
        ("Thôn Aur", "Aur", "exact"),  # the prefix is not part of the name
        ("Bản A Xòo", "Thon A Xoo", "folded"),
        ("Thôn Đắc Ốc", "Thoon Ddawcs OOcs", "folded"),  # Telex
        ("Thôn Pà Lai", "Thôn Pà Lay", "similar"),
        ("Thôn 3", "Thôn 4", "different"),  # numbered villages
        ("Thôn Aur", "Thôn Ating", "different"),
    ],
)
def test_place(a, b, expected):
    assert level("place", a, b) == expected


def test_place_explain_hides_personal_values():
    assert explain("place", "Thôn Aur", "Aur", pii=True) == {}
    assert explain("place", "Thôn  Aur", "Aur") == {"a": "Thôn Aur", "b": "Aur"}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((42, 20, 2, 15, 5), (40, 19, 2, 14, 5), "close"),  # counts ±10 %
        ((42, 20, 2, 15, 5), (42, 30, 2, 5, 5), "total_close"),  # breakdown differs
        ((42, 20, 2, 15, 5), (52, None, None, None, None), "moderate"),
        ((42, 20, 2, 15, 5), (120, 60, 5, 40, 15), "far"),
        ((4, 2, 0, 2, 0), (6, 3, 0, 3, 0), "close"),  # small groups: ± 2 people
    ],
)
def test_counts(a, b, expected):
    assert level("counts", a, b, fields=5) == expected


def test_counts_explain():
    assert explain("counts", (42, 20), (40, 19), fields=2) == {"a": 42, "b": 40}
    assert level("counts", (None, 1), (40, 19), fields=2) is None


def test_category():
    assert level("category", "village_meeting", "village_meeting") == "same"
    assert level("category", "village_meeting", "school") == "different"
    assert level("category", "", "school") is None


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("lures hotlines", "hotlines lures", "same"),
        ("lures hotlines safe_migration", "lures hotlines", "overlap"),
        ("lures hotlines online_scams legal_rights", "lures", "partial"),
        ("lures", "hotlines", "disjoint"),
    ],
)
def test_choices(a, b, expected):
    assert level("choices", a, b) == expected


def test_identifier_and_phone():
    assert level("identifier", "048 204 001 234", "048204001234") == "same"
    assert level("identifier", "048204001234", "048204001235") == "different"
    params = {"kind": "phone"}
    assert level("identifier", "+84 905 123 456", "0905123456", params) == "same"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("BPTG-2026-017", "bptg-2026-017", "same"),  # a re-sent edit
        ("BPTG-2026-017", "BPTG-2026-018", "same_unit"),
        (
            "BPTG-2026-017",
            "HLPN-2026-00045",
            "different",
        ),  # border guard, women's union
    ],
)
def test_case_code(a, b, expected):
    assert level("case_code", a, b) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (("xa20455", "collect:1"), ("xa20455", "collect:1"), "same_device"),
        (("xa20455", "collect:1"), ("xa20455", "collect:2"), "same_user"),
        (("xa20455", "collect:1"), ("huyen2", "collect:9"), "different"),
    ],
)
def test_reporter(a, b, expected):
    assert level("reporter", a, b, fields=2) == expected
