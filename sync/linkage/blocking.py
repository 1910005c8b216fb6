"""Blocking: which records are worth scoring against each other.

A rule set lists *passes*; a pass is a conjunction of *parts* (same commune, day
within ±1, GPS cell, a rare name word …). Each part gives a record **index** values
(what it is) and **probe** values (what it is near): day 2026-07-03 is indexed under
that day and probes the day before and after; a commune probes itself and its
neighbours; a GPS cell probes the 3 × 3 cells around it. Two records are candidates
when one's probe keys meet the other's index keys in some pass. The relation is
symmetric, and each record stores only a few index keys (two for an outreach
session), which is what a server keeps in an indexed table:

* on arrival: store ``blocking_keys(record)``; look up ``probe_keys(record)``
  (``SELECT record_id FROM keys WHERE key IN (...)``) and score those records;
* batch: :func:`candidate_pairs` does the same in memory, in near-linear time.

Keys whose posting list is longer than ``max_block`` are skipped (a village name such
as "Thôn 1" that half the province shares carries no information).

Stored keys are hashes (BLAKE2b, keyed with the bound secret) so a table of keys does
not reveal names; a pass that reads a personal field refuses to run without a secret.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import typing as t
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping

from sync.linkage.errors import FormMismatchError, SecretRequiredError
from sync.linkage.linkcode import link_code
from sync.linkage.normalise import (
    PLACE_PREFIXES,
    normalise_identifier,
    normalise_phone,
    parse_day,
    parse_geopoint,
    parse_int,
    parse_name,
    parse_place,
)

if t.TYPE_CHECKING:
    from sync.linkage.record import Record
    from sync.linkage.rules import RuleSet

__all__ = [
    "PART_KINDS",
    "BlockingPart",
    "KeyIndex",
    "blocking_keys",
    "candidate_pairs",
    "probe_keys",
]

_METRES_PER_DEGREE = 111_320.0


class BlockingPart:
    """One part of a blocking pass over one field."""

    kind: t.ClassVar[str] = ""
    defaults: t.ClassVar[Mapping[str, t.Any]] = {}

    def __init__(
        self,
        field: str,
        params: Mapping[str, t.Any],
        neighbours: Mapping[str, frozenset[str]],
    ):
        self.field = field
        self.params = {**self.defaults, **params}
        self.neighbours = neighbours

    def check(self) -> str | None:
        """A problem with the parameters, or ``None``."""
        return None

    def base(self, value: t.Any) -> t.Any:
        """Parse a raw value once; ``None`` (or empty) means no key from this pass."""
        raise NotImplementedError

    @property
    def reads(self) -> tuple[str, ...]:
        """Every field the part reads (``field``, plus any the params name)."""
        return (self.field,)

    def base_of(self, fields: Mapping[str, t.Any]) -> t.Any:
        """The base of a record's visible fields (most parts read only ``field``)."""
        return self.base(fields.get(self.field))

    def index(self, base: t.Any) -> Iterable[t.Hashable]:
        """Values the record is stored under."""
        return (base,)

    def probe(self, base: t.Any) -> Iterable[t.Hashable]:
        """Values the record looks up (a superset of ``index``)."""
        return self.index(base)


class ValuePart(BlockingPart):
    """Exact value after normalising: ``text`` (folded, no spaces), ``phone``."""

    kind = "value"
    defaults = {"normalise": "text"}

    def check(self) -> str | None:
        if self.params["normalise"] not in {"text", "phone"}:
            return "normalise must be 'text' or 'phone'"
        return None

    def base(self, value):
        if self.params["normalise"] == "phone":
            return normalise_phone(value)
        return normalise_identifier(value)


class CommunePart(BlockingPart):
    """A commune code; with ``neighbours = true`` it also probes adjacent communes."""

    kind = "commune"
    defaults = {"neighbours": True}

    def base(self, value):
        if value is None or isinstance(value, bool):
            return None
        return str(value).strip() or None

    def probe(self, base):
        if not self.params["neighbours"]:
            return (base,)
        return (base, *sorted(self.neighbours.get(base, ())))


