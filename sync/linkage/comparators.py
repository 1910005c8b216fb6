"""Field comparators: each turns two prepared values into an agreement level.

A comparator has a fixed, ordered list of ``levels`` (strongest agreement first; the
engine adds ``missing`` when either side has no value). A rule set gives each level a
weight. Every comparator works in three steps, so a batch scan parses each record once:

``prepare(values)``
    raw field values of one record → a comparable value, or ``None`` (missing);
``level(a, b)``
    two prepared values → one of ``levels`` (the hot path: no allocation beyond that);
``explain(a, b, level, pii)``
    the parameters of the human-readable reason. When ``pii`` is true the parameters
    carry only relations (a difference, a distance), never a value.
"""

from __future__ import annotations

import math
import re
import typing as t
from collections.abc import Mapping

from rapidfuzz.distance import JaroWinkler

from sync.linkage.linkcode import LinkCode, link_code
from sync.linkage.names import NAME_LEVELS, name_explain, name_level
from sync.linkage.normalise import (
    PLACE_PREFIXES,
    PersonName,
    Place,
    normalise_identifier,
    normalise_phone,
    parse_choices,
    parse_day,
    parse_geopoint,
    parse_int,
    parse_name,
    parse_place,
)

__all__ = ["COMPARATORS", "Comparator", "MISSING", "haversine_m"]

MISSING = "missing"
EARTH_RADIUS_M = 6_371_008.8


class Comparator:
    """Base class; subclasses set ``name``, ``levels``, ``defaults`` and ``arity``."""

    name: t.ClassVar[str] = ""
    levels: t.ClassVar[tuple[str, ...]] = ()
    defaults: t.ClassVar[Mapping[str, t.Any]] = {}
    arity: t.ClassVar[int | None] = 1  # number of fields; None: one or more

    def __init__(
        self, params: Mapping[str, t.Any], neighbours: Mapping[str, frozenset[str]]
    ):
        self.params = {**self.defaults, **params}
        self.neighbours = neighbours

    def check(self) -> str | None:
        """A problem with the parameters, or ``None``."""
        return None

    def prepare(self, values: tuple[t.Any, ...]) -> t.Any:
        """Parse one record's raw values; ``None`` means missing."""
        raise NotImplementedError

    def level(self, a: t.Any, b: t.Any) -> str:
        """Agreement level of two prepared, present values."""
        raise NotImplementedError

    def explain(self, a: t.Any, b: t.Any, level: str, pii: bool) -> dict[str, t.Any]:
        """Parameters for the reason message (values only when not ``pii``)."""
        return {} if pii else {"a": a, "b": b}

    def terms(self, value: t.Any) -> tuple[t.Hashable, ...]:
        """The values one record is counted under for term frequencies (none: no
        term-frequency adjustment for this comparator)."""
        return ()

    def agreed(self, a: t.Any, b: t.Any, level: str) -> t.Hashable | None:
        """The term two values agree on at ``level`` (``None``: no adjustment)."""
        return None


class DateComparator(Comparator):
    """ODK dates: same day, within ``close_days``, within ``near_days``, further."""

    name = "date"
    levels = ("same_day", "close", "near", "far")
    defaults = {"close_days": 1, "near_days": 7}

    def check(self) -> str | None:
        if not 0 <= self.params["close_days"] <= self.params["near_days"]:
            return "need 0 <= close_days <= near_days"
        return None

    def prepare(self, values):
        return parse_day(values[0])

    def level(self, a, b):
        days = abs(a - b)
        if days == 0:
            return "same_day"
        if days <= self.params["close_days"]:
            return "close"
        if days <= self.params["near_days"]:
            return "near"
        return "far"

    def explain(self, a, b, level, pii):
        import datetime as dt

        params: dict[str, t.Any] = {"days": abs(a - b)}
        if not pii:
            params["a"] = dt.date.fromordinal(a).isoformat()
            params["b"] = dt.date.fromordinal(b).isoformat()
        return params


