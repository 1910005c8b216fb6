"""Vietnamese text folding and value parsing for record linkage (stdlib only).

Vietnamese is Latin script plus combining marks, with one extra letter (đ/Đ). So
``unicodedata`` NFD plus dropping the combining marks folds it exactly, and no
transliteration table (``unidecode``, GPL-2.0, or ``text-unidecode``, last released
in 2019) is needed. Three kinds of typing damage are undone here:

* **diacritics dropped** ("Ho Thi Lan"): :func:`fold` removes them on both sides;
* **tone placement** ("Hoà" vs "Hòa", old and new style): :func:`spelled` keeps the
  vowel letters (â ă ê ô ơ ư đ) and the tone, but not where the tone sits;
* **an input method that was off** while typing Telex ("Hoof Thij Lan") or VNI
  ("Ho62 Thi5 Lan"): :func:`telex_fold` and :func:`vni_fold` give the base letters the
  typist meant. They are applied only to ASCII tokens, and the plain fold is kept as
  well, so a real name that merely looks like Telex ("Coor") still matches itself.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "PersonName",
    "NameToken",
    "fold",
    "spelled",
    "telex_fold",
    "vni_fold",
    "is_syllable",
    "token_forms",
    "parse_name",
    "Place",
    "parse_place",
    "parse_day",
    "parse_int",
    "parse_geopoint",
    "parse_choices",
    "normalise_identifier",
    "normalise_phone",
]

# đ and look-alikes that NFD does not decompose.
# Folded words that name a kind of place before its name ("Thôn A Ur", "Plei Ktu"):
# village and venue comparisons and blocking drop them (rule sets may override).
PLACE_PREFIXES = (
    "thon",
    "ban",
    "lang",
    "xom",
    "to dan pho",
    "to",
    "khoi",
    "ap",
    "doi",
    "plei",
    "buon",
    "village",
    "hamlet",
)

_LETTERS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ɗ": "d", "Ɖ": "d"})
# The five tone marks; the other combining marks (circumflex, breve, horn) change the
# vowel letter itself.
_TONES = {"\u0300": "f", "\u0301": "s", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_APOSTROPHES = "'\u2019\u02bc\u2018`\u00b4"
_SPLIT = re.compile(r"[^\w.]+|_+")
_NON_WORD = re.compile(r"[\W_]+")
_VOWELS = frozenset("aeiouy")
_TELEX_TONE_KEYS = frozenset("sfrxj")
_FINALS = frozenset({"", "c", "ch", "m", "n", "ng", "nh", "p", "t"})
_TELEX_PAIRS = (
    ("dd", "d"),
    ("uw", "u"),
    ("ow", "o"),
    ("aw", "a"),
    ("aa", "a"),
    ("ee", "e"),
    ("oo", "o"),
)


def fold(text: str) -> str:
    """Lower-case base letters: diacritics and đ removed, whitespace collapsed.

    >>> fold("  Hồ Thị  LAN ")
    'ho thi lan'
    >>> fold("Đắc Pring")
    'dac pring'
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_LETTERS))
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(base.casefold().split())


@functools.lru_cache(maxsize=65536)
def spelled(token: str) -> str:
    """A token as spelled, with its tone moved to the end (so "hoà" == "hòa" == "hoaf").

    Vowel letters (â, ơ, ư …) and đ are kept; only the tone's position is forgotten.
    """
    decomposed = unicodedata.normalize("NFD", token.casefold())
    tone = ""
    kept = []
    for char in decomposed:
        if char in _TONES:
            tone = tone or _TONES[char]
        else:
            kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept)) + tone


def telex_fold(token: str) -> str:
    """Base letters of an ASCII token typed in Telex with the input method off.

    >>> [telex_fold(t) for t in ("hoof", "thij", "nguyeenx", "huwowng", "ddinh")]
    ['ho', 'thi', 'nguyen', 'huong', 'dinh']
    """
    s = _strip_tone_key(token)
    for pair, letter in _TELEX_PAIRS:
        s = s.replace(pair, letter)
    return s.replace("w", "u")


def _strip_tone_key(token: str) -> str:
    # The tone key follows the vowel, usually at the end ("nguyeenx"), sometimes
    # before the final consonant ("tuasn").
    for k in range(len(token) - 1, 0, -1):
        if (
            token[k] in _TELEX_TONE_KEYS
            and token[k + 1 :] in _FINALS
            and _VOWELS & set(token[:k])
        ):
            return token[:k] + token[k + 1 :]
    return token


