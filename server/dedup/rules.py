"""Which forms have dedup rules: rule sets loaded once per app, bound to its secret.

Rule sets are ``<DEDUP_RULES_DIR>/<form_id>.toml`` (default ``<XLSFORMS_DIR>/dedup``).
Each is bound to a secret derived from ``SECRET_KEY`` (HMAC), so the stored blocking
keys of personal fields are keyed hashes that mean nothing without the server's key,
and to the commune adjacency of the stored boundary set in force
(``geo.commune_neighbours`` of its polygons): the ``commune`` comparator then tells a
neighbouring commune from a distant one, and the ``village_day`` pass probes the
neighbours too. Without a stored set (the approximate fallback areas are not used for
this) no commune has neighbours. Adjacency is read when a process first loads the rule
sets: restart the server after importing a boundary set; the changed blocking
fingerprint makes ``outreach dedup status`` ask for a scan.

Everything here is cached in ``app.extensions`` (one app per process; tests build one
per test), including ``forms.id -> xmlFormId``, so the ingest trigger costs a dict
lookup once a form has been seen.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app

from server.db import db
from server.models import Form
from sync.linkage import RuleSet, RuleSetError, load_rules

log = logging.getLogger("outreach.dedup")

_EXTENSION = "outreach.dedup"
_SECRET_LABEL = b"outreach-server dedup blocking keys v1"


@dataclass
class _State:
    rule_sets: dict[str, RuleSet] | None = None
    xml_form_ids: dict[int, str] = field(default_factory=dict)
    noted: set[int] = field(default_factory=set)  # forms whose key rules are current
    lock: threading.Lock = field(default_factory=threading.Lock)


def _state(app: Flask | None = None) -> _State:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions.get(_EXTENSION)
    if state is None:
        state = app.extensions.setdefault(_EXTENSION, _State())
    return t.cast(_State, state)


def rules_dir(config: t.Mapping[str, t.Any]) -> Path:
    """The folder of rule sets: ``DEDUP_RULES_DIR``, else ``<XLSFORMS_DIR>/dedup``."""
    configured = config.get("DEDUP_RULES_DIR")
    return Path(configured) if configured else Path(config["XLSFORMS_DIR"]) / "dedup"


def secret(config: t.Mapping[str, t.Any]) -> bytes:
    """The key for stored blocking keys: HMAC-SHA256 of a fixed label by SECRET_KEY."""
    key = str(config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, _SECRET_LABEL, hashlib.sha256).digest()


def rule_sets() -> dict[str, RuleSet]:
    """Every valid rule set, keyed by xmlFormId (an invalid file is logged, skipped)."""
    state = _state()
    if state.rule_sets is None:
        with state.lock:
            if state.rule_sets is None:
                state.rule_sets = _load(current_app.config)
    return state.rule_sets


def rules_for(xml_form_id: str) -> RuleSet | None:
    """The bound rule set of a form, or None when the form has none."""
    return rule_sets().get(xml_form_id)


def _load(config: t.Mapping[str, t.Any]) -> dict[str, RuleSet]:
    folder = rules_dir(config)
    out: dict[str, RuleSet] = {}
    if not folder.is_dir():
        return out
    key = secret(config)
    neighbours = _neighbours()
    for path in sorted(folder.glob("*.toml")):
        try:
            rules = load_rules(path, neighbours=neighbours, secret=key)
        except RuleSetError as err:
            # A bad rule file must not stop submissions: that form goes unchecked.
            log.error("dedup rules skipped: %s", err)
            continue
        if rules.form_id != path.stem:
            log.error("dedup rules skipped: %s names form %r", path.name, rules.form_id)
            continue
        out[rules.form_id] = rules
    return out


def _neighbours() -> dict[str, frozenset[str]]:
    """Commune adjacency of the stored boundary set in force; none without one."""
    import geo  # geopandas and shapely: only when rule sets are loaded
    from server import boundaries

    if not boundaries.list_sets():  # the approximate fallback areas are not used
        return {}
    try:
        return geo.commune_neighbours(boundaries.resolve_set().areas)
    except (geo.GeoError, ValueError, TypeError):  # never stop submissions for it
        log.exception("dedup: commune adjacency not bound")
        return {}


def noted_forms() -> set[int]:
    """Forms whose stored keys were seen to be made with the current blocking rules."""
    return _state().noted


def xml_form_id(form_id: int) -> str | None:
    """``forms.xml_form_id`` for a ``forms.id`` (cached: it never changes)."""
    cache = _state().xml_form_ids
    found = cache.get(form_id)
    if found is None:
        found = db.session.execute(
            sa.select(Form.xml_form_id).where(Form.id == form_id)
        ).scalar()
        if found is not None:
            cache[form_id] = found
    return found


def wants(target: t.Any) -> bool:
    """Ingest trigger: does a version stored for ``target.form_id`` need a check?"""
    if not rule_sets():
        return False
    name = xml_form_id(target.form_id)
    return name is not None and name in rule_sets()
