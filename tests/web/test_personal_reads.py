"""Personal data on the web pages: hidden from roles without pii.read, audited when read.

The same rules as the REST API (tests/api/test_redaction.py): a file named by a field
inside a restricted group (a photo of an ID card) needs ``pii.read``; a page or file
that shows personal data leaves a ``submission.read.pii`` audit row (ids only).
"""

from __future__ import annotations

from tests.api.conftest import admin, as_role  # noqa: F401  (fixtures)
from tests.api.test_redaction import NAME, _id_card_submission, _pii_reads
from tests.web.conftest import make_web_user


def test_web_pages_and_files_of_personal_data(app, admin, seed, browser):  # type: ignore[no-untyped-def]  # noqa: F811
    files = _id_card_submission(app, admin, seed)
    iid = files.split("/submissions/")[1].split("/")[0]
    page = f"/projects/{seed.project_id}/forms/idcards/submissions/{iid}"
    make_web_user(app, "xem@example.org", "viewer", seed.project_id)
    make_web_user(app, "tinh@example.org", "province", seed.project_id)

    viewer = browser()
    assert viewer.login("xem@example.org").status_code == 302
    shown = viewer.get(page)
    assert shown.status_code == 200 and NAME not in shown.get_data(as_text=True)
    assert viewer.get(f"{page}/attachments/card.jpg").status_code == 403
    assert viewer.get(f"{page}/attachments/house.jpg").data == b"house.jpg"
    assert _pii_reads(app) == []

    province = browser()
    assert province.login("tinh@example.org").status_code == 302
    assert NAME in province.get(page).get_data(as_text=True)
    assert province.get(f"{page}/attachments/card.jpg").data == b"card.jpg"
    assert province.get(f"{page}/attachments/house.jpg").status_code == 200
    reads = _pii_reads(app)
    assert [(t, d["via"]) for t, d in reads] == [
        ("submission", "web"),
        ("submission", "web"),
    ]
    assert NAME not in str(reads)