class YearComparator(Comparator):
    """Years (birth year): same, one apart, within ``close``, further."""

    name = "year"
    levels = ("same", "off_by_one", "close", "far")
    defaults = {"close": 2}

    def prepare(self, values):
        return parse_int(values[0])

    def level(self, a, b):
        diff = abs(a - b)
        if diff == 0:
            return "same"
        if diff == 1:
            return "off_by_one"
        return "close" if diff <= self.params["close"] else "far"

    def explain(self, a, b, level, pii):
        params: dict[str, t.Any] = {"diff": abs(a - b)}
        if not pii:
            params.update(a=a, b=b)
        return params


class CommuneComparator(Comparator):
    """2025 commune codes: same, neighbours (from the bound adjacency), different."""

    name = "commune"
    levels = ("same", "neighbour", "different")

    def prepare(self, values):
        value = values[0]
        if value is None or isinstance(value, bool):
            return None
        code = str(value).strip()
        return code or None

    def level(self, a, b):
        if a == b:
            return "same"
        if b in self.neighbours.get(a, ()):
            return "neighbour"
        return "different"


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


class GeopointComparator(Comparator):
    """ODK geopoints by distance, less each fix's stated accuracy (capped).

    ``identical`` (within a metre, accuracy not subtracted) means the same fix: two
    separate captures never agree that closely, a copied form does.
    """

    name = "geopoint"
    levels = ("identical", "same_place", "close", "area", "far")
    defaults = {
        "identical": 1.0,
        "same_place": 100.0,
        "close": 350.0,
        "area": 1500.0,
        "accuracy_cap": 50.0,
    }

    def check(self) -> str | None:
        p = self.params
        if not 0 <= p["same_place"] <= p["close"] <= p["area"]:
            return "need 0 <= same_place <= close <= area (metres)"
        return None

    def prepare(self, values):
        return parse_geopoint(values[0])

    def _distance(self, a, b) -> tuple[float, float]:
        d = haversine_m(a[0], a[1], b[0], b[1])
        cap = self.params["accuracy_cap"]
        slack = min(a[2] or 0.0, cap) + min(b[2] or 0.0, cap)
        return d, max(0.0, d - slack)

    def level(self, a, b):
        raw, effective = self._distance(a, b)
        p = self.params
        if raw <= p["identical"]:
            return "identical"  # one fix, copied: a re-sent or re-entered form
        if effective <= p["same_place"]:
            return "same_place"
        if effective <= p["close"]:
            return "close"
        return "area" if effective <= p["area"] else "far"

    def explain(self, a, b, level, pii):
        return {
            "metres": int(round(self._distance(a, b)[0], -1 if level == "far" else 0))
        }


_DIGITS = re.compile(r"\d+")


class PlaceComparator(Comparator):
    """Village or venue names: "Thôn A Ur" ~ "Aur" (prefixes dropped, folded, spaces)."""

    name = "place"
    levels = ("exact", "folded", "similar", "different")
    defaults = {
        "prefixes": list(PLACE_PREFIXES),
        "similar": 0.88,
    }

    def prepare(self, values):
        return parse_place(values[0], self.params["prefixes"])

    def level(self, a: Place, b: Place) -> str:
        if a.spelled == b.spelled:
            return "exact"
        if a.core == b.core or a.forms & b.forms:
            return "folded"
        # "Thôn 3" and "Thôn 4" are different villages however alike they look.
        if _DIGITS.findall(a.core) != _DIGITS.findall(b.core):
            return "different"
        if JaroWinkler.similarity(a.core, b.core) >= self.params["similar"]:
            return "similar"
        return "different"

    def explain(self, a, b, level, pii):
        return {} if pii else {"a": a.text, "b": b.text}


def _within(a: int, b: int, rel: float, absolute: float) -> bool:
    return abs(a - b) <= max(absolute, rel * max(a, b))


