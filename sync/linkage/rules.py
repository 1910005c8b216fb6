"""Declarative per-form dedup rule sets (TOML files kept with the forms).

A rule set names the fields (and their XForm paths), how to compare each, the weight
of every agreement level, the decision thresholds and the blocking passes. See
``xlsforms/dedup/README.md`` for the format. :func:`load_rules` validates everything
and raises :class:`~sync.linkage.errors.RuleSetError` (stable ``code``) naming the
entry at fault; :meth:`RuleSet.bind` adds the data a server knows at run time (the
commune adjacency from the geo layer, the secret for the stored blocking keys).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tomllib
import typing as t
from collections.abc import Mapping
from pathlib import Path

from sync.linkage.blocking import PART_KINDS, BlockingPart
from sync.linkage.comparators import COMPARATORS, MISSING, Comparator
from sync.linkage.errors import RuleSetError, UnknownComparatorError
from sync.linkage.frequency import TfConfig

__all__ = [
    "BlockingPass",
    "Comparison",
    "RuleSet",
    "load_rule_sets",
    "load_rules",
    "rules_from_dict",
]

_TOP_KEYS = {
    "form_id",
    "version",
    "description",
    "prior",
    "thresholds",
    "fields",
    "pii",
    "compare",
    "blocking",
}
_COMPARE_KEYS = {"name", "comparator", "fields", "params", "weights", "label", "tf"}
_TF_KEYS = {"levels", "scope", "smoothing", "scale", "cap"}


@dataclasses.dataclass(frozen=True, slots=True)
class Comparison:
    """One line of evidence: a comparator over some fields, with level weights."""

    name: str
    comparator: Comparator
    fields: tuple[str, ...]
    weights: Mapping[str, float]  # every level of the comparator, plus "missing"
    pii: bool  # reads a personal field: reasons carry no values
    label: Mapping[str, str]  # language -> field label for messages
    tf: TfConfig | None = None  # term-frequency adjustment (sync.linkage.frequency)


@dataclasses.dataclass(frozen=True, slots=True)
class BlockingPass:
    """Records that agree on every part of one pass become candidates."""

    name: str
    parts: tuple[BlockingPart, ...]
    pii: bool


@dataclasses.dataclass(frozen=True, slots=True)
class RuleSet:
    """A validated rule set for one form, optionally bound to run-time data."""

    form_id: str
    version: int
    description: str
    prior: float  # log2 odds that a blocked pair is a duplicate, before evidence
    match: float  # probability thresholds
    possible: float
    field_paths: Mapping[str, str]
    pii_fields: frozenset[str]
    consent: tuple[str, str] | None  # (field, value) that unlocks the pii fields
    comparisons: tuple[Comparison, ...]
    passes: tuple[BlockingPass, ...]
    max_block: int
    source: str
    raw: Mapping[str, t.Any] = dataclasses.field(repr=False)
    neighbours: Mapping[str, frozenset[str]] = dataclasses.field(
        default_factory=dict, repr=False
    )
    secret: bytes | None = dataclasses.field(default=None, repr=False)
    # personal fields asked only WITHOUT consent (a pseudonymous linkage code): read
    # whatever the consent answer, but treated like pii (no values in reasons, keyed
    # blocking keys)
    pseudonymous_fields: frozenset[str] = frozenset()

    @property
    def personal_fields(self) -> frozenset[str]:
        """Every personal field: the consent-gated ones and the pseudonymous ones."""
        return self.pii_fields | self.pseudonymous_fields

    def bind(
        self,
        *,
        neighbours: Mapping[str, t.Iterable[str]] | None = None,
        secret: bytes | str | None = None,
    ) -> RuleSet:
        """A copy bound to a commune adjacency (code → neighbour codes) and a secret.

        The adjacency is made symmetric. The secret keys the hash of stored blocking
        keys (required when a blocking pass reads a personal field).
        """
        graph = {k: set(v) for k, v in self.neighbours.items()}
        if neighbours is not None:
            graph = {}
            for code, others in neighbours.items():
                for other in others:
                    if str(other) != str(code):
                        graph.setdefault(str(code), set()).add(str(other))
                        graph.setdefault(str(other), set()).add(str(code))
        frozen = {k: frozenset(v) for k, v in graph.items()}
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        return _build(
            self.raw, self.source, frozen, secret if secret is not None else self.secret
        )

    def visible(self, fields: Mapping[str, t.Any]) -> Mapping[str, t.Any]:
        """The fields the engine may read: personal ones only with consent."""
        if self.consent is None or not self.pii_fields:
            return fields
        name, value = self.consent
        if str(fields.get(name, "")).strip() == value:
            return fields
        return {k: v for k, v in fields.items() if k not in self.pii_fields}

    @property
    def blocking_fingerprint(self) -> str:
        """Changes whenever stored blocking keys must be recomputed."""
        return _digest(
            {
                "form_id": self.form_id,
                "blocking": self.raw.get("blocking"),
                "fields": self.raw.get("fields"),
                "pii": self.raw.get("pii"),
                "neighbours": {
                    k: sorted(v) for k, v in sorted(self.neighbours.items())
                },
                "secret": hashlib.blake2b(
                    self.secret or b"", digest_size=8
                ).hexdigest(),
            }
        )

    @property
    def fingerprint(self) -> str:
        """Changes whenever stored scores or decisions may change (any rule)."""
        return _digest({"rules": self.raw, "blocking": self.blocking_fingerprint})


def _digest(value: t.Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_rules(
    path: str | Path,
    *,
    neighbours: Mapping[str, t.Iterable[str]] | None = None,
    secret: bytes | str | None = None,
) -> RuleSet:
    """Load and validate a TOML rule set; optionally bind it (see :meth:`RuleSet.bind`).

    :raises RuleSetError: unreadable file, bad TOML or an invalid entry.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise RuleSetError(source=path.name, where="file", reason=str(err)) from err
    except tomllib.TOMLDecodeError as err:
        raise RuleSetError(source=path.name, where="TOML", reason=str(err)) from err
    rules = rules_from_dict(data, source=path.name)
    if neighbours is not None or secret is not None:
        rules = rules.bind(neighbours=neighbours, secret=secret)
    return rules


