"""Tiny XLSForm builders: real .xlsx bytes made with openpyxl (what designers use)."""

from __future__ import annotations

import io

from openpyxl import Workbook

SURVEY = [
    ("type", "name", "label"),
    ("text", "village", "Village"),
    ("integer", "total", "Total"),
    ("image", "photo", "Photo"),
]


def xlsx(
    form_id: str | None = "households",
    version: str = "1",
    survey: list[tuple[str, ...]] | None = None,
    title: str = "Households",
    media: str | None = None,
) -> bytes:
    """An XLSForm workbook; ``media`` adds a select_one_from_file on that CSV."""
    rows = list(survey or SURVEY)
    if media:
        rows.append((f"select_one_from_file {media}", "commune", "Commune"))
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in rows:
        sheet.append(list(row))
    settings = book.create_sheet("settings")
    head, values = ["version", "form_title"], [version, title]
    if form_id is not None:
        head.insert(0, "form_id")
        values.insert(0, form_id)
    settings.append(head)
    settings.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
