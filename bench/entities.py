"""Entity lists at scale: 100,000 cases served to Collect, 1,000 queued follow-ups.

    .venv/bin/python bench/entities.py                        # SQLite
    .venv/bin/python bench/entities.py --backend postgres     # a fresh PG database
    .venv/bin/python bench/entities.py --cases 20000          # smaller

What it does, with the real forms from ``xlsforms/``:

1. ``outreach setup`` on a fresh database (publishes ``victim_case`` and
   ``case_followup``, which makes the ``cases`` dataset), then 100,000 case entities
   spread over Đà Nẵng's 94 communes, bulk-inserted the way ``POST …/entities``
   with ``{entities: […]}`` stores them (not timed as serving, reported).
2. ``outreach serve --workers 1`` (gunicorn, a real process). Timed over HTTP, to
   the last byte: the manifest and the whole ``cases.csv`` for a web user, and both
   for a La Êê phone (filtered to one commune). The worker's resident memory
   (``/proc/<pid>/status`` VmRSS) is sampled every 10 ms during the big download.
3. The server is stopped; 1,000 follow-up visits are POSTed like Collect does
   (stored and queued, not processed), then the job queue is run to empty in this
   process and timed: 800 single visits on different cases, and 40 cases with a
   5-visit offline branch each, sent newest first (every one but the last waits
   in the backlog and is released by its predecessor).

The database is the one ``tests/live.py`` makes: a SQLite file in a temporary
directory, or a throwaway PostgreSQL database on 127.0.0.1 that is dropped at the end.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests import live  # noqa: E402

OR = {"X-OpenRosa-Version": "1.0", "User-Agent": "org.odk.collect.android/bench"}
LA_EE = "20698"
RISKS = ("low", "medium", "high")
SERVICES = ("medical", "psychological legal_aid", "livelihood", "")


def _communes() -> list[tuple[str, str]]:
    with (ROOT / "xlsforms" / "communes.csv").open(encoding="utf-8") as fh:
        return [(r["name"], r["short_name"]) for r in csv.DictReader(fh)]


def populate(database_url: str, count: int) -> tuple[float, list[str]]:
    """Bulk-insert ``count`` cases; returns (seconds, uuids of La Êê cases)."""
    from server import create_app
    from server.db import db
    from server.entities import datasets, store

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    communes = _communes()
    la_ee: list[str] = []
    start = time.perf_counter()
    with app.app_context():
        dataset = datasets.get(1, "cases")
        for first in range(0, count, 10_000):
            parsed = []
            for i in range(first, min(first + 10_000, count)):
                code, name = communes[i % len(communes)]
                entity_id = str(uuid.UUID(int=i + 1, version=4))
                if code == LA_EE:
                    la_ee.append(entity_id)
                data = {
                    "case_code": f"DN-2026-{i:05d}",
                    "commune": code,
                    "sex": "female" if i % 3 else "male",
                    "age_band": ("u16", "16_17", "18_29", "30_plus")[i % 4],
                    "risk": RISKS[i % 3],
                    "next_visit": f"2026-12-{1 + i % 28:02d}",
                    "services_outstanding": SERVICES[i % 4],
                    "status": "active",
                    "last_contact": "2026-11-20",
                }
                label = f"DN-2026-{i:05d} · {name}"
                parsed.append((entity_id, label, data, {**data, "label": label}))
            store.create_many(
                dataset,
                parsed,
                {"type": "bulk", "name": "bench", "count": len(parsed)},
                actor_id=None,
                user_agent="bench",
            )
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return time.perf_counter() - start, la_ee


def _worker_pid(master: int) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == master:
                return int(entry.name)
    raise RuntimeError("no gunicorn worker found")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _download(url: str, headers: dict[str, str], pid: int | None = None) -> dict:
    """Time one GET to the last byte; sample the worker's RSS meanwhile."""
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_kib(pid))  # type: ignore[arg-type]
            time.sleep(0.01)

    before = _rss_kib(pid) if pid else 0
    sampler = threading.Thread(target=sample) if pid else None
    if sampler:
        sampler.start()
    start = time.perf_counter()
    # http.client reads the chunked body in C-sized pieces; requests' iter_content
    # costs more than the server does for 15 MB, so it would time the client.
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    conn.request("GET", parts.path, headers=headers)
    response = conn.getresponse()
    size, lines = 0, 0
    while chunk := response.read(1 << 20):
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - start
    conn.close()
    done.set()
    if sampler:
        sampler.join()
    assert response.status == 200, response.status
    return {
        "seconds": round(seconds, 3),
        "bytes": size,
        "rows": lines - 1,
        "rss_before_mib": round(before / 1024, 1),
        "rss_peak_mib": round(peak[0] / 1024, 1),
    }


def _median(runs: list[dict]) -> dict:
    best = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {**best, "runs_s": [r["seconds"] for r in runs]}


def _followup(entity: str, base: int, trunk: int, branch: str, i: int) -> bytes:
    from tests.mission_data import VERSION

    return (
        f'<data id="case_followup" version="{VERSION}"><visit><case>{entity}</case>'
        "<visit_date>2026-11-27</visit_date><contact_mode>home_visit</contact_mode>"
        "<met>yes</met></visit><support><services_since>medical</services_since>"
        f"<new_needs>none</new_needs><risk>{RISKS[i % 3]}</risk></support>"
        "<plan><case_status>active</case_status>"
        f"<next_visit>2027-01-{1 + i % 28:02d}</next_visit></plan>"
        "<services_outstanding></services_outstanding>"
        "<last_contact>2026-11-27</last_contact><meta>"
        f'<entity dataset="cases" id="{entity}" update="1" baseVersion="{base}" '
        f'trunkVersion="{trunk}" branchId="{branch}"/>'
        f"<instanceID>uuid:{uuid.uuid4()}</instanceID></meta></data>"
    ).encode()