class CountsComparator(Comparator):
    """Participant counts; the first field is the total, the others its breakdown."""

    name = "counts"
    levels = ("close", "total_close", "moderate", "far")
    defaults = {"rel": 0.10, "abs": 2, "wide_rel": 0.30}
    arity = None

    def prepare(self, values):
        counts = tuple(parse_int(v) for v in values)
        return counts if counts[0] is not None else None

    def level(self, a, b):
        p = self.params
        if not _within(a[0], b[0], p["rel"], p["abs"]):
            return "moderate" if _within(a[0], b[0], p["wide_rel"], p["abs"]) else "far"
        for x, y in zip(a[1:], b[1:], strict=True):
            if (
                x is not None
                and y is not None
                and not _within(x, y, p["rel"] * 2, p["abs"])
            ):
                return "total_close"
        return "close"

    def explain(self, a, b, level, pii):
        return {"diff": abs(a[0] - b[0])} if pii else {"a": a[0], "b": b[0]}


class CategoryComparator(Comparator):
    """A select_one answer or any exact value: same or different."""

    name = "category"
    levels = ("same", "different")

    def prepare(self, values):
        value = values[0]
        if value is None:
            return None
        text = str(value).strip()
        return text or None

    def level(self, a, b):
        return "same" if a == b else "different"


class ChoicesComparator(Comparator):
    """select_multiple answers: same set, Jaccard ≥ ``overlap``, any shared, none."""

    name = "choices"
    levels = ("same", "overlap", "partial", "disjoint")
    defaults = {"overlap": 0.5}

    def prepare(self, values):
        return parse_choices(values[0])

    def level(self, a, b):
        if a == b:
            return "same"
        common = len(a & b)
        if not common:
            return "disjoint"
        return "overlap" if common / len(a | b) >= self.params["overlap"] else "partial"

    def explain(self, a, b, level, pii):
        return {"common": len(a & b)} if pii else {"a": sorted(a), "b": sorted(b)}


class ReporterComparator(Comparator):
    """Who sent it: fields ``[username, deviceid]``: same device, same user, other.

    A second report of one session comes from someone else; a re-sent edit comes from
    the same phone. Values are never put in reasons.
    """

    name = "reporter"
    levels = ("same_device", "same_user", "different")
    arity = 2

    def prepare(self, values):
        user, device = (str(v).strip() if v is not None else "" for v in values)
        return (user, device) if user or device else None

    def level(self, a, b):
        if a[1] and a[1] == b[1]:
            return "same_device"
        if a[0] and a[0] == b[0]:
            return "same_user"
        return "different"

    def explain(self, a, b, level, pii):
        return {}


class IdentifierComparator(Comparator):
    """Identifiers (ID number, phone): same or different after normalising."""

    name = "identifier"
    levels = ("same", "different")
    defaults = {"kind": "text"}

    def check(self) -> str | None:
        if self.params["kind"] not in {"text", "phone"}:
            return "kind must be 'text' or 'phone'"
        return None

    def prepare(self, values):
        if self.params["kind"] == "phone":
            return normalise_phone(values[0])
        return normalise_identifier(values[0])

    def level(self, a, b):
        return "same" if a == b else "different"


_CASE_CODE = re.compile(r"^([A-Z]{2,4})(\d{4})(\d{3,5})$")


class CaseCodeComparator(Comparator):
    """Case codes UNIT-YEAR-NUMBER: same, same unit (another number), other unit."""

    name = "case_code"
    levels = ("same", "same_unit", "different")

    def prepare(self, values):
        code = normalise_identifier(values[0])
        if code is None:
            return None
        found = _CASE_CODE.match(code)
        return (code, found.group(1) if found else None)

    def level(self, a, b):
        if a[0] == b[0]:
            return "same"
        if a[1] is not None and a[1] == b[1]:
            return "same_unit"
        return "different"

    def explain(self, a, b, level, pii):
        return {} if pii else {"a": a[0], "b": b[0]}


