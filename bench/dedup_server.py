"""Server-side dedup speed: the ``dedup.check`` job with 100,000 sessions stored.

    .venv/bin/python bench/dedup_server.py                   # SQLite file, temp dir
    .venv/bin/python bench/dedup_server.py --database-url postgresql://…/bench
    .venv/bin/python bench/dedup_server.py --scan            # also time `dedup scan`
    .venv/bin/python bench/dedup_server.py --scan --boundaries FILE  # with adjacency
    .venv/bin/python bench/dedup_server.py --scan-only --database-url URL  # rescan

The data set is bench/dedup_data.py's outreach sessions (seed 3, as ``bench/dedup.py
speed``): the first 100,000 records are stored, the next 1,000 arrive (some of them
re-report stored sessions). Preloading bulk-inserts, for each stored record, a
submission, its current version (instance XML built from the record's fields at the
rule set's paths) and its blocking keys, the rows the server itself would have
written. Then each arrival is stored the way ingest stores it (submission, version
and a queued job, one commit, not timed) and the worker's step is timed:
``jobs.run_pending(limit=1)`` claims the job, runs the check (replace keys, look up
the probe keys in ``dedup_keys``, load and parse the candidates' XML, score, replace
pairs) and commits. ``check`` is the handler alone, ``job`` the whole step; both are
wall-clock, so a busy machine inflates them. The CPU time of the benchmark process
during the check is printed too: on SQLite it is all of the work, on PostgreSQL all but
the server's share.

``--boundaries`` imports a commune polygon file first, as a deployed server has one:
the rule sets then bind its adjacency (``village_day`` probes neighbouring communes,
the ``commune`` comparator knows a neighbour), as ``bench/dedup.py speed`` does.
``--scan`` then runs the real command, ``outreach dedup scan --form outreach_session``,
in a child process, twice: a rescan (every key already stored, as after new weights)
and a first scan (every key dropped first, as before dedup was set up or after new
blocking rules); ``--scans`` picks. Each reports the child's wall-clock time, CPU time
(user + system) and peak resident memory (``ru_maxrss``), plus a digest of the stored
pairs (ids, decision, score, reasons), so two implementations can be shown to store
the same result. ``--scan-only`` skips the preload and the arrivals and scans a
database a previous run filled (the SQLite file stays in its temp dir).

**PostgreSQL: the target database is emptied (DROP SCHEMA public CASCADE).** Never
point it at a database holding anything you want to keep.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from dedup_data import outreach_sessions  # noqa: E402

from server import create_app  # noqa: E402
from server.config import normalise_database_url  # noqa: E402
from server.db import db  # noqa: E402

FORM = "outreach_session"
CHUNK = 5000


def _instance_xml(
    fields: t.Mapping[str, t.Any], paths: t.Mapping[str, str], iid: str
) -> bytes:
    """An instance with ``fields`` at their XForm paths (``/data/...``) and a meta."""
    tree: dict[str, t.Any] = {}
    for name, path in paths.items():
        if name not in fields:
            continue
        node = tree
        parts = path.strip("/").split("/")[1:]
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = str(fields[name])
    tree["meta"] = {"instanceID": iid}

    def render(node: dict[str, t.Any]) -> str:
        return "".join(
            f"<{k}>{render(v) if isinstance(v, dict) else escape(v)}</{k}>"
            for k, v in node.items()
        )

    return f'<data id="{FORM}" version="1">{render(tree)}</data>'.encode()


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def _app(url: str, folder: Path):  # type: ignore[no-untyped-def]
    from flask_migrate import upgrade

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-not-a-secret",
            "OUTREACH_DATA_DIR": str(folder / "blobs"),
            "DEDUP_RULES_DIR": str(ROOT / "xlsforms" / "dedup"),
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "server" / "migrations"))
    return app


def _form() -> tuple[int, int]:
    """A project and a published outreach_session form (a stub XForm: never served)."""
    from server.models import Form, FormDef, Project, utcnow

    project = Project(name="bench")
    db.session.add(project)
    db.session.flush()
    form = Form(project_id=project.id, xml_form_id=FORM, state="open")
    db.session.add(form)
    db.session.flush()
    form_def = FormDef(
        form_id=form.id,
        version="1",
        xml=b"<h:html/>",
        md5="0" * 32,
        sha256="0" * 64,
        published_at=utcnow(),
    )
    db.session.add(form_def)
    db.session.flush()
    form.current_def_id = form_def.id
    db.session.commit()
    return form.id, form_def.id


def _rows(
    records: t.Sequence[t.Any], first_id: int, form_id: int, def_id: int, rules: t.Any
) -> tuple[list[dict], list[dict], list[dict]]:  # type: ignore[type-arg]
    import hashlib

    from server.models import utcnow
    from sync.linkage import blocking_keys

    now = utcnow()
    subs, defs, keys = [], [], []
    for offset, record in enumerate(records):
        sub_id = first_id + offset
        iid = record.record_id
        xml = _instance_xml(record.fields, rules.field_paths, iid)
        subs.append(
            {
                "id": sub_id,
                "form_id": form_id,
                "instance_id": iid,
                "draft": False,
                "review_state": "received",
                "created_at": now,
            }
        )
        defs.append(
            {
                "id": sub_id,
                "submission_id": sub_id,
                "form_id": form_id,
                "draft": False,
                "form_def_id": def_id,
                "instance_id": iid,
                "xml": xml,
                "sha256": hashlib.sha256(xml).hexdigest(),
                "current": True,
                "created_at": now,
            }
        )
        keys += [
            {"submission_id": sub_id, "key": key, "form_id": form_id}
            for key in blocking_keys(record, rules)
        ]
    return subs, defs, keys


def _preload(records, form_id: int, def_id: int, rules) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    from server.dedup_models import DedupForm, DedupKey
    from server.models import Submission, SubmissionDef, utcnow

    started = time.perf_counter()
    n_keys = 0
    conn = db.session.connection()
    for start in range(0, len(records), CHUNK):
        subs, defs, keys = _rows(
            records[start : start + CHUNK], start + 1, form_id, def_id, rules
        )
        conn.execute(sa.insert(Submission.__table__), subs)
        conn.execute(sa.insert(SubmissionDef.__table__), defs)
        conn.execute(sa.insert(DedupKey.__table__), keys)
        n_keys += len(keys)
    conn.execute(
        sa.insert(DedupForm.__table__).values(
            form_id=form_id,
            blocking=rules.blocking_fingerprint,
            created_at=utcnow(),
            scanned_at=utcnow(),
        )
    )
    if conn.dialect.name == "postgresql":
        for table in ("submissions", "submission_defs"):
            conn.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    db.session.commit()
    if conn.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("ANALYZE"))
    return n_keys, time.perf_counter() - started


def _arrive(record, form_id: int, def_id: int, rules) -> None:  # type: ignore[no-untyped-def]
    """Store one arrival as ingest does: submission, version, queued job; commit."""
    from server import jobs, store
    from server.models import utcnow

    now = utcnow()
    xml = _instance_xml(record.fields, rules.field_paths, record.record_id)
    sub_id = store.insert_submission(
        form_id=form_id,
        instance_id=record.record_id,
        draft=False,
        review_state="received",
        created_at=now,
    )
    version = store.insert_def(
        submission_id=sub_id,
        form_id=form_id,
        draft=False,
        form_def_id=def_id,
        instance_id=record.record_id,
        xml=xml,
        sha256="0" * 64,
        current=True,
        created_at=now,
    )
    jobs.enqueue("dedup.check", submission_def_id=version)
    db.session.commit()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _plan(form_id: int) -> str:
    """How the database runs the candidate lookup (it must use the index)."""
    conn = db.session.connection()
    keys = list(conn.execute(sa.text("SELECT key FROM dedup_keys LIMIT 3")).scalars())
    sql = (
        "SELECT DISTINCT submission_id FROM dedup_keys "
        "WHERE form_id = :form_id AND key IN (:k0, :k1, :k2)"
    )
    prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
    params = {"form_id": form_id, **{f"k{i}": k for i, k in enumerate(keys)}}
    lines = [str(r[-1]).strip() for r in conn.execute(sa.text(prefix + sql), params)]
    if conn.dialect.name == "postgresql":  # the plan's nodes, without costs
        lines = [re.sub(r"\s*\(cost=.*", "", x).lstrip("-> ") for x in lines]
        lines = [x for x in lines if not x.startswith(("Index Cond", "Sort Key"))]
    return " / ".join(lines)


def _scan_command(url: str, folder: Path) -> dict[str, t.Any]:
    """Run ``outreach dedup scan`` in a child process: its output, time and memory."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-not-a-secret",
        "OUTREACH_DATA_DIR": str(folder / "blobs"),
        "DEDUP_RULES_DIR": str(ROOT / "xlsforms" / "dedup"),
    }
    command = [str(Path(sys.executable).parent / "outreach"), "dedup", "scan"]
    command += ["--form", FORM]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    output = child.stdout.read() if child.stdout else ""
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"dedup scan failed ({child.returncode}):\n{output}")
    row = output.splitlines()[1].split()
    return {
        "wall": time.perf_counter() - started,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "load": load,
        "records": row[2],
        "keys": row[3],
        "candidates": row[5],
        "flagged": int(row[6].replace(",", "")) + int(row[7].replace(",", "")),
        "reported": row[8],
    }


