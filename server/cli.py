"""The ``outreach`` command: serve, migrate, create users, projects, forms, app users."""

from __future__ import annotations

import gc
import os
import secrets
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from server import audit, auth, blobs, problem
from server.db import db
from server.models import Actor, Assignment, FieldKey, Form, Project, User, utcnow


def _create_app():  # type: ignore[no-untyped-def]
    from server import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """outreach-server: ODK-compatible data collection for anti-trafficking outreach."""


def register(app: Flask) -> None:
    """Commands are defined on ``main``; nothing to attach per app."""


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@main.command("serve")
@click.option("--bind", default="127.0.0.1:8080", show_default=True, help="HOST:PORT")
@click.option(
    "--workers",
    type=int,
    default=None,
    help="gunicorn worker processes [default: the number of CPUs, at least 2]. "
    "More processes than CPUs cost CPU per request (bench/README.md).",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=int,
    help="Threads per worker: slow phone uploads must not block the server.",
)
@click.option("--timeout", default=300, show_default=True, type=int)
def serve(bind: str, workers: int | None, threads: int, timeout: int) -> None:
    """Serve with gunicorn (production)."""
    from gunicorn.app.base import BaseApplication

    if workers is None:
        workers = max(2, os.cpu_count() or 2)
    swept = blobs.sweep_tmp()
    if swept:
        click.echo(f"Removed {swept} unfinished upload(s) from the blob temp folder.")

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("timeout", timeout)
            self.cfg.set("accesslog", None)  # URLs can carry app-user tokens
            self.cfg.set("errorlog", "-")
            self.cfg.set("post_worker_init", post_worker_init)
            # gunicorn 27's control socket is one path per user: several servers on
            # one machine (tests, a district laptop running two) would collide on it.
            self.cfg.set("control_socket_disable", True)

        def load(self) -> Flask:
            from server import create_app

            return create_app()

    def post_worker_init(worker) -> None:  # type: ignore[no-untyped-def]
        from server import jobs

        # Everything loaded so far (app, models, compiled statements) lives as long as
        # the worker: keep it out of the collector's full passes, which otherwise walk
        # it every few seconds under load and stall all of the worker's threads; and
        # collect the young generation less often (about once per request by
        # default). The older generations keep their default ratios, so cyclic garbage
        # is still reclaimed every thousand requests or so.
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)
        jobs.start_worker(worker.wsgi)

    _App().run()


def create_user(email: str, password: str, admin: bool) -> User:
    """Create a web user (no commit)."""
    if db.session.execute(sa.select(User).where(User.email == email)).scalar():
        raise problem.uniqueness_violation("email", email)
    actor = Actor(type="user", display_name=email.split("@")[0])
    db.session.add(actor)
    db.session.flush()
    user = User(
        actor_id=actor.id,
        email=email,
        password_hash=auth.hash_password(password),
        is_admin=admin,
    )
    db.session.add(user)
    audit.log("user.create", "actor", actor.id, details={"admin": admin})
    return user


@main.command("user-create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--admin", is_flag=True, help="Administrator of every project.")
@with_appcontext
def user_create(email: str, password: str, admin: bool) -> None:
    """Create a web user."""
    if len(password) < 10:
        _fail("the password must be at least 10 characters")
    try:
        user = create_user(email, password, admin)
    except problem.Problem as err:
        _fail(err.message)
    db.session.commit()
    click.echo(f"created user {user.actor_id} <{email}>{' (admin)' if admin else ''}")


@main.command("project-create")
@click.argument("name")
@with_appcontext
def project_create(name: str) -> None:
    """Create a project and print its id."""
    project = Project(name=name)
    db.session.add(project)
    db.session.flush()
    audit.log("project.create", "project", project.id)
    db.session.commit()
    click.echo(project.id)


@main.group("forms")
def forms_group() -> None:
    """Publish and list forms."""


