"""Small entity forms, the submissions Collect makes with them, and a phone's local list.

``Phone`` replays what ODK Collect does with an entity list (reference section 8;
collect ``LocalEntityUseCases.kt``): every download sets each entity's
``__trunkVersion`` to the server version and gives it a new random ``__branchId``;
every offline update sends ``baseVersion`` = the local ``__version`` with the current
trunk version and branch, then bumps the local version.
"""

from __future__ import annotations

import csv
import functools
import io
import uuid as uuid_module
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from pyxform.xls2xform import convert

PROPS = ("case_code", "commune", "risk", "status", "next_visit", "services")

INTAKE_MD = """
| survey |
| | type | name | label | save_to |
| | text | case_code | Case code | case_code |
| | text | commune | Commune | commune |
| | text | risk | Risk | risk |
| | text | status | Status | status |
| | text | next_visit | Next visit | next_visit |
| | text | services | Services | services |
| | text | full_name | Name (never saved to the entity) | |
| entities |
| | list_name | label |
| | cases | concat(${case_code}, ' · ', ${commune}) |
| settings |
| | form_id | version |
| | intake | 1 |
"""

FOLLOWUP_MD = """
| survey |
| | type | name | label | save_to |
| | select_one_from_file cases.csv | case | Case | |
| | text | risk | Risk | risk |
| | text | status | Status | status |
| | text | next_visit | Next visit | next_visit |
| | text | services | Services | services |
| entities |
| | list_name | entity_id |
| | cases | ${case} |
| settings |
| | form_id | version |
| | followup | 1 |
"""

UPSERT_MD = """
| survey |
| | type | name | label | save_to |
| | text | case_id | Case id | |
| | text | risk | Risk | risk |
| entities |
| | list_name | entity_id | create_if | update_if | label |
| | cases | ${case_id} | ${case_id} = '' | ${case_id} != '' | concat('Case ', ${risk}) |
| settings |
| | form_id | version |
| | upsert | 1 |
"""


@functools.cache
def xform(md: str) -> bytes:
    """The XForm pyxform makes of a markdown XLSForm (converted once per session)."""
    return convert(xlsform=md).xform.encode("utf-8")


def publish(project_id: int, md: str) -> tuple[int, int]:
    """Publish a form in an app context; returns (form id, form version id)."""
    from server.db import db
    from server.forms import create_draft, publish_draft

    form, _draft, _w = create_draft(project_id, xform(md))
    form_def = publish_draft(form)
    db.session.commit()
    return form.id, form_def.id


def new_uuid() -> str:
    return str(uuid_module.uuid4())


def entity_xml(
    form_id: str,
    entity_id: str,
    values: dict[str, str],
    *,
    create: str | None = None,
    update: str | None = None,
    base_version: str | int | None = None,
    trunk_version: str | int | None = None,
    branch_id: str | None = None,
    label: str | None = None,
    instance_id: str | None = None,
    deprecated_id: str | None = None,
    extra: dict[str, str] | None = None,
) -> bytes:
    """A submission carrying a ``meta/entity`` block, as Collect serialises it."""
    attrs = {"dataset": "cases", "id": entity_id}
    for name, value in (
        ("create", create),
        ("update", update),
        ("baseVersion", base_version),
        ("trunkVersion", trunk_version),
        ("branchId", branch_id),
    ):
        if value is not None:
            attrs[name] = str(value)
    attr_text = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    inner = "" if label is None else f"<label>{escape(label)}</label>"
    body = "".join(
        f"<{k}>{escape(v)}</{k}>" for k, v in {**(extra or {}), **values}.items()
    )
    meta = f"<instanceID>{instance_id or 'uuid:' + new_uuid()}</instanceID>"
    if deprecated_id:
        meta += f"<deprecatedID>{deprecated_id}</deprecatedID>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><data id="{form_id}" version="1" '
        f'xmlns:orx="http://openrosa.org/xforms">{body}<meta>'
        f"<entity{attr_text}>{inner}</entity>{meta}</meta></data>"
    ).encode()


def intake_xml(entity_id: str, values: dict[str, str], **kw) -> bytes:  # type: ignore[no-untyped-def]
    """An intake submission creating case ``entity_id``."""
    label = kw.pop(
        "label", f"{values.get('case_code', '')} · {values.get('commune', '')}"
    )
    return entity_xml("intake", entity_id, values, create="1", label=label, **kw)


@dataclass
class LocalEntity:
    """One row of Collect's local copy of an entity list."""

    uuid: str
    label: str
    version: int
    trunk_version: int | None
    branch_id: str | None
    data: dict[str, str]


@dataclass
class Phone:
    """A Collect install's local entity list, synced and edited offline."""

    name: str
    entities: dict[str, LocalEntity] = field(default_factory=dict)

    def download(self, csv_bytes: bytes) -> None:
        """Replace the local list with the server's CSV (online entities)."""
        rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8"))))
        self.entities = {}
        for row in rows:
            version = int(row.pop("__version"))
            uuid, label = row.pop("name"), row.pop("label")
            self.entities[uuid] = LocalEntity(
                uuid, label, version, version, new_uuid(), dict(row)
            )

    def update(self, uuid: str, values: dict[str, str]) -> bytes:
        """An offline follow-up of ``uuid``: the submission, and the local bump."""
        local = self.entities[uuid]
        xml = entity_xml(
            "followup",
            uuid,
            values,
            update="1",
            base_version=local.version,
            trunk_version=local.trunk_version,
            branch_id=local.branch_id,
            extra={"case": uuid},
        )
        local.version += 1
        local.data.update(values)
        return xml