_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
    r"(uye|uya|uyu|uoi|uou|oai|oay|uay|ieu|yeu|"
    r"ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|oo|ua|ue|ui|uo|uu|uy|ye|[aeiouy])"
    r"(ch|ng|nh|[cmnpt])?$"
)


def is_syllable(folded: str) -> bool:
    """Whether a folded word can be a Vietnamese syllable ("hanh" yes, "lna" no)."""
    return bool(_SYLLABLE.match(folded))


def vni_fold(token: str) -> str:
    """Base letters of a token typed in VNI with the input method off ("Nguye6n4")."""
    return "".join(c for c in token if not c.isdigit())


@functools.lru_cache(maxsize=65536)
def token_forms(token: str) -> frozenset[str]:
    """Every base-letter reading of one token: plain fold, plus Telex/VNI if ASCII."""
    base = _NON_WORD.sub("", fold(token))
    forms = {base} if base else set()
    if base.isascii() and token.isascii():
        if any(c.isdigit() for c in base) and not base.isdigit():
            forms.add(vni_fold(base))
        elif base.isalpha():
            # Both readings: "xoof" is "xồ" to an IME but "Xòo" (a Cơ Tu word) to
            # whoever typed it.
            forms.add(telex_fold(base))
            forms.add(_strip_tone_key(base))
    forms.discard("")
    return frozenset(forms)


@dataclass(frozen=True, slots=True)
class NameToken:
    """One word of a person's name."""

    spelled: str  # as spelled, tone position ignored ("thij" for Thị)
    key: str  # plain folded form ("thi")
    forms: frozenset[str]  # every base-letter reading (diacritics, Telex, VNI)
    abbreviated: bool  # "T." or a lone middle letter: matches any word it starts
    marked: bool  # written with diacritics


@dataclass(frozen=True, slots=True)
class PersonName:
    """A parsed person name, ready for comparison and blocking."""

    tokens: tuple[NameToken, ...]
    joined: frozenset[str]  # in-order concatenations of readings ("holan", "alang")
    bag: frozenset[str]  # order-free concatenations (sorted words)
    marked: bool  # any diacritic anywhere: the writer had a Vietnamese keyboard
    spelled: tuple[str, ...]  # the words as spelled (tone position ignored)


_MAX_READINGS = 16


def _readings(tokens: Iterable[NameToken]) -> list[tuple[str, ...]]:
    combos: list[tuple[str, ...]] = [()]
    for tok in tokens:
        forms = sorted(tok.forms, key=lambda f: (f != tok.key, f))
        combos = [c + (f,) for c in combos for f in forms][:_MAX_READINGS]
    return combos


def parse_name(text: object) -> PersonName | None:
    """Parse a person name; ``None`` when there is nothing name-like in it."""
    if not isinstance(text, str):
        return None
    return _parse_name(text)


# Small on purpose: it only saves parsing the same name twice in a row (blocking,
# then scoring), and keeps few personal names in memory.
@functools.lru_cache(maxsize=256)
def _parse_name(text: str) -> PersonName | None:
    cleaned = unicodedata.normalize("NFC", text)
    for char in _APOSTROPHES:
        cleaned = cleaned.replace(char, "")
    cleaned = cleaned.replace(".", ". ")
    words = [w for w in _SPLIT.split(cleaned) if w.strip(".")]
    tokens = []
    for position, word in enumerate(words):
        dotted = word.endswith(".")
        word = word.strip(".")
        forms = token_forms(word)
        if not forms:
            continue
        key = _NON_WORD.sub("", fold(word))
        # A lone letter is an initial unless it opens the name ("A Lăng", "Y Bih").
        abbreviated = dotted or (len(key) == 1 and position > 0 and len(words) > 2)
        tokens.append(
            NameToken(
                spelled=spelled(word),
                key=key,
                forms=forms,
                abbreviated=abbreviated,
                marked=not word.isascii(),
            )
        )
    if not tokens:
        return None
    readings = _readings(tokens)
    return PersonName(
        tokens=tuple(tokens),
        joined=frozenset("".join(r) for r in readings),
        bag=frozenset(" ".join(sorted(r)) for r in readings),
        marked=any(t.marked for t in tokens),
        spelled=tuple(t.spelled for t in tokens),
    )


