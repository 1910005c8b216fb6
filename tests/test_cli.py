"""The `outreach` command group, through Flask's CLI runner on a real database."""

from __future__ import annotations

import base64
import json
import re
import zlib

import sqlalchemy as sa

from server.cli import main
from server.db import db
from server.models import Assignment, Audit, FieldKey, Form, Project, User
from tests import factories


def _invoke(runner, *args):  # type: ignore[no-untyped-def]
    return runner.invoke(main, list(args), catch_exceptions=False)


def test_user_and_project_create(app, runner):
    result = _invoke(
        runner,
        "user-create",
        "--email",
        "a@b.vn",
        "--password",
        "mật-khẩu-dài-1",
        "--admin",
    )
    assert result.exit_code == 0, result.output
    result = _invoke(runner, "project-create", "Nam Giang")
    assert result.exit_code == 0 and result.output.strip().isdigit()
    with app.app_context():
        user = db.session.scalars(sa.select(User)).one()
        assert user.is_admin and user.password_hash != "mật-khẩu-dài-1"
        assert db.session.scalars(sa.select(Project.name)).all() == ["Nam Giang"]
        actions = db.session.scalars(sa.select(Audit.action)).all()
        assert {"user.create", "project.create"} <= set(actions)


def test_user_create_rejects_short_password_and_duplicates(app, runner):
    assert (
        _invoke(
            runner, "user-create", "--email", "a@b.vn", "--password", "short"
        ).exit_code
        == 1
    )
    assert (
        _invoke(
            runner, "user-create", "--email", "a@b.vn", "--password", "long-enough-1"
        ).exit_code
        == 0
    )
    assert (
        _invoke(
            runner, "user-create", "--email", "a@b.vn", "--password", "long-enough-2"
        ).exit_code
        == 1
    )


def test_forms_publish_is_idempotent_and_needs_new_version(app, runner, tmp_path):
    _invoke(runner, "project-create", "P")
    path = tmp_path / "photos.xml"
    path.write_bytes(factories.xform(version="1"))
    first = _invoke(runner, "forms", "publish", str(path), "--project", "1")
    assert first.exit_code == 0 and "published: photos version '1'" in first.output
    again = _invoke(runner, "forms", "publish", str(path), "--project", "1")
    assert "unchanged" in again.output
    path.write_bytes(factories.xform(version="1", title="Changed"))
    clash = runner.invoke(main, ["forms", "publish", str(path), "--project", "1"])
    assert clash.exit_code == 1
    path.write_bytes(factories.xform(version="2", title="Changed"))
    assert (
        _invoke(runner, "forms", "publish", str(path), "--project", "1").exit_code == 0
    )
    with app.app_context():
        form = db.session.scalars(sa.select(Form)).one()
        assert form.current_def.version == "2"


def test_app_user_create_prints_url_qr_and_png(app, runner, tmp_path):
    _invoke(runner, "project-create", "P")
    path = tmp_path / "photos.xml"
    path.write_bytes(factories.xform())
    _invoke(runner, "forms", "publish", str(path), "--project", "1")
    png = tmp_path / "qr.png"
    result = _invoke(
        runner,
        "app-user-create",
        "Máy 1",
        "--project",
        "1",
        "--url",
        "http://192.168.1.10:8080",
        "--png",
        str(png),
    )
    assert result.exit_code == 0, result.output
    url = re.search(
        r"http://192\.168\.1\.10:8080/v1/key/([A-Za-z0-9!$]{64})/projects/1",
        result.output,
    )
    assert url, result.output
    assert "█" in result.output or "▀" in result.output  # terminal QR
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    assert Image.open(png).size[0] > 100
    with app.app_context():
        key = db.session.scalars(sa.select(FieldKey)).one()
        assert db.session.scalars(sa.select(Assignment.actor_id)).all() == [
            key.actor_id
        ]
    # the token works and is stored hashed only
    client = app.test_client()
    r = client.get(
        f"/v1/key/{url.group(1)}/projects/1/formList",
        headers={"X-OpenRosa-Version": "1.0"},
    )
    assert r.status_code == 200 and b"photos" in r.data
    with app.app_context():
        from server.models import AuthSession

        hashes = db.session.scalars(sa.select(AuthSession.token_hash)).all()
        assert url.group(1) not in hashes and len(hashes[0]) == 64


def test_collect_settings_payload_roundtrips():
    from server.cli import collect_settings, settings_qr_payload

    settings = collect_settings("http://h/v1/key/T/projects/1", "Máy 1", "Dự án")
    decoded = json.loads(
        zlib.decompress(base64.b64decode(settings_qr_payload(settings)))
    )
    assert decoded["general"]["server_url"] == "http://h/v1/key/T/projects/1"
    assert decoded["project"]["name"] == "Dự án"


def test_setup_creates_admin_once_and_publishes(app, runner, tmp_path):
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "photos.xml").write_bytes(factories.xform())
    app.config["XLSFORMS_DIR"] = str(forms)
    first = _invoke(runner, "setup")
    assert "password:" in first.output and "published photos" in first.output
    second = _invoke(runner, "setup")
    assert "password:" not in second.output and "published" not in second.output
