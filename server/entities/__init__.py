"""Entities (ODK entity lists) with offline conflict detection, as ODK Central does.

- ``schema``: what a form declares and what a submission carries (pure parsing).
- ``datasets``: datasets and properties, created when a form version is published.
- ``process``: the ``entity.process`` job that turns submissions into versions.
- ``backlog``: offline updates held until their predecessor arrives (``entity.backlog``).
- ``store``: locks, versions, the list stamp, and the REST operations.
- ``lists``: the CSV Collect downloads, its hash, the manifest entries, integrity,
  and per-app-user commune filtering.

Importing the package registers the job handlers.
"""

from __future__ import annotations

from server.entities import backlog, datasets, lists, process, schema, store
from server.entities.datasets import on_publish

__all__ = ["backlog", "datasets", "lists", "on_publish", "process", "schema", "store"]
