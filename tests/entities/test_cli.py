"""``outreach entities conflicts|errors|backlog``: what a supervisor runs."""

from __future__ import annotations

from server.cli import main
from tests.entities import builders
from tests.entities.conftest import case_values


def test_conflicts_errors_and_backlog_commands(cases, runner):
    uuid = builders.new_uuid()
    cases.submit(builders.intake_xml(uuid, case_values()))
    a, b = builders.Phone("A"), builders.Phone("B")
    a.download(cases.csv())
    b.download(cases.csv())
    cases.submit(a.update(uuid, {"risk": "medium"}))
    cases.submit(b.update(uuid, {"risk": "low"}))
    out = runner.invoke(main, ["entities", "conflicts"]).output
    assert uuid in out and "hard (risk)" in out

    cases.submit(builders.intake_xml(builders.new_uuid(), case_values(), label=""))
    out = runner.invoke(main, ["entities", "errors"]).output
    assert "intake" in out and "400.2" in out and "label" in out

    assert "backlog empty" in runner.invoke(main, ["entities", "backlog"]).output
    lost = a.update(uuid, {"status": "closed"})  # baseVersion 2: never sent
    cases.submit(a.update(uuid, {"next_visit": "2027-02-01"}))  # baseVersion 3: held
    assert lost
    out = runner.invoke(main, ["entities", "backlog", "--force"]).output
    assert f"entity {uuid}" in out and "force-processed 1" in out
    assert cases.entity(uuid)["currentVersion"]["data"]["next_visit"] == "2027-02-01"