@dataclass(frozen=True, slots=True)
class Place:
    """A parsed village or venue name."""

    text: str  # as written (NFC, spaces collapsed): what reasons show
    spelled: str  # words after the prefix, as spelled (tone position ignored)
    core: str  # folded, no prefix, no spaces: "Thôn A Ur" -> "aur"
    forms: frozenset[str]  # core readings, incl. Telex/VNI-typed ones ("Thoon Aur")


def parse_place(text: object, prefixes: Iterable[str] = ()) -> Place | None:
    """Parse a place name: leading "thôn"/"bản" … dropped, folded, spaces removed.

    So "Thôn A Ur", "Aur", "Bản A-Ur" and "Thoon Aur" (Telex) all have the core "aur".
    """
    if not isinstance(text, str) or not text.strip():
        return None
    return _parse_place(text, tuple(prefixes))


@functools.lru_cache(maxsize=8192)  # village names repeat; the result is immutable
def _parse_place(text: str, prefixes: tuple[str, ...]) -> Place | None:
    cleaned = unicodedata.normalize("NFC", text).casefold()
    for char in _APOSTROPHES:
        cleaned = cleaned.replace(char, "")
    words = _NON_WORD.sub(" ", cleaned).split()
    forms = [token_forms(w) for w in words]
    prefix_words = [p.split() for p in prefixes]
    start, changed = 0, True
    while changed:
        changed = False
        for prefix in prefix_words:
            end = start + len(prefix)
            if (
                prefix
                and len(words) > end
                and all(word in forms[start + k] for k, word in enumerate(prefix))
            ):
                start, changed = end, True
                break
    keys = [_NON_WORD.sub("", fold(w)) for w in words[start:]]
    core = "".join(keys)
    if not core:
        return None
    readings: list[str] = [""]
    for key, word_forms in zip(keys, forms[start:], strict=True):
        options = sorted(word_forms, key=lambda f: (f != key, f)) or [key]
        readings = [r + f for r in readings for f in options][:_MAX_READINGS]
    return Place(
        text=" ".join(unicodedata.normalize("NFC", text).split()),
        spelled=" ".join(spelled(w) for w in words[start:]),
        core=core,
        forms=frozenset(readings) | {core},
    )


def parse_day(value: object) -> int | None:
    """Proleptic ordinal of an ODK date or dateTime ("2026-07-03[T…]")."""
    if isinstance(value, _dt.datetime):
        return value.date().toordinal()
    if isinstance(value, _dt.date):
        return value.toordinal()
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return _dt.date.fromisoformat(value[:10]).toordinal()
    except ValueError:
        return None


def parse_int(value: object) -> int | None:
    """An integer answer, or ``None`` for blank and junk."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return None
            return int(number) if math.isfinite(number) else None
    return None


def parse_geopoint(value: object) -> tuple[float, float, float | None] | None:
    """``(lat, lon, accuracy_m)`` from an ODK geopoint "lat lon alt acc"."""
    if isinstance(value, (tuple, list)) and len(value) >= 2:
        parts = [str(v) for v in value]
    elif isinstance(value, str):
        parts = value.split()
    else:
        return None
    if len(parts) < 2:
        return None
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    accuracy = None
    if len(parts) >= 4:
        try:
            accuracy = float(parts[3])
        except ValueError:
            accuracy = None
        if accuracy is not None and not (math.isfinite(accuracy) and accuracy >= 0):
            accuracy = None
    return lat, lon, accuracy


def parse_choices(value: object) -> frozenset[str] | None:
    """A select_multiple answer ("lures hotlines") as a set; ``None`` when blank."""
    if isinstance(value, str):
        return _choices(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(str(v) for v in value) or None
    return None


@functools.lru_cache(maxsize=4096)  # few distinct answers: share the sets
def _choices(value: str) -> frozenset[str] | None:
    return frozenset(value.split()) or None


def normalise_identifier(value: object) -> str | None:
    """Upper-case with spaces, dots and dashes removed ("dn-2026-00123" → DN202600123)."""
    if value is None or isinstance(value, bool):
        return None
    text = _NON_WORD.sub("", fold(str(value))).upper()
    return text or None


def normalise_phone(value: object) -> str | None:
    """Digits of a Vietnamese phone number, with +84/84 turned into a leading 0."""
    if value is None:
        return None
    digits = "".join(c for c in str(value) if c.isdigit())
    if str(value).strip().startswith("+84") or (
        digits.startswith("84") and len(digits) == 11
    ):
        digits = "0" + digits[2:]
    return digits if len(digits) >= 8 else None
