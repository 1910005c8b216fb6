"""outreach-server: an ODK Central-compatible server for anti-trafficking field work."""

from __future__ import annotations

import os
import secrets
import typing as t
from pathlib import Path

from flask import Flask

from server.config import finalise, load_config

__all__ = ["create_app"]


def _secret_key(instance_path: str) -> str:
    """A per-installation secret kept in the instance folder (never the 'dev' default)."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    os.chmod(path, 0o600)
    return key


def create_app(test_config: t.Mapping[str, t.Any] | None = None) -> Flask:
    """Build the app: config, database, blueprints, error handlers, CLI."""
    app = Flask(__name__, instance_relative_config=True)
    config = load_config()
    if test_config:
        config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    finalise(config, app.instance_path)
    if config.pop("SECRET_KEY_IS_DEFAULT", False):
        config["SECRET_KEY"] = _secret_key(app.instance_path)
    app.config.from_mapping(config)

    from server import cli, draft_testing, errors, logs, openrosa
    from server.api import register_api
    from server.db import db

    db.init_app(app)
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(Path(__file__).parent / "migrations"))

    app.register_blueprint(openrosa.bp, url_prefix="/v1")
    app.register_blueprint(
        openrosa.bp, url_prefix="/v1/key/<token>", name="openrosa_key"
    )
    app.register_blueprint(draft_testing.bp)
    register_api(app)
    from server.web import register_web

    register_web(app)
    errors.register(app)
    logs.install()
    cli.register(app)
    return app
