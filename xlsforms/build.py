#!/usr/bin/env python3
"""Write the XLSForm workbooks from their definitions in ``xlsforms/formdefs/``.

The ``.xlsx`` files are what Central, pyxform and the server read, so they are
committed; the Python definitions are what reviewers diff. Edit a definition, bump
``VERSION`` in ``formdefs/common.py``, then run::

    python xlsforms/build.py             # rewrite xlsforms/*.xlsx
    python xlsforms/build.py --check     # exit 1 if a committed workbook is stale
    python xlsforms/build.py --validate  # also run pyxform + ODK Validate (Java)

The output is byte-for-byte reproducible with the same openpyxl and zlib: fixed
document timestamps and fixed zip entry dates. ``--check`` compares cell values,
so it does not depend on those library versions.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from formdefs import FORMS, Form  # noqa: E402
from formdefs.common import (  # noqa: E402
    CHOICE_COLUMNS,
    ENTITIES_COLUMNS,
    SETTINGS_COLUMNS,
    SURVEY_COLUMNS,
)

FIXED_TIME = (2026, 11, 28, 0, 0, 0)
FIXED_W3CDTF = "2026-11-28T00:00:00Z"
WIDTHS = {"type": 34, "name": 24, "relevant": 30, "constraint": 30, "calculation": 30}

Sheet = list[tuple[str, ...]]


def sheets(form: Form) -> dict[str, Sheet]:
    """The XLSForm sheets as rows of strings, header first (entities if any)."""

    def table(columns: tuple[str, ...], rows: Iterable[dict[str, str]]) -> Sheet:
        return [columns, *(tuple(row.get(c, "") for c in columns) for row in rows)]

    result = {
        "survey": table(SURVEY_COLUMNS, form.survey),
        "choices": table(CHOICE_COLUMNS, form.choice_rows()),
        "settings": table(SETTINGS_COLUMNS, [form.settings()]),
    }
    if form.entities:
        result["entities"] = table(ENTITIES_COLUMNS, [form.entities])
    return result


def workbook_bytes(form: Form) -> bytes:
    """The ``.xlsx`` file for ``form``, reproducible byte for byte."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets(form).items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append([value or None for value in row])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            width = WIDTHS.get(cell.value, 40 if "::" in cell.value else 14)
            ws.column_dimensions[cell.column_letter].width = width
        ws.freeze_panes = "A2"
    wb.properties.creator = "xlsforms/build.py"
    buffer = io.BytesIO()
    wb.save(buffer)
    return _normalise_zip(buffer.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """Pin zip entry dates and the document timestamps openpyxl sets to "now"."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for item in zin.infolist():
            content = zin.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + FIXED_W3CDTF.encode() + rb"\g<3>",
                    content,
                )
            info = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, content)
    return out.getvalue()


def read_sheets(source: Path | bytes) -> dict[str, Sheet]:
    """Cell values of a workbook, as strings, trailing blanks dropped."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    wb = load_workbook(handle, read_only=True)
    try:
        result = {}
        for ws in wb.worksheets:
            rows = []
            for row in ws.iter_rows(values_only=True):
                values = ["" if v is None else str(v) for v in row]
                while values and values[-1] == "":
                    values.pop()
                rows.append(tuple(values))
            while rows and not rows[-1]:
                rows.pop()
            result[ws.title] = rows
        return result
    finally:
        wb.close()


def stale(form: Form, path: Path) -> str | None:
    """Why ``path`` does not match ``form`` (``None`` when it does)."""
    if not path.exists():
        return f"{path.name} is missing"
    expected = read_sheets(workbook_bytes(form))
    actual = read_sheets(path)
    for name in expected:
        if name not in actual:
            return f"{path.name}: sheet {name!r} is missing"
        want, got = expected[name], actual[name]
        for index, (a, b) in enumerate(zip(want, got, strict=False), start=1):
            if a != b:
                return f"{path.name}: sheet {name!r} row {index} differs"
        if len(want) != len(got):
            return f"{path.name}: sheet {name!r} has {len(got)} rows, want {len(want)}"
    return None


def validate(path: Path) -> list[str]:
    """Convert with pyxform and ODK Validate; return pyxform's warnings."""
    from pyxform.xls2xform import convert

    return list(convert(xlsform=str(path), validate=True).warnings)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE)
    parser.add_argument("--check", action="store_true", help="only compare")
    parser.add_argument(
        "--validate", action="store_true", help="run ODK Validate (needs Java)"
    )
    args = parser.parse_args(argv)

    status = 0
    for form in FORMS:
        path = args.out_dir / f"{form.form_id}.xlsx"
        if args.check:
            problem = stale(form, path)
            if problem:
                print(f"{problem}; run xlsforms/build.py", file=sys.stderr)
                status = 1
                continue
            print(f"{path.name} is up to date")
        else:
            path.write_bytes(workbook_bytes(form))
            print(f"wrote {path}")
        if args.validate:
            for warning in validate(path):
                print(f"  warning: {warning}")
            print(f"  {path.name}: ODK Validate OK")
    return status


if __name__ == "__main__":
    sys.exit(main())
