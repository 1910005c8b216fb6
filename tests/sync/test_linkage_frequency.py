"""sync.linkage: term-frequency adjustment (a common name or code weighs less).

"Nguyễn Thị Hoa" and the code "NH2004" are shared by many women in a Kinh commune;
"Zơrâm Thị Pết" and "ZP1998" by almost nobody. Agreeing on the rare value is
stronger evidence, and the adjustment is computed from counts of the records
being compared, never from a list kept in the code.
"""

from __future__ import annotations

import copy
import math

import pytest

from sync.linkage import (
    RuleSetError,
    TermCounts,
    count_terms,
    rules_from_dict,
    scan,
    score,
    score_against,
)
from sync.linkage.comparators import LinkCodeComparator, PersonNameComparator
from sync.linkage.linkcode import derive_link_code, parse_link_code
from sync.linkage.normalise import parse_name
from tests.sync.test_linkage_blocking import OUTREACH, VICTIMS, victim
from tests.sync.test_linkage_linkcode import anonymous

NAME = LinkCodeComparator({}, {}), PersonNameComparator({}, {})


def _weight(match, field: str) -> float:
    return next(r.weight for r in match.reasons if r.field == field)


def _level_weight(field: str, level: str) -> float:
    return next(c for c in VICTIMS.comparisons if c.name == field).weights[level]


def _crowd(commune: str = "20455") -> list:
    """Ten women called Nguyễn Thị Hoa (code NH) in one commune, born 1990-1999."""
    return [
        victim(
            f"hoa{i}",
            full_name="Nguyễn Thị Hoa",
            birth_year=1990 + i,
            commune=commune,
            case_code=f"BPTG-2026-{100 + i}",
        )
        for i in range(10)
    ]


def _others(n: int = 30) -> list:
    """Other women with other names and initials, in other communes."""
    given = ["Lan", "Mai", "Dung", "Thắng", "Phơ", "Bình", "Kim", "Xuân", "Yến", "Quế"]
    family = ["Hồ", "Bríu", "Alăng", "Pơloong", "Trần", "Lê"]
    return [
        victim(
            f"o{i}",
            full_name=f"{family[i % 6]} Thị {given[i % 10]}",
            birth_year=1985 + i % 20,
            commune=["20458", "20443", "20467"][i % 3],
            case_code=f"HLPN-2026-{200 + i}",
        )
        for i in range(n)
    ]


# -- what a comparator counts --------------------------------------------------


@pytest.mark.parametrize(
    ("code", "terms"),
    [
        (parse_link_code("NH2004"), ("nh",)),
        (derive_link_code("Nguyễn Thị Hoa", 2004), ("nh",)),
        (derive_link_code("Đinh Thị Út", 2001), ("du",)),  # Đ as D, no diacritics
        (derive_link_code("A Lăng Văn Thắng", 1999), ("at", "lt")),  # both splits
        (derive_link_code("Zơrâm Thị Pết", 1998), ("rp", "zp")),
    ],
    ids=["typed", "derived", "dj", "a-lang", "zoram"],
)
def test_link_code_terms_are_the_initials(code, terms):
    assert NAME[0].terms(code) == terms


def test_link_code_agreed_term_is_the_shared_initials():
    typed, derived = parse_link_code("LT1999"), derive_link_code("A Lăng Văn Thắng")
    assert NAME[0].agreed(typed, derived, "same") == "lt"
    assert NAME[0].agreed(parse_link_code("LH1999"), derived, "one_initial") is None


def test_name_terms_fold_diacritics_and_typing():
    marked, plain = parse_name("Nguyễn Thị Hoa"), parse_name("NGUYEN THI HOA")
    assert NAME[1].terms(marked) == ("nguyenthihoa",)
    assert NAME[1].agreed(marked, plain, "folded") == "nguyenthihoa"
    assert NAME[1].agreed(marked, parse_name("Nguyễn Thị Hòa"), "accent_conflict")
    assert NAME[1].agreed(marked, parse_name("Nguyễn Thị Lan"), "different") is None


# -- the adjustment ------------------------------------------------------------


def test_without_counts_the_level_weights_apply():
    a, b = _crowd()[:2]
    match = score(a, b, VICTIMS)
    assert _weight(match, "name") == _level_weight("name", "exact")


def test_common_name_weighs_less_than_a_rare_one():
    rare = [
        victim("z1", full_name="Zơrâm Thị Pết", birth_year=1998, commune="20443"),
        victim(
            "z2",
            full_name="Zơrâm Thị Pết",
            birth_year=1998,
            commune="20443",
            case_code="HLPN-2026-777",
        ),
    ]
    records = [*_crowd(), *_others(), *rare]
    counts = count_terms(records, VICTIMS)
    common = score(records[0], records[1], VICTIMS, counts=counts)
    uncommon = score(rare[0], rare[1], VICTIMS, counts=counts)
    exact = _level_weight("name", "exact")
    assert _weight(common, "name") < exact < _weight(uncommon, "name")
    cap = next(c for c in VICTIMS.comparisons if c.name == "name").tf.cap
    assert exact - cap <= _weight(common, "name")
    assert _weight(uncommon, "name") <= exact + cap


