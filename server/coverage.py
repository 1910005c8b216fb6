"""Coverage from stored submissions: gather the three mission forms, then ``geo``.

``gather`` reads the **current version** of every live (not deleted, not draft)
submission of ``outreach_session``, ``victim_case`` and ``staff_training`` in a
project, one row per logical submission, and turns the XML into the plain tables
``geo.compute_coverage`` takes. ``build_report`` adds the boundary set, the border,
the crosswalk, supervisor marks and the staff roster, assigns sessions to communes
(GPS first, see ``geo.assign_sessions``) and computes the period's coverage.

Privacy: victim cases contribute only their commune code, identification date and
``all_needs_served``; nothing under ``/data/pii`` is read. Trainee names are hashed
in memory into a key that counts a person once and is never stored or returned.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import typing as t
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from defusedxml.ElementTree import fromstring

import geo
from server import boundaries, coverage_settings
from server.db import db
from server.models import Form, Submission, SubmissionDef

SESSION_FORM, CASE_FORM, TRAINING_FORM = (
    "outreach_session",
    "victim_case",
    "staff_training",
)
FORM_IDS = (SESSION_FORM, CASE_FORM, TRAINING_FORM)
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")  # no daylight saving time

# Field paths below the instance root (see xlsforms/README.md).
SESSION_FIELDS = {
    "date": "session/session_date",
    "commune": "session/commune",
    "gps": "session/gps",
    "n_total": "participants/n_total",
    "n_women": "participants/n_women",
    "n_girls": "participants/n_girls",
    "n_ethnic_minority": "participants/n_ethnic_minority",
}
CASE_FIELDS = {
    "commune": "profile/commune",
    "id_date": "case/id_date",
    "all_needs_served": "all_needs_served",
}
EVENT_FIELDS = {
    "date": "event/training_date",
    "commune": "event/commune",
    "n_trainees": "n_trainees",
}


def excluded_submission_ids(project_id: int) -> set[int]:
    """Submissions (``submissions.id``) flagged as duplicates of another record.

    A reviewer's ``same`` decision flags every member of a cluster but the one it
    counts as (``server.dedup.excluded``), so each cluster is counted once.
    """
    from server import dedup

    return dedup.excluded(project_id)


@dataclass(frozen=True, eq=False)
class Gathered:
    """The project's records as ``geo`` tables, indexed by logical instanceID."""

    sessions: pd.DataFrame
    cases: pd.DataFrame
    events: pd.DataFrame
    trainees: pd.DataFrame
    data_time: dt.datetime | None  # when the newest included version arrived
    fingerprint: str  # changes whenever an included submission version changes


@dataclass(frozen=True, eq=False)
class Report:
    """Everything an output needs: the coverage and where it came from."""

    coverage: geo.Coverage
    boundary_set: geo.BoundarySet
    border: gpd.GeoDataFrame | None
    review: pd.DataFrame
    data_time: dt.datetime
    key: tuple[t.Any, ...] = field(default=())  # cache key of every input


def gather(project_id: int) -> Gathered:
    """Read the current version of each live submission of the three forms."""
    forms = dict(
        db.session.execute(
            sa.select(Form.id, Form.xml_form_id).where(
                Form.project_id == project_id,
                Form.xml_form_id.in_(FORM_IDS),
                Form.deleted_at.is_(None),
            )
        ).all()
    )
    rows = []
    if forms:
        rows = db.session.execute(
            sa.select(
                Submission.id,
                Submission.instance_id,
                Submission.form_id,
                SubmissionDef.id.label("def_id"),
                SubmissionDef.sha256,
                SubmissionDef.created_at,
            )
            .join(
                SubmissionDef,
                sa.and_(
                    SubmissionDef.submission_id == Submission.id,
                    SubmissionDef.current.is_(True),
                ),
            )
            .where(
                Submission.form_id.in_(list(forms)),
                Submission.draft.is_(False),
                Submission.deleted_at.is_(None),
            )
            .order_by(Submission.id)
        ).all()
    excluded = excluded_submission_ids(project_id)
    rows = [r for r in rows if r.id not in excluded]
    parsed = _parse_all(rows, forms)
    tables: dict[str, list[dict[str, t.Any]]] = {f: [] for f in FORM_IDS}
    trainees: list[dict[str, t.Any]] = []
    for row in rows:
        kind = forms[row.form_id]
        record = parsed[row.sha256]
        tables[kind].append({"instance_id": row.instance_id, **record["fields"]})
        if kind == TRAINING_FORM:
            trainees += [
                {**p, "date": record["fields"]["date"]} for p in record["trainees"]
            ]
    digest = hashlib.sha256()
    for row in rows:
        digest.update(f"{row.def_id}:{row.sha256};".encode())
    newest = max((_aware(r.created_at) for r in rows), default=None)
    return Gathered(
        sessions=_frame(tables[SESSION_FORM], SESSION_FIELDS),
        cases=_frame(tables[CASE_FORM], CASE_FIELDS),
        events=_frame(tables[TRAINING_FORM], EVENT_FIELDS),
        trainees=pd.DataFrame(trainees, columns=["trainee_id", "commune", "date"]),
        data_time=newest,
        fingerprint=digest.hexdigest(),
    )