class PersonNameComparator(Comparator):
    """Vietnamese person names; see :mod:`sync.linkage.normalise` for the folding.

    Levels, strongest first: ``exact`` (tone placement ignored); ``folded`` (equal
    after removing diacritics, undoing Telex/VNI typing or spacing: "A Lăng"/"Alăng");
    ``reordered`` (same words, given name first); ``abbreviated`` ("Hồ T. Lan",
    "Hồ Lan" for "Hồ Thị Lan"); ``accent_conflict`` (both written with diacritics, and
    they disagree: "Hoa"/"Hòa"); ``typo`` (a letter or two, the given names still
    alike); ``different``. The given name (last word) must agree for every level but
    ``reordered``, so sisters who share family and middle names stay apart; a
    one-letter slip in the given name counts as ``typo`` only when one side cannot be
    a Vietnamese syllable at all.
    """

    name = "person_name"
    levels = NAME_LEVELS

    def prepare(self, values):
        return parse_name(values[0])

    def level(self, a: PersonName, b: PersonName) -> str:
        return name_level(a, b)

    def explain(self, a, b, level, pii):
        return name_explain(a, b, level)

    def terms(self, value: PersonName) -> tuple[str, ...]:
        """Every in-order reading of the whole name, folded ("hothilan")."""
        return tuple(sorted(value.joined))

    def agreed(self, a: PersonName, b: PersonName, level: str) -> str | None:
        """The reading both names share (equal names, however typed)."""
        common = a.joined & b.joined
        return min(common) if common else None


class LinkCodeComparator(Comparator):
    """Pseudonymous linkage codes ("HL2004"); see :mod:`sync.linkage.linkcode`.

    Fields: the typed code, then optionally the full name and birth year it is derived
    from when no code was typed (a registration with consent). Levels: ``same``
    (initials and year), ``off_by_one`` (initials, years one apart), ``initials``
    (initials, years up to ``close`` apart or one unknown), ``one_initial`` (one
    initial differs, years at most one apart: a nickname, a family name split
    another way), ``different``, and ``named``: both codes derived from names, whose
    own comparison already holds that evidence (weight it 0).
    """

    name = "link_code"
    levels = ("same", "off_by_one", "initials", "one_initial", "different", "named")
    defaults = {"close": 2}
    arity = None

    def prepare(self, values):
        return link_code(*values[:3])

    def level(self, a: LinkCode, b: LinkCode) -> str:
        if a.derived and b.derived:
            return "named"
        family = not a.family.isdisjoint(b.family)
        given = a.given == b.given
        diff = None if a.year is None or b.year is None else abs(a.year - b.year)
        if family and given:
            if diff == 0:
                return "same"
            if diff == 1:
                return "off_by_one"
            if diff is None or diff <= self.params["close"]:
                return "initials"
            return "different"
        if (family or given) and diff is not None and diff <= 1:
            return "one_initial"
        return "different"

    def explain(self, a, b, level, pii):
        if a.year is None or b.year is None:
            return {}
        return {"diff": abs(a.year - b.year)}

    def terms(self, value: LinkCode) -> tuple[str, ...]:
        """The code's initials ("nh"; a Cơ Tu name under both family initials).

        The year is left out: birth years spread evenly enough, the letters do not
        (Nguyễn + Hoa, Hương, Hạnh … is common, Zơrâm + Pết is not).
        """
        return tuple(sorted(f + value.given for f in value.family))

    def agreed(self, a: LinkCode, b: LinkCode, level: str) -> str | None:
        """The initials both codes share."""
        common = a.family & b.family
        if not common or a.given != b.given:
            return None
        return min(common) + a.given


COMPARATORS: dict[str, type[Comparator]] = {
    cls.name: cls
    for cls in (
        DateComparator,
        YearComparator,
        CommuneComparator,
        GeopointComparator,
        PlaceComparator,
        CountsComparator,
        CategoryComparator,
        ChoicesComparator,
        IdentifierComparator,
        CaseCodeComparator,
        PersonNameComparator,
        ReporterComparator,
        LinkCodeComparator,
    )
}
