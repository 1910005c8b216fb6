"""sync.linkage: the pseudonymous linkage code of registrations without consent.

A victim who declines to have their name recorded gives only "HL2004" (family
initial, given-name initial, birth year). The engine derives the same code from the
full name and birth year of a registration with consent, so the two can be linked,
and the code stays personal data: never in reasons, blocking keys keyed hashes.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sync.linkage import (
    Record,
    RuleSetError,
    SecretRequiredError,
    blocking_keys,
    load_rules,
    probe_keys,
    rules_from_dict,
    score,
)
from sync.linkage.comparators import LinkCodeComparator
from sync.linkage.linkcode import derive_link_code, link_code, parse_link_code
from tests.sync.test_linkage_blocking import victim

RULES = Path(__file__).resolve().parents[2] / "xlsforms" / "dedup"
NEIGHBOURS = {"20455": {"20458", "20443"}}
VICTIMS = load_rules(RULES / "victim_case.toml", neighbours=NEIGHBOURS, secret=b"k")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("HL2004", ({"h"}, "l", 2004)),
        ("hl 2004", ({"h"}, "l", 2004)),  # lower case, a space
        ("H-L-2004", ({"h"}, "l", 2004)),
        ("Đl2004", ({"d"}, "l", 2004)),  # Đ typed with the Vietnamese keyboard
        ("HL04", None),  # two-digit year
        ("H2004", None),
        ("HLA2004", None),
        ("", None),
        (2004, None),
        (None, None),
    ],
    ids=["plain", "lower", "dashes", "d-stroke", "short-year", "one-letter",
         "three-letters", "empty", "number", "none"],
)  # fmt: skip
def test_parse_link_code(typed, expected):
    code = parse_link_code(typed)
    if expected is None:
        assert code is None
    else:
        assert (set(code.family), code.given, code.year) == expected
        assert not code.derived


@pytest.mark.parametrize(
    ("name", "family", "given"),
    [
        ("Hồ Thị Lan", {"h"}, "l"),
        ("Ho Thi Lan", {"h"}, "l"),
        ("HỒ T. LAN", {"h"}, "l"),  # middle initial, capitals
        ("Hoof Thij Lan", {"h"}, "l"),  # Telex with the input method off
        ("Ho62 Thi5 Lan", {"h"}, "l"),  # VNI
        ("Đinh Thị Mé", {"d"}, "m"),
        ("Nguyễn Lan", {"n"}, "l"),  # no middle name
        # Cơ Tu family names: the person may give the main syllable's letter
        ("A Lăng Văn Thắng", {"a", "l"}, "t"),
        ("Alăng Văn Thắng", {"a", "l"}, "t"),
        ("Ating Thị Bíp", {"a", "t"}, "b"),
        ("Zơ Râm Thị Dung", {"z", "r"}, "d"),
        ("Zơrâm Thị Dung", {"z", "r"}, "d"),
        ("Pơloong Thị Mai", {"p", "l"}, "m"),
        ("Bh'riu Thị Phơ", {"b"}, "p"),
    ],
)
def test_derive_link_code_from_vietnamese_names(name, family, given):
    code = derive_link_code(name, "2004")
    assert (set(code.family), code.given, code.year, code.derived) == (
        family,
        given,
        2004,
        True,
    )


def test_derive_link_code_needs_a_family_and_a_given_name():
    assert derive_link_code("Lan", 2004) is None
    assert derive_link_code("Hồ Thị L.", 2004) is None  # the given name is an initial
    assert derive_link_code(None, 2004) is None
    assert derive_link_code("Hồ Thị Lan").year is None  # birth year unknown
    # a typed code wins over the name
    assert link_code("NH2001", "Hồ Thị Lan", 2004).family == {"n"}


COMPARATOR = LinkCodeComparator({}, {})


def _level(a: tuple, b: tuple) -> str:
    return COMPARATOR.level(COMPARATOR.prepare(a), COMPARATOR.prepare(b))


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        (("HL2004",), (None, "Hồ Thị Lan", 2004), "same"),
        (("HL2004",), (None, "Ho Thi Lan", "2005"), "off_by_one"),
        (("HL2004",), (None, "Hồ Thị Lan", 2006), "initials"),
        (("HL2004",), (None, "Hồ Thị Lan", None), "initials"),  # year unknown
        (("HL2004",), (None, "Hồ Thị Lan", 2009), "different"),
        (("HB2004",), (None, "Hồ Thị Lan", 2004), "one_initial"),  # "Bé", a nickname
        (("HB2004",), (None, "Hồ Thị Lan", 2007), "different"),
        (("LT1999",), (None, "A Lăng Văn Thắng", 1999), "same"),  # main syllable
        (("AT1999",), (None, "Alăng Văn Thắng", 1999), "same"),
        (("AT1999",), ("at 1999",), "same"),  # two registrations without consent
        (("NH2004",), (None, "Hồ Thị Lan", 2004), "different"),
        ((None, "Hồ Thị Lan", 2004), (None, "Hồ Thị Liên", 2004), "named"),
    ],
    ids=["same", "year-1", "year-2", "year-unknown", "year-5", "nickname",
         "nickname-far", "co-tu-main-syllable", "co-tu-joined", "typed-typed",
         "other-person", "both-named"],
)  # fmt: skip
def test_link_code_levels(a, b, level):
    assert _level(a, b) == level
    assert _level(b, a) == level  # symmetric


def anonymous(record_id: str, code: str | None, **fields) -> Record:
    """A registration without consent: no name, perhaps a linkage code."""
    values = {
        "consent": "no",
        "full_name": None,
        "birth_year": None,
        "link_code": code,
        "case_code": "HLPN-2026-045",
        "id_date": "2026-07-09",
    }
    return victim(record_id, **{**values, **fields})


def test_code_links_a_registration_with_consent_and_one_without():
    match = score(victim("a"), anonymous("b", "HL2004"), VICTIMS)
    reasons = {r.field: r for r in match.reasons}
    assert reasons["link_code"].code == "link_code.same"
    assert reasons["name"].level == "missing"
    assert match.decision != "non-match"
    # without the code the same pair stays below the bar
    assert score(victim("a"), anonymous("b", None), VICTIMS).decision == "non-match"
    # a sister in the same commune gives another code
    sister = score(victim("a"), anonymous("c", "HM2006"), VICTIMS)
    assert {r.field: r.level for r in sister.reasons}["link_code"] == "different"
    assert sister.decision == "non-match"


def test_code_never_appears_in_reasons():
    match = score(victim("a"), anonymous("b", "HL2005"), VICTIMS)
    reason = next(r for r in match.reasons if r.field == "link_code")
    assert reason.level == "off_by_one"
    text = " ".join(reason.to_dict()["text"].values()) + repr(reason.params)
    assert "HL" not in text and "2004" not in text and "2005" not in text
    assert "mã liên kết" in reason.text("vi")


def test_code_is_read_without_consent_but_the_name_is_not():
    rules = VICTIMS
    assert rules.pseudonymous_fields == {"link_code"}
    assert "link_code" in rules.personal_fields
    seen = rules.visible(anonymous("b", "HL2004", full_name="Hồ Thị Lan").fields)
    assert "link_code" in seen and "full_name" not in seen
    comparison = next(c for c in rules.comparisons if c.name == "link_code")
    assert comparison.pii


def test_code_blocking_keys_link_consent_and_no_consent_and_are_hashed():
    with_consent, without = victim("a"), anonymous("b", "HL2005")
    assert probe_keys(without, VICTIMS) & blocking_keys(with_consent, VICTIMS)
    assert probe_keys(with_consent, VICTIMS) & blocking_keys(without, VICTIMS)
    keys = blocking_keys(without, VICTIMS)
    link_keys = {k for k in keys if k.startswith("link_code:")}
    assert len(link_keys) == 1
    assert not any("hl" in k.lower().split(":")[1] or "2005" in k for k in keys)
    # "A Lăng" is stored under both family initials
    cotu = victim("c", full_name="A Lăng Văn Thắng", birth_year=1999)
    assert len({k for k in blocking_keys(cotu, VICTIMS) if "link_code" in k}) == 2
    assert probe_keys(anonymous("d", "LT1999"), VICTIMS) & blocking_keys(cotu, VICTIMS)
    # another commune, not a neighbour: no shared code key
    far = anonymous("e", "HL2004", commune="20467")
    far_keys = {k for k in probe_keys(far, VICTIMS) if k.startswith("link_code:")}
    assert far_keys.isdisjoint(blocking_keys(with_consent, VICTIMS))


def _minimal_with_code() -> dict:
    return {
        "form_id": "victim_case",
        "fields": {
            "consent": "/data/consent_block/consent",
            "full_name": "/data/pii/full_name",
            "link_code": "/data/link/link_code",
        },
        "pii": {
            "fields": ["full_name"],
            "consent_field": "consent",
            "pseudonymous": ["link_code"],
        },
        "compare": [
            {
                "comparator": "link_code",
                "fields": ["link_code", "full_name"],
                "weights": {
                    "same": 9,
                    "off_by_one": 6,
                    "initials": 3,
                    "one_initial": 0,
                    "different": -4,
                    "named": 0,
                },
            }
        ],
        "blocking": {
            "passes": [
                {
                    "name": "code",
                    "parts": [
                        {"kind": "link_code", "field": "link_code", "name": "full_name"}
                    ],
                }
            ]
        },
    }


def test_pseudonymous_pass_needs_a_secret():
    rules = rules_from_dict(_minimal_with_code())
    record = Record("a", "victim_case", {"consent": "no", "link_code": "HL2004"})
    with pytest.raises(SecretRequiredError) as info:
        blocking_keys(record, rules)
    assert "link_code" in str(info.value)
    assert blocking_keys(record, rules.bind(secret="s"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["pii"].update(pseudonymous=["full_name"]), "pii.pseudonymous"),
        (lambda d: d["pii"].update(pseudonymous=["nope"]), "not declared"),
        (
            lambda d: d["blocking"]["passes"][0]["parts"][0].update(year="nope"),
            "not declared",
        ),
    ],
    ids=["also-pii", "unknown-field", "unknown-part-field"],
)
def test_rule_set_checks_the_code_fields(change, message):
    data = copy.deepcopy(_minimal_with_code())
    change(data)
    with pytest.raises(RuleSetError, match=message):
        rules_from_dict(data)
