"""sync.linkage.rules: the rule-set files kept with the forms, and their validation."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sync.linkage import (
    RuleSetError,
    UnknownComparatorError,
    load_rule_sets,
    load_rules,
    rules_from_dict,
)

RULES = Path(__file__).resolve().parents[2] / "xlsforms" / "dedup"


def minimal() -> dict:
    """A small valid rule set, as the TOML document would parse."""
    return {
        "form_id": "outreach_session",
        "version": 1,
        "prior": -3.0,
        "thresholds": {"match": 0.95, "possible": 0.5},
        "fields": {
            "session_date": "/data/session/session_date",
            "commune": "/data/session/commune",
            "full_name": "/data/pii/full_name",
            "consent": "/data/consent_block/consent",
        },
        "pii": {"fields": ["full_name"], "consent_field": "consent"},
        "compare": [
            {
                "name": "date",
                "comparator": "date",
                "fields": ["session_date"],
                "params": {"close_days": 1},
                "weights": {"same_day": 2, "close": 0, "near": -4, "far": -9},
            },
            {
                "comparator": "commune",
                "fields": "commune",
                "weights": {"same": 1, "neighbour": -1, "different": -6, "missing": -1},
            },
        ],
        "blocking": {
            "max_block": 100,
            "passes": [
                {
                    "name": "commune_day",
                    "parts": [
                        {"kind": "commune", "field": "commune"},
                        {"kind": "day", "field": "session_date", "window": 1},
                    ],
                }
            ],
        },
    }


@pytest.mark.parametrize(
    "form_id", ["outreach_session", "victim_case", "staff_training"]
)
def test_shipped_rule_sets_load(form_id):
    rules = load_rules(RULES / f"{form_id}.toml")
    assert rules.form_id == form_id
    assert rules.comparisons and rules.passes
    assert 0 < rules.possible <= rules.match < 1
    for comparison in rules.comparisons:
        assert set(comparison.weights) == {*comparison.comparator.levels, "missing"}
        assert comparison.label.get("en") and comparison.label.get("vi")
    # every field the rules read has an XForm path
    assert all(path.startswith("/data/") for path in rules.field_paths.values())


def test_victim_case_personal_fields_are_the_pii_group():
    rules = load_rules(RULES / "victim_case.toml")
    assert rules.pii_fields == {
        name
        for name, path in rules.field_paths.items()
        if path.startswith("/data/pii/")
    }
    assert rules.consent == ("consent", "yes")
    names = {c.name: c for c in rules.comparisons}
    assert names["name"].pii and names["birth_year"].pii and not names["commune"].pii


def test_minimal_rules_and_defaults():
    rules = rules_from_dict(minimal())
    date, commune = rules.comparisons
    assert commune.name == "commune"  # defaults to the first field
    assert date.weights["missing"] == 0.0 and commune.weights["missing"] == -1.0
    assert date.comparator.params == {"close_days": 1, "near_days": 7}
    assert rules.max_block == 100


def _broken(path: tuple, value=None, delete=False) -> dict:
    data = copy.deepcopy(minimal())
    target = data
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (_broken(("form_id",), delete=True), "form_id"),
        (_broken(("colour",), "blue"), "unknown key(s) colour"),
        (_broken(("version",), 0), "positive integer"),
        (_broken(("thresholds", "possible"), 0.99), "possible <= match"),
        (_broken(("fields", "commune"), "commune"), "absolute XForm path"),
        (_broken(("compare",), []), "at least one [[compare]]"),
        (_broken(("compare", 0, "fields"), ["nope"]), "'nope' is not declared"),
        (
            _broken(("compare", 0, "weights", "far"), delete=True),
            "missing level(s) far",
        ),
        (_broken(("compare", 0, "weights", "later"), 1), "unknown key(s) later"),
        (_broken(("compare", 0, "weights", "far"), "low"), "must be a number"),
        (_broken(("compare", 0, "params", "close_days"), "one"), "expected int"),
        (
            _broken(("compare", 0, "params", "close_days"), 30),
            "close_days <= near_days",
        ),
        (_broken(("compare", 0, "params", "span"), 3), "unknown key(s) span"),
        (_broken(("compare", 1, "name"), "date"), "duplicate comparison name"),
        (_broken(("compare", 1, "fields"), ["commune", "session_date"]), "takes 1"),
        (_broken(("pii", "fields"), ["village"]), "'village' is not declared"),
        (_broken(("blocking", "max_block"), 1), "integer ≥ 2"),
        (_broken(("blocking", "passes"), []), "at least one [[blocking.passes]]"),
        (_broken(("blocking", "passes", 0, "name"), "commune day"), "alphanumeric"),
        (_broken(("blocking", "passes", 0, "parts", 1, "window"), "1"), "expected int"),
        (_broken(("blocking", "passes", 0, "parts", 0, "field"), "gps"), "'gps'"),
    ],
)
def test_invalid_rule_sets_are_refused_with_where_and_why(data, fragment):
    with pytest.raises(RuleSetError) as info:
        rules_from_dict(data, source="test.toml")
    assert info.value.code == "linkage.rules.invalid"
    assert "test.toml" in info.value.message
    assert fragment in info.value.message


def test_unknown_comparator_has_its_own_code():
    data = _broken(("compare", 0, "comparator"), "soundex")
    with pytest.raises(UnknownComparatorError) as info:
        rules_from_dict(data)
    assert info.value.code == "linkage.rules.unknown_comparator"
    assert "person_name" in info.value.message  # lists the known ones
    data = _broken(("blocking", "passes", 0, "parts", 0, "kind"), "metaphone")
    with pytest.raises(UnknownComparatorError):
        rules_from_dict(data)


def test_load_rules_reports_bad_toml_and_missing_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("form_id = \n", encoding="utf-8")
    with pytest.raises(RuleSetError, match="bad.toml: TOML"):
        load_rules(bad)
    with pytest.raises(RuleSetError, match="file"):
        load_rules(tmp_path / "absent.toml")


def test_bind_makes_adjacency_symmetric_and_changes_fingerprints():
    rules = rules_from_dict(minimal())
    bound = rules.bind(neighbours={"20455": ["20458"]}, secret="s3cret")
    assert bound.neighbours == {"20455": {"20458"}, "20458": {"20455"}}
    assert bound.secret == b"s3cret"
    assert bound.comparisons[1].comparator.level("20458", "20455") == "neighbour"
    assert rules.blocking_fingerprint != bound.blocking_fingerprint
    assert rules.fingerprint != bound.fingerprint
    # rebinding only the secret keeps the adjacency
    again = bound.bind(secret=b"other")
    assert again.neighbours == bound.neighbours
    assert again.blocking_fingerprint != bound.blocking_fingerprint
    # weights change the scoring fingerprint, not the blocking one
    heavier = _broken(("compare", 0, "weights", "same_day"), 3)
    assert rules_from_dict(heavier).fingerprint != rules.fingerprint
    assert rules_from_dict(heavier).blocking_fingerprint == rules.blocking_fingerprint


def test_consent_gate_hides_personal_fields():
    rules = rules_from_dict(minimal())
    fields = {"consent": "no", "full_name": "Hồ Thị Lan", "commune": "20455"}
    assert rules.visible(fields) == {"consent": "no", "commune": "20455"}
    assert rules.visible({**fields, "consent": "yes"})["full_name"] == "Hồ Thị Lan"


def test_load_rule_sets_keys_by_form_and_checks_file_names(tmp_path):
    sets = load_rule_sets(RULES, neighbours={"20455": ["20458"]}, secret=b"k")
    assert set(sets) == {"outreach_session", "victim_case", "staff_training"}
    assert all(r.secret == b"k" and r.neighbours for r in sets.values())
    (tmp_path / "victim_case.toml").write_text(
        (RULES / "outreach_session.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(RuleSetError, match="does not match the file name"):
        load_rule_sets(tmp_path)
