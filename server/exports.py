"""Submission exports as CSV (streamed) and XLSX (write-only, via a temp file).

Memory stays bounded whatever the number of submissions: rows come from the
database in batches (``yield_per``), each XML is parsed, flattened to one line and
dropped. CSV lines go straight to the client; XLSX rows go to openpyxl's write-only
workbook, which spools them to disk, and the finished file is sent from disk.

Columns follow the form (groups flattened as ``group-field``, as Central's CSV);
a repeat becomes a count of its entries. Fields under the ``pii`` group (and the
``link`` group: victim_case's pseudonymous linkage code) are left out
unless the caller may read personal data and asked for them; even then they stay
blank when the submission's ``consent`` answer is not ``yes`` (xlsforms contract).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import tempfile
import typing as t
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import (
    fromstring as _fast_fromstring,
)  # stored XML: see _parse_stored

import sqlalchemy as sa
from defusedxml.ElementTree import fromstring

from server.api.odata_rows import Field, form_schema
from server.db import db
from sync import local_name

PII_GROUP = "pii"
# Top-level groups of restricted personal data: ``pii`` (recorded with consent) and
# ``link`` (victim_case's pseudonymous linkage code, asked only without consent).
RESTRICTED_GROUPS = frozenset({PII_GROUP, "link"})
BATCH = 500
SYSTEM_HEADERS = (
    "SubmissionDate",
    "instanceID",
    "instanceName",
    "SubmitterName",
    "ReviewState",
    "commune",
)
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")


@dataclass(frozen=True, slots=True)
class Column:
    """One exported field: its path below the instance root, and its header."""

    path: tuple[str, ...]
    header: str
    repeat: bool = False
    personal: bool = False


def columns(xform: bytes, *, include_pii: bool) -> list[Column]:
    """The form's fields in order (personal ones only when ``include_pii``)."""
    out: list[Column] = []

    def walk(fields: tuple[Field, ...], trail: tuple[str, ...], personal: bool) -> None:
        for f in fields:
            here = (*trail, f.name)
            is_pii = personal or (not trail and f.name in RESTRICTED_GROUPS)
            if f.name == "meta" and not trail:
                continue
            if f.kind == "group":
                walk(f.children, here, is_pii)
            elif is_pii and not include_pii:
                continue
            elif f.kind == "repeat":
                out.append(Column(here, "-".join(here) + " (n)", True, is_pii))
            else:
                out.append(Column(here, "-".join(here), False, is_pii))

    walk(form_schema(xform), (), False)
    return out


def _index(root: Element) -> dict[tuple[str, ...], list[Element]]:
    found: dict[tuple[str, ...], list[Element]] = {}

    def walk(node: Element, trail: tuple[str, ...]) -> None:
        for child in node:
            here = (*trail, local_name(child.tag))
            found.setdefault(here, []).append(child)
            if len(child) and len(found[here]) == 1:
                walk(child, here)

    walk(root, ())
    return found


def _consented(nodes: dict[tuple[str, ...], list[Element]]) -> bool:
    for path, elements in nodes.items():
        if path[-1] == "consent":
            return (elements[0].text or "").strip() == "yes"
    return True  # forms without a consent question keep what they have


def _parse_stored(xml: bytes) -> Element:
    """Parse a stored version: it passed defusedxml at ingest, so it holds no DTD and
    no entity; the C parser is then safe and three times faster. Anything that looks
    otherwise still goes through defusedxml."""
    if b"<!" in xml:
        return fromstring(
            xml, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    return _fast_fromstring(xml)


def flatten(xml: bytes, cols: list[Column]) -> list[str]:
    """One submission's values for ``cols`` (blank where absent)."""
    root = _parse_stored(xml)
    nodes = _index(root)
    consent = _consented(nodes) if any(c.personal for c in cols) else True
    values = []
    for col in cols:
        found = nodes.get(col.path, [])
        if col.personal and not consent:
            values.append("")
        elif col.repeat:
            values.append(str(len(found)) if found else "0")
        else:
            values.append((found[0].text or "").strip() if found else "")
    return values


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(VIETNAM).isoformat(timespec="seconds")


def rows(query: sa.Select, cols: list[Column]) -> Iterator[list[str]]:
    """Header, then one list of strings per submission, read in batches.

    ``query`` selects ``created_at, instance_id, instance_name, submitter,
    review_state, commune, xml`` (see ``server.web.submissions.export_query``).
    """
    yield [*SYSTEM_HEADERS, *(c.header for c in cols)]
    result = db.session.execute(query.execution_options(yield_per=BATCH))
    for created, instance_id, name, submitter, state, commune, xml in result:
        yield [
            _when(created),
            instance_id,
            name or "",
            submitter or "",
            state or "",
            commune or "",
            *(_excel_safe(v) for v in flatten(xml, cols)),
        ]


def csv_stream(lines: Iterable[list[str]]) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM (Excel reads Vietnamese correctly), a chunk per ~64 KB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield codecs.BOM_UTF8
    for line in lines:
        writer.writerow(line)
        if buffer.tell() > 65536:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_file(lines: Iterable[list[str]], title: str) -> t.IO[bytes]:
    """An XLSX of ``lines`` in a temp file (deleted when closed), positioned at 0."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "data")
    bold = Font(bold=True)
    for number, line in enumerate(lines):
        if number == 0:
            cells = []
            for value in line:
                cell = WriteOnlyCell(sheet, value=value)
                cell.font = bold
                cells.append(cell)
            sheet.append(cells)
        else:
            sheet.append(line)
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - sent, then closed
    book.save(out)
    out.seek(0)
    return out


def _excel_safe(value: str) -> str:
    """Keep a leading =, +, - or @ from being read as a formula (CSV/XLSX injection;
    openpyxl too writes a string starting with = as a formula)."""
    if value and value[0] in "=+-@" and not _is_number(value):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
