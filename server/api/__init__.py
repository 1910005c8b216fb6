"""Central's REST API subset (what pyODK and scripts use), under /v1."""

from __future__ import annotations

from flask import Flask

__all__ = ["register_api"]


def register_api(app: Flask) -> None:
    """Register every REST blueprint."""
    from server.api import (
        app_users,
        coverage,
        drafts,
        duplicates,
        entities,
        forms,
        odata,
        projects,
        sessions,
        submission_parts,
        submissions,
    )

    for module in (
        sessions,
        projects,
        forms,
        drafts,
        app_users,
        submissions,
        submission_parts,
        odata,
        coverage,
        duplicates,
        entities,
    ):
        app.register_blueprint(module.bp, url_prefix="/v1")
