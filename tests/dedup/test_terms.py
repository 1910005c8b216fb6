"""Term frequencies on the server: a common name weighs less, in the check and the scan.

victim_case's rule set adjusts the name and the linkage code for how common the agreed
value is (sync.linkage.frequency). The incremental check takes the counts from
server.dedup.terms (counted per process, updated with every checked submission); the
batch scan counts over the records it scans. Both must store the same score.
"""

from __future__ import annotations

import sqlalchemy as sa

from server import dedup
from server.cli import main
from server.db import db
from server.dedup import terms
from server.dedup.rules import rules_for
from server.dedup_models import DedupPair
from server.models import Submission
from tests import mission_data as md
from tests.dedup.conftest import run_jobs, second_registration, victim


def _name_weight(app) -> float:  # type: ignore[no-untyped-def]
    """The weight the one stored pair got for its names (term adjustment included)."""
    with app.app_context():
        (reasons,) = db.session.scalars(sa.select(DedupPair.reasons)).all()
    (name,) = [r for r in reasons if r["field"] == "name"]
    return name["weight"]


def _others(phone, names: list[str], start: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Other women, in another commune, born years apart: nobody's duplicates."""
    for i, name in enumerate(names, start):
        phone.send(
            "victim_case",
            victim(
                **{
                    "deviceid": f"collect:other{i:02d}xxxxxxxx",
                    "case/case_code": f"BDBP-2026-{700 + i}",
                    "case/id_date": f"2026-10-{10 + i:02d}",
                    "profile/commune": md.TAY_GIANG,
                    "pii/full_name": name,
                    "pii/birth_year": str(1940 + 6 * i),
                    "pii/phone": f"09123456{i:02d}",
                    "pii/village": f"Thôn {i}",
                    "pii/id_type": "none",
                    "pii/id_number": None,
                }
            ),
        )


def test_the_victim_rules_use_term_counts(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        assert terms.uses_terms(rules_for("victim_case"))
        assert not terms.uses_terms(rules_for("outreach_session"))


def test_a_common_name_weighs_less_and_the_scan_agrees(app, runner, mission, phone):  # type: ignore[no-untyped-def]
    phone.send("victim_case", victim())
    second = phone.send("victim_case", second_registration())
    _others(
        phone, ["Bríu Thị Hoa", "Zơrâm Thị Dung", "A Lăng Thị Thắm", "Hôih Thị Phơ"]
    )
    run_jobs(app)
    rare = _name_weight(app)  # "Hồ Thị Lan": only the pair itself

    _others(phone, ["Hồ Thị Lan"] * 6, start=4)  # six namesakes
    run_jobs(app)
    assert _name_weight(app) == rare  # the namesakes paired with nobody
    with app.app_context():
        sub = db.session.scalar(
            sa.select(Submission.id).where(Submission.instance_id == second)
        )
        dedup.check_submission(sub)  # the same pair, checked again
        db.session.commit()
    common = _name_weight(app)
    assert common < rare - 0.5

    result = runner.invoke(
        main, ["dedup", "scan", "--form", "victim_case"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert abs(_name_weight(app) - common) < 0.01  # the batch scan counts alike
