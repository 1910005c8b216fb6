"""sync.linkage.normalise: Vietnamese folding, Telex/VNI slips, value parsing."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.linkage.normalise import (
    fold,
    is_syllable,
    normalise_identifier,
    normalise_phone,
    parse_choices,
    parse_day,
    parse_geopoint,
    parse_int,
    parse_name,
    parse_place,
    spelled,
    telex_fold,
    token_forms,
    vni_fold,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Hồ Thị Lan", "ho thi lan"),
        ("  NGUYỄN   Thị  Hoa ", "nguyen thi hoa"),
        ("Đắc Pring", "dac pring"),
        ("Zơrâm Thị Dung", "zoram thi dung"),
        ("Hôih Thị Phơ", "hoih thi pho"),
        ("Ðinh Văn Thắng", "dinh van thang"),  # Icelandic eth typed for Đ
    ],
    ids=["kinh", "caps-spaces", "d-stroke", "co-tu", "co-tu-2", "eth"],
)
def test_fold_removes_diacritics_and_d_stroke(text, folded):
    assert fold(text) == folded


def test_spelled_ignores_old_and_new_tone_placement():
    assert spelled("Hoà") == spelled("Hòa") == "hoaf"
    assert spelled("Thuý") == spelled("Thúy")
    assert spelled("Hương") != spelled("Huơng")  # a different vowel letter, not a tone


@pytest.mark.parametrize(
    ("typed", "base"),
    [
        ("hoof", "ho"),  # Hồ
        ("thij", "thi"),  # Thị
        ("nguyeenx", "nguyen"),  # Nguyễn
        ("huwowng", "huong"),  # Hương
        ("ddinh", "dinh"),  # Đinh
        ("thawngs", "thang"),  # Thắng
        ("tuasn", "tuan"),  # tone key before the final consonant
        ("lan", "lan"),  # nothing to undo
    ],
)
def test_telex_fold(typed, base):
    assert telex_fold(typed) == base


def test_vni_fold_drops_the_digits():
    assert vni_fold("nguye6n4") == "nguyen"
    assert vni_fold("ho62") == "ho"
    assert vni_fold("d9inh") == "dinh"


def test_token_forms_keep_the_plain_reading():
    assert token_forms("Hoof") >= {"hoof", "ho"}
    assert token_forms("Coor") >= {"coor"}  # a Cơ Tu family name that looks like Telex
    assert token_forms("Hồ") == {"ho"}  # typed with diacritics: no Telex guessing
    assert token_forms("Ho2") >= {"ho"}


@pytest.mark.parametrize(
    ("name", "words", "abbreviated"),
    [
        ("Hồ Thị Lan", ("ho", "thi", "lan"), (False, False, False)),
        ("Hồ T. Lan", ("ho", "t", "lan"), (False, True, False)),
        ("Hồ T.Lan", ("ho", "t", "lan"), (False, True, False)),
        ("Hồ T Lan", ("ho", "t", "lan"), (False, True, False)),
        ("A Lăng Văn Thắng", ("a", "lang", "van", "thang"), (False,) * 4),
        ("Bh'riu Thị Hoa", ("bhriu", "thi", "hoa"), (False,) * 3),
    ],
    ids=["plain", "initial", "initial-no-space", "lone-letter", "a-lang", "apostrophe"],
)
def test_parse_name_words_and_initials(name, words, abbreviated):
    parsed = parse_name(name)
    assert tuple(t.key for t in parsed.tokens) == words
    assert tuple(t.abbreviated for t in parsed.tokens) == abbreviated


def test_parse_name_readings_join_spacing_and_typing_variants():
    assert parse_name("A Lăng Văn Thắng").joined & parse_name("Alăng Văn Thắng").joined
    assert parse_name("Hồ Thị Lan").joined & parse_name("Hoof Thij Lan").joined
    assert parse_name("Hồ Thị Lan").joined & parse_name("Ho62 Thi5 Lan").joined
    assert parse_name("Hồ Thị Lan").bag & parse_name("Lan Hồ Thị").bag
    assert parse_name("Hồ Thị Lan").marked and not parse_name("Ho Thi Lan").marked


@pytest.mark.parametrize("value", [None, "", "   ", "...", 42])
def test_parse_name_nothing(value):
    assert parse_name(value) is None


@pytest.mark.parametrize(
    ("word", "valid"),
    [
        ("hanh", True),
        ("nguyen", True),
        ("quynh", True),
        ("nghieng", True),
        ("lna", False),
        ("hoaa", False),
        ("bhriu", False),
    ],
)
def test_is_syllable(word, valid):
    assert is_syllable(word) is valid


PREFIXES = ["thon", "ban", "to dan pho", "to"]


@pytest.mark.parametrize(
    "text",
    ["Thôn A Ur", "Aur", "Bản A-Ur", "thon a ur", "Thoon Aur"],
    ids=["full", "no-prefix", "hyphen", "no-diacritics", "telex"],
)
def test_parse_place_same_core(text):
    assert "aur" in parse_place(text, PREFIXES).forms


def test_parse_place_keeps_numbers_and_a_bare_prefix():
    assert parse_place("Tổ dân phố 5", PREFIXES).core == "5"
    assert parse_place("Thôn", PREFIXES).core == "thon"
    assert parse_place("", PREFIXES) is None


def test_parse_day():
    day = dt.date(2026, 7, 3).toordinal()
    assert parse_day("2026-07-03") == day
    assert parse_day("2026-07-03T09:15:00.000+07:00") == day
    assert parse_day(dt.date(2026, 7, 3)) == day
    assert parse_day("03/07/2026") is None
    assert parse_day(None) is None


def test_parse_int():
    assert parse_int("42") == 42
    assert parse_int(40) == 40
    assert parse_int("40.0") == 40
    assert parse_int("nan") is None
    assert parse_int(True) is None
    assert parse_int("") is None


def test_parse_geopoint():
    assert parse_geopoint("15.9 107.5 0 8") == (15.9, 107.5, 8.0)
    assert parse_geopoint("15.9 107.5") == (15.9, 107.5, None)
    assert parse_geopoint("0 0 0 0") is None  # a failed fix
    assert parse_geopoint("95 107 0 8") is None
    assert parse_geopoint("a b") is None


def test_parse_choices():
    assert parse_choices("lures hotlines") == {"lures", "hotlines"}
    assert parse_choices("") is None


def test_identifiers_and_phones():
    assert normalise_identifier("dn-2026-00123") == "DN202600123"
    assert normalise_phone("+84 905 123 456") == "0905123456"
    assert normalise_phone("0905.123.456") == "0905123456"
    assert normalise_phone("113") is None
