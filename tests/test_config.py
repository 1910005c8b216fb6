"""server.config: defaults, environment, overrides."""

from __future__ import annotations

import pytest

from server.config import DEFAULTS, finalise, load_config, normalise_database_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.sqlite", "sqlite:///x.sqlite"),
    ],
)
def test_normalise_database_url(url, expected):
    assert normalise_database_url(url) == expected


def test_load_config_reads_environment():
    config = load_config(
        {
            "DATABASE_URL": "postgres://a@b/c",
            "MAX_SUBMISSION_BYTES": "1234",
            "OUTREACH_DATA_DIR": "/srv/blobs",
            "UNRELATED": "x",
        }
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://a@b/c"
    assert config["MAX_SUBMISSION_BYTES"] == 1234
    assert config["OUTREACH_DATA_DIR"] == "/srv/blobs"
    assert "UNRELATED" not in config


def test_defaults_without_environment():
    config = load_config({})
    assert config["SQLALCHEMY_DATABASE_URI"] == DEFAULTS["SQLALCHEMY_DATABASE_URI"]


def test_finalise_derives_limits_and_flags_default_secret(tmp_path):
    config = load_config({"MAX_SUBMISSION_BYTES": "2000"})
    finalise(config, str(tmp_path))
    assert config["MAX_CONTENT_LENGTH"] == 2000
    assert config["OUTREACH_DATA_DIR"] == str(tmp_path / "blobs")
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
    assert config["SECRET_KEY_IS_DEFAULT"] is True


def test_app_never_runs_with_dev_secret(tmp_path, monkeypatch):
    from server import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})
    assert app.config["SECRET_KEY"] != "dev" and len(app.config["SECRET_KEY"]) >= 32
