"""CSV and XLSX exports: form columns, personal fields only when asked and allowed
(blank without consent), formulas neutralised, linked duplicates left out on demand,
streamed in chunks."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from server import exports
from tests.web.conftest import TAY_GIANG, make_web_user, session_values


@pytest.fixture
def tinh(app, seed, browser):  # type: ignore[no-untyped-def]
    make_web_user(app, "tinh@example.org", "province", seed.project_id)
    b = browser()
    b.login("tinh@example.org")
    return b


def _csv(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel reads UTF-8 with the BOM
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_csv_columns_follow_the_form_and_personal_fields_need_consent(
    tinh, seed, field_data
):
    p = seed.project_id
    rows = _csv(tinh.get(f"/projects/{p}/forms/victim_case/export.csv?pii=1"))
    by_id = {r["instanceID"]: r for r in rows}
    consenting, anonymous = (
        by_id[field_data["la_case"]],
        by_id[field_data["abroad_case"]],
    )
    assert consenting["pii-full_name"] == "Hồ Thị Lan"
    assert consenting["profile-commune"] == consenting["commune"] == "20698"
    assert consenting["case-case_code"] == "DN-2026-00123"
    assert anonymous["pii-full_name"] == "" and anonymous["commune"] == ""
    assert "meta-instanceID" not in consenting  # system columns carry it


def test_linkage_code_is_restricted_like_pii(tinh, app, browser, seed, phone):
    """victim_case's pseudonymous linkage code (``/data/link``, asked only without
    consent) is personal data: no column without pii, blank even with it (no
    consent), and not on the page of a viewer without pii.read."""
    from tests import mission_data as md

    code = md.VICTIM_WITHOUT_CONSENT_CODED["link/link_code"]
    p = seed.project_id
    case = phone.send("victim_case", dict(md.VICTIM_WITHOUT_CONSENT_CODED))
    plain = tinh.get(f"/projects/{p}/forms/victim_case/export.csv").get_data(
        as_text=True
    )
    header = next(csv.reader(io.StringIO(plain.lstrip("\ufeff"))))
    assert "case-case_code" in header
    assert not any(h.startswith(("link", "pii")) for h in header)
    assert code not in plain
    rows = _csv(tinh.get(f"/projects/{p}/forms/victim_case/export.csv?pii=1"))
    anonymous = next(r for r in rows if r["instanceID"] == case)
    assert anonymous["link-link_code"] == anonymous["link-link_status"] == ""
    make_web_user(app, "central@example.org", "viewer", p)
    viewer = browser()
    viewer.login("central@example.org")
    page = viewer.get(f"/projects/{p}/forms/victim_case/submissions/{case}")
    assert page.status_code == 200
    assert code not in page.get_data(as_text=True)
    assert (
        viewer.get(f"/projects/{p}/forms/victim_case/export.csv?pii=1").status_code
        == 403
    )


def test_restricted_groups_are_personal_columns(mission):
    cols = exports.columns(mission.xforms["victim_case"], include_pii=True)
    link = [c for c in cols if c.path[0] == "link"]
    assert [c.header for c in link] == ["link-link_status", "link-link_code"]
    assert all(c.personal for c in link)
    public = exports.columns(mission.xforms["victim_case"], include_pii=False)
    assert not any(c.path[0] in ("pii", "link") for c in public)


def test_formulas_are_neutralised(tinh, seed, mission, phone):
    values = session_values("2026-11-20", TAY_GIANG, None)
    values["session/village"] = '=HYPERLINK("http://x","click")'
    iid = phone.send("outreach_session", values)
    p = seed.project_id
    rows = _csv(tinh.get(f"/projects/{p}/forms/outreach_session/export.csv"))
    row = next(r for r in rows if r["instanceID"] == iid)
    assert row["session-village"].startswith("'=")
    book = load_workbook(
        io.BytesIO(tinh.get(f"/projects/{p}/forms/outreach_session/export.xlsx").data)
    )
    sheet = book.active
    header = [c.value for c in sheet[1]]
    col = header.index("session-village")
    values = [r[col].value for r in sheet.iter_rows(min_row=2)]
    assert values == ["'" + values[0][1:]] and values[0].startswith("'=")
    assert sheet[2][col].data_type == "s"  # text, never a formula


def test_linked_duplicates_can_be_left_out(tinh, app, seed, field_data):
    from server.db import db
    from server.dedup import review
    from server.models import Submission

    p = seed.project_id
    with app.app_context():
        ids = dict(
            db.session.execute(
                Submission.__table__.select().with_only_columns(
                    Submission.instance_id, Submission.id
                )
            ).all()
        )
        form_id = db.session.get(Submission, ids[field_data["la_case"]]).form_id
        review.decide_same(
            p,
            form_id,
            ids[field_data["la_case"]],
            [ids[field_data["la_case"]], ids[field_data["la_case_again"]]],
            None,
        )
        db.session.commit()
    every = _csv(tinh.get(f"/projects/{p}/forms/victim_case/export.csv"))
    once = _csv(tinh.get(f"/projects/{p}/forms/victim_case/export.csv?dedup=true"))
    assert len(every) == 3 and len(once) == 2
    assert field_data["la_case_again"] not in {r["instanceID"] for r in once}


def test_csv_is_streamed_in_chunks(tinh, seed, field_data):
    response = tinh.get(
        f"/projects/{seed.project_id}/forms/victim_case/export.csv", buffered=False
    )
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    chunks = list(response.response)
    assert chunks[0] == b"\xef\xbb\xbf"
    response.close()


def test_flatten_refuses_a_doctype_with_the_safe_parser():
    cols = [exports.Column(("a",), "a")]
    assert exports.flatten(b"<data><a>1</a></data>", cols) == ["1"]
    with pytest.raises(Exception):  # noqa: B017 - defusedxml's own error type
        exports.flatten(
            b'<!DOCTYPE d [<!ENTITY x "boom">]><data><a>&x;</a></data>', cols
        )
