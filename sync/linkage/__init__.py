"""Record linkage: find submissions that describe the same session or person.

Pure library (stdlib + rapidfuzz). A server uses it in two ways:

* **on arrival** of one submission: ``record_from_xml`` (or a flat dict in a
  :class:`Record`), store ``blocking_keys(record, rules)``, look up the ids stored under
  ``probe_keys(record, rules)``, then ``score_against(record, candidates, rules)``;
* **batch**: ``scan(records, rules)`` yields every ``match``/``possible`` pair once
  (``term_frequencies=True``: a common value weighs less, :mod:`.frequency`);
  ``cluster(pairs, never=...)`` groups them so indicators count each cluster once.

Rule sets live beside the forms (``xlsforms/dedup/<form_id>.toml``) and are read with
``load_rules(path).bind(neighbours=..., secret=...)``. Registrations without consent
can carry a pseudonymous linkage code ("HL2004", :mod:`sync.linkage.linkcode`), which
the engine compares with the code derived from a consented record's name.
"""

from sync.linkage.blocking import KeyIndex, blocking_keys, candidate_pairs, probe_keys
from sync.linkage.cluster import Cluster, cluster
from sync.linkage.comparators import COMPARATORS, haversine_m
from sync.linkage.errors import (
    FormMismatchError,
    LinkageError,
    RuleSetError,
    SecretRequiredError,
    UnknownComparatorError,
)
from sync.linkage.frequency import TermCounts, count_terms
from sync.linkage.linkcode import LinkCode, derive_link_code, parse_link_code
from sync.linkage.normalise import fold, parse_name, telex_fold, vni_fold
from sync.linkage.record import Prepared, Record, prepare, record_from_xml
from sync.linkage.rules import RuleSet, load_rule_sets, load_rules, rules_from_dict
from sync.linkage.scoring import (
    MATCH,
    NON_MATCH,
    POSSIBLE,
    Match,
    Reason,
    ScoredPair,
    scan,
    score,
    score_against,
)

__all__ = [
    "COMPARATORS",
    "MATCH",
    "NON_MATCH",
    "POSSIBLE",
    "Cluster",
    "FormMismatchError",
    "KeyIndex",
    "LinkCode",
    "LinkageError",
    "Match",
    "Prepared",
    "Reason",
    "Record",
    "RuleSet",
    "RuleSetError",
    "ScoredPair",
    "SecretRequiredError",
    "TermCounts",
    "UnknownComparatorError",
    "blocking_keys",
    "candidate_pairs",
    "cluster",
    "count_terms",
    "derive_link_code",
    "fold",
    "haversine_m",
    "load_rule_sets",
    "load_rules",
    "parse_link_code",
    "parse_name",
    "prepare",
    "probe_keys",
    "record_from_xml",
    "rules_from_dict",
    "scan",
    "score",
    "score_against",
    "telex_fold",
    "vni_fold",
]
