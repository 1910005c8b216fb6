"""The batch scan stores what the engine finds: same keys, same pairs, same reasons.

The reference is what the scan did before it was made fast: ``record_from_xml`` of
every current version parsed with defusedxml, ``blocking_keys`` and
``sync.linkage.scan`` over the records in id order. Sessions are stored directly
(as ``bench/dedup_server.py`` does), in small batches, so the per-batch key updates
are crossed many times.
"""

from __future__ import annotations

import json
import random
import typing as t

import pytest
import sqlalchemy as sa
from defusedxml.ElementTree import fromstring

from server.db import db
from server.dedup import instance, rules_for, scan_form
from server.dedup import scan as scan_module
from server.dedup.check import _pair_row
from server.dedup_models import DedupKey, DedupPair
from server.models import Form, Submission, SubmissionDef, utcnow
from sync.linkage import blocking_keys, record_from_xml, rules_from_dict, scan

FORM = "outreach_session"
COMMUNES = ["20494", "20497", "20500"]
VILLAGES = ["Bản Pà Ai", "Thôn A Rầng", "Bản Pà Nét", "Thôn Ga Lêê"]
CENTRES = [(15.7542, 107.4521), (15.7601, 107.4602), (15.2475, 108.1428)]


def _session(rng: random.Random) -> dict[str, str]:
    lat, lon = rng.choice(CENTRES)
    women, girls, men, boys = (rng.randint(0, 25) for _ in range(4))
    return {
        "session_date": f"2026-07-{rng.randint(1, 6):02d}",
        "commune": rng.choice(COMMUNES),
        "village": rng.choice(VILLAGES),
        "gps": f"{lat + rng.uniform(-0.004, 0.004):.6f} "
        f"{lon + rng.uniform(-0.004, 0.004):.6f} 700.0 {rng.uniform(3, 30):.1f}",
        "format": rng.choice(["village_meeting", "loudspeaker", "school"]),
        "topics": " ".join(rng.sample(["lures", "hotlines", "safe_migration"], 2)),
        "n_total": str(women + girls + men + boys),
        "n_women": str(women),
        "n_girls": str(girls),
        "n_men": str(men),
        "n_boys": str(boys),
        "n_ethnic_minority": str(rng.randint(0, women + girls + men + boys)),
        "username": rng.choice(["xa20494", "huyen", "bdbp"]),
        "deviceid": f"collect:{rng.randint(1, 4)}",
    }


def _re_report(rng: random.Random, base: dict[str, str]) -> dict[str, str]:
    """The same session from another worker: a few answers differ."""
    out = dict(base, username="huyen", deviceid="collect:9")
    out["village"] = rng.choice([base["village"], "Ban Pa Ai", "pà ai"])
    out["n_total"] = str(max(0, int(base["n_total"]) + rng.randint(-3, 3)))
    if rng.random() < 0.3:
        out["gps"] = ""
    return out


def _xml(fields: t.Mapping[str, str], paths: t.Mapping[str, str], style: int) -> bytes:
    """An instance in one of the shapes phones and servers produce."""
    tree: dict[str, t.Any] = {}
    for name, path in paths.items():
        parts = path.strip("/").split("/")[1:]
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        value = fields.get(name, "")
        node[parts[-1]] = f"\n   {value}  " if style == 1 else value

    def render(node: dict[str, t.Any]) -> str:
        out = []
        for key, value in node.items():
            if isinstance(value, dict):
                out.append(f"<{key}>{render(value)}</{key}>")
            elif value == "" and style == 2:
                out.append(f"<{key}/>")
            else:
                out.append(f"<{key}>{value}</{key}>")
        return "".join(out)

    body = render(tree) + "<meta><instanceID>uuid:x</instanceID></meta>"
    if style == 3:  # a comment takes the defusedxml path
        body = "<!-- sent again -->" + body
    xmlns = ' xmlns="http://opendatakit.org/submissions"' if style == 4 else ""
    head = '<?xml version="1.0" encoding="UTF-8"?>' if style == 5 else ""
    return f'{head}<data{xmlns} id="{FORM}" version="1">{body}</data>'.encode()


