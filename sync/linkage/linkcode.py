"""Pseudonymous linkage codes: family initial, given-name initial, birth year.

Registrations made without consent record no name. As HIV and key-population
programmes do with a UIC (unique identifier code), the worker then asks only for a
short code, "HL2004" for Hồ Thị Lan born in 2004: the first letter of the family name,
the first letter of the given name (both without diacritics, Đ as D) and the birth
year. For a registration with consent the engine derives the same code from the stored
full name and birth year, so a registration with consent and one without can be
linked as well as two without.

Cơ Tu and other Katuic family names are split in more than one way ("A Lăng" /
"Alăng", "Zơ Râm" / "Zơrâm"), and the person may give the letter of the main syllable
("L" for A Lăng). A code derived from a name therefore accepts both family initials:
the name's first letter, and the first letter after a leading "A" or a leading
consonant + "ơ" syllable. A code as typed has exactly the letters typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sync.linkage.normalise import fold, parse_int, parse_name

__all__ = ["LinkCode", "derive_link_code", "link_code", "parse_link_code"]

_TYPED = re.compile(r"^([A-Z])([A-Z])(\d{4})$")
_JUNK = re.compile(r"[\W_]+")
# "Alăng", "Ating", "Arất": a leading A joined to the main syllable.
_A_JOINED = re.compile(r"^a[bcdghklmnprstvxz]")
# "Zơrâm", "Pơloong", "Tơngôl": a leading consonant + ơ joined to the main syllable.
_SCHWA_JOINED = re.compile(r"^[bcdghklmnprstvxz]ơ[bcdghklmnprstvxz]")
_SCHWA_SYLLABLE = re.compile(r"^[bcdghklmnprstvxz]ơ$")


@dataclass(frozen=True, slots=True)
class LinkCode:
    """A linkage code, typed or derived from a name (``None`` year: unknown)."""

    family: frozenset[str]  # accepted family initials, lower case ("a", "l")
    given: str  # given-name initial, lower case
    year: int | None
    derived: bool  # computed from a full name and birth year (a consented record)


def parse_link_code(value: object) -> LinkCode | None:
    """A code as typed ("HL2004", "hl 2004", "H-L-2004"); ``None`` if not one."""
    if not isinstance(value, str):
        return None
    found = _TYPED.match(_JUNK.sub("", fold(value)).upper())
    if found is None:
        return None
    return LinkCode(
        family=frozenset({found.group(1).lower()}),
        given=found.group(2).lower(),
        year=int(found.group(3)),
        derived=False,
    )


def derive_link_code(full_name: object, birth_year: object = None) -> LinkCode | None:
    """The code a person with this name would give ("A Lăng Văn Thắng" → A or L, T).

    The family name is the first word and the given name the last, as Vietnamese
    names are written; an initial ("T.") is never the given name's word.
    """
    name = parse_name(full_name)
    if name is None:
        return None
    words = [tok for tok in name.tokens if tok.key[:1].isalpha()]
    if len(words) < 2 or words[-1].abbreviated:
        return None
    first = words[0]
    family = {first.key[0]}
    if first.key == "a" or (
        len(words) > 2 and _SCHWA_SYLLABLE.match(first.spelled.rstrip("sfrxj"))
    ):
        if len(words) > 2:
            family.add(words[1].key[0])  # "A Lăng Văn Thắng", "Zơ Râm Thị Dung"
    elif _A_JOINED.match(first.key) and len(first.key) > 3:
        family.add(first.key[1])  # "Alăng", "Ating", "Arất"
    elif _SCHWA_JOINED.match(first.spelled) and len(first.key) > 3:
        family.add(first.key[2])  # "Zơrâm", "Pơloong", "Tơngôl"
    return LinkCode(
        family=frozenset(family),
        given=words[-1].key[0],
        year=parse_int(birth_year),
        derived=True,
    )


def link_code(
    code: object, full_name: object = None, birth_year: object = None
) -> LinkCode | None:
    """The typed code if there is one, else the code derived from the name."""
    return parse_link_code(code) or derive_link_code(full_name, birth_year)