@forms_group.command("publish")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option("--project", "project_id", type=int, default=1, show_default=True)
@with_appcontext
def forms_publish(paths: tuple[Path, ...], project_id: int) -> None:
    """Publish XLSForms or XForms (media files beside them are attached)."""
    from server.forms import publish_file

    if db.session.get(Project, project_id) is None:
        _fail(f"project {project_id} does not exist")
    failed = False
    for path in _form_files(paths):
        try:
            form, form_def, changed = publish_file(project_id, path)
            db.session.commit()
            state = "published" if changed else "unchanged"
            click.echo(
                f"{state}: {form.xml_form_id} version {form_def.version!r} ({path.name})"
            )
        except problem.Problem as err:
            db.session.rollback()
            failed = True
            click.echo(
                f"failed: {path.name}: {err.message} {err.details or ''}", err=True
            )
    if failed:
        sys.exit(1)


def _form_files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p
                for p in path.iterdir()
                if p.suffix in {".xlsx", ".xml"} and not p.name.startswith(("~", "."))
            )
        else:
            files.append(path)
    return files


def create_app_user(
    project_id: int, name: str, form_ids: list[int] | None, actor_id: int | None = None
) -> tuple[FieldKey, str]:
    """Create an app user with a fresh key, assigned to forms (no commit)."""
    actor = Actor(type="field_key", display_name=name)
    db.session.add(actor)
    db.session.flush()
    key = FieldKey(actor_id=actor.id, project_id=project_id, created_by=actor_id)
    db.session.add(key)
    token, _session = auth.create_session(actor.id, None)
    for form_id in form_ids or []:
        db.session.add(Assignment(form_id=form_id, actor_id=actor.id, role_id=2))
    audit.log(
        "field_key.create",
        "actor",
        actor.id,
        actor_id=actor_id,
        details={"projectId": project_id},
    )
    return key, token


def collect_settings(server_url: str, name: str, project_name: str) -> dict:
    """The settings JSON that ODK Collect scans from a QR code."""
    return {
        "general": {
            "server_url": server_url,
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
        },
        "admin": {"automatic_update": True},
        "project": {"name": project_name, "icon": "🛡", "color": "#1565c0"},
    }


def settings_qr_payload(settings: dict) -> str:
    """Collect's QR format: zlib-deflated JSON, base64-encoded."""
    import base64
    import json
    import zlib

    return base64.b64encode(zlib.compress(json.dumps(settings).encode("utf-8"))).decode(
        "ascii"
    )


@main.command("app-user-create")
@click.argument("name")
@click.option("--project", "project_id", type=int, required=True)
@click.option(
    "--url",
    "public_url",
    default=None,
    help="Server address as phones reach it, e.g. http://192.168.1.10:8080",
)
@click.option(
    "--png",
    "png_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the Collect settings QR code as a PNG here.",
)
@click.option(
    "--form",
    "form_ids",
    multiple=True,
    help="Assign only these xmlFormIds (default: every form of the project).",
)
@click.option(
    "--commune",
    "communes",
    multiple=True,
    help="Commune code whose cases the phone carries (repeat; '*' = all; none: no cases).",
)
@with_appcontext
def app_user_create(
    name: str,
    project_id: int,
    public_url: str | None,
    png_path: Path | None,
    form_ids: tuple[str, ...],
    communes: tuple[str, ...] = (),
) -> None:
    """Create an app user; print its Collect URL and a QR code to scan."""
    import qrcode

    project = db.session.get(Project, project_id)
    if project is None:
        _fail(f"project {project_id} does not exist")
    query = sa.select(Form.id, Form.xml_form_id).where(
        Form.project_id == project_id, Form.deleted_at.is_(None)
    )
    forms = db.session.execute(query).all()
    if form_ids:
        unknown = set(form_ids) - {f for _, f in forms}
        if unknown:
            _fail(f"unknown forms: {', '.join(sorted(unknown))}")
        forms = [row for row in forms if row[1] in form_ids]
    key, token = create_app_user(project_id, name, [row[0] for row in forms])
    if communes:
        from server.entities import lists

        try:
            lists.set_communes(key.actor_id, communes)
        except problem.Problem as err:
            _fail(err.message)
    db.session.commit()
    base = public_url or current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:8080"
    url = f"{base.rstrip('/')}/v1/key/{token}/projects/{project_id}"
    payload = settings_qr_payload(collect_settings(url, name, project.name))
    click.echo(
        f"App user {name!r} created; assigned forms: "
        f"{', '.join(f for _, f in forms) or '(none)'}"
    )
    click.echo(
        f"Communes (cases on the phone): {', '.join(sorted(set(communes))) or '(none)'}"
    )
    click.echo("Server URL for ODK Collect (keep it secret; it is shown only once):")
    click.echo(url)
    qr = qrcode.QRCode(border=1)
    qr.add_data(payload)
    qr.make(fit=True)
    qr.print_ascii(out=sys.stdout, invert=True)
    if png_path is not None:
        qr.make_image().save(str(png_path))
        click.echo(f"QR code written to {png_path}")