def process_queue(database_url: str, entity_ids: list[str]) -> dict:
    """Store 1,000 follow-ups (no processing), then run the job queue and time it."""
    import sqlalchemy as sa

    from server import auth, create_app, jobs
    from server.db import db
    from server.entity_models import Entity, EntityBacklog
    from server.models import Audit, FieldKey, Job

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    client = app.test_client()
    with app.app_context():  # a second key for the phone (the first was shown once)
        actor_id = db.session.scalars(sa.select(FieldKey.actor_id)).first()
        token, _session = auth.create_session(actor_id, None)
        db.session.commit()
    base = f"/v1/key/{token}/projects/1"
    singles, branched = entity_ids[:800], entity_ids[800:840]
    posts = []
    for i, entity in enumerate(singles):
        posts.append(_followup(entity, 1, 1, str(uuid.uuid4()), i))
    for entity in branched:  # Collect: local versions 1..5 on one branch, trunk 1
        branch = str(uuid.uuid4())
        chain = [_followup(entity, v, 1, branch, v) for v in range(1, 6)]
        posts.extend(reversed(chain))  # newest first: four wait in the backlog
    start = time.perf_counter()
    for xml in posts:
        r = client.post(
            f"{base}/submission",
            data={"xml_submission_file": (io.BytesIO(xml), "submission.xml")},
            headers=OR,
            content_type="multipart/form-data",
        )
        assert r.status_code == 201, r.data
    stored = time.perf_counter() - start
    with app.app_context():
        queued = db.session.scalar(
            sa.select(sa.func.count(Job.id)).where(Job.done_at.is_(None))
        )
        start = time.perf_counter()
        ran = 0
        while True:
            step = jobs.run_pending(limit=10_000)
            if not step:
                break
            ran += step
        seconds = time.perf_counter() - start
        versions = dict(
            db.session.execute(
                sa.select(Entity.version, sa.func.count(Entity.id)).group_by(
                    Entity.version
                )
            ).all()
        )
        held = db.session.scalar(sa.select(sa.func.count(EntityBacklog.id)))
        errors = db.session.scalar(
            sa.select(sa.func.count(Audit.id)).where(Audit.action == "entity.error")
        )
        db.session.remove()
        db.engine.dispose()
    return {
        "submissions": len(posts),
        "store_s": round(stored, 2),
        "jobs_queued": queued,
        "jobs_run": ran,
        "process_s": round(seconds, 2),
        "ms_per_job": round(1000 * seconds / max(ran, 1), 2),
        "entities_by_version": {str(k): v for k, v in sorted(versions.items())},
        "still_held": held,
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=None, help="write JSON here")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="bench-entities-"))
    srv = live.make_server(args.backend, workdir, ROOT / "xlsforms")
    url = srv.env["DATABASE_URL"]
    os.environ.pop("DATABASE_URL", None)
    try:
        srv.admin_password = live.admin_password(srv.cli("setup"))
        key_url = live.parse_key_url(
            srv.cli(
                "app-user-create",
                "Máy xã La Êê",
                "--project",
                "1",
                "--url",
                "http://127.0.0.1",
                "--commune",
                LA_EE,
            )
        )
        from server.config import normalise_database_url

        db_url = normalise_database_url(url)
        load_s, la_ee = populate(db_url, args.cases)
        # the phone's URL points at the port the server gets when it starts
        key_path = key_url.split("/v1/", 1)[1]
        served = serve_and_measure_at(srv, key_path)
        queue = process_queue(db_url, _all_entities(db_url))
        results = {
            "backend": args.backend,
            "cases": args.cases,
            "bulk_insert_s": round(load_s, 2),
            "la_ee_cases": len(la_ee),
            "served": served,
            "queue": queue,
        }
    finally:
        srv.stop()
    text = json.dumps(results, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


def serve_and_measure_at(srv: live.LiveServer, key_path: str) -> dict:
    srv.start(workers=1)
    try:
        return _measure(srv, f"{srv.url}/v1/{key_path}")
    finally:
        _stop_process(srv)


def _stop_process(srv: live.LiveServer) -> None:
    """Stop gunicorn but keep the database (LiveServer.stop drops PostgreSQL's)."""
    if srv.process is not None:
        srv.process.terminate()
        srv.process.wait(timeout=30)
        srv.process = None


def _measure(srv: live.LiveServer, key_url: str) -> dict:
    pid = _worker_pid(srv.process.pid)  # type: ignore[union-attr]
    r = requests.post(
        f"{srv.url}/v1/sessions",
        json={"email": "admin@localhost", "password": srv.admin_password},
        timeout=30,
    )
    admin = {"Authorization": f"Bearer {r.json()['token']}", **OR}
    results: dict = {}
    for who, base, headers in (
        (
            "web_user_all_communes",
            f"{srv.url}/v1/projects/1/forms/case_followup",
            admin,
        ),
        ("phone_la_ee", f"{key_url}/forms/case_followup", OR),
    ):
        manifest = []
        for _ in range(3):
            start = time.perf_counter()
            m = requests.get(f"{base}/manifest", headers=headers, timeout=60)
            manifest.append(time.perf_counter() - start)
            assert m.status_code == 200, m.text
        runs = [
            _download(f"{base}/attachments/cases.csv", headers, pid) for _ in range(3)
        ]
        results[who] = {
            "manifest_s": round(statistics.median(manifest), 3),
            "csv": _median(runs),
        }
    return results


def _all_entities(database_url: str) -> list[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                sa.text("SELECT uuid FROM entities ORDER BY id LIMIT 840")
            )
        ]
    engine.dispose()
    return ids


if __name__ == "__main__":
    sys.exit(main())
