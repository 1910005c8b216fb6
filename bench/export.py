"""Export speed and memory: 100,000 stored submissions to CSV and XLSX.

    .venv/bin/python bench/export.py                       # SQLite file in a temp dir
    .venv/bin/python bench/export.py --count 20000
    .venv/bin/python bench/export.py --database-url postgresql://postgres@127.0.0.1/bench

A victim-case-like form (30 fields in groups, a consented ``pii`` group of 6 fields,
a commune) is published; ``--count`` submissions are bulk-inserted the way ingest
stores them (a submission, its current version with realistic instance XML, a
commune). Each export then runs in a **fresh child process** that logs in through the
web login form and downloads ``/projects/1/forms/bench_case/export.csv`` (and
``.xlsx``) with the Flask test client, reading the streamed body chunk by chunk as a
browser would. Reported: seconds, bytes and the child's peak RSS (``ru_maxrss``),
next to the peak RSS of a child that only starts the app and logs in (the baseline).

**PostgreSQL: the target database is emptied (DROP SCHEMA public CASCADE).**
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from server import create_app  # noqa: E402
from server.config import normalise_database_url  # noqa: E402
from server.db import db  # noqa: E402

FORM_MD = """
| survey |  |  |  |  |
|  | type | name | label | relevant |
|  | select_one yn | consent | Consent |  |
|  | begin group | case | Case |  |
|  | text | case_code | Case code |  |
|  | date | id_date | Identified |  |
|  | select_one agency | id_agency | Agency |  |
|  | end group |  |  |  |
|  | begin group | pii | Personal | ${consent} = 'yes' |
|  | text | full_name | Name |  |
|  | integer | birth_year | Birth year |  |
|  | text | id_number | ID |  |
|  | text | phone | Phone |  |
|  | text | village | Village |  |
|  | text | case_notes | Notes |  |
|  | end group |  |  |  |
|  | begin group | profile | Profile |  |
|  | text | commune | Commune |  |
|  | select_one sex | sex | Sex |  |
|  | select_one band | age_band_asked | Age band |  |
|  | end group |  |  |  |
|  | begin group | trafficking | Trafficking |  |
|  | text | destination | Destination |  |
|  | text | exploitation | Exploitation |  |
|  | end group |  |  |  |
|  | text | needs | Needs |  |
|  | text | services | Services |  |
|  | integer | n_needs | Needs |  |
|  | integer | n_services | Services |  |
|  | text | all_needs_served | All served |  |
|  | begin group | follow_up | Follow-up |  |
|  | text | referral | Referral |  |
|  | select_one risk | risk | Risk |  |
|  | date | next_visit | Next visit |  |
|  | end group |  |  |  |
|  | text | notes_1 | Notes 1 |  |
|  | text | notes_2 | Notes 2 |  |
|  | text | notes_3 | Notes 3 |  |
| choices |  |  |  |  |
|  | list_name | name | label |  |
|  | yn | yes | Yes |  |
|  | yn | no | No |  |
|  | agency | police | Police |  |
|  | agency | border_guard | Border guard |  |
|  | sex | female | Female |  |
|  | sex | male | Male |  |
|  | band | 18_29 | 18-29 |  |
|  | band | 30_plus | 30+ |  |
|  | risk | low | Low |  |
|  | risk | high | High |  |
| settings |  |  |  |  |
|  | form_id | version | form_title |  |
|  | bench_case | 1 | Bench case |  |
"""
COMMUNES = ["20455", "20443", "20698", "20704", "20716", "20458"]
CHUNK = 5000
EMAIL, PASSWORD = "bench@example.org", "bench password 123"


def _xml(i: int, iid: str, rnd: random.Random) -> bytes:
    consent = "yes" if i % 3 else "no"
    pii = (
        f"<pii><full_name>Hồ Thị Lan {i}</full_name><birth_year>{1980 + i % 30}</birth_year>"
        f"<id_number>0493030{i:05d}</id_number><phone>09051{i:05d}</phone>"
        "<village>Bản Pà Ai</village><case_notes>Chị bị lừa sang Trung Quốc làm "
        "giúp việc, bị ép kết hôn; trốn về qua cửa khẩu Nam Giang.</case_notes></pii>"
    )
    return (
        '<data id="bench_case" version="1">'
        f"<consent>{consent}</consent>"
        f"<case><case_code>DN-2026-{i:05d}</case_code><id_date>2026-11-{1 + i % 28:02d}"
        "</id_date><id_agency>border_guard</id_agency></case>"
        + (pii if consent == "yes" else "<pii/>")
        + f"<profile><commune>{COMMUNES[i % len(COMMUNES)]}</commune><sex>female</sex>"
        "<age_band_asked>18_29</age_band_asked></profile>"
        "<trafficking><destination>china</destination><exploitation>forced_marriage "
        "forced_labour</exploitation></trafficking>"
        "<needs>essentials medical legal_aid</needs><services>essentials medical</services>"
        f"<n_needs>3</n_needs><n_services>2</n_services><all_needs_served>no"
        "</all_needs_served><follow_up><referral>social_protection_centre</referral>"
        f"<risk>{rnd.choice(['low', 'high'])}</risk><next_visit>2026-12-04</next_visit>"
        "</follow_up><notes_1>Ghi chú một</notes_1><notes_2>Ghi chú hai</notes_2>"
        "<notes_3>=1+1 kiểm tra công thức</notes_3>"
        f"<meta><instanceID>{iid}</instanceID></meta></data>"
    ).encode()


def _config(url: str, workdir: Path) -> dict:
    return {
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": url,
        "OUTREACH_DATA_DIR": str(workdir / "blobs"),
        "XLSFORMS_DIR": str(workdir / "none"),
    }


def seed(url: str, workdir: Path, count: int) -> None:
    """Migrate, publish the form, a province user, and ``count`` submissions."""
    from flask_migrate import upgrade
    from pyxform.xls2xform import convert

    from server.cli import create_user
    from server.forms import create_draft, publish_draft
    from server.models import Project, ProjectRole, Submission, SubmissionDef

    app = create_app(_config(url, workdir))
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "server" / "migrations"))
        project = Project(name="bench")
        db.session.add(project)
        db.session.flush()
        xform = convert(xlsform=FORM_MD).xform.encode()
        form, _d, _w = create_draft(project.id, xform)
        form_def = publish_draft(form)
        user = create_user(EMAIL, PASSWORD, admin=False)
        db.session.add(
            ProjectRole(actor_id=user.actor_id, project_id=project.id, role="province")
        )
        db.session.commit()
        rnd = random.Random(7)
        subs, defs = Submission.__table__, SubmissionDef.__table__
        start = time.perf_counter()
        for base in range(0, count, CHUNK):
            n = min(CHUNK, count - base)
            ids = [f"uuid:{uuid.UUID(int=rnd.getrandbits(128))}" for _ in range(n)]
            rows = [
                {
                    "form_id": form.id,
                    "instance_id": iid,
                    "draft": False,
                    "review_state": "received",
                    "commune": COMMUNES[(base + k) % len(COMMUNES)],
                }
                for k, iid in enumerate(ids)
            ]
            with db.engine.begin() as conn:
                conn.execute(subs.insert(), rows)
                found = dict(
                    conn.execute(
                        sa.select(subs.c.instance_id, subs.c.id).where(
                            subs.c.instance_id.in_(ids)
                        )
                    ).all()
                )
                conn.execute(
                    defs.insert(),
                    [
                        {
                            "submission_id": found[iid],
                            "form_id": form.id,
                            "draft": False,
                            "form_def_id": form_def.id,
                            "instance_id": iid,
                            "instance_name": f"DN-2026-{base + k:05d}",
                            "commune": COMMUNES[(base + k) % len(COMMUNES)],
                            "xml": _xml(base + k, iid, rnd),
                            "sha256": f"{base + k:064d}",
                            "current": True,
                        }
                        for k, iid in enumerate(ids)
                    ],
                )
        print(f"seeded {count} submissions in {time.perf_counter() - start:.1f} s")
        db.engine.dispose()


def child(url: str, workdir: Path, what: str) -> None:
    """Log in and download one export; print JSON (seconds, bytes, peak RSS)."""
    app = create_app(_config(url, workdir))
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post(
        "/login", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD}
    )
    assert r.status_code == 302, r.status_code
    size, seconds = 0, 0.0
    if what != "baseline":
        start = time.perf_counter()
        path = f"/projects/1/forms/bench_case/export.{what.split(':')[0]}"
        if what.endswith(":pii"):
            path += "?pii=1"
        response = client.get(path, buffered=False)
        assert response.status_code == 200, response.status_code
        for chunk in response.response:
            size += len(chunk)
        response.close()
        seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"what": what, "seconds": seconds, "bytes": size, "peak_mb": peak_kb / 1024}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.database_url, Path(args.workdir), args.child)
        return
    workdir = Path(tempfile.mkdtemp(prefix="bench-export-"))
    url = normalise_database_url(
        args.database_url or f"sqlite:///{workdir / 'bench.sqlite'}"
    )
    seed(url, workdir, args.count)
    print(f"{'export':<12}{'seconds':>9}{'MB out':>9}{'peak RSS MB':>13}")
    for what in ("baseline", "csv", "csv:pii", "xlsx"):
        out = (
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    what,
                    "--database-url",
                    url,
                    "--workdir",
                    str(workdir),
                ],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ},
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        r = json.loads(out)
        print(
            f"{what:<12}{r['seconds']:>9.1f}{r['bytes'] / 1e6:>9.1f}{r['peak_mb']:>13.0f}"
        )


if __name__ == "__main__":
    main()
