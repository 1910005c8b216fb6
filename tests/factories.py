"""Tiny builders for forms and submissions (Central's test/data/xml.js idea)."""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

from pyxform.xls2xform import convert

PHOTO_FORM_MD = """
| survey   |          |          |          |
|          | type     | name     | label    |
|          | text     | village  | Village  |
|          | integer  | total    | Total    |
|          | image    | photo1   | Photo 1  |
|          | image    | photo2   | Photo 2  |
| settings |          |          |          |
|          | form_id  | version  | form_title |
|          | {form_id} | {version} | {title} |
"""

MEDIA_FORM_MD = """
| survey   |                     |          |                  |
|          | type                | name     | label            |
|          | select_one_from_file communes.csv | commune | Commune |
|          | text                | note1    | Note             |
| settings |          |          |          |
|          | form_id  | version  | form_title |
|          | {form_id} | {version} | {title} |
"""


def xform(
    form_id: str = "photos",
    version: str = "1",
    title: str = "Photos",
    template: str = PHOTO_FORM_MD,
) -> bytes:
    """A real XForm produced by pyxform from a markdown XLSForm."""
    md = template.format(form_id=form_id, version=version, title=title)
    return convert(xlsform=md).xform.encode("utf-8")


def new_instance_id() -> str:
    """A fresh ``uuid:`` instanceID."""
    return f"uuid:{uuid.uuid4()}"


def submission_xml(
    form_id: str = "photos",
    version: str = "1",
    instance_id: str | None = None,
    fields: dict[str, str] | None = None,
    deprecated_id: str | None = None,
    instance_name: str | None = None,
) -> bytes:
    """Instance XML as Collect writes it (``orx`` meta namespace)."""
    instance_id = instance_id or new_instance_id()
    body = "".join(
        f"<{k}>{escape(v)}</{k}>"
        for k, v in (fields or {"village": "Bản A Ur"}).items()
    )
    meta = f"<orx:instanceID>{instance_id}</orx:instanceID>"
    if deprecated_id:
        meta += f"<orx:deprecatedID>{deprecated_id}</orx:deprecatedID>"
    if instance_name:
        meta += f"<orx:instanceName>{escape(instance_name)}</orx:instanceName>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<data xmlns:jr="http://openrosa.org/javarosa" '
        f'xmlns:orx="http://openrosa.org/xforms" id="{form_id}" version="{version}">'
        f"{body}<meta>{meta}</meta></data>"
    ).encode()