def build_report(
    project_id: int,
    period: geo.Period,
    *,
    set_name: str | None = None,
    distance_m: float = 500.0,
    as_of: dt.date | None = None,
) -> Report:
    """Coverage of ``period`` for a project, on the chosen (or in-force) boundary set."""
    chosen = boundaries.resolve_set(set_name, period.last_day)
    border, border_key = boundaries.load_border()
    data = gather(project_id)
    crosswalk = boundaries.load_crosswalk()
    codes = chosen.areas["code"]
    sessions = data.sessions.assign(
        commune=recode(data.sessions["commune"], crosswalk, codes)
    )
    assignment = geo.assign_sessions(
        sessions,
        chosen.areas,
        prefer="form" if chosen.info.approximate else "gps",
    )
    sessions = sessions.assign(commune=assignment.assigned["commune"])
    cases = data.cases.assign(commune=recode(data.cases["commune"], crosswalk, codes))
    events = data.events.assign(
        commune=recode(data.events["commune"], crosswalk, codes)
    )
    trainees = data.trainees.assign(
        commune=recode(data.trainees["commune"], crosswalk, codes)
    )
    marked = coverage_settings.marks(project_id)
    staff = coverage_settings.roster(project_id)
    as_of = as_of or dt.datetime.now(VIETNAM).date()
    border_codes = _border_codes(chosen, border, border_key, distance_m)
    coverage = geo.compute_coverage(
        chosen.areas,
        period,
        sessions=sessions.reset_index(drop=True),
        cases=cases.reset_index(drop=True),
        training_events=events.reset_index(drop=True),
        trainees=trainees,
        staff_roster=staff or None,
        border_codes=border_codes,
        marked=marked,
        as_of=as_of,
    )
    review = assignment.review.assign(
        date=sessions["date"].reindex(assignment.review["session"]).to_numpy()
    ).rename(columns={"session": "instance_id"})
    key = (
        project_id,
        period.label,
        chosen.key,
        border_key,
        distance_m,
        data.fingerprint,
        as_of.isoformat(),
        tuple(sorted(marked.items())),
        tuple(sorted(staff.items())),
        crosswalk is not None and len(crosswalk.entries),
    )
    data_time = (data.data_time or dt.datetime.now(dt.UTC)).astimezone(VIETNAM)
    return Report(coverage, chosen.info, border, review, data_time, key)


def recode(
    codes: pd.Series, crosswalk: geo.Crosswalk | None, valid: t.Iterable[str]
) -> pd.Series:
    """Old (pre-2025) commune codes to 2025 codes; unknown codes are kept as typed
    so the review list can show them, and blanks stay blank."""
    if crosswalk is None or codes.empty:
        return codes
    out = geo.recode(codes, crosswalk, valid_codes=valid)["code"]
    return out.where(out.notna(), codes)


def high_risk_table(
    project_id: int, *, set_name: str | None = None, distance_m: float = 500.0
) -> tuple[boundaries.ResolvedSet, pd.DataFrame, gpd.GeoDataFrame | None]:
    """High-risk communes today: border, victim cases so far, supervisor marks."""
    chosen = boundaries.resolve_set(set_name)
    border, _key = boundaries.load_border()
    data = gather(project_id)
    today = dt.datetime.now(VIETNAM).date()
    cases = data.cases.assign(
        commune=recode(data.cases["commune"], boundaries.load_crosswalk(), [])
    )
    dates = pd.to_datetime(cases["id_date"], errors="coerce", format="ISO8601")
    victims = set(cases.loc[dates.dt.date <= today, "commune"].dropna())
    table = geo.high_risk(
        chosen.areas,
        border=border,
        victim_communes=victims,
        marked=coverage_settings.marks(project_id),
        distance_m=distance_m,
    )
    table.insert(1, "name", chosen.areas["name"].to_numpy())
    return chosen, table, border