@main.command("setup")
@click.option("--project-name", default="Phòng chống mua bán người", show_default=True)
@with_appcontext
def setup(project_name: str) -> None:
    """First-run set-up for `make run`: default project, admin, publish xlsforms/."""
    from flask_migrate import upgrade

    upgrade(directory=str(Path(__file__).parent / "migrations"))
    project = (
        db.session.execute(sa.select(Project).order_by(Project.id)).scalars().first()
    )
    if project is None:
        project = Project(name=project_name)
        db.session.add(project)
        db.session.flush()
        audit.log("project.create", "project", project.id)
        click.echo(f"created project {project.id}: {project_name}")
    has_admin = db.session.execute(
        sa.select(User).where(User.is_admin.is_(True))
    ).first()
    if has_admin is None:
        password = secrets.token_urlsafe(12)
        create_user("admin@localhost", password, admin=True)
        click.echo("=" * 60)
        click.echo("Administrator created (shown only this once, write it down):")
        click.echo("  email:    admin@localhost")
        click.echo(f"  password: {password}")
        click.echo("=" * 60)
    db.session.commit()
    from server.forms import publish_file

    directory = Path(current_app.config["XLSFORMS_DIR"])
    for path in _form_files((directory,)) if directory.is_dir() else []:
        try:
            form, form_def, changed = publish_file(project.id, path)
            db.session.commit()
            if changed:
                click.echo(f"published {form.xml_form_id} version {form_def.version}")
        except problem.Problem as err:
            db.session.rollback()
            click.echo(f"could not publish {path.name}: {err.message}", err=True)
    _ = utcnow


@main.group("jobs")
def jobs_group() -> None:
    """Work that follows stored submissions (entities, duplicate checks)."""


@jobs_group.command("run")
@click.option("--loop", is_flag=True, help="Keep running, every second (Ctrl-C stops).")
@with_appcontext
def jobs_run(loop: bool) -> None:
    """Run ready jobs now (`outreach serve` runs them in the background itself)."""
    import time

    from server import jobs

    while True:
        ran = jobs.run_pending()
        if ran:
            click.echo(f"ran {ran} job(s)")
        if not loop:
            break
        time.sleep(1)


@jobs_group.command("status")
@with_appcontext
def jobs_status() -> None:
    """Counts of pending, done and failed jobs by kind; failed jobs with their error."""
    from server.models import Job

    rows = db.session.execute(
        sa.select(
            Job.kind,
            sa.func.count().filter(Job.done_at.is_(None)),
            sa.func.count().filter(Job.done_at.is_not(None), Job.failed.is_(False)),
            sa.func.count().filter(Job.failed.is_(True)),
        ).group_by(Job.kind)
    ).all()
    click.echo(f"{'kind':<28}{'pending':>9}{'done':>9}{'failed':>9}")
    for kind, pending, done, failed in rows:
        click.echo(f"{kind:<28}{pending:>9}{done:>9}{failed:>9}")
    for job in db.session.scalars(sa.select(Job).where(Job.failed.is_(True)).limit(20)):
        click.echo(f"failed job {job.id} ({job.kind}): {job.error}")


from server import geo_cli  # noqa: E402,F401  (outreach geo/map/coverage)
from server.dedup import cli as _dedup_cli  # noqa: E402,F401  (outreach dedup)
from server.entities import cli as entities_cli  # noqa: E402,F401  (outreach entities)
