#!/usr/bin/env python3
"""Generate the commune list (``communes.csv``) that the XLSForms load as form media.

The forms ask for the commune with ``select_one_from_file communes.csv``, so the XForm
references ``jr://file-csv/communes.csv`` and the server serves this file as a media
attachment of every form. One row per 2025 commune-level unit (xã, phường, đặc khu) of
one province:

``name``
    Official 5-digit 2025 commune code (GSO). This is the stored answer, and the
    same key as ``code`` in the boundary GeoJSON.
``label``
    What Collect shows and searches (autocomplete matches a substring of the label,
    case-insensitively, with diacritics). It carries the old (pre-2025) communes and
    districts, so a worker who knows only the old name still finds the new commune:
    ``Xã Tây Giang (cũ: Lăng, A Nông, A Tiêng, Dang – huyện Tây Giang)``.
``short_name``
    The bare new name (``Tây Giang``), used in instance names.
``unit_type``
    ``Xã``, ``Phường`` or ``Đặc khu``.
``province_code``
    2-digit 2025 province code (``48`` = Đà Nẵng), for ``choice_filter``.
``old_units``
    The predecessors as ``old code:name:district`` items joined with ``;``, with
    ``*`` after the code of a unit that was split (only part of it joined).

Collect cannot read translated label columns (``label::English (en)``) from a CSV
(getodk/collect#4266), and its column names become XML element names, so the file
has one Vietnamese label column: place names are the same in both languages.

The data comes from the PyPI package ``vietnamadminunits`` (MIT): the SQLite tables
``admin_units`` (34 provinces, 3,321 units after 1 July 2025) and
``admin_units_legacy`` (63 provinces), and ``converter_2025.json`` (old → new).
The package is located without importing it, because importing it loads its address
parser and geocoding dependencies; only the data files are read.

Output is deterministic (sorted by code, NFC, ``\\n`` line ends, no BOM), so the
committed file can be checked with ``--check``.

Examples::

    python tools/communes.py                      # Đà Nẵng -> xlsforms/communes.csv
    python tools/communes.py --province "Quảng Trị" --out-dir /tmp/forms
    python tools/communes.py --province 48 --province 46   # two provinces
    python tools/communes.py --check              # is the committed file current?
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import sqlite3
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PROVINCE = "Đà Nẵng"
DEFAULT_OUT_DIR = Path(__file__).resolve().parent.parent / "xlsforms"
DEFAULT_FILENAME = "communes.csv"
COLUMNS = ("name", "label", "short_name", "unit_type", "province_code", "old_units")
PART_MARK = "một phần"  # label text for a split old unit ("part of")


@dataclass(frozen=True, slots=True)
class OldUnit:
    """A pre-2025 commune-level unit (or a ward-less island district)."""

    code: str  # old GSO commune code; "" for an island district without communes
    name: str  # display name, e.g. "A Tiêng", "TT Prao"
    district: str  # display name, e.g. "huyện Tây Giang"
    district_code: str
    part: bool  # only part of it went to the new unit


@dataclass(frozen=True, slots=True)
class Commune:
    """A 2025 commune-level unit with its predecessors."""

    code: str
    full_name: str
    short_name: str
    unit_type: str
    province_code: str
    old_units: tuple[OldUnit, ...]

    @property
    def label(self) -> str:
        """The label Collect shows and filters on."""
        if not self.old_units:
            return self.full_name
        return f"{self.full_name} (cũ: {_describe_old(self.old_units)})"

    def row(self) -> dict[str, str]:
        """The CSV row."""
        return {
            "name": self.code,
            "label": self.label,
            "short_name": self.short_name,
            "unit_type": self.unit_type,
            "province_code": self.province_code,
            "old_units": ";".join(
                f"{u.code}{'*' if u.part else ''}:{u.name}:{u.district}"
                for u in self.old_units
            ),
        }


def fold(text: str) -> str:
    """Lower-case ASCII key: ``"Thành phố Đà Nẵng"`` -> ``"thanhphodanang"``."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def data_dir() -> Path:
    """Find ``vietnamadminunits/data`` without importing the package."""
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "The 'vietnamadminunits' package is required: pip install vietnamadminunits"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", (text or "").strip())


def _strip_type(full: str, unit_type: str) -> str:
    if unit_type and full.startswith(unit_type + " "):
        return full[len(unit_type) + 1 :]
    return full


def _old_ward_name(ward: str, ward_type: str) -> str:
    short = _strip_type(ward, ward_type)
    if ward_type == "Thị trấn":
        return f"TT {short}"
    if short.isdigit():  # "Phường 1"
        return ward
    return short


_DISTRICT_PREFIX = {"Thành phố": "TP", "Thị xã": "TX", "Quận": "quận", "Huyện": "huyện"}


def _district_name(district: str, district_type: str) -> str:
    short = _strip_type(district, district_type)
    prefix = _DISTRICT_PREFIX.get(district_type, district_type.lower())
    return f"{prefix} {short}".strip()