def _store(form_id: int, xml: bytes, n: int) -> int:
    """A submission with one current version (as ingest stores it)."""
    sub = Submission(
        form_id=form_id,
        instance_id=f"uuid:{n}",
        draft=False,
        review_state="received",
        created_at=utcnow(),
    )
    db.session.add(sub)
    db.session.flush()
    _version(sub, xml, sub.instance_id)
    return sub.id


def _version(sub: Submission, xml: bytes, instance_id: str) -> None:
    """Store ``xml`` as the submission's current version."""
    db.session.execute(
        sa.update(SubmissionDef)
        .where(SubmissionDef.submission_id == sub.id)
        .values(current=False)
    )
    db.session.add(
        SubmissionDef(
            submission_id=sub.id,
            form_id=sub.form_id,
            draft=False,
            form_def_id=db.session.get(Form, sub.form_id).current_def_id,
            instance_id=instance_id,
            xml=xml,
            sha256="0" * 64,
            current=True,
            created_at=utcnow(),
        )
    )
    db.session.flush()


@pytest.fixture
def stored(app, mission, monkeypatch):  # type: ignore[no-untyped-def]
    """160 sessions (a third re-reported), XML in five shapes; batches of 16."""
    monkeypatch.setattr(scan_module, "_BATCH", 16)
    rng = random.Random(7)
    form_id = mission.forms[FORM]
    with app.app_context():
        rules = rules_for(FORM)
        sessions: list[dict[str, str]] = []
        for n in range(160):
            if sessions and rng.random() < 0.35:
                fields = _re_report(rng, rng.choice(sessions))
            else:
                fields = _session(rng)
            sessions.append(fields)
            _store(form_id, _xml(fields, rules.field_paths, n % 6), n)
        db.session.commit()
    return form_id


def _reference(form_id: int) -> tuple[set[tuple[int, str]], list[dict[str, t.Any]]]:
    """Keys and pair rows as the scan made them before: defusedxml and the engine."""
    rules = rules_for(FORM)
    rows = db.session.execute(
        sa.select(SubmissionDef.submission_id, SubmissionDef.xml)
        .join(Submission, Submission.id == SubmissionDef.submission_id)
        .where(
            Submission.form_id == form_id,
            SubmissionDef.current.is_(True),
            Submission.deleted_at.is_(None),
            Submission.draft.is_(False),
        )
        .order_by(SubmissionDef.submission_id)
    ).all()
    records = [
        record_from_xml(
            fromstring(bytes(xml), forbid_dtd=True),
            FORM,
            rules.field_paths,
            record_id=f"{sid:012d}",
        )
        for sid, xml in rows
    ]
    keys = {(int(r.record_id), k) for r in records for k in blocking_keys(r, rules)}
    pairs = [
        _comparable(_pair_row(form_id, pair, rules.fingerprint, None))
        for pair in scan(records, rules)
    ]
    return keys, sorted(pairs, key=lambda row: (row["a_id"], row["b_id"]))


