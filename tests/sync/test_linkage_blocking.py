"""sync.linkage.blocking: stored keys, probe keys, batch candidate pairs."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from sync.linkage import (
    FormMismatchError,
    KeyIndex,
    Record,
    SecretRequiredError,
    blocking_keys,
    candidate_pairs,
    load_rules,
    probe_keys,
)

RULES = Path(__file__).resolve().parents[2] / "xlsforms" / "dedup"
NEIGHBOURS = {"20455": {"20458", "20443"}, "20458": {"20467"}}
OUTREACH = load_rules(RULES / "outreach_session.toml", neighbours=NEIGHBOURS)
VICTIMS = load_rules(RULES / "victim_case.toml", neighbours=NEIGHBOURS, secret=b"k")


def session(record_id, **fields):
    base = {
        "session_date": "2026-07-03",
        "commune": "20455",
        "village": "Thôn Aur",
        "gps": "15.9000 107.5000 400 5",
    }
    base.update(fields)
    return Record(record_id, "outreach_session", {k: v for k, v in base.items() if v})


def victim(record_id, **fields):
    base = {
        "consent": "yes",
        "full_name": "Hồ Thị Lan",
        "birth_year": 2004,
        "commune": "20455",
        "sex": "female",
        "case_code": "BPTG-2026-017",
        "id_date": "2026-07-03",
        "age_band": "18_29",
    }
    base.update(fields)
    return Record(record_id, "victim_case", {k: v for k, v in base.items() if v})


def related(a, b, rules):
    """What the server does: b's probe keys looked up among a's stored keys."""
    return bool(probe_keys(b, rules) & blocking_keys(a, rules))


def test_keys_are_hashed_and_named_by_pass():
    keys = blocking_keys(session("a", village="Thôn Pà Lai"), OUTREACH)
    assert {key.split(":")[0] for key in keys} == {
        "commune_day",
        "gps_day",
        "village_day",
    }
    assert len(keys) == 3  # one stored key per pass: cheap to index
    # "Aur" may also be Telex for "Âu" (r = the hỏi key): one more key
    assert len(blocking_keys(session("a", village="Aur"), OUTREACH)) == 4
    assert all(len(key.split(":")[1]) == 24 for key in keys)
    assert len(probe_keys(session("a"), OUTREACH)) > len(keys)
    assert blocking_keys(session("a"), OUTREACH) <= probe_keys(session("a"), OUTREACH)


def test_personal_keys_need_a_secret_and_hide_the_name():
    unkeyed = load_rules(RULES / "victim_case.toml")
    with pytest.raises(SecretRequiredError) as info:
        blocking_keys(victim("a"), unkeyed)
    assert info.value.code == "linkage.secret_required"
    keys = blocking_keys(victim("a"), VICTIMS)
    assert not any("lan" in key or "2004" in key for key in keys)
    other = VICTIMS.bind(secret=b"another")
    assert blocking_keys(victim("a"), other).isdisjoint(keys)


def test_keys_refuse_a_record_of_another_form():
    with pytest.raises(FormMismatchError):
        blocking_keys(victim("a"), OUTREACH)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, True),
        ({"session_date": "2026-07-04"}, True),  # a day later
        ({"session_date": "2026-07-05"}, False),  # two days later
        ({"commune": "20458", "gps": None}, True),  # neighbour commune, same village
        ({"commune": "20458", "gps": None, "village": "Thôn Ating"}, False),
        ({"commune": "20467", "village": "Thôn Ating"}, True),  # not a neighbour, GPS
        (
            {"commune": "20467", "village": "Thôn Ating", "gps": "15.92 107.5 0 5"},
            False,
        ),
        ({"village": "Aur", "gps": None}, True),
    ],
    ids=[
        "same",
        "next-day",
        "two-days",
        "neighbour-village",
        "neighbour-other-village",
        "gps-cell",
        "gps-2km",
        "no-gps",
    ],
)
def test_outreach_candidates(change, expected):
    a, b = session("a"), session("b", **change)
    assert related(a, b, OUTREACH) is expected
    assert related(b, a, OUTREACH) is expected  # symmetric
    assert bool(list(candidate_pairs([a, b], OUTREACH))) is expected


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"full_name": "Ho Thi Lan"}, True),
        ({"full_name": "Hoof Thij Lan", "birth_year": 2005}, True),
        ({"full_name": "Lan Hồ Thị", "commune": "20467"}, True),  # given name first
        ({"full_name": "Hồ Thị Lna", "case_code": "HLPN-2026-00045"}, True),  # typo
        (
            {
                "full_name": "Hồ Thị Hoa",
                "birth_year": 1990,
                "case_code": "X-1",
                "commune": "20467",
                "id_date": "2025-01-01",
            },
            False,
        ),
        ({"consent": "no", "case_code": "HLPN-2026-00045"}, True),  # no name: anonymous
    ],
    ids=["no-diacritics", "telex", "given-first", "typo", "other-person", "no-consent"],
)
def test_victim_candidates(change, expected):
    a, b = victim("a"), victim("b", **change)
    assert related(a, b, VICTIMS) is expected
    assert related(b, a, VICTIMS) is expected


def test_batch_pairs_equal_incremental_lookups():
    """candidate_pairs() finds exactly what a key table finds, one record at a time."""
    rng = random.Random(7)
    villages = ["Thôn Aur", "Aur", "Bản A Xòo", "Thôn 3", "Thôn Pà Lai"]
    records = [
        session(
            f"r{i}",
            session_date=f"2026-07-{rng.randint(1, 6):02d}",
            commune=rng.choice(["20455", "20458", "20443", "20467"]),
            village=rng.choice(villages),
            gps=rng.choice(
                [None, f"15.9{rng.randint(0, 30):02d} 107.5{rng.randint(0, 9)} 0 5"]
            ),
        )
        for i in range(60)
    ]
    batch = {tuple(sorted(p)) for p in candidate_pairs(records, OUTREACH)}
    index = KeyIndex(max_block=OUTREACH.max_block)
    incremental = set()
    for record in records:
        for other in index.lookup(probe_keys(record, OUTREACH)):
            incremental.add(tuple(sorted((record.record_id, other))))
        index.add(record.record_id, blocking_keys(record, OUTREACH))
    assert batch == incremental
    assert batch  # the sample does have candidates
    assert len(batch) < len(list(itertools.combinations(records, 2)))


def test_key_index_add_discard_and_cap():
    index = KeyIndex(max_block=2)
    index.add("a", {"k1", "k2"})
    index.add("b", {"k1"})
    assert index.lookup({"k1"}) == {"a", "b"}
    index.add("c", {"k1", "k3"})
    assert index.lookup({"k1"}) == set()  # three records: an oversized block
    assert index.lookup({"k1", "k3"}) == {"c"}
    index.discard("c")
    assert index.lookup({"k1"}) == {"a", "b"}
    index.add("a", {"k3"})  # re-keyed after an edit
    assert index.lookup({"k2"}) == set() and index.lookup({"k3"}) == {"a"}
    assert len(index) == 2


def test_oversized_blocks_are_skipped_in_batch():
    rules = OUTREACH.bind()
    object.__setattr__(rules, "max_block", 2)
    records = [session(f"r{i}", gps=None) for i in range(4)]  # one block of four
    assert list(candidate_pairs(records, rules)) == []
    assert len(list(candidate_pairs(records[:2], rules))) == 1