def load_rule_sets(
    directory: str | Path,
    *,
    neighbours: Mapping[str, t.Iterable[str]] | None = None,
    secret: bytes | str | None = None,
) -> dict[str, RuleSet]:
    """Every ``<form_id>.toml`` in ``directory``, keyed by form id, all bound alike.

    :raises RuleSetError: an invalid file, or one whose ``form_id`` is not its name.
    """
    out = {}
    for path in sorted(Path(directory).glob("*.toml")):
        rules = load_rules(path, neighbours=neighbours, secret=secret)
        if rules.form_id != path.stem:
            raise RuleSetError(
                source=path.name,
                where="form_id",
                reason=f"{rules.form_id!r} does not match the file name",
            )
        out[rules.form_id] = rules
    return out


def rules_from_dict(data: Mapping[str, t.Any], *, source: str = "<dict>") -> RuleSet:
    """Validate a parsed rule set (the TOML document as a dict)."""
    return _build(data, source, {}, None)


class _Checker:
    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, reason: str) -> t.NoReturn:
        raise RuleSetError(source=self.source, where=where, reason=reason)

    def table(self, value: t.Any, where: str) -> Mapping[str, t.Any]:
        if not isinstance(value, Mapping):
            self.fail(where, "must be a table")
        return value

    def number(self, value: t.Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(where, f"must be a number, not {value!r}")
        if not math.isfinite(value):
            self.fail(where, "must be finite")
        return float(value)

    def text(self, value: t.Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, "must be a non-empty string")
        return value

    def names(
        self, value: t.Any, where: str, known: Mapping[str, str]
    ) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.fail(where, "must be a field name or a non-empty list of them")
        for name in value:
            if name not in known:
                self.fail(where, f"field {name!r} is not declared in [fields]")
        return tuple(value)

    def unknown(
        self, table: Mapping[str, t.Any], allowed: set[str], where: str
    ) -> None:
        extra = sorted(set(table) - allowed)
        if extra:
            self.fail(
                where,
                f"unknown key(s) {', '.join(extra)}; allowed: "
                f"{', '.join(sorted(allowed))}",
            )


def _params(check: _Checker, cls: type, given: t.Any, where: str) -> dict[str, t.Any]:
    given = check.table(given or {}, where)
    check.unknown(given, set(cls.defaults), where)
    params = {}
    for key, value in given.items():
        default = cls.defaults[key]
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, (int, float)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok and not (math.isfinite(value) and value >= 0):
                check.fail(f"{where}.{key}", "must be a finite number ≥ 0")
        elif isinstance(default, list):
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        else:
            ok = isinstance(value, type(default))
        if not ok:
            check.fail(
                f"{where}.{key}", f"expected {type(default).__name__}, got {value!r}"
            )
        params[key] = value
    return params


def _tf(
    check: _Checker,
    raw: t.Any,
    where: str,
    comparisons: list[Comparison],
    index: int,
) -> TfConfig:
    """A comparison's ``tf`` table (term-frequency adjustment), validated."""
    where = f"{where}.tf"
    raw = check.table(raw, where)
    check.unknown(raw, _TF_KEYS, where)
    comparator = comparisons[index].comparator
    if type(comparator).terms is Comparator.terms:
        check.fail(where, f"comparator {comparator.name!r} has no term frequencies")
    levels = raw.get("levels")
    if (
        not isinstance(levels, list)
        or not levels
        or any(level not in comparator.levels for level in levels)
    ):
        check.fail(
            f"{where}.levels",
            f"a non-empty list of levels of {comparator.name!r}: "
            f"{', '.join(comparator.levels)}",
        )
    scope = raw.get("scope")
    scope_index = None
    if scope is not None:
        names = [c.name for c in comparisons]
        if scope not in names or scope == comparisons[index].name:
            check.fail(f"{where}.scope", f"must name another comparison, not {scope!r}")
        scope_index = names.index(scope)
    values = {}
    for key, default in (("smoothing", 20.0), ("scale", 1.0), ("cap", 4.0)):
        value = check.number(raw.get(key, default), f"{where}.{key}")
        if value < 0:
            check.fail(f"{where}.{key}", "must be ≥ 0")
        values[key] = value
    if values["scale"] > 1:
        check.fail(f"{where}.scale", "must be between 0 and 1")
    return TfConfig(
        levels=frozenset(levels),
        scope=scope_index,
        scope_name=scope,
        smoothing=values["smoothing"],
        scale=values["scale"],
        cap=values["cap"],
    )


def _build(
    data: Mapping[str, t.Any],
    source: str,
    neighbours: Mapping[str, frozenset[str]],
    secret: bytes | None,
) -> RuleSet:
    check = _Checker(source)
    data = check.table(data, "document")
    check.unknown(data, _TOP_KEYS, "document")
    form_id = check.text(data.get("form_id"), "form_id")
    version = data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        check.fail("version", "must be a positive integer")
    prior = check.number(data.get("prior", 0.0), "prior")

    thresholds = check.table(data.get("thresholds", {}), "thresholds")
    check.unknown(thresholds, {"match", "possible"}, "thresholds")
    match = check.number(thresholds.get("match", 0.95), "thresholds.match")
    possible = check.number(thresholds.get("possible", 0.5), "thresholds.possible")
    if not 0 < possible <= match < 1:
        check.fail("thresholds", "need 0 < possible <= match < 1")

    fields = check.table(data.get("fields"), "fields")
    if not fields:
        check.fail("fields", "declare at least one field (name = XForm path)")
    for name, path in fields.items():
        if not isinstance(path, str) or not path.startswith("/"):
            check.fail(f"fields.{name}", "must be an absolute XForm path like /data/x")

    pii = check.table(data.get("pii", {}), "pii")
    check.unknown(
        pii, {"fields", "consent_field", "consent_value", "pseudonymous"}, "pii"
    )
    pii_fields = frozenset(
        check.names(pii["fields"], "pii.fields", fields) if "fields" in pii else ()
    )
    pseudonymous = frozenset(
        check.names(pii["pseudonymous"], "pii.pseudonymous", fields)
        if "pseudonymous" in pii
        else ()
    )
    if pseudonymous & pii_fields:
        check.fail("pii.pseudonymous", "a field cannot also be in pii.fields")
    personal = pii_fields | pseudonymous
    consent = None
    if "consent_field" in pii:
        consent_field = check.names(pii["consent_field"], "pii.consent_field", fields)[
            0
        ]
        consent = (
            consent_field,
            check.text(pii.get("consent_value", "yes"), "pii.consent_value"),
        )

    compare = data.get("compare")
    if not isinstance(compare, list) or not compare:
        check.fail("compare", "need at least one [[compare]] entry")
    comparisons: list[Comparison] = []
    tf_entries: list[tuple[int, t.Any, str]] = []
    seen: set[str] = set()
    for i, entry in enumerate(compare):
        where = f"compare[{i}]"
        entry = check.table(entry, where)
        check.unknown(entry, _COMPARE_KEYS, where)
        names = check.names(entry.get("fields"), f"{where}.fields", fields)
        name = entry.get("name", names[0])
        check.text(name, f"{where}.name")
        where = f"compare[{i}] ({name})"
        if name in seen:
            check.fail(where, "duplicate comparison name")
        seen.add(name)
        kind = entry.get("comparator")
        if kind not in COMPARATORS:
            raise UnknownComparatorError(
                source=source,
                where=f"{where}.comparator",
                name=kind,
                known=", ".join(sorted(COMPARATORS)),
            )
        cls = COMPARATORS[kind]
        if cls.arity is not None and len(names) != cls.arity:
            check.fail(
                f"{where}.fields", f"comparator {kind!r} takes {cls.arity} field(s)"
            )
        comparator = cls(
            _params(check, cls, entry.get("params"), f"{where}.params"), neighbours
        )
        problem = comparator.check()
        if problem:
            check.fail(f"{where}.params", problem)
        weights = check.table(entry.get("weights"), f"{where}.weights")
        check.unknown(weights, set(cls.levels) | {MISSING}, f"{where}.weights")
        absent = [level for level in cls.levels if level not in weights]
        if absent:
            check.fail(f"{where}.weights", f"missing level(s) {', '.join(absent)}")
        resolved = {
            level: check.number(weights[level], f"{where}.weights.{level}")
            for level in cls.levels
        }
        resolved[MISSING] = check.number(
            weights.get(MISSING, 0.0), f"{where}.weights.missing"
        )
        label = entry.get("label", {})
        label = check.table(label, f"{where}.label")
        for lang, text in label.items():
            check.text(text, f"{where}.label.{lang}")
        comparisons.append(
            Comparison(
                name=name,
                comparator=comparator,
                fields=names,
                weights=resolved,
                pii=bool(personal & set(names)),
                label=dict(label),
            )
        )
        if "tf" in entry:
            tf_entries.append((len(comparisons) - 1, entry["tf"], where))
    for index, raw_tf, where in tf_entries:
        comparisons[index] = dataclasses.replace(
            comparisons[index], tf=_tf(check, raw_tf, where, comparisons, index)
        )

    blocking = check.table(data.get("blocking"), "blocking")
    check.unknown(blocking, {"max_block", "passes"}, "blocking")
    max_block = blocking.get("max_block", 1000)
    if isinstance(max_block, bool) or not isinstance(max_block, int) or max_block < 2:
        check.fail("blocking.max_block", "must be an integer ≥ 2")
    raw_passes = blocking.get("passes")
    if not isinstance(raw_passes, list) or not raw_passes:
        check.fail("blocking.passes", "need at least one [[blocking.passes]] entry")
    passes = []
    pass_names: set[str] = set()
    for i, entry in enumerate(raw_passes):
        where = f"blocking.passes[{i}]"
        entry = check.table(entry, where)
        check.unknown(entry, {"name", "parts"}, where)
        name = check.text(entry.get("name"), f"{where}.name")
        if name in pass_names or not name.replace("_", "").isalnum():
            check.fail(f"{where}.name", "must be unique and alphanumeric (a-z, 0-9, _)")
        pass_names.add(name)
        where = f"blocking.passes[{i}] ({name})"
        parts_raw = entry.get("parts")
        if not isinstance(parts_raw, list) or not parts_raw:
            check.fail(f"{where}.parts", "need at least one part")
        parts = []
        for j, part in enumerate(parts_raw):
            pwhere = f"{where}.parts[{j}]"
            part = dict(check.table(part, pwhere))
            kind = part.pop("kind", None)
            if kind not in PART_KINDS:
                raise UnknownComparatorError(
                    source=source,
                    where=f"{pwhere}.kind",
                    name=kind,
                    known=", ".join(sorted(PART_KINDS)),
                )
            field = check.names(part.pop("field", None), f"{pwhere}.field", fields)
            if len(field) != 1:
                check.fail(f"{pwhere}.field", "a blocking part reads exactly one field")
            cls = PART_KINDS[kind]
            built = cls(field[0], _params(check, cls, part, pwhere), neighbours)
            problem = built.check()
            if problem:
                check.fail(pwhere, problem)
            check.names(list(built.reads), pwhere, fields)
            parts.append(built)
        passes.append(
            BlockingPass(
                name=name,
                parts=tuple(parts),
                pii=any(f in personal for p in parts for f in p.reads),
            )
        )

    return RuleSet(
        form_id=form_id,
        version=version,
        description=str(data.get("description", "")),
        prior=prior,
        match=match,
        possible=possible,
        field_paths=dict(fields),
        pii_fields=pii_fields,
        consent=consent,
        comparisons=tuple(comparisons),
        passes=tuple(passes),
        max_block=max_block,
        source=source,
        raw=data,
        neighbours=neighbours,
        secret=secret,
        pseudonymous_fields=pseudonymous,
    )
