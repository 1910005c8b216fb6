"""The supervisors' web app: server-rendered pages in Vietnamese (English available).

Pages: login, dashboard, map, submissions (list, page, review), duplicates and
entity conflicts, forms and app users, exports, the audit log. Every page but the
map works without JavaScript; every asset is served from ``server/static``.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from pathlib import Path

from flask import Flask, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel

__all__ = ["register_web"]

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LANGS = ("vi", "en")
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, ``Secure`` whenever the request itself is HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def _locale() -> str:
    wanted = request.args.get("lang")
    if wanted in LANGS:
        session["lang"] = wanted
        return wanted
    return session.get("lang") if session.get("lang") in LANGS else "vi"


def compile_catalogues(target: Path) -> Path:
    """Compile ``server/translations/*/LC_MESSAGES/messages.po`` into ``target``.

    Only when a ``.po`` is newer than its ``.mo``; the ``.mo`` files are never
    committed (they are build output).
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = target / po.relative_to(TRANSLATIONS).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as fh:
            catalog = read_po(fh)
        tmp = mo.with_suffix(f".{id(catalog)}.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog)
        tmp.replace(mo)  # atomic: several workers may start at once
    return target


def register_web(app: Flask) -> None:
    """Babel, the cookie settings, the web blueprint and its template helpers."""
    from server.web import (  # noqa: F401  (routes register on import)
        admin,
        dashboard,
        duplicates,
        forms,
        login,
        submissions,
    )
    from server.web.common import ROLE_LABELS, bp, csrf_token

    compiled = compile_catalogues(Path(app.instance_path) / "translations")
    app.config["BABEL_DEFAULT_LOCALE"] = "vi"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh")
    Babel(app, locale_selector=_locale)
    app.session_interface = _SessionInterface()
    # Cookie flags: server/config.py; the cookie lives as long as the server session.
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(
        seconds=int(app.config["SESSION_TTL_SECONDS"])
    )
    app.register_blueprint(bp)

    @app.context_processor
    def _helpers() -> dict[str, t.Any]:
        return {
            "csrf_token": csrf_token,
            "current_lang": _locale,
            "role_label": lambda role: ROLE_LABELS.get(role, role),
            "access": g.get("access"),
        }

    @app.template_filter("when")
    def _when(value: dt.datetime | None) -> str:
        """A timestamp in Vietnam time, ``2026-11-28 14:05``."""
        if value is None:
            return ""
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M")

    @app.template_filter("number")
    def _number(value: t.Any) -> str:
        """Thousands grouped the Vietnamese way (``12.345``) or the English way."""
        if isinstance(value, str) or value is None:
            return "" if value is None else value
        text = f"{value:,}"
        return text.replace(",", ".") if _locale() == "vi" else text
