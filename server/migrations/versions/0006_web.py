"""web: supervisors' communes, login failures, commune per form version and submission

Revision ID: 0006
Revises: 0005

Adds ``form_defs.commune_path`` (the path of the form's one field named ``commune``),
``submission_defs.commune`` and ``submissions.commune`` (its answer in the current
version), ``project_role_communes`` (a commune supervisor's communes) and
``login_failures`` (rate limiting of web logins). Existing rows are backfilled from
the stored XML, so submissions received before this migration are scoped too.
"""

import sqlalchemy as sa
from alembic import op
from defusedxml.ElementTree import fromstring

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _parse(xml: bytes):  # type: ignore[no-untyped-def]
    try:
        return fromstring(
            xml, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except Exception:  # noqa: BLE001 - unreadable rows are left unscoped
        return None


def _commune_path(xml: bytes) -> str | None:
    root = _parse(xml)
    if root is None:
        return None
    found = [
        el.get("nodeset") or ""
        for el in root.iter()
        if _local(el.tag) == "bind"
        and (el.get("nodeset") or "").rsplit("/", 1)[-1] == "commune"
    ]
    return found[0] if len(found) == 1 else None


def _value(xml: bytes, path: str) -> str | None:
    root = _parse(xml)
    if root is None:
        return None
    node = root
    for name in path.strip("/").split("/")[1:]:
        node = next((c for c in node if _local(c.tag) == name), None)
        if node is None:
            return None
    text = (node.text or "").strip()
    return text[:16] or None


def _backfill() -> None:
    conn = op.get_bind()
    defs = sa.table(
        "form_defs",
        sa.column("id", sa.Integer),
        sa.column("xml", sa.LargeBinary),
        sa.column("commune_path", sa.String),
    )
    sdefs = sa.table(
        "submission_defs",
        sa.column("id", sa.Integer),
        sa.column("submission_id", sa.Integer),
        sa.column("form_def_id", sa.Integer),
        sa.column("xml", sa.LargeBinary),
        sa.column("current", sa.Boolean),
        sa.column("commune", sa.String),
    )
    subs = sa.table(
        "submissions", sa.column("id", sa.Integer), sa.column("commune", sa.String)
    )
    paths = {}
    for def_id, xml in conn.execute(sa.select(defs.c.id, defs.c.xml)).all():
        path = _commune_path(xml)
        if path:
            paths[def_id] = path
            conn.execute(
                defs.update().where(defs.c.id == def_id).values(commune_path=path)
            )
    if not paths:
        return
    rows = conn.execute(
        sa.select(
            sdefs.c.id, sdefs.c.submission_id, sdefs.c.form_def_id, sdefs.c.current
        ).where(sdefs.c.form_def_id.in_(list(paths)))
    ).all()
    for def_id, sub_id, form_def_id, current in rows:
        xml = conn.execute(
            sa.select(sdefs.c.xml).where(sdefs.c.id == def_id)
        ).scalar_one()
        value = _value(xml, paths[form_def_id])
        if value is None:
            continue
        conn.execute(sdefs.update().where(sdefs.c.id == def_id).values(commune=value))
        if current:
            conn.execute(subs.update().where(subs.c.id == sub_id).values(commune=value))


def upgrade():
    with op.batch_alter_table("form_defs") as batch:
        batch.add_column(sa.Column("commune_path", sa.String(255), nullable=True))
    with op.batch_alter_table("submission_defs") as batch:
        batch.add_column(sa.Column("commune", sa.String(16), nullable=True))
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("commune", sa.String(16), nullable=True))

    op.create_table(
        "project_role_communes",
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("commune", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_project_role_communes_actor_id_actors"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_role_communes_project_id_projects"),
        ),
        sa.PrimaryKeyConstraint(
            "actor_id", "project_id", "commune", name=op.f("pk_project_role_communes")
        ),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(op.f("ix_login_failures_key"), "login_failures", ["key", "at"])
    _backfill()


def downgrade():
    op.drop_index(op.f("ix_login_failures_key"), table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_table("project_role_communes")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("commune")
    with op.batch_alter_table("submission_defs") as batch:
        batch.drop_column("commune")
    with op.batch_alter_table("form_defs") as batch:
        batch.drop_column("commune_path")