def test_code_common_in_the_commune_weighs_less_than_elsewhere():
    """NH2004 said without consent: many NH in this commune, none in the other."""
    crowd = _crowd("20455")
    here = anonymous("x1", "NH1995", commune="20455", age_band="30_plus")
    there = anonymous("x2", "NH1995", commune="20467", age_band="30_plus")
    lone = victim(
        "y", full_name="Nông Thị Hạnh", birth_year=1995, commune="20467", case_code="C"
    )
    counts = count_terms([*crowd, *_others(), here, there, lone], VICTIMS)
    crowded = score(here, crowd[5], VICTIMS, counts=counts)  # Nguyễn Thị Hoa 1995
    quiet = score(there, lone, VICTIMS, counts=counts)
    assert {_level(crowded), _level(quiet)} == {"same"}
    # NH is common in the whole (toy) form too, so both lose weight; less so where
    # the commune has no other NH
    same = _level_weight("link_code", "same")
    assert _weight(crowded, "link_code") < _weight(quiet, "link_code") < same


def _level(match) -> str:
    return next(r.level for r in match.reasons if r.field == "link_code")


def test_a_value_shared_only_by_the_pair_counts_as_rare():
    """The pair's own two records are left out: two registrations of one rare name
    must not make it look common."""
    pair = [
        victim("p1", full_name="Hôih Thị Phơ", commune="20458"),
        victim("p2", full_name="Hôih Thị Phơ", commune="20458", case_code="X"),
    ]
    counts = count_terms([*_crowd(), *_others(), *pair], VICTIMS)
    match = score(*pair, VICTIMS, counts=counts)
    assert _weight(match, "name") > _level_weight("name", "exact")


def test_counts_add_and_remove_are_inverse():
    records = [*_crowd(), *_others()]
    counts = count_terms(records, VICTIMS)
    before = score(records[0], records[1], VICTIMS, counts=counts).weight
    extra = victim("new", full_name="Nguyễn Thị Hoa", birth_year=1970, case_code="N")
    counts.add(extra)
    during = score(records[0], records[1], VICTIMS, counts=counts).weight
    counts.remove(extra)
    after = score(records[0], records[1], VICTIMS, counts=counts).weight
    assert during < before  # one more Hoa: a little more common
    assert math.isclose(before, after)


def test_batch_and_incremental_agree_with_the_same_counts():
    """scan(term_frequencies=True) scores as score_against does with counts of all
    records, the new one included (what a server passes)."""
    records = [*_crowd(), *_others()]
    batch = {
        (p.a, p.b): p.match.weight
        for p in scan(records, VICTIMS, include_non_matches=True, term_frequencies=True)
    }
    counts = count_terms(records, VICTIMS)
    new, stored = records[3], [r for r in records if r is not records[3]]
    for pair in score_against(new, stored, VICTIMS, counts=counts):
        assert math.isclose(pair.match.weight, batch[pair.a, pair.b])


def test_counts_of_another_rule_set_are_refused():
    counts = TermCounts(OUTREACH)
    with pytest.raises(ValueError, match="do not fit"):
        score(*_crowd()[:2], VICTIMS, counts=counts)


def test_outreach_rules_have_no_term_frequencies():
    """Outreach sessions are scored exactly as before (no tf table)."""
    assert all(c.tf is None for c in OUTREACH.comparisons)


# -- the rule format -----------------------------------------------------------


def _with_tf(tf: dict, name: str = "link_code"):
    raw = copy.deepcopy(dict(VICTIMS.raw))
    for entry in raw["compare"]:
        entry.pop("tf", None)
        if entry["name"] == name:
            entry["tf"] = tf
    return rules_from_dict(raw, source="victim_case.toml")


def test_tf_table_is_read():
    rules = _with_tf({"levels": ["same"], "scope": "commune", "scale": 0.5, "cap": 2})
    tf = next(c for c in rules.comparisons if c.name == "link_code").tf
    assert (tf.levels, tf.scope_name, tf.scale, tf.cap) == (
        frozenset({"same"}),
        "commune",
        0.5,
        2.0,
    )


@pytest.mark.parametrize(
    ("tf", "name", "message"),
    [
        ({"levels": ["same"]}, "sex", "has no term frequencies"),
        ({"levels": ["similar"]}, "link_code", "levels of 'link_code'"),
        ({"levels": []}, "link_code", "non-empty list"),
        ({"levels": ["same"], "scope": "district"}, "link_code", "another comparison"),
        ({"levels": ["same"], "scope": "link_code"}, "link_code", "another comparison"),
        ({"levels": ["same"], "scale": 2}, "link_code", "between 0 and 1"),
        ({"levels": ["same"], "cap": -1}, "link_code", "≥ 0"),
        ({"levels": ["same"], "weight": 1}, "link_code", "unknown key"),
    ],
    ids=["no-terms", "level", "empty", "scope", "self", "scale", "cap", "key"],
)
def test_invalid_tf_table(tf, name, message):
    with pytest.raises(RuleSetError, match=message):
        _with_tf(tf, name)
