"""What waits for a supervisor (duplicate clusters, entity conflicts), in their scope,
and the commune names pages show next to the codes."""

from __future__ import annotations

import csv
import functools
import io
import typing as t
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from server import dedup
from server.db import db
from server.dedup import review
from server.entity_models import Dataset, Entity
from server.models import Blob, Form, FormAttachment, Submission
from server.web.common import Access


def duplicate_clusters(
    acc: Access, xml_form_id: str | None = None
) -> tuple[list, t.Any]:
    """Clusters awaiting a decision whose members are all in the user's scope."""
    if not acc.rows:
        return [], None
    query = sa.select(Form.id, Form.xml_form_id).where(
        Form.project_id == acc.project.id, Form.deleted_at.is_(None)
    )
    if xml_form_id:
        query = query.where(Form.xml_form_id == xml_form_id)
    forms = [
        fid for fid, name in db.session.execute(query).all() if dedup.rules_for(name)
    ]
    pending, links = review.queue(forms)
    if acc.scope.all_communes:
        return pending, links
    ids = {m for c in pending for m in c.member_ids}
    communes = _communes_of(ids)
    kept = [
        c for c in pending if all(acc.scope.sees(communes.get(m)) for m in c.member_ids)
    ]
    return kept, links


def _communes_of(ids: t.Iterable[int]) -> dict[int, str | None]:
    ids = list(ids)
    if not ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Submission.id, Submission.commune).where(Submission.id.in_(ids))
        ).all()
    )


def conflict_query(acc: Access) -> t.Any:
    """Entities of the project with an unresolved conflict, in the user's scope."""
    query = (
        sa.select(Entity, Dataset)
        .join(Dataset, Dataset.id == Entity.dataset_id)
        .where(
            Dataset.project_id == acc.project.id,
            Entity.conflict.is_not(None),
            Entity.deleted_at.is_(None),
        )
        .order_by(Entity.updated_at.desc(), Entity.id.desc())
    )
    if not acc.scope.all_communes:
        # A commune supervisor sees entities filtered by commune, of its communes.
        query = query.where(
            Dataset.filter_property.is_not(None),
            acc.scope.condition(Entity.filter_value),
        )
    return query


def waiting(acc: Access) -> dict[str, int | None]:
    """Counts for the dashboard (None: the user may not see that queue)."""
    if not acc.rows:
        return {"duplicates": None, "conflicts": None}
    clusters, _links = duplicate_clusters(acc)
    conflicts = db.session.execute(
        sa.select(sa.func.count()).select_from(conflict_query(acc).subquery())
    ).scalar_one()
    return {"duplicates": len(clusters), "conflicts": int(conflicts)}


def commune_names() -> dict[str, str]:
    """2025 commune code -> short name, from the forms' ``communes.csv``."""
    row = db.session.execute(
        sa.select(Blob.sha256)
        .join(FormAttachment, FormAttachment.blob_sha == Blob.sha256)
        .where(FormAttachment.name == "communes.csv")
        .order_by(FormAttachment.id.desc())
        .limit(1)
    ).first()
    if row is not None:
        return _names_from_blob(row[0])
    path = Path(current_app.config["XLSFORMS_DIR"]) / "communes.csv"
    return _names_from_file(str(path)) if path.is_file() else {}


@functools.lru_cache(maxsize=4)
def _names_from_blob(sha: str) -> dict[str, str]:
    from server import blobs

    return _parse_names(blobs.blob_path(sha).read_bytes())


@functools.lru_cache(maxsize=4)
def _names_from_file(path: str) -> dict[str, str]:
    return _parse_names(Path(path).read_bytes())


def _parse_names(data: bytes) -> dict[str, str]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    return {
        r["name"]: r.get("short_name") or r.get("label") or r["name"]
        for r in reader
        if r.get("name")
    }