def _describe_old(units: tuple[OldUnit, ...]) -> str:
    """``"Lăng, A Nông – huyện Tây Giang; Hòa Bắc – huyện Hòa Vang"``."""
    groups: dict[str, list[OldUnit]] = {}
    for unit in units:
        groups.setdefault(unit.district, []).append(unit)
    parts = []
    for district, members in groups.items():
        names = [
            f"{u.name} ({PART_MARK})" if u.part else u.name for u in members if u.name
        ]
        parts.append(f"{', '.join(names)} – {district}" if names else district)
    return "; ".join(parts)


def resolve_province(conn: sqlite3.Connection, query: str) -> tuple[str, str, str]:
    """Return ``(code, full name, key)`` for a province code or (ASCII) name."""
    rows = conn.execute(
        "SELECT DISTINCT provinceCode, province, provinceShort, provinceKey "
        "FROM admin_units ORDER BY provinceCode"
    ).fetchall()
    wanted = fold(query)
    for code, full, short, key in rows:
        if query.strip() in (code, code.lstrip("0")) or wanted in (
            fold(full),
            fold(short),
        ):
            return code, _nfc(full), key
    choices = ", ".join(f"{code} {_nfc(short)}" for code, _, short, _ in rows)
    raise SystemExit(f"Unknown province {query!r}. Choose one of: {choices}")


def load_communes(province: str = DEFAULT_PROVINCE) -> list[Commune]:
    """Read the 2025 communes of ``province`` with their pre-2025 predecessors."""
    folder = data_dir()
    converter = json.loads((folder / "converter_2025.json").read_text("utf-8"))
    conn = sqlite3.connect(f"file:{folder / 'dataset.db'}?mode=ro", uri=True)
    try:
        code, _, key = resolve_province(conn, province)
        new_rows = conn.execute(
            "SELECT wardCode, ward, wardShort, wardType, wardKey FROM admin_units "
            "WHERE provinceCode = ? ORDER BY CAST(wardCode AS INTEGER)",
            (code,),
        ).fetchall()
        legacy = {}
        for row in conn.execute(
            "SELECT provinceKey, districtKey, wardKey, wardCode, ward, wardType, "
            "district, districtType, districtCode FROM admin_units_legacy"
        ):
            pkey, dkey, wkey, wcode, ward, wtype, district, dtype, dcode = row
            legacy[f"{pkey}_{dkey or ''}_{wkey or ''}"] = (
                wcode or "",
                _old_ward_name(_nfc(ward), _nfc(wtype)) if ward else "",
                _district_name(_nfc(district), _nfc(dtype)),
                dcode or "",
            )
    finally:
        conn.close()

    predecessors: dict[str, list[OldUnit]] = {}

    def add(new_key: str, old_key: str, part: bool) -> None:
        wcode, name, district, dcode = legacy[old_key]
        predecessors.setdefault(new_key, []).append(
            OldUnit(wcode, name, district, dcode, part)
        )

    for new_key, old_keys in converter["DICT_PROVINCE_WARD_NO_DIVIDED"][key].items():
        for old_key in old_keys:
            add(new_key, old_key, part=False)
    for old_key, targets in (
        converter["DICT_PROVINCE_WARD_DIVIDED"].get(key, {}).items()
    ):
        for target in targets:
            add(target["newWardKey"], old_key, part=True)

    def order(unit: OldUnit) -> tuple[int, int, str]:
        return (int(unit.district_code or 0), int(unit.code or 0), unit.name)

    communes = []
    for wcode, ward, short, wtype, wkey in new_rows:
        full, unit_type = _nfc(ward), _nfc(wtype)
        communes.append(
            Commune(
                code=wcode,
                full_name=full,
                short_name=_nfc(short) or _strip_type(full, unit_type),
                unit_type=unit_type,
                province_code=code,
                old_units=tuple(sorted(predecessors.get(wkey, []), key=order)),
            )
        )
    return communes


def render_csv(communes: list[Commune]) -> str:
    """The CSV text, byte-stable for the same input."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for commune in communes:
        writer.writerow(commune.row())
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description="Generate the select_one_from_file commune list for the XLSForms."
    )
    parser.add_argument(
        "--province",
        action="append",
        help="2025 province: code (48), name (Đà Nẵng) or ASCII name (da nang). "
        "Repeat to list several provinces in one file. "
        f"Default: {DEFAULT_PROVINCE}",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help="Directory to write to (default: the repository's xlsforms/).",
    )
    parser.add_argument(
        "--filename",
        default=DEFAULT_FILENAME,
        help="File name; the forms reference communes.csv (default).",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="Do not write; exit 1 if the existing file differs.",
    )
    args = parser.parse_args(argv)

    communes = [
        commune
        for province in args.province or [DEFAULT_PROVINCE]
        for commune in load_communes(province)
    ]
    text = render_csv(communes)
    path = args.out_dir / args.filename
    if args.check:
        current = path.read_text("utf-8") if path.exists() else None
        if current != text:
            print(f"{path} is out of date; run tools/communes.py", file=sys.stderr)
            return 1
        print(f"{path} is up to date ({len(communes)} communes)")
        return 0
    args.out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    print(f"wrote {path}: {len(communes)} communes, {len(text.encode())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
