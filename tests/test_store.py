"""server.store: the ingest statements reach stored versions through the unique index.

Ingest speed must not fall as the table grows, so the instanceID lookups (alone, and
joined into the form query) must be index searches on (form, draft, instanceID), on
both databases. The plans are read with EXPLAIN on the real database.
"""

from __future__ import annotations

import sqlalchemy as sa

from server import store
from server.db import db

PARAMS = {
    "project_id": 1,
    "xml_form_id": "f",
    "version": "1",
    "actor_id": 1,
    "instance_id": "uuid:a",
    "deprecated_id": "uuid:b",
    "form_id": 1,
    "draft": False,
}


def _plan(statement: sa.Executable) -> str:
    conn = db.session.connection()
    names = statement.compile(dialect=conn.dialect).params
    sql = statement.params({k: PARAMS[k] for k in names if k in PARAMS}).compile(
        dialect=conn.dialect, compile_kwargs={"literal_binds": True}
    )
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # tiny tables otherwise
        rows = conn.exec_driver_sql(f"EXPLAIN {sql}")
    else:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
    return "\n".join(str(row[-1]) for row in rows)


def _index_lookups(plan: str, dialect: str) -> list[str]:
    lines = plan.splitlines()
    if dialect == "postgresql":
        return [
            line
            for line in lines
            if "Index Cond" in line
            and "instance_id" in line
            and "draft = false" in line
        ]
    return [
        line
        for line in lines
        if "USING INDEX" in line and "(form_id=? AND draft=? AND instance_id=?)" in line
    ]


def test_form_query_finds_both_stored_versions_by_the_unique_index(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        plan = _plan(store.FORM_FOR_SUBMISSION)
        found = _index_lookups(plan, db.engine.dialect.name)
        assert len(found) == 2, plan  # instanceID and deprecatedID
        db.session.rollback()


def test_stored_version_lookup_uses_the_unique_index(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        plan = _plan(store.STORED_VERSION)
        assert _index_lookups(plan, db.engine.dialect.name), plan
        db.session.rollback()


def test_psycopg_errors_surface_as_sqlalchemy_errors(app) -> None:  # type: ignore[no-untyped-def]
    """Ingest retries on IntegrityError; the direct psycopg path must raise that too."""
    import datetime as dt

    import pytest
    from sqlalchemy.exc import IntegrityError

    from server.db import execute_pg

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the direct path exists on PostgreSQL only")
        insert = (
            "INSERT INTO blobs (sha256, md5, size, content_type, created_at) "
            "VALUES (%(sha)s, 'm', 1, NULL, %(now)s)"
        )
        params = {"sha": "a" * 64, "now": dt.datetime.now(dt.UTC)}
        execute_pg(insert, params).close()
        with pytest.raises(IntegrityError):
            execute_pg(insert, params)
        db.session.rollback()
