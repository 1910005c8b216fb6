"""Fixtures: an app on a migrated SQLite file (or PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

import os
import shutil
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa

from server import create_app
from server.config import normalise_database_url
from server.db import db
from tests import factories

PG_URL = os.environ.get("DATABASE_URL")


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "OUTREACH_DATA_DIR": str(instance / "blobs"),
            "SECRET_KEY": "test",
        }
    )
    with app.app_context():
        upgrade(directory=str(Path(__file__).parent.parent / "server" / "migrations"))
        db.engine.dispose()


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: a SQLite file to copy per test, or the PostgreSQL URL."""
    base = tmp_path_factory.mktemp("template")
    if PG_URL:
        _reset_postgres(PG_URL)
        _migrate(normalise_database_url(PG_URL), base)
        return PG_URL
    path = base / "template.sqlite"
    _migrate(f"sqlite:///{path}", base)
    return str(path)


def _truncate_postgres(url: str) -> None:
    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                sa.text(
                    "SELECT tablename FROM pg_tables WHERE schemaname='public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ]
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(template_db: str, tmp_path: Path) -> str:
    """A fresh, migrated, empty database for one test."""
    if PG_URL:
        _truncate_postgres(PG_URL)
        return normalise_database_url(PG_URL)
    path = tmp_path / "test.sqlite"
    shutil.copy(template_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The app on a fresh database."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "OUTREACH_DATA_DIR": str(tmp_path / "blobs"),
            "XLSFORMS_DIR": str(tmp_path / "no-forms"),
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


class Seed:
    """A project with an admin, an app user and a published photo form."""

    def __init__(self, app: t.Any) -> None:
        from server.cli import create_app_user, create_user
        from server.forms import create_draft, publish_draft
        from server.models import Project

        self.app = app
        with app.app_context():
            project = Project(name="Tây Giang")
            db.session.add(project)
            db.session.flush()
            self.project_id = project.id
            self.admin_email, self.admin_password = (
                "admin@example.org",
                "correct horse battery",
            )
            create_user(self.admin_email, self.admin_password, admin=True)
            form, _draft, _w = create_draft(project.id, factories.xform())
            publish_draft(form)
            self.form_id = form.id
            _key, self.token = create_app_user(project.id, "Phone 1", [form.id])
            db.session.commit()

    @property
    def key_base(self) -> str:
        return f"/v1/key/{self.token}/projects/{self.project_id}"


@pytest.fixture
def seed(app) -> Seed:  # type: ignore[no-untyped-def]
    return Seed(app)


class OpenRosa:
    """Submit like Collect does, through the Flask test client."""

    def __init__(self, client: t.Any, seed: Seed) -> None:
        self.client, self.seed = client, seed

    def submit(
        self,
        xml: bytes,
        files: dict[str, bytes] | None = None,
        extra: dict | None = None,
        headers: dict | None = None,
        base: str | None = None,
    ):  # type: ignore[no-untyped-def]
        import io

        data: dict[str, t.Any] = {
            "xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")
        }
        for name, content in (files or {}).items():
            data[name] = (io.BytesIO(content), name, "image/jpeg")
        data.update(extra or {})
        hdrs = {"X-OpenRosa-Version": "1.0"}
        hdrs.update(headers or {})
        return self.client.post(
            f"{base or self.seed.key_base}/submission",
            data=data,
            headers=hdrs,
            content_type="multipart/form-data",
        )


@pytest.fixture
def openrosa(client, seed) -> OpenRosa:  # type: ignore[no-untyped-def]
    return OpenRosa(client, seed)


@pytest.fixture
def live_server(app) -> t.Iterator[str]:  # type: ignore[no-untyped-def]
    """The app served over real HTTP on an ephemeral port, in a thread (for pyODK)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def open_pyodk(base_url: str, seed: Seed, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A logged-in pyODK client configured through its TOML file, cache in tmp."""
    from pyodk.client import Client

    config = tmp_path / "pyodk_config.toml"
    config.write_text(
        "[central]\n"
        f'base_url = "{base_url}"\n'
        f'username = "{seed.admin_email}"\n'
        f'password = "{seed.admin_password}"\n'
        f"default_project_id = {seed.project_id}\n",
        encoding="utf-8",
    )
    client = Client(config_path=config, cache_path=tmp_path / "pyodk_cache.toml")
    client.open()
    return client
