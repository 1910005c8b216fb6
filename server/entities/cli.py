"""``outreach app-user-communes`` and ``outreach entities {conflicts,errors,backlog}``."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from server import audit
from server.cli import main
from server.db import db
from server.entities import backlog as held_updates
from server.entities import lists
from server.entity_models import Dataset, Entity, EntityBacklog, EntityDef
from server.models import Actor, FieldKey


@main.command("app-user-communes")
@click.argument("actor_id", type=int)
@click.option(
    "--commune",
    "communes",
    multiple=True,
    help="2025 commune code whose cases the phone carries (repeat; '*' = all).",
)
@click.option("--clear", is_flag=True, help="Remove every commune (no cases at all).")
@with_appcontext
def app_user_communes(actor_id: int, communes: tuple[str, ...], clear: bool) -> None:
    """Show or set the communes an app user's phone receives cases for."""
    key = db.session.get(FieldKey, actor_id)
    actor = db.session.get(Actor, actor_id)
    if key is None or actor is None or actor.deleted_at is not None:
        click.echo(f"Error: app user {actor_id} does not exist", err=True)
        sys.exit(1)
    if communes or clear:
        try:
            current = lists.set_communes(actor_id, [] if clear else communes)
        except Exception as err:  # noqa: BLE001 - a Problem with a readable message
            click.echo(f"Error: {getattr(err, 'message', err)}", err=True)
            sys.exit(1)
        audit.log(
            "field_key.update.communes",
            "actor",
            actor_id,
            details={"communes": current},
        )
        db.session.commit()
    else:
        current = lists.communes_of(actor_id)
    shown = ", ".join(current) if current else "(none: the phone gets no cases)"
    click.echo(f"{actor.display_name} (app user {actor_id}): {shown}")


@main.group("entities")
def entities_group() -> None:
    """Entity lists: conflicts to resolve, processing errors, the offline backlog."""


@entities_group.command("conflicts")
@click.option("--project", "project_id", type=int, default=None)
@click.option("--dataset", "dataset_name", default=None)
@with_appcontext
def conflicts(project_id: int | None, dataset_name: str | None) -> None:
    """Entities with an unresolved conflict, and the properties in dispute."""
    query = (
        sa.select(Entity, Dataset.name, Dataset.project_id)
        .join(Dataset, Dataset.id == Entity.dataset_id)
        .where(Entity.conflict.is_not(None), Entity.deleted_at.is_(None))
        .order_by(Dataset.name, Entity.updated_at)
    )
    if project_id is not None:
        query = query.where(Dataset.project_id == project_id)
    if dataset_name is not None:
        query = query.where(Dataset.name == dataset_name)
    rows = db.session.execute(query).all()
    if not rows:
        click.echo("no conflicts")
        return
    click.echo(f"{'project':<8}{'dataset':<12}{'uuid':<38}{'version':>8}  conflict")
    for entity, name, project in rows:
        disputed = _disputed(entity.id)
        click.echo(
            f"{project:<8}{name:<12}{entity.uuid:<38}{entity.version:>8}  "
            f"{entity.conflict}" + (f" ({', '.join(disputed)})" if disputed else "")
        )
    click.echo(
        "Review with GET …/datasets/{name}/entities/{uuid}/versions, then resolve with "
        "PATCH …/entities/{uuid}?resolve=true&baseVersion=N (optionally with new data)."
    )


def _disputed(entity_id: int) -> list[str]:
    names: list[str] = []
    for props in db.session.scalars(
        sa.select(EntityDef.conflicting_properties).where(
            EntityDef.entity_id == entity_id,
            EntityDef.conflicting_properties.is_not(None),
        )
    ):
        names += [p for p in props or [] if p not in names]
    return names


@entities_group.command("errors")
@click.option("--project", "project_id", type=int, default=None)
@click.option("--limit", default=50, show_default=True)
@with_appcontext
def errors(project_id: int | None, limit: int) -> None:
    """Submissions whose entity block could not be applied (latest first)."""
    from server.entities.views import entity_errors

    rows = entity_errors(project_id, limit)
    if not rows:
        click.echo("no entity errors")
    for row in rows:
        click.echo(
            f"{row['loggedAt']}  {row['xmlFormId']}  {row['instanceId']}  "
            f"{row['code']}  {row['message']}"
        )


@entities_group.command("backlog")
@click.option(
    "--force", is_flag=True, help="Apply every held update now, against the latest."
)
@with_appcontext
def backlog(force: bool) -> None:
    """Offline updates waiting for an earlier update of their branch."""
    held = db.session.execute(
        sa.select(EntityBacklog).order_by(EntityBacklog.logged_at)
    ).scalars()
    count = 0
    for row in held:
        count += 1
        click.echo(
            f"held since {row.logged_at:%Y-%m-%d %H:%M}  entity {row.entity_uuid}  "
            f"branch {row.branch_id}  baseVersion {row.branch_base_version}"
        )
    if not count:
        click.echo("backlog empty")
    if force and count:
        click.echo(f"force-processed {held_updates.process_backlog(force_all=True)}")
