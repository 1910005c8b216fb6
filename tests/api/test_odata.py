"""The OData feed: rows typed by the XForm, __system metadata, paging and $filter."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from server.api.odata_rows import form_schema, parse_instance, to_row, value
from server.db import db
from server.models import Submission
from tests import factories
from tests.api.conftest import assert_problem

XML = {"Content-Type": "application/xml"}

SURVEY_MD = """
| survey   |              |           |          |
|          | type         | name      | label    |
|          | text         | village   | Village  |
|          | begin group  | hh        | Household |
|          | integer      | size      | Size     |
|          | decimal      | income    | Income   |
|          | geopoint     | where     | Where    |
|          | end group    |           |          |
|          | begin repeat | child     | Child    |
|          | text         | cname     | Name     |
|          | end repeat   |           |          |
|          | image        | photo     | Photo    |
| settings |              |           |          |
|          | form_id      | version   | form_title |
|          | {form_id}    | {version} | {title}  |
"""


def _survey_xml(
    iid: str, size: str = "4", children: tuple[str, ...] = ("An", "Bình")
) -> bytes:
    kids = "".join(f"<child><cname>{c}</cname></child>" for c in children)
    return (
        f'<data id="survey" version="1" xmlns:orx="http://openrosa.org/xforms">'
        f"<village>Bản A Ur</village>"
        f"<hh><size>{size}</size><income>12.5</income>"
        f"<where>16.05 108.2 10 4.5</where></hh>{kids}<photo>p.jpg</photo>"
        f"<meta><orx:instanceID>{iid}</orx:instanceID></meta></data>"
    ).encode()


def _publish_survey(admin, seed) -> str:  # type: ignore[no-untyped-def]
    xml = factories.xform("survey", "1", "Survey", template=SURVEY_MD)
    r = admin.post(
        f"/v1/projects/{seed.project_id}/forms?publish=true", data=xml, headers=XML
    )
    assert r.status_code == 200, r.get_json()
    return f"/v1/projects/{seed.project_id}/forms/survey"


def test_rows_typed_by_schema_pure():
    schema = form_schema(factories.xform("survey", "1", "Survey", template=SURVEY_MD))
    iid = "uuid:00000000-0000-4000-8000-000000000001"
    row = to_row(schema, parse_instance(_survey_xml(iid)), iid)
    assert row["village"] == "Bản A Ur"
    assert row["hh"] == {
        "size": 4,
        "income": 12.5,
        "where": {
            "type": "Point",
            "coordinates": [108.2, 16.05, 10.0],
            "properties": {"accuracy": 4.5},
        },
    }
    assert row["photo"] == "p.jpg"
    assert row["meta"] == {"instanceID": iid}
    assert row["child@odata.navigationLink"] == (
        "Submissions('uuid%3A00000000-0000-4000-8000-000000000001')/child"
    )
    assert "child" not in row
    expanded = to_row(schema, parse_instance(_survey_xml(iid)), iid, expand=True)
    assert [c["cname"] for c in expanded["child"]] == ["An", "Bình"]
    assert len({c["__id"] for c in expanded["child"]}) == 2
    # fields missing from the submission are present as null
    sparse = parse_instance(
        b'<data id="survey"><meta><instanceID>uuid:x</instanceID></meta></data>'
    )
    empty = to_row(schema, sparse, "uuid:x")
    assert empty["village"] is None and empty["hh"]["size"] is None


def test_value_conversions_pure():
    assert value("int", "12") == 12 and value("int", "x") is None
    assert value("decimal", "1.5") == 1.5 and value("decimal", "nan") is None
    assert value("geopoint", "16 108", wkt=True) == "POINT (108 16)"
    assert value("geotrace", "1 2 0 0;3 4 0 0")["type"] == "LineString"
    assert value("geoshape", "1 2;3 4;1 2", wkt=True) == "POLYGON ((2 1,4 3,2 1))"
    assert value("string", "") is None and value("date", "2026-01-02") == "2026-01-02"


def test_submissions_feed(admin, openrosa, seed):
    base = _publish_survey(admin, seed)
    first, second = factories.new_instance_id(), factories.new_instance_id()
    for iid in (first, second):
        assert (
            admin.post(
                f"{base}/submissions?deviceID=dev-1", data=_survey_xml(iid), headers=XML
            ).status_code
            == 200
        )
    admin.patch(f"{base}/submissions/{first}", json={"reviewState": "hasIssues"})
    r = admin.get(f"{base}.svc/Submissions")
    assert r.status_code == 200
    body = r.get_json()
    assert body["@odata.context"].endswith(
        "/v1/projects/1/forms/survey.svc/$metadata#Submissions"
    )
    assert [row["__id"] for row in body["value"]] == [second, first]
    row = body["value"][1]
    assert row["hh"]["size"] == 4
    system = row["__system"]
    assert system["reviewState"] == "hasIssues"
    assert isinstance(system["submitterId"], str) and system["submitterName"] == "admin"
    assert system["attachmentsExpected"] == 1 and system["attachmentsPresent"] == 0
    assert system["edits"] == 0 and system["formVersion"] == "1"
    assert system["deviceId"] == "dev-1" and system["status"] is None
    assert system["deletedAt"] is None and system["submissionDate"].endswith("Z")
    assert body["value"][0]["__system"]["reviewState"] is None
    one = admin.get(f"{base}.svc/Submissions('{first}')").get_json()
    assert [r["__id"] for r in one["value"]] == [first]
    assert_problem(admin.get(f"{base}.svc/Submissions('uuid:nope')"), 404.1)


def test_feed_paging_count_select_expand(admin, seed):
    base = _publish_survey(admin, seed)
    ids = [factories.new_instance_id() for _ in range(3)]
    for iid in ids:
        admin.post(f"{base}/submissions", data=_survey_xml(iid), headers=XML)
    body = admin.get(f"{base}.svc/Submissions?$top=2&$count=true").get_json()
    assert body["@odata.count"] == 3 and len(body["value"]) == 2
    assert "%24skip=2" in body["@odata.nextLink"]
    rest = admin.get(f"{base}.svc/Submissions?$top=2&$skip=2").get_json()
    assert [r["__id"] for r in rest["value"]] == [
        ids[0]
    ] and "@odata.nextLink" not in rest
    picked = admin.get(
        f"{base}.svc/Submissions?$select=village,__system/edits"
    ).get_json()
    assert picked["value"][0] == {
        "__id": ids[2],
        "village": "Bản A Ur",
        "__system": {"edits": 0},
    }
    assert_problem(admin.get(f"{base}.svc/Submissions?$select=nope"), 400.23)
    expanded = admin.get(f"{base}.svc/Submissions?$expand=*").get_json()
    assert [c["cname"] for c in expanded["value"][0]["child"]] == ["An", "Bình"]
    assert_problem(admin.get(f"{base}.svc/Submissions?$top=x"), 400.8)
    assert_problem(admin.get(f"{base}.svc/Submissions.child"), 501.1)
    assert_problem(admin.get(f"{base}.svc/Submissions?$expand=child"), 501.1)
    doc = admin.get(f"{base}.svc").get_json()
    assert [v["name"] for v in doc["value"]] == ["Submissions", "Submissions.child"]


def test_feed_filter(app, admin, seed):
    base = _publish_survey(admin, seed)
    old, new = factories.new_instance_id(), factories.new_instance_id()
    for iid in (old, new):
        admin.post(f"{base}/submissions", data=_survey_xml(iid), headers=XML)
    with app.app_context():
        db.session.execute(
            sa.update(Submission)
            .where(Submission.instance_id == old)
            .values(created_at=dt.datetime(2025, 1, 15, tzinfo=dt.UTC))
        )
        db.session.commit()
    admin.patch(f"{base}/submissions/{new}", json={"reviewState": "approved"})

    def ids(expr: str) -> list[str]:
        r = admin.get(f"{base}.svc/Submissions", query_string={"$filter": expr})
        assert r.status_code == 200, r.get_json()
        return [row["__id"] for row in r.get_json()["value"]]

    assert ids("__system/submissionDate lt 2026-01-01") == [old]
    assert ids("__system/submissionDate ge 2025-01-15T00:00:00Z") == [new, old]
    assert ids("__system/submissionDate gt 2025-01-15T00:00:00.000Z") == [new]
    assert ids("__system/reviewState eq null") == [old]
    assert ids("__system/reviewState eq 'approved'") == [new]
    assert ids("not (__system/reviewState eq 'approved') and __id ne 'x'") == [old]
    assert ids(f"__id eq '{old}' or __id eq '{new}'") == [new, old]
    assert ids("2026-01-01 gt __system/submissionDate") == [old]
    sid = admin.get("/v1/users/current").get_json()["id"]
    assert ids(f"__system/submitterId eq {sid}") == [new, old]
    for bad, code in (
        ("__system/submissionDate lt", 400.18),
        ("__system/submissionDate foo 1", 400.18),
        ("__system/submissionDate lt 'x'", 400.18),
        ("year(__system/submissionDate) eq 2025", 501.4),
        ("village eq 'x'", 501.5),
        ("__id eq", 400.18),
        ("__system/formVersion eq '1'", 501.5),
    ):
        r = admin.get(f"{base}.svc/Submissions", query_string={"$filter": bad})
        assert_problem(r, code)


def test_feed_sees_openrosa_submissions_and_permissions(
    admin, as_role, app_user, openrosa, seed
):
    iid = factories.new_instance_id()
    xml = factories.submission_xml(
        instance_id=iid, fields={"village": "V", "total": "7", "photo1": "a.jpg"}
    )
    openrosa.submit(xml, files={"a.jpg": b"jpeg"})
    base = f"/v1/projects/{seed.project_id}/forms/photos"
    [row] = admin.get(f"{base}.svc/Submissions").get_json()["value"]
    assert row["total"] == 7 and row["photo1"] == "a.jpg" and row["photo2"] is None
    assert row["__system"]["submitterName"] == "Phone 1"
    assert row["__system"]["attachmentsPresent"] == 1
    assert as_role("viewer").get(f"{base}.svc/Submissions").status_code == 200
    assert_problem(as_role("formfill").get(f"{base}.svc/Submissions"), 403.1)
    assert_problem(app_user.get(f"{base}.svc/Submissions"), 403.1)
    assert_problem(
        admin.get(f"/v1/projects/{seed.project_id}/forms/nope.svc/Submissions"), 404.1
    )