def _pairs_digest() -> tuple[int, str]:
    """How many pairs are stored and a digest of what they say (order-independent)."""
    digest = hashlib.sha256()
    query = sa.text(
        "SELECT a_id, b_id, decision, score, reasons FROM dedup_pairs ORDER BY a_id, b_id"
    )
    count = 0
    for a, b, decision, score, reasons in db.session.execute(query):
        if isinstance(reasons, str):
            reasons = json.loads(reasons)
        line = [a, b, decision, round(score, 6), reasons]
        digest.update(json.dumps(line, sort_keys=True).encode() + b"\n")
        count += 1
    return count, digest.hexdigest()[:16]


SCANS = {
    "rescan": "rescan, keys current (e.g. after new weights)",
    "first": "first scan, no keys stored (before dedup was set up, new blocking rules)",
}


def _scans(app, url: str, folder: Path, kinds: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Time ``outreach dedup scan`` once per kind; each kind's table row(s)."""
    lines = []
    for kind in kinds:
        with app.app_context():
            if kind == "first":
                db.session.execute(sa.text("DELETE FROM dedup_keys"))
                db.session.commit()
                if db.engine.dialect.name == "postgresql":  # no dead index entries
                    with db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT"
                    ) as c:
                        c.execute(sa.text("VACUUM ANALYZE dedup_keys"))
            db.session.remove()
            db.engine.dispose()
        scan = _scan_command(url, folder)
        with app.app_context():
            pairs, digest = _pairs_digest()
            db.session.remove()
            db.engine.dispose()
        lines.append(
            f"| `outreach dedup scan`, {SCANS[kind]}: {scan['records']} sessions "
            f"| wall {scan['wall']:.1f} s (command says {scan['reported']} s), "
            f"CPU {scan['cpu']:.1f} s, peak RSS {scan['rss_mb']:.0f} MB, "
            f"load {scan['load']:.2f} at start; {scan['keys']} keys, "
            f"{scan['candidates']} candidate pairs, {scan['flagged']:,} flagged; "
            f"{pairs:,} pairs stored, digest {digest} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--arrivals", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--database-url", help="default: a SQLite file in a temp dir")
    parser.add_argument("--scan", action="store_true", help="also time a full scan")
    parser.add_argument(
        "--boundaries",
        help="commune polygons to import first (the server binds their adjacency), "
        "e.g. ../shared/data/danang2025_communes_simplified.geojson",
    )
    parser.add_argument(
        "--scan-only",
        action="store_true",
        help="only scan the database a previous run filled (--database-url)",
    )
    parser.add_argument(
        "--scans",
        default="rescan,first",
        help=f"which scans to time, in order (default: rescan,first; {', '.join(SCANS)})",
    )
    args = parser.parse_args()
    kinds = [kind for kind in args.scans.split(",") if kind]
    if set(kinds) - set(SCANS):
        parser.error(f"--scans: choose among {', '.join(SCANS)}")

    folder = Path(tempfile.mkdtemp(prefix="dedup-bench-"))
    if args.scan_only:
        if not args.database_url:
            parser.error("--scan-only needs --database-url")
        url = normalise_database_url(args.database_url)
        lines = _scans(_app(url, folder), url, folder, kinds)
        print(f"\n## dedup_server: scans of {args.database_url}\n")
        print("| what | figure |\n|---|---|")
        print("\n".join(lines))
        return
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite'}"
    if url.startswith(("postgres://", "postgresql")):
        _reset_postgres(url)
    url = normalise_database_url(url)
    app = _app(url, folder)

    started = time.perf_counter()
    data = outreach_sessions(int((args.records + args.arrivals) / 1.05), args.seed)
    stored = data.records[: args.records]
    arrivals = data.records[args.records : args.records + args.arrivals]
    generated = time.perf_counter() - started

    from server import dedup, jobs

    timings: dict[str, list[float]] = {"check": [], "cpu": [], "job": []}
    found: list[int] = []
    flagged: list[int] = []
    real = jobs.HANDLERS[dedup.JOB_KIND]

    def timed(job) -> None:  # type: ignore[no-untyped-def]
        t0, c0 = time.perf_counter(), time.process_time()
        result = dedup.check_version(job.submission_def_id)
        timings["check"].append((time.perf_counter() - t0) * 1000)
        timings["cpu"].append((time.process_time() - c0) * 1000)
        found.append(result.candidates if result else 0)
        flagged.append(result.pairs if result else 0)

    with app.app_context():
        dialect = db.engine.dialect.name
        if args.boundaries:  # before the rule sets load: they bind its adjacency
            from server import boundaries

            boundaries.import_boundary_set(args.boundaries, name="bench communes")
            db.session.commit()
        rules = dedup.rules_for(FORM)
        neighbours = sum(len(v) for v in rules.neighbours.values()) // 2
        form_id, def_id = _form()
        n_keys, load_s = _preload(stored, form_id, def_id, rules)
        plan = _plan(form_id)
        jobs.HANDLERS[dedup.JOB_KIND] = timed
        try:
            for record in arrivals:
                _arrive(record, form_id, def_id, rules)
                t0 = time.perf_counter()
                assert jobs.run_pending(limit=1) == 1
                timings["job"].append((time.perf_counter() - t0) * 1000)
        finally:
            jobs.HANDLERS[dedup.JOB_KIND] = real
        pairs = db.session.scalar(sa.text("SELECT count(*) FROM dedup_pairs"))
        failed = db.session.scalar(sa.text("SELECT count(*) FROM jobs WHERE failed"))
        db.session.remove()
        db.engine.dispose()
    scans = _scans(app, url, folder, kinds) if args.scan else []

    size = ""
    if dialect == "sqlite":
        size = (
            f", database file {os.path.getsize(folder / 'bench.sqlite') / 1e6:.0f} MB"
        )
    print(
        f"\n## dedup_server: {dialect}, {len(stored):,} stored outreach sessions, "
        f"{len(arrivals):,} arrivals (data generated in {generated:.1f} s), "
        f"{neighbours} pairs of neighbouring communes bound\n"
    )
    print("| what | figure |")
    print("|---|---|")
    print(
        f"| preload: submissions, versions and keys, bulk insert | {load_s:.1f} s "
        f"({n_keys:,} keys, {n_keys / len(stored):.1f} per record{size}) |"
    )
    for name, label in (
        ("check", "check (the handler: keys, lookup, load + parse, score, pairs)"),
        ("cpu", "check, CPU time of this process (load-independent)"),
        ("job", "job (claim, check, mark done, commit)"),
    ):
        values = timings[name]
        print(
            f"| {label} | p50 {statistics.median(values):.1f} ms, "
            f"p95 {_pct(values, 0.95):.1f} ms, max {max(values):.1f} ms |"
        )
    print(
        f"| candidates per arrival | mean {statistics.mean(found):.1f}, "
        f"max {max(found)}; {sum(1 for f in flagged if f)} of {len(arrivals)} "
        f"got a flagged pair; {pairs:,} pairs stored; {failed} failed jobs |"
    )
    print(f"| candidate lookup plan | {plan} |")
    for line in scans:
        print(line)
    if dialect == "sqlite":
        print(
            f"\nrescan: --scan-only --database-url sqlite:///{folder / 'bench.sqlite'}"
        )


if __name__ == "__main__":
    main()