class _WindowPart(BlockingPart):
    defaults = {"window": 1, "bucket": 1}

    def check(self) -> str | None:
        if not (
            isinstance(self.params["window"], int)
            and isinstance(self.params["bucket"], int)
            and self.params["bucket"] >= 1
        ):
            return "window and bucket must be integers (bucket ≥ 1)"
        return None

    def index(self, base):
        return (base // self.params["bucket"],)

    def probe(self, base):
        w, b = self.params["window"], self.params["bucket"]
        return range((base - w) // b, (base + w) // b + 1)


class DayPart(_WindowPart):
    """A date: stored under its day (or ``bucket`` of days), probes ± ``window`` days."""

    kind = "day"

    def base(self, value):
        return parse_day(value)


class NumberPart(_WindowPart):
    """An integer (birth year): stored under itself, probes ± ``window``."""

    kind = "number"

    def base(self, value):
        return parse_int(value)


class GridPart(BlockingPart):
    """A geopoint's grid cell, at least ``metres`` wide up to latitude ``max_lat``.

    Probing the 3 × 3 cells around a point finds every point within ``metres``.
    """

    kind = "grid"
    defaults = {"metres": 600.0, "max_lat": 30.0}

    def __init__(
        self,
        field: str,
        params: Mapping[str, t.Any],
        neighbours: Mapping[str, frozenset[str]],
    ):
        super().__init__(field, params, neighbours)
        metres = max(float(self.params["metres"]), 1.0)
        max_lat = min(float(self.params["max_lat"]), 80.0)
        self._lat_step = metres / _METRES_PER_DEGREE
        self._lon_step = self._lat_step / math.cos(math.radians(max_lat))

    def check(self) -> str | None:
        if not (self.params["metres"] > 0 and 0 <= self.params["max_lat"] < 80):
            return "need metres > 0 and 0 <= max_lat < 80"
        return None

    def base(self, value):
        point = parse_geopoint(value)
        if point is None:
            return None
        return (
            math.floor(point[0] / self._lat_step),
            math.floor(point[1] / self._lon_step),
        )

    def probe(self, base):
        i, j = base
        return [(i + di, j + dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)]


class NameTokensPart(BlockingPart):
    """Each informative word of a person name, in every reading (diacritics, Telex …).

    Words in ``skip`` (the common family and middle names) and initials are left out,
    so "Hồ Thị Lan", "Lan Hồ Thị" and "Hoof Thij Lan" all share the key "lan". A name
    made only of skipped words keeps them all.
    """

    kind = "name_tokens"
    defaults = {"skip": [], "min_length": 2}

    def base(self, value):
        name = parse_name(value)
        if name is None:
            return None
        skip = set(self.params["skip"])
        words = [tok for tok in name.tokens if not tok.abbreviated]
        kept = [tok for tok in words if not (tok.forms & skip)] or words
        forms = {
            f for tok in kept for f in tok.forms if len(f) >= self.params["min_length"]
        }
        return tuple(sorted(forms)) or None

    def index(self, base):
        return base


class PlacePart(BlockingPart):
    """A village or venue name, folded with its "thôn"/"bản" prefix dropped."""

    kind = "place"
    defaults = {"prefixes": list(PLACE_PREFIXES)}

    def base(self, value):
        place = parse_place(value, self.params["prefixes"])
        return tuple(sorted(place.forms)) if place else None

    def index(self, base):
        return base


class LinkCodePart(BlockingPart):
    """A linkage code's initials and birth year (probes ± ``window`` years).

    ``field`` is the typed code; ``name`` and ``year`` (field names, optional) give
    the full name and birth year it is derived from when none was typed, so a
    registration with consent and one without share keys. A code derived from a Cơ
    Tu name is stored under both family initials ("A Lăng": A and L).
    """

    kind = "link_code"
    defaults = {"name": "", "year": "", "window": 1}

    def check(self) -> str | None:
        if not isinstance(self.params["window"], int):
            return "window must be an integer"
        return None

    @property
    def reads(self) -> tuple[str, ...]:
        return tuple(
            f for f in (self.field, self.params["name"], self.params["year"]) if f
        )

    def base(self, value):
        return self.base_of({self.field: value})

    def base_of(self, fields):
        code = link_code(
            fields.get(self.field),
            fields.get(self.params["name"]) if self.params["name"] else None,
            fields.get(self.params["year"]) if self.params["year"] else None,
        )
        if code is None or code.year is None:
            return None
        return (tuple(sorted(f + code.given for f in code.family)), code.year)

    def index(self, base):
        initials, year = base
        return [(i, year) for i in initials]

    def probe(self, base):
        initials, year = base
        w = self.params["window"]
        return [(i, y) for i in initials for y in range(year - w, year + w + 1)]


PART_KINDS: dict[str, type[BlockingPart]] = {
    cls.kind: cls
    for cls in (
        ValuePart,
        CommunePart,
        DayPart,
        NumberPart,
        GridPart,
        NameTokensPart,
        PlacePart,
        LinkCodePart,
    )
}

Bases = tuple[t.Any, ...]  # per pass: a tuple of part bases, or None


def _bases(fields: Mapping[str, t.Any], rules: RuleSet) -> Bases:
    out = []
    for blocking_pass in rules.passes:
        parts = []
        for part in blocking_pass.parts:
            base = part.base_of(fields)
            if base is None:
                parts = None
                break
            parts.append(base)
        out.append(tuple(parts) if parts is not None else None)
    return tuple(out)


def _expand(bases: Bases, rules: RuleSet, probe: bool) -> Iterator[tuple[t.Any, ...]]:
    for number, (blocking_pass, parts) in enumerate(
        zip(rules.passes, bases, strict=True)
    ):
        if parts is None:
            continue
        choices = [
            (part.probe(base) if probe else part.index(base))
            for part, base in zip(blocking_pass.parts, parts, strict=True)
        ]
        for combo in itertools.product(*choices):
            yield (number, *combo)


def _visible(record: Record, rules: RuleSet) -> Mapping[str, t.Any]:
    if record.form_id != rules.form_id:
        raise FormMismatchError(
            record_id=record.record_id, form_id=record.form_id, expected=rules.form_id
        )
    return rules.visible(record.fields)


def _hashed(keys: Iterable[tuple[t.Any, ...]], rules: RuleSet) -> set[str]:
    secret = rules.secret
    if secret is None and any(p.pii for p in rules.passes):
        raise SecretRequiredError(
            form_id=rules.form_id,
            fields=", ".join(
                sorted(
                    {
                        field
                        for p in rules.passes
                        if p.pii
                        for part in p.parts
                        for field in part.reads
                        if field in rules.personal_fields
                    }
                )
            ),
        )
    if secret is not None and len(secret) > 64:
        secret = hashlib.blake2b(secret).digest()
    out = set()
    for key in keys:
        text = "\x1f".join(str(v) for v in key[1:]).encode("utf-8")
        digest = hashlib.blake2b(
            text,
            digest_size=12,
            key=secret or b"",
            person=rules.form_id.encode("utf-8")[:16],
        ).hexdigest()
        out.add(f"{rules.passes[key[0]].name}:{digest}")
    return out


def blocking_keys(record: Record, rules: RuleSet) -> set[str]:
    """The keys to store for ``record`` (``pass:hash``; a few per record).

    :raises SecretRequiredError: a pass reads a personal field and no secret is bound.
    :raises FormMismatchError: the record belongs to another form.
    """
    return _hashed(_expand(_bases(_visible(record, rules), rules), rules, False), rules)


def probe_keys(record: Record, rules: RuleSet) -> set[str]:
    """The keys to look up to find ``record``'s candidates among stored records."""
    return _hashed(_expand(_bases(_visible(record, rules), rules), rules, True), rules)


class KeyIndex:
    """In-memory stand-in for the server's key table (key → record ids)."""

    def __init__(self, max_block: int = 1000):
        self.max_block = max_block
        self._postings: dict[str, set[str]] = {}
        self._keys: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, record_id: str, keys: Iterable[str]) -> None:
        """Store ``record_id`` under ``keys`` (replacing what it had)."""
        self.discard(record_id)
        keys = set(keys)
        self._keys[record_id] = keys
        for key in keys:
            self._postings.setdefault(key, set()).add(record_id)

    def discard(self, record_id: str) -> None:
        """Forget ``record_id`` (deleted or edited submission)."""
        for key in self._keys.pop(record_id, ()):
            ids = self._postings.get(key)
            if ids is not None:
                ids.discard(record_id)
                if not ids:
                    del self._postings[key]

    def lookup(self, keys: Iterable[str]) -> set[str]:
        """Record ids stored under any of ``keys``, skipping oversized blocks."""
        found: set[str] = set()
        for key in keys:
            ids = self._postings.get(key)
            if ids is not None and len(ids) <= self.max_block:
                found |= ids
        return found


def _candidate_indices(
    all_bases: list[Bases], rules: RuleSet, stats: dict[str, int] | None = None
) -> Iterator[tuple[int, int]]:
    postings: dict[tuple[t.Any, ...], list[int]] = {}
    for i, bases in enumerate(all_bases):
        for key in _expand(bases, rules, False):
            postings.setdefault(key, []).append(i)
    oversized = {key for key, ids in postings.items() if len(ids) > rules.max_block}
    if stats is not None:
        stats["keys"] = len(postings)
        stats["oversized_keys"] = len(oversized)
    for i, bases in enumerate(all_bases):
        found: set[int] = set()
        for key in _expand(bases, rules, True):
            ids = postings.get(key)
            if ids is None or key in oversized:
                continue
            # posting lists are in record order: only pairs (i, j > i) are new
            found.update(ids[bisect_right(ids, i) :])
        for j in sorted(found):
            yield i, j


def candidate_pairs(
    records: Iterable[Record], rules: RuleSet
) -> Iterator[tuple[str, str]]:
    """Each candidate pair once, as sorted record ids ``(a, b)``, ``a < b``."""
    ids: list[str] = []
    all_bases: list[Bases] = []
    for record in records:
        ids.append(record.record_id)
        all_bases.append(_bases(_visible(record, rules), rules))
    for i, j in _candidate_indices(all_bases, rules):
        a, b = ids[i], ids[j]
        yield (a, b) if a <= b else (b, a)
