"""Per-project coverage settings: supervisor high-risk marks and staff rosters.

A mark records a supervisor's judgement (a cross-border market, a labour broker
seen in the commune); the roster gives the number of support staff per commune,
the denominator of the staff-trained indicator. Codes are checked against the
current boundary set, since a typo would silently skew an indicator. Nothing here
commits; audit rows carry codes and counts, never the supervisor's free-text note.
"""

from __future__ import annotations

import csv
import os
import typing as t

import sqlalchemy as sa

from server import audit, problem
from server.boundaries import resolve_set
from server.db import db
from server.geo_models import HighRiskMark, StaffRoster
from server.models import utcnow

CITY_LEVEL = ""  # roster code of city-level staff


def marks(project_id: int) -> dict[str, str]:
    """Commune code -> supervisor's note for the project's hand-marked communes."""
    rows = db.session.execute(
        sa.select(HighRiskMark.code, HighRiskMark.note)
        .where(HighRiskMark.project_id == project_id)
        .order_by(HighRiskMark.code)
    ).all()
    return {r.code: r.note for r in rows}


def mark(
    project_id: int, code: str, note: str, *, actor_id: int | None = None
) -> HighRiskMark:
    """Mark a commune high-risk (or change the note of an existing mark)."""
    code = code.strip()
    _check_codes([code])
    row = db.session.scalars(
        sa.select(HighRiskMark).where(
            HighRiskMark.project_id == project_id, HighRiskMark.code == code
        )
    ).first()
    if row is None:
        row = HighRiskMark(project_id=project_id, code=code)
        db.session.add(row)
    row.note, row.marked_by, row.marked_at = note.strip(), actor_id, utcnow()
    db.session.flush()
    audit.log(
        "high_risk.mark",
        "project",
        project_id,
        actor_id=actor_id,
        details={"code": code},  # the note is free text: kept out of the audit log
    )
    return row


def unmark(project_id: int, code: str, *, actor_id: int | None = None) -> bool:
    """Remove a hand mark; False when the commune was not marked."""
    deleted = db.session.execute(
        sa.delete(HighRiskMark).where(
            HighRiskMark.project_id == project_id, HighRiskMark.code == code.strip()
        )
    ).rowcount
    if deleted:
        audit.log(
            "high_risk.unmark",
            "project",
            project_id,
            actor_id=actor_id,
            details={"code": code.strip()},
        )
    return bool(deleted)


def roster(project_id: int) -> dict[str, int]:
    """Commune code (``""`` = city level) -> number of support staff."""
    rows = db.session.execute(
        sa.select(StaffRoster.code, StaffRoster.staff).where(
            StaffRoster.project_id == project_id
        )
    ).all()
    return {r.code: int(r.staff) for r in rows}


def read_roster_csv(path: str | os.PathLike) -> dict[str, int]:
    """Read ``code,staff`` rows (an empty code is city level); 400.8 on bad rows."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = {f.strip().lower() for f in reader.fieldnames or []}
        if not {"code", "staff"} <= fields:
            raise problem.unexpected_value(
                "roster", "the CSV needs the columns code and staff."
            )
        out: dict[str, int] = {}
        for number, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            code = row["code"]
            if code.isdigit() and len(code) < 5:
                code = code.zfill(5)  # a spreadsheet dropped the leading zero
            try:
                staff = int(row["staff"])
            except ValueError:
                staff = -1
            if staff < 0:
                raise problem.unexpected_value(
                    "roster", f"row {number}: staff must be a whole number >= 0."
                )
            if code in out:
                raise problem.unexpected_value(
                    "roster",
                    f"row {number}: commune {code or '(city)'} is listed twice.",
                )
            out[code] = staff
    return out


def set_roster(
    project_id: int, sizes: t.Mapping[str, int], *, actor_id: int | None = None
) -> None:
    """Replace the project's staff roster."""
    _check_codes([c for c in sizes if c != CITY_LEVEL])
    db.session.execute(
        sa.delete(StaffRoster).where(StaffRoster.project_id == project_id)
    )
    now = utcnow()
    if sizes:
        db.session.execute(
            sa.insert(StaffRoster),
            [
                {
                    "project_id": project_id,
                    "code": code,
                    "staff": int(staff),
                    "updated_at": now,
                    "updated_by": actor_id,
                }
                for code, staff in sizes.items()
            ],
        )
    audit.log(
        "staff_roster.update",
        "project",
        project_id,
        actor_id=actor_id,
        details={"units": len(sizes), "staff": int(sum(sizes.values()))},
    )


def _check_codes(codes: t.Iterable[str]) -> None:
    """Refuse codes unknown to the current boundary set (typos would skew indicators)."""
    known = set(resolve_set().areas["code"])
    unknown = sorted(set(codes) - known)
    if unknown:
        raise problem.unexpected_value(
            "commune code",
            f"not in the current boundary set: {', '.join(unknown[:10])}.",
        )
