"""sync.linkage.record: records from submission XML (what the server will pass in)."""

from __future__ import annotations

from pathlib import Path

from sync import parse_submission
from sync.linkage import load_rules, record_from_xml, score

RULES = Path(__file__).resolve().parents[2] / "xlsforms" / "dedup"

XML = """<?xml version="1.0"?>
<data xmlns:jr="http://openrosa.org/javarosa" id="outreach_session" version="2026112802">
  <session>
    <session_date>2026-07-03</session_date><commune>20455</commune>
    <village>Bản A Xòo</village><gps>15.9 107.5 400 5</gps>
  </session>
  <activity><format>village_meeting</format><topics>lures hotlines</topics></activity>
  <participants><n_total>42</n_total><n_women>20</n_women><n_girls/></participants>
  <username>xa20455</username>
  <meta><instanceID>uuid:{uid}</instanceID></meta>
</data>"""


def test_record_from_xml_reads_the_rule_set_paths():
    rules = load_rules(RULES / "outreach_session.toml")
    envelope = parse_submission(XML.format(uid="1").encode())
    record = record_from_xml(envelope.root, envelope.form_id, rules.field_paths)
    assert record.record_id == "uuid:1"
    assert record.form_id == "outreach_session"
    assert record.fields["village"] == "Bản A Xòo"
    assert record.fields["n_total"] == "42"
    assert "n_girls" not in record.fields  # blank
    assert "deviceid" not in record.fields  # absent
    other = parse_submission(XML.format(uid="2").encode())
    twin = record_from_xml(other.root, other.form_id, rules.field_paths, record_id="s2")
    assert twin.record_id == "s2"
    assert score(record, twin, rules).decision == "match"
