"""Configuration: defaults, then environment, then test overrides (the only env reader)."""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, t.Any] = {
    "SECRET_KEY": "dev",
    "SQLALCHEMY_DATABASE_URI": "sqlite:///outreach.sqlite",
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # Blobs (attachments, form media) live here; default: <instance>/blobs.
    "OUTREACH_DATA_DIR": None,
    # Largest accepted POST body; also advertised to Collect in
    # X-OpenRosa-Accept-Content-Length so it splits uploads below it.
    "MAX_SUBMISSION_BYTES": 100_000_000,
    "XLSFORMS_DIR": str(PROJECT_ROOT / "xlsforms"),
    # Dedup rule sets (<form_id>.toml); default: <XLSFORMS_DIR>/dedup.
    "DEDUP_RULES_DIR": None,
    # Public base URL when behind a proxy that rewrites Host (else taken from request).
    "PUBLIC_URL": None,
    # Web-user session lifetime for Bearer tokens (POST /v1/sessions) and web logins.
    "SESSION_TTL_SECONDS": 24 * 3600,
    # The web app's signed session cookie (Secure is added on HTTPS requests).
    "SESSION_COOKIE_NAME": "outreach_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # HTTP Basic over plain http is refused like Central unless this is set (LAN use).
    "ALLOW_BASIC_OVER_HTTP": True,
    # Deepest element nesting and largest instance XML accepted from a client.
    "MAX_XML_DEPTH": 64,
    "MAX_XML_BYTES": 10_000_000,
    # File parts of one submission POST are held in memory up to this many bytes in
    # all (beyond it they stream to a temp file): a resent photo then never touches the
    # disk. Per request, so at most workers x threads x this.
    "MULTIPART_SPOOL_BYTES": 2 * 1024 * 1024,
    # An offline entity update whose predecessor in its branch never arrives is
    # applied anyway after this long (Central: 5 days), against the latest version.
    "ENTITY_BACKLOG_FORCE_SECONDS": 5 * 24 * 3600,
}

_ENV_KEYS = (
    "ENTITY_BACKLOG_FORCE_SECONDS",
    "SECRET_KEY",
    "OUTREACH_DATA_DIR",
    "MAX_SUBMISSION_BYTES",
    "XLSFORMS_DIR",
    "DEDUP_RULES_DIR",
    "PUBLIC_URL",
    "SESSION_TTL_SECONDS",
    "ALLOW_BASIC_OVER_HTTP",
    "MULTIPART_SPOOL_BYTES",
)
_INT_KEYS = {
    "ENTITY_BACKLOG_FORCE_SECONDS",
    "MAX_SUBMISSION_BYTES",
    "SESSION_TTL_SECONDS",
    "MAX_XML_DEPTH",
    "MAX_XML_BYTES",
    "MULTIPART_SPOOL_BYTES",
}
_BOOL_KEYS = {"ALLOW_BASIC_OVER_HTTP"}


def normalise_database_url(url: str) -> str:
    """Map ``postgres://`` and bare ``postgresql://`` onto the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _coerce(key: str, value: str) -> t.Any:
    if key in _INT_KEYS:
        return int(value)
    if key in _BOOL_KEYS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return value


def load_config(environ: t.Mapping[str, str] | None = None) -> dict[str, t.Any]:
    """Return DEFAULTS overlaid with the recognised environment variables."""
    environ = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    for key in _ENV_KEYS:
        if environ.get(key):
            config[key] = _coerce(key, environ[key])
    if environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
            environ["DATABASE_URL"]
        )
    return config


def finalise(config: dict[str, t.Any], instance_path: str) -> None:
    """Fill derived settings once the instance folder is known; refuse unsafe ones."""
    if not config.get("OUTREACH_DATA_DIR"):
        config["OUTREACH_DATA_DIR"] = str(Path(instance_path) / "blobs")
    uri = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    config["SQLALCHEMY_DATABASE_URI"] = uri
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # Bound parameters hold submission XML (personal data): keep them out of errors/logs.
    options.setdefault("hide_parameters", True)
    if uri.startswith("postgresql"):
        # One connection per gunicorn thread (8), kept open: opening connections under
        # load and a pre-ping round trip per request both showed up in bench/ingest.py.
        # Connections are recycled instead, so a restarted database is picked up.
        options.setdefault("pool_size", 8)
        options.setdefault("max_overflow", 4)
        options.setdefault("pool_recycle", 300)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    # Werkzeug refuses bodies above MAX_CONTENT_LENGTH with 413 before we read them.
    config["MAX_CONTENT_LENGTH"] = int(config["MAX_SUBMISSION_BYTES"])
    if config["SECRET_KEY"] == "dev" and not (
        config.get("TESTING") or config.get("DEBUG")
    ):
        config["SECRET_KEY_IS_DEFAULT"] = True