def _comparable(row: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    keep = ("a_id", "b_id", "score", "decision", "reasons", "rules")
    return json.loads(json.dumps({k: row[k] for k in keep}))


def _stored(form_id: int) -> tuple[set[tuple[int, str]], list[dict[str, t.Any]]]:
    keys = set(
        db.session.execute(
            sa.select(DedupKey.submission_id, DedupKey.key).where(
                DedupKey.form_id == form_id
            )
        ).all()
    )
    pairs = db.session.scalars(
        sa.select(DedupPair)
        .where(DedupPair.form_id == form_id)
        .order_by(DedupPair.a_id, DedupPair.b_id)
    ).all()
    return {tuple(k) for k in keys}, [_comparable(vars(pair)) for pair in pairs]


def test_scan_stores_the_engines_keys_and_pairs(app, stored):  # type: ignore[no-untyped-def]
    with app.app_context():
        result = scan_form(stored)
        db.session.commit()
        keys, pairs = _stored(stored)
        want_keys, want_pairs = _reference(stored)
    assert keys == want_keys and result.keys == len(keys) == result.written_keys
    assert len(pairs) > 20 and {p["decision"] for p in pairs} == {"match", "possible"}
    assert pairs == want_pairs
    assert result.records == 160 and result.matches + result.possibles == len(pairs)


def test_rescan_rewrites_only_the_keys_that_changed(app, stored):  # type: ignore[no-untyped-def]
    rng = random.Random(11)
    with app.app_context():
        subs = db.session.scalars(
            sa.select(Submission)
            .where(Submission.form_id == stored)
            .order_by(Submission.id)
        ).all()
        revived, edited, deleted, stale, last = (
            subs[50],
            subs[40],
            subs[41],
            subs[70],
            subs[-1],
        )
        revived.deleted_at = utcnow()  # not keyed by the first scan
        db.session.commit()
        scan_form(stored)
        db.session.commit()

        revived.deleted_at = None
        fields = _session(rng)
        _version(edited, _xml(fields, rules_for(FORM).field_paths, 0), "uuid:edit")
        deleted.deleted_at = last.deleted_at = utcnow()  # the last: past every batch
        db.session.add(DedupKey(submission_id=stale.id, key="x:stale", form_id=stored))
        db.session.commit()
        result = scan_form(stored)
        db.session.commit()
        keys, pairs = _stored(stored)
        want_keys, want_pairs = _reference(stored)
        rewritten = {revived.id, edited.id, stale.id}
        gone = {deleted.id, last.id}
    assert keys == want_keys and pairs == want_pairs
    assert {sid for sid, _ in keys} >= rewritten and not {sid for sid, _ in keys} & gone
    assert result.written_keys == sum(1 for sid, _ in keys if sid in rewritten)
    assert result.records == 158


def test_scan_of_a_form_without_submissions_clears_its_keys(app, stored):  # type: ignore[no-untyped-def]
    with app.app_context():
        scan_form(stored)
        db.session.execute(sa.update(Submission).values(deleted_at=utcnow()))
        db.session.commit()
        result = scan_form(stored)
        db.session.commit()
        assert _stored(stored) == (set(), [])
    assert (result.records, result.keys) == (0, 0)


@pytest.mark.parametrize(
    ("xml", "fields"),
    [
        (
            b"<data><a><b> x </b><b/><b>y</b></a><c>z</c></data>",
            {"b": ["x", "y"], "c": "z"},
        ),
        (b'<d:data xmlns:d="urn:d"><d:a><d:b>1</d:b></d:a></d:data>', {"b": "1"}),
        (b"<data><a><b>1<i>2</i></b></a><c>  </c></data>", {"b": "1"}),
        (b"<data><!-- c --><a><b><![CDATA[<1>]]></b></a></data>", {"b": "<1>"}),
        (b"<data>root<a><b>&lt;&#233;</b></a></data>", {"b": "<\u00e9", "r": "root"}),
    ],
    ids=["repeats-blank", "namespaced", "text-before-child", "cdata", "root-entities"],
)
def test_fast_fields_equal_record_from_xml(xml: bytes, fields: dict[str, t.Any]):  # type: ignore[no-untyped-def]
    rules = rules_from_dict(
        {
            "form_id": "f",
            "version": 1,
            "fields": {"b": "/data/a/b", "c": "/data/c", "r": "/data"},
            "compare": [
                {
                    "name": "b",
                    "comparator": "category",
                    "fields": ["b"],
                    "weights": {"same": 1.0, "different": -1.0},
                }
            ],
            "blocking": {
                "passes": [{"name": "b", "parts": [{"kind": "value", "field": "b"}]}]
            },
        }
    )
    fast = instance.record(xml, rules, 3)
    slow = record_from_xml(fromstring(xml), "f", rules.field_paths, record_id="3")
    assert fast.fields == slow.fields == fields
    assert fast.record_id == "000000000003"


def test_fast_path_refuses_a_dtd(app):  # type: ignore[no-untyped-def]
    from defusedxml import DTDForbidden

    bomb = b'<!DOCTYPE d [<!ENTITY e "x">]><data><a><b>&e;</b></a></data>'
    with app.app_context(), pytest.raises(DTDForbidden):
        instance.record(bomb, rules_for(FORM), 1)


@pytest.mark.skipif(
    not __import__("os").environ.get("DATABASE_URL"), reason="PostgreSQL only"
)
def test_a_failed_key_copy_fails_the_scan(app, stored):  # type: ignore[no-untyped-def]
    with app.app_context():
        sink = scan_module._CopySink(db.session.connection())
        sink.insert([(1, "k", stored), (1, "k", stored)])  # the primary key twice
        with pytest.raises(Exception, match="duplicate key"):
            sink.close()
        db.session.rollback()