_BORDER_CODES: OrderedDict[tuple[str, str, float], tuple[str, ...]] = OrderedDict()


def _border_codes(
    chosen: boundaries.ResolvedSet,
    border: gpd.GeoDataFrame | None,
    border_key: str,
    distance_m: float,
) -> tuple[str, ...] | None:
    """Border communes of a set, computed once per (set, border, distance)."""
    if border is None:
        return None
    key = (chosen.key, border_key, distance_m)
    with _LOCK:
        known = _BORDER_CODES.get(key)
    if known is None:
        edge = geo.border_communes(chosen.areas, border, distance_m=distance_m)
        known = tuple(edge.loc[edge["is_border"], "code"])
        with _LOCK:
            _BORDER_CODES[key] = known
            while len(_BORDER_CODES) > 8:
                _BORDER_CODES.popitem(last=False)
    return known


# --- XML to rows --------------------------------------------------------------------

# Parsed records by the version's sha256 (stored XML never changes): a resent
# report parses only what arrived since.
_PARSED: OrderedDict[str, dict[str, t.Any]] = OrderedDict()
_PARSED_KEEP = 100_000
_CHUNK = 500
_LOCK = threading.Lock()  # gunicorn runs several threads per worker


def _parse_all(
    rows: t.Sequence[t.Any], forms: t.Mapping[int, str]
) -> dict[str, dict[str, t.Any]]:
    with _LOCK:
        out = {r.sha256: _PARSED[r.sha256] for r in rows if r.sha256 in _PARSED}
        for sha in out:
            _PARSED.move_to_end(sha)
    kinds = {r.def_id: forms[r.form_id] for r in rows if r.sha256 not in out}
    missing = sorted(kinds)
    fresh: dict[str, dict[str, t.Any]] = {}
    for start in range(0, len(missing), _CHUNK):
        chunk = missing[start : start + _CHUNK]
        for def_id, sha, xml in db.session.execute(
            sa.select(SubmissionDef.id, SubmissionDef.sha256, SubmissionDef.xml).where(
                SubmissionDef.id.in_(chunk)
            )
        ).all():
            fresh[sha] = _extract(bytes(xml), kinds[def_id])
    out.update(fresh)
    with _LOCK:
        _PARSED.update(fresh)
        while len(_PARSED) > _PARSED_KEEP:
            _PARSED.popitem(last=False)
    return out


def _extract(xml: bytes, form_id: str) -> dict[str, t.Any]:
    """The fields coverage needs from one record of ``form_id``."""
    root = fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    if form_id == SESSION_FORM:
        fields = {k: _text(root, p) for k, p in SESSION_FIELDS.items()}
        fields["date"] = fields["date"] or _text(root, "today")
        return {"fields": fields, "trainees": []}
    if form_id == CASE_FORM:
        return {
            "fields": {k: _text(root, p) for k, p in CASE_FIELDS.items()},
            "trainees": [],
        }
    fields = {k: _text(root, p) for k, p in EVENT_FIELDS.items()}
    people = [
        {
            "trainee_id": _person_key(
                _text(node, "trainee_name"), _text(node, "trainee_agency")
            ),
            "commune": _text(node, "trainee_commune") or "",
        }
        for node in _children(root, "trainee")
        if _text(node, "trainee_name")
    ]
    return {"fields": fields, "trainees": people}


def _local(tag: t.Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(node: Element, name: str) -> list[Element]:
    return [c for c in node if _local(c.tag) == name]


def _text(node: Element, path: str) -> str | None:
    """Text at a relative path (namespace-agnostic); None when absent or blank."""
    for name in path.split("/"):
        found = _children(node, name)
        if not found:
            return None
        node = found[0]
    text = (node.text or "").strip()
    return text or None


def _person_key(name: str | None, agency: str | None) -> str:
    """A key counting one trainee once across events (name folded, with agency)."""
    folded = " ".join(unicodedata.normalize("NFC", name or "").casefold().split())
    return hashlib.sha256(f"{folded}|{agency or ''}".encode()).hexdigest()[:24]


def _frame(
    records: list[dict[str, t.Any]], fields: t.Mapping[str, str]
) -> pd.DataFrame:
    columns = ["instance_id", *fields]
    frame = pd.DataFrame(records, columns=columns, dtype=object)
    return frame.set_index("instance_id")


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
