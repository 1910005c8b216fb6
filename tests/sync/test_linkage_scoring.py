"""sync.linkage.scoring: decisions, reasons (vi/en, no personal data), scans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync.linkage import (
    MATCH,
    NON_MATCH,
    POSSIBLE,
    FormMismatchError,
    Record,
    load_rules,
    prepare,
    scan,
    score,
    score_against,
)

RULES = Path(__file__).resolve().parents[2] / "xlsforms" / "dedup"
NEIGHBOURS = {"20455": {"20458", "20443"}}
OUTREACH = load_rules(RULES / "outreach_session.toml", neighbours=NEIGHBOURS)
VICTIMS = load_rules(RULES / "victim_case.toml", neighbours=NEIGHBOURS, secret=b"k")

SESSION = {
    "session_date": "2026-07-03",
    "commune": "20455",
    "village": "Bản A Xòo",
    "gps": "15.900000 107.500000 400 5",
    "format": "village_meeting",
    "topics": "lures hotlines safe_migration",
    "n_total": 42,
    "n_women": 20,
    "n_girls": 4,
    "n_men": 14,
    "n_boys": 4,
    "n_ethnic_minority": 40,
    "username": "xa20455",
    "deviceid": "collect:aa",
}
LAN = {
    "consent": "yes",
    "full_name": "Hồ Thị Lan",
    "birth_year": 2004,
    "sex": "female",
    "commune": "20455",
    "village": "Thôn Aur",
    "ethnicity": "co_tu",
    "case_code": "BPTG-2026-017",
    "id_date": "2026-07-03",
    "id_agency": "border_guard",
    "age_band": "18_29",
    "ethnic_minority": "yes",
    "destination": "china",
    "exploitation": "forced_marriage",
}


def outreach(record_id, **change):
    fields = {**SESSION, **change}
    return Record(record_id, "outreach_session", {k: v for k, v in fields.items() if v})


def victim(record_id, **change):
    fields = {**LAN, **change}
    return Record(record_id, "victim_case", {k: v for k, v in fields.items() if v})


def test_same_village_meeting_reported_by_commune_and_district():
    district = outreach(
        "b",
        village="Ban A Xoo",
        gps="15.901080 107.500000 380 8",
        n_total=40,
        n_women=19,
        n_men=13,
        session_date="2026-07-03",
        username="huyen1",
        deviceid="collect:bb",
    )
    match = score(outreach("a"), district, OUTREACH)
    assert match.decision == MATCH and match.score > 0.95
    text = match.summary("en")
    assert "same session date" in text and "120 m apart" in text
    assert "participants 42 vs 40" in text
    assert "same village after removing diacritics" in text
    vi = match.summary("vi")
    assert "cùng ngày sinh hoạt" in vi and "cách nhau 120 m" in vi
    assert "số người 42 và 40" in vi


def test_resent_edit_is_a_match():
    edited = outreach("b", topics="lures hotlines safe_migration online_scams")
    match = score(outreach("a"), edited, OUTREACH)
    assert match.decision == MATCH
    assert {r.code for r in match.reasons} >= {
        "geopoint.identical",
        "reporter.same_device",
    }


@pytest.mark.parametrize(
    "change",
    [
        # the same village on another day, other people
        {"session_date": "2026-07-10", "n_total": 25, "n_women": 10, "n_men": 10},
        # two school sessions in one week, other classes
        {
            "session_date": "2026-07-05",
            "format": "school",
            "n_total": 90,
            "n_girls": 40,
            "n_boys": 45,
            "n_women": 2,
            "n_men": 3,
            "gps": "15.900100 107.500100 400 5",
        },
        # another commune far away
        {"commune": "20944", "gps": "15.13 108.17 300 5"},
    ],
    ids=["village-next-week", "school-same-week", "other-commune"],
)
def test_outreach_non_duplicates(change):
    assert score(outreach("a"), outreach("b", **change), OUTREACH).decision == NON_MATCH


@pytest.mark.parametrize(
    "change",
    [
        {"full_name": "Ho Thi Lan", "birth_year": 2005},  # women's union, no keyboard
        {"full_name": "Hồ T. Lan", "case_code": "HLPN-2026-00045"},
        {"full_name": "Hoof Thij Lan", "id_agency": "womens_union"},
        {"full_name": "Lan Hồ Thị", "case_code": "BTXH-2026-102"},
    ],
    ids=["no-diacritics", "initial", "telex", "given-first"],
)
def test_same_victim_registered_twice(change):
    match = score(victim("a"), victim("b", **change), VICTIMS)
    assert match.decision in (MATCH, POSSIBLE)
    assert match.score >= VICTIMS.possible


@pytest.mark.parametrize(
    "change",
    [
        # her sister: same family, village, day and phone
        {"full_name": "Hồ Thị Hoa", "birth_year": 2006, "case_code": "BPTG-2026-018"},
        # a namesake in another commune
        {
            "full_name": "Hồ Thị Lan",
            "birth_year": 1990,
            "commune": "20944",
            "village": "Thôn 3",
            "ethnicity": "kinh",
            "ethnic_minority": "no",
            "age_band": "30_plus",
            "case_code": "CADN-2026-001",
            "id_date": "2025-09-01",
        },
    ],
    ids=["sister", "namesake"],
)
def test_victim_non_duplicates(change):
    assert score(victim("a"), victim("b", **change), VICTIMS).decision == NON_MATCH


def test_reasons_never_carry_personal_values():
    a = victim("a", phone="0905123456", id_number="048204001234")
    b = victim(
        "b",
        full_name="Ho Thi Lan",
        birth_year=2005,
        village="Aur",
        phone="0905123456",
        id_number="048204001234",
    )
    match = score(a, b, VICTIMS)
    blob = json.dumps(match.to_dict(), ensure_ascii=False)
    for secret in (
        "Lan",
        "lan",
        "2004",
        "2005",
        "Aur",
        "aur",
        "0905123456",
        "048204001234",
        "co_tu",
    ):
        assert secret not in blob
    codes = {r.code: r for r in match.reasons}
    assert codes["person_name.folded"].params == {"via": "diacritics"}
    assert codes["year.off_by_one"].params == {"diff": 1}
    assert codes["person_name.folded"].text("vi") == "họ tên trùng khi bỏ dấu"
    assert codes["year.off_by_one"].text("en") == "birth year differs by 1"


def test_match_to_dict_is_json_ready():
    data = score(outreach("a"), outreach("b"), OUTREACH).to_dict()
    json.dumps(data)
    assert data["decision"] == MATCH
    assert {"code", "field", "level", "weight", "params", "text"} <= set(
        data["reasons"][0]
    )
    assert set(data["reasons"][0]["text"]) == {"en", "vi"}


def test_missing_values_are_reasons_too():
    match = score(outreach("a"), outreach("b", gps=None), OUTREACH)
    gps = next(r for r in match.reasons if r.field == "gps")
    assert gps.code == "geopoint.missing" and gps.weight == 0
    assert gps.text("en") == "location missing on one or both records"


def test_without_consent_personal_fields_are_ignored():
    leaked = victim("b", consent="no")  # pii sent anyway: discarded (defence in depth)
    prepared = prepare(leaked, VICTIMS)
    names = [c.name for c in VICTIMS.comparisons]
    assert prepared.values[names.index("name")] is None
    assert prepared.values[names.index("birth_year")] is None


def test_score_refuses_records_of_another_form():
    with pytest.raises(FormMismatchError) as info:
        score(outreach("a"), victim("b"), OUTREACH)
    assert info.value.code == "linkage.form_mismatch"


def test_score_against_orders_best_first_and_skips_itself():
    new = outreach("n")
    candidates = [
        # the next day, another meeting point, another crowd
        outreach(
            "x",
            session_date="2026-07-04",
            gps="15.9009 107.5 400 5",
            n_total=300,
            n_women=100,
            n_men=100,
        ),
        outreach("y", village="Aur", gps=None, username="huyen1", deviceid="collect:b"),
        outreach("z"),
        outreach("n"),  # itself, e.g. already stored
    ]
    pairs = score_against(new, candidates, OUTREACH)
    assert [(p.a, p.b) for p in pairs] == [("n", "z"), ("n", "y")]
    assert pairs[0].match.score >= pairs[1].match.score
    everything = score_against(new, candidates, OUTREACH, include_non_matches=True)
    assert len(everything) == 3


def test_scan_yields_each_flagged_pair_once_with_stats():
    records = [
        outreach("a"),
        outreach("b", village="Ban A Xoo", username="huyen1", deviceid="collect:b"),
        outreach("c", session_date="2026-08-20"),
    ]
    stats: dict[str, int] = {}
    pairs = list(scan(records, OUTREACH, stats=stats))
    assert [(p.a, p.b) for p in pairs] == [("a", "b")]
    assert stats["records"] == 3 and stats["candidates"] == 1 and stats["yielded"] == 1
    assert len(list(scan(records, OUTREACH, include_non_matches=True))) == 1


def test_every_level_has_a_message_in_both_languages():
    from sync.linkage.comparators import COMPARATORS
    from sync.linkage.reasons import MESSAGES

    for name, cls in COMPARATORS.items():
        for level in cls.levels:
            code = f"{name}.{level}"
            if code == "person_name.folded":
                assert all(
                    f"{code}.{via}" in MESSAGES
                    for via in ("diacritics", "typing", "spacing")
                )
            else:
                assert code in MESSAGES, code
    assert all(en and vi for en, vi in MESSAGES.values())
