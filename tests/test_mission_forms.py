"""The mission's three real forms, end to end: published from xlsforms/, filled, sent.

- Every case in ``tests/mission_data.py`` is built against the primary instance of the
  XForm the server stores, sent over OpenRosa the way Collect sends it, and read back
  from the database and the REST API: same bytes, same values (diacritics included),
  the photos stored, the instance name the form's own expression gives.
- ``victim_case`` without consent carries no personal data at all, whether the ``pii``
  group is left out (Collect) or sent empty (Enketo, Central's web forms).
- With Java, every case is loaded into JavaRosa (the engine inside Collect) the way
  Collect opens a saved instance: it must pass every required/constraint check, and
  re-serialising it must give exactly the same tree, so the calculations, relevance and
  node order in the test data are what a phone really produces.
- ``outreach setup`` (what ``make run`` runs) publishes the forms with their media, and
  Collect can list them, fetch their manifest and download communes.csv.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import re
import shutil
import subprocess
import typing as t
import unicodedata
import uuid
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape

import pytest
import sqlalchemy as sa
from defusedxml.ElementTree import fromstring

from server.db import db
from server.models import (
    Blob,
    Form,
    FormAttachment,
    FormDef,
    Submission,
    SubmissionAttachment,
    SubmissionDef,
)
from tests import mission_data as md

OR = {"X-OpenRosa-Version": "1.0"}
COLLECT_UA = (
    "org.odk.collect.android/v2025.2.3 Dalvik/2.1.0 "
    "(Linux; U; Android 11; SM-A125F Build/RP1A.200720.012)"
)
NS_XF = "http://www.w3.org/2002/xforms"
NS_JR = "http://openrosa.org/javarosa"
NS_LIST = "{http://openrosa.org/xforms/xformsList}"
NS_MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
JR_TEMPLATE = f"{{{NS_JR}}}template"


# --- instance XML from the XForm ----------------------------------------------------


def _local(tag: t.Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def primary_instance(xform: bytes) -> ET.Element:
    """The ``<data>`` element of the XForm's primary instance (the blank record)."""
    root = fromstring(xform)
    model = root.find(f"*/{{{NS_XF}}}model")
    assert model is not None, "no model in the XForm"
    instance = next(i for i in model.findall(f"{{{NS_XF}}}instance") if not i.get("id"))
    return instance[0]


def instance_root(xform: bytes) -> str:
    """The primary instance's root name (``data`` unless pyxform was told otherwise)."""
    return _local(primary_instance(xform).tag)


def instance_bind(xform: bytes, rel: str, attr: str) -> str:
    """An attribute of the bind for ``/<root>/<rel>`` (e.g. the instanceName one)."""
    path = f"/{instance_root(xform)}/{rel}"
    for bind in fromstring(xform).iter(f"{{{NS_XF}}}bind"):
        if bind.get("nodeset") == path:
            return bind.get(attr) or ""
    raise KeyError(path)


def _split_args(body: str) -> list[str]:
    """Top-level comma-separated arguments of an XPath call (quotes respected)."""
    args, depth, quote_char, current = [], 0, "", ""
    for ch in body:
        if quote_char:
            quote_char = "" if ch == quote_char else quote_char
        elif ch in "'\"":
            quote_char = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(current.strip())
            current = ""
            continue
        current += ch
    args.append(current.strip())
    return args


def evaluate_concat(
    expression: str, values: dict[str, t.Any], root: str = "data"
) -> str:
    """Evaluate the forms' instance names: concat() of literals and /<root> paths."""
    match = re.fullmatch(r"\s*concat\((.*)\)\s*", expression, re.S)
    assert match, f"not a concat(): {expression}"
    out = []
    for arg in _split_args(match.group(1)):
        if arg[:1] in "'\"" and arg[-1:] == arg[:1]:
            out.append(arg[1:-1])
        else:
            assert arg.startswith(f"/{root}/"), f"unsupported argument {arg!r}"
            value = values[arg.removeprefix(f"/{root}/")]
            assert isinstance(value, str), f"{arg} is not answered"
            out.append(value)
    return "".join(out)


def _empty_copy(el: ET.Element) -> str:
    name = _local(el.tag)
    if el.get(JR_TEMPLATE) is not None:
        return ""
    if len(el) == 0:
        return f"<{name}/>"
    return f"<{name}>{''.join(_empty_copy(c) for c in el)}</{name}>"


def _render(
    el: ET.Element, rel: str, values: dict[str, t.Any], used: set[str], web: bool
) -> str:
    name = _local(el.tag)
    if el.get(JR_TEMPLATE) is not None:
        return ""  # the repeat template is not part of a record
    if rel in values:
        if rel in used:  # further default copies of a repeat already filled
            return ""
        used.add(rel)
        value = values[rel]
        if value is None:  # not relevant: Collect drops it, web forms send it empty
            return _empty_copy(el) if web else ""
        if isinstance(value, list):
            return "".join(
                f"<{name}>{_render_children(el, item, web)}</{name}>" for item in value
            )
        assert len(el) == 0, f"{rel} is a group, not a field"
        return f"<{name}>{escape(value)}</{name}>" if value else f"<{name}/>"
    if len(el) == 0:
        raise KeyError(f"the test data has no value for {rel}")
    inner = "".join(_render(c, f"{rel}/{_local(c.tag)}", values, used, web) for c in el)
    return f"<{name}>{inner}</{name}>"


def _render_children(el: ET.Element, values: dict[str, t.Any], web: bool) -> str:
    used: set[str] = set()
    inner = "".join(_render(c, _local(c.tag), values, used, web) for c in el)
    unknown = set(values) - used
    assert not unknown, f"not in the form under {_local(el.tag)}: {sorted(unknown)}"
    return inner


def build_instance(
    xform: bytes, values: dict[str, t.Any], *, web: bool = False
) -> bytes:
    """The filled record for ``values`` on the XForm's own instance structure.

    Every leaf of the form must have a value in ``values`` and every key must be a node
    of the form, so the record matches the form exactly. ``web=True`` keeps non-relevant
    nodes as empty elements (Enketo) instead of leaving them out (Collect).
    """
    data = primary_instance(xform)
    root = _local(data.tag)
    body = _render_children(data, values, web)
    return (
        "<?xml version='1.0' encoding='UTF-8' ?>"
        f'<{root} xmlns:jr="{NS_JR}" xmlns:orx="http://openrosa.org/xforms" '
        f'id="{data.get("id")}" version="{data.get("version")}">{body}</{root}>'
    ).encode()


def flatten(xml: bytes, repeats: t.Collection[str] = ("trainee",)) -> dict[str, str]:
    """Leaf path -> text of a stored record; repeat instances as ``name[1]/…``."""
    out: dict[str, str] = {}

    def walk(el: ET.Element, prefix: str) -> None:
        seen: dict[str, int] = {}
        for child in el:
            name = _local(child.tag)
            seen[name] = seen.get(name, 0) + 1
            key = f"{prefix}{name}"
            if name in repeats:
                key = f"{key}[{seen[name]}]"
            else:
                assert seen[name] == 1, f"{key} repeated but not a repeat"
            if len(child):
                walk(child, key + "/")
            else:
                out[key] = child.text or ""

    walk(fromstring(xml), "")
    return out


def expected_leaves(
    values: dict[str, t.Any], prefix: str = ""
) -> dict[str, str | None]:
    """The test data as flatten() should read it back (None: node left out)."""
    out: dict[str, str | None] = {}
    for key, value in values.items():
        if isinstance(value, list):
            for i, item in enumerate(value, 1):
                out.update(expected_leaves(item, f"{prefix}{key}[{i}]/"))
        else:
            out[f"{prefix}{key}"] = value  # type: ignore[assignment]
    return out


# --- the cases ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    form_id: str
    values: dict[str, t.Any]
    instance_name: str
    photos: dict[str, bytes] = field(default_factory=dict)
    web: bool = False  # send non-relevant nodes empty, as web forms do

    def record(self, xform: bytes, instance_id: str) -> tuple[bytes, dict[str, t.Any]]:
        """(instance XML, values including meta) for one submission."""
        name = evaluate_concat(
            instance_bind(xform, "meta/instanceName", "calculate"),
            self.values,
            instance_root(xform),
        )
        values = {
            **self.values,
            "meta/instanceID": instance_id,
            "meta/instanceName": name,
        }
        return build_instance(xform, values, web=self.web), values


CASES = {
    "outreach_session": Case(
        "outreach_session",
        md.OUTREACH_SESSION,
        md.OUTREACH_SESSION_NAME,
        md.outreach_photos(),
    ),
    "victim_case-consent": Case(
        "victim_case", md.VICTIM_WITH_CONSENT, md.VICTIM_WITH_CONSENT_NAME
    ),
    "victim_case-no-consent-collect": Case(
        "victim_case", md.VICTIM_WITHOUT_CONSENT, md.VICTIM_WITHOUT_CONSENT_NAME
    ),
    "victim_case-no-consent-web": Case(
        "victim_case",
        md.VICTIM_WITHOUT_CONSENT,
        md.VICTIM_WITHOUT_CONSENT_NAME,
        web=True,
    ),
    "victim_case-no-consent-linkage-code": Case(
        "victim_case", md.VICTIM_WITHOUT_CONSENT_CODED, md.VICTIM_WITHOUT_CONSENT_NAME
    ),
    "staff_training": Case("staff_training", md.STAFF_TRAINING, md.STAFF_TRAINING_NAME),
}


_CONVERTED: dict[tuple[str, str | None], tuple[bytes, list[str]]] = {}


@pytest.fixture(autouse=True)
def convert_each_workbook_once(monkeypatch):  # type: ignore[no-untyped-def]
    """Keep the module fast: pyxform runs once per workbook, not on every publish.

    publish_file converts each workbook twice (read_source, then create_draft), and
    every test starts from an empty database. The conversion is deterministic, so the
    first result is reused; everything else on the publish path runs as usual.
    """
    import server.forms

    real = server.forms.convert_xlsform

    def cached(data: bytes, fallback_form_id: str | None = None):  # type: ignore[no-untyped-def]
        key = (hashlib.sha256(data).hexdigest(), fallback_form_id)
        if key not in _CONVERTED:
            _CONVERTED[key] = real(data, fallback_form_id)
        xml, warnings = _CONVERTED[key]
        return xml, list(warnings)

    monkeypatch.setattr(server.forms, "convert_xlsform", cached)


@dataclass
class Mission:
    """The three forms published in the Seed's project, and a phone assigned to them."""

    project_id: int
    token: str
    forms: dict[str, int]  # xmlFormId -> forms.id
    xforms: dict[str, bytes]  # xmlFormId -> stored XForm

    @property
    def key_base(self) -> str:
        return f"/v1/key/{self.token}/projects/{self.project_id}"


@pytest.fixture
def mission(app, seed) -> Mission:  # type: ignore[no-untyped-def]
    from server.cli import create_app_user
    from server.forms import publish_file

    forms, xforms = {}, {}
    with app.app_context():
        for form_id in md.FORM_IDS:
            form, form_def, changed = publish_file(
                seed.project_id, md.FORMS_DIR / f"{form_id}.xlsx"
            )
            assert (
                changed
                and form.xml_form_id == form_id
                and form_def.version == md.VERSION
            )
            forms[form_id], xforms[form_id] = form.id, form_def.xml
        _key, token = create_app_user(
            seed.project_id, "Máy Hội Phụ nữ xã La Êê", list(forms.values())
        )
        db.session.commit()
    return Mission(seed.project_id, token, forms, xforms)


def submit_like_collect(
    client,
    base: str,
    xml: bytes,
    photos: dict[str, bytes],
    device_id: str,
    *,
    incomplete: bool = False,
):  # type: ignore[no-untyped-def]
    """One multipart POST as Collect makes it (deviceID in the query, real names)."""
    data: dict[str, t.Any] = {
        "xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml"),
    }
    if incomplete:  # more parts follow in another POST
        data["*isIncomplete*"] = "yes"
    for name, content in photos.items():
        data[name] = (io.BytesIO(content), name, "image/jpeg")
    return client.post(
        f"{base}/submission?deviceID={quote(device_id)}",
        data=data,
        headers={**OR, "User-Agent": COLLECT_UA},
        content_type="multipart/form-data",
    )


def _bearer(client, seed) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post(
        "/v1/sessions",
        json={"email": seed.admin_email, "password": seed.admin_password},
    )
    assert r.status_code == 200, r.data
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _pii_leaves(leaves: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in leaves.items() if k == "pii" or k.startswith("pii/")}


@pytest.mark.parametrize("case_id", list(CASES))
def test_mission_form_submission_round_trips(app, client, seed, mission, case_id):
    case = CASES[case_id]
    xform = mission.xforms[case.form_id]
    instance_id = f"uuid:{uuid.uuid4()}"
    xml, values = case.record(xform, instance_id)
    assert values["meta/instanceName"] == case.instance_name

    r = submit_like_collect(
        client, mission.key_base, xml, case.photos, values["deviceid"]
    )
    assert r.status_code == 201, r.data

    with app.app_context():
        sub = db.session.scalars(
            sa.select(Submission).where(Submission.instance_id == instance_id)
        ).one()
        sub_def = db.session.scalars(
            sa.select(SubmissionDef).where(SubmissionDef.submission_id == sub.id)
        ).one()
        form_def = db.session.get(FormDef, sub_def.form_def_id)
        assert sub.form_id == mission.forms[case.form_id]
        assert form_def.version == md.VERSION
        assert (sub.device_id, sub_def.user_agent) == (values["deviceid"], COLLECT_UA)
        stored = sub_def.xml
        # The instance name is what the form's expression gives, diacritics intact.
        assert sub_def.instance_name == case.instance_name
        slots = dict(
            db.session.execute(
                sa.select(
                    SubmissionAttachment.name, SubmissionAttachment.blob_sha
                ).where(SubmissionAttachment.submission_def_id == sub_def.id)
            ).all()
        )
        blob_sizes = dict(
            db.session.execute(
                sa.select(Blob.sha256, Blob.size).where(
                    Blob.sha256.in_([s for s in slots.values() if s])
                )
            ).all()
        )

    # Exactly the bytes Collect sent, and every value as entered (NFC diacritics).
    assert bytes(stored) == xml
    leaves = flatten(stored)
    for path, value in expected_leaves(values).items():
        if value is None and not case.web:
            assert path not in leaves and not any(
                k.startswith(path + "/") for k in leaves
            ), f"{path} is not relevant and must not be sent"
        elif value is None:
            assert all(
                v == ""
                for k, v in leaves.items()
                if k == path or k.startswith(path + "/")
            ), path
        else:
            assert leaves[path] == value, path
    assert (
        leaves["commune_name"]
        == md.commune_short_names()[
            {
                "outreach_session": values.get("session/commune"),
                "victim_case": values.get("profile/commune"),
                "staff_training": values.get("event/commune"),
            }[case.form_id]
        ]
    )

    # Photos: one slot per image field value, each stored with its bytes.
    assert slots == {n: hashlib.sha256(c).hexdigest() for n, c in case.photos.items()}
    assert all(
        blob_sizes[hashlib.sha256(c).hexdigest()] == len(c)
        for c in case.photos.values()
    )

    if case.form_id == "victim_case":
        # The instance name a supervisor sees never holds personal data.
        assert not any(v in sub_def.instance_name for v in md.PII_VALUES)
        assert not any(
            v in sub_def.instance_name
            for k, v in values.items()
            if k.startswith("pii/") and v
        )
        pii = _pii_leaves(leaves)
        text = stored.decode("utf-8")
        if values["consent_block/consent"] == "yes":
            assert pii and all(leaves[k] == values[k] for k in pii)
            # Identifying values live only in /data/pii.
            outside = {k: v for k, v in leaves.items() if k not in pii}
            assert not any(p in v for p in md.PII_VALUES for v in outside.values())
        else:
            assert all(v == "" for v in pii.values())  # present-but-empty or absent
            assert ("pii/full_name" in leaves) == case.web
            assert not any(p in text for p in md.PII_VALUES)

    # The REST API gives the same record and photos back to a web user.
    auth = _bearer(client, seed)
    url = (
        f"/v1/projects/{mission.project_id}/forms/{case.form_id}"
        f"/submissions/{quote(instance_id)}"
    )
    r = client.get(f"{url}.xml", headers=auth)
    assert r.status_code == 200 and r.data == xml
    r = client.get(url, headers=auth)
    assert r.status_code == 200 and r.get_json()["instanceName"] == case.instance_name
    r = client.get(f"{url}/attachments", headers=auth)
    assert r.get_json() == [{"name": n, "exists": True} for n in sorted(case.photos)]
    for name, content in case.photos.items():
        r = client.get(f"{url}/attachments/{name}", headers=auth)
        assert r.status_code == 200 and r.data == content


def test_outreach_session_photos_can_follow_in_a_second_post(app, client, mission):
    """Collect splits large uploads: the XML and one photo, then the rest."""
    case = CASES["outreach_session"]
    instance_id = f"uuid:{uuid.uuid4()}"
    xml, values = case.record(mission.xforms[case.form_id], instance_id)
    photos = list(case.photos.items())
    first = submit_like_collect(
        client,
        mission.key_base,
        xml,
        dict(photos[:1]),
        values["deviceid"],
        incomplete=True,
    )
    second = submit_like_collect(
        client, mission.key_base, xml, dict(photos[1:]), values["deviceid"]
    )
    assert (first.status_code, second.status_code) == (201, 201)
    with app.app_context():
        rows = db.session.execute(
            sa.select(SubmissionAttachment.name, SubmissionAttachment.blob_sha)
            .join(
                SubmissionDef,
                SubmissionDef.id == SubmissionAttachment.submission_def_id,
            )
            .where(SubmissionDef.instance_id == instance_id)
        ).all()
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Submission)
            .where(Submission.instance_id == instance_id)
        )
    assert count == 1
    assert dict(rows) == {n: hashlib.sha256(c).hexdigest() for n, c in photos}


def test_test_data_covers_every_field_of_the_forms():
    """The builder refuses a value for a node the form lacks, and a missing leaf."""
    from server.forms import convert_xlsform

    xform, _ = convert_xlsform((md.FORMS_DIR / "victim_case.xlsx").read_bytes())
    with pytest.raises(AssertionError, match="not in the form"):
        build_instance(
            xform,
            {
                **md.VICTIM_WITHOUT_CONSENT,
                "pii/name": "x",
                "meta/instanceID": "uuid:x",
                "meta/instanceName": "",
            },
        )
    # The diacritics are precomposed (NFC), as in communes.csv and from phone keyboards.
    for case in CASES.values():
        for path, value in expected_leaves(case.values).items():
            assert value is None or unicodedata.is_normalized("NFC", value), path
    incomplete = dict(md.VICTIM_WITHOUT_CONSENT)
    del incomplete["follow_up/risk"]
    with pytest.raises(KeyError, match="follow_up/risk"):
        build_instance(
            xform, {**incomplete, "meta/instanceID": "uuid:x", "meta/instanceName": ""}
        )


@pytest.mark.xfail(
    strict=True,
    reason=(
        "server keeps values under /data/pii when consent_block/consent is not 'yes'; "
        "xlsforms/README.md (the pii group contract) asks servers to discard them as "
        "defence in depth. ingest stores the XML bytes as sent."
    ),
)
def test_pii_sent_without_consent_is_not_kept(app, client, seed, mission):
    """A client that ignores relevance (or a hand-made POST) sends pii anyway."""
    values = {k: v for k, v in md.VICTIM_WITH_CONSENT.items()}
    values.update(
        {
            "consent_block/consent": "no",
            "consent_block/consent_by": None,
            "consent_block/no_consent_note": "",
            "case/case_code": "DN-2026-00999",
        }
    )
    case = Case("victim_case", values, "")
    instance_id = f"uuid:{uuid.uuid4()}"
    xml, _ = case.record(mission.xforms["victim_case"], instance_id)
    r = submit_like_collect(client, mission.key_base, xml, {}, values["deviceid"])
    assert r.status_code == 201
    r = client.get(
        f"/v1/projects/{mission.project_id}/forms/victim_case/submissions/"
        f"{quote(instance_id)}.xml",
        headers=_bearer(client, seed),
    )
    assert r.status_code == 200
    assert not any(p in r.data.decode("utf-8") for p in md.PII_VALUES)


def test_published_forms_keep_the_data_root_of_the_readme(mission):
    """/data/pii, /data/session/commune…: the paths xlsforms/README.md promises.

    Regression: publish_file passed the file stem to pyxform as ``form_name``, which
    names the instance root (<victim_case>, /victim_case/pii/…) instead of supplying
    a fallback form ID; the same workbook uploaded over REST then clashed (409.6).
    """
    for form_id, xform in mission.xforms.items():
        assert instance_root(xform) == "data", form_id
    pii = instance_bind(mission.xforms["victim_case"], "pii", "relevant")
    assert pii.strip() == "/data/consent_block/consent  = 'yes'"


# --- the same records in JavaRosa ---------------------------------------------------

VALIDATE_JAR = (
    Path(importlib.util.find_spec("pyxform").origin).parent  # type: ignore[arg-type]
    / "validators/odk_validate/bin/ODK_Validate.jar"
)

# Opens a saved record the way Collect's FormLoaderTask.importData does (populate the
# form's blank instance, initialize without preloads), runs FormDef.validate (what
# "finalize" runs: every required and constraint) and writes JavaRosa's own
# serialisation, the bytes Collect would submit, next to the input.
INSTANCE_CHECK_JAVA = r"""
import java.io.*;
import java.nio.file.*;
import org.javarosa.core.model.FormDef;
import org.javarosa.core.model.ValidateOutcome;
import org.javarosa.core.model.instance.FormInstance;
import org.javarosa.core.model.instance.InstanceInitializationFactory;
import org.javarosa.core.model.instance.TreeElement;
import org.javarosa.core.reference.*;
import org.javarosa.model.xform.XFormSerializingVisitor;
import org.javarosa.test.Scenario;
import org.javarosa.xform.parse.XFormParser;

public class InstanceCheck {
  static File dir;
  static class FileRef implements Reference {
    final String uri; final File f;
    FileRef(String u, File f) { this.uri = u; this.f = f; }
    public boolean doesBinaryExist() { return f.exists(); }
    public InputStream getStream() throws IOException { return new FileInputStream(f); }
    public String getURI() { return uri; }
    public String getLocalURI() { return f.getAbsolutePath(); }
    public boolean isReadOnly() { return true; }
    public OutputStream getOutputStream() { throw new UnsupportedOperationException(); }
    public void remove() {}
    public Reference[] probeAlternativeReferences() { return new Reference[0]; }
  }
  public static void main(String[] args) throws Exception {
    dir = new File(args[0]);
    ReferenceManager.instance().addReferenceFactory(new ReferenceFactory() {
      public boolean derives(String u) { return u.startsWith("jr://file"); }
      public Reference derive(String u) {
        return new FileRef(u, new File(dir, u.substring(u.lastIndexOf('/') + 1)));
      }
      public Reference derive(String u, String c) { return derive(u); }
    });
    for (int i = 1; i + 1 < args.length; i += 2) {
      FormDef fd = Scenario.createFormDef(new File(dir, args[i] + ".xml"));
      File in = new File(dir, args[i + 1]);
      byte[] bytes = Files.readAllBytes(in.toPath());
      FormInstance saved = XFormParser.restoreDataModel(bytes, null);
      TreeElement root = fd.getMainInstance().getRoot().deepCopy(true);
      root.populate(saved.getRoot(), fd);
      fd.getMainInstance().setName(null);
      fd.getMainInstance().setRoot(root);
      fd.initialize(false, new InstanceInitializationFactory());
      ValidateOutcome vo = fd.validate(true);  // true: report failures (finalize)
      if (vo == null || vo.outcome == 0) System.out.println("VALID " + in.getName());
      else System.out.println("INVALID " + in.getName() + " " + vo.outcome + " "
          + fd.getChildInstanceRef(vo.failedPrompt));
      XFormSerializingVisitor visitor = new XFormSerializingVisitor();
      byte[] out = visitor.serializeInstance(fd.getMainInstance());
      Files.write(new File(dir, in.getName() + ".collect").toPath(), out);
    }
  }
}
"""


def _has_javarosa() -> bool:
    if not (shutil.which("java") and VALIDATE_JAR.is_file()):
        return False
    with zipfile.ZipFile(VALIDATE_JAR) as jar:
        return "org/javarosa/test/Scenario.class" in jar.namelist()


def _tree(xml: bytes) -> tuple:
    """A record as nested (name, text | children) tuples, without namespaces."""

    def node(el: ET.Element) -> tuple:
        if len(el):
            return (_local(el.tag), tuple(node(c) for c in el))
        return (_local(el.tag), el.text or "")

    root = fromstring(xml)
    return (root.get("id"), root.get("version"), node(root))


@pytest.mark.skipif(
    not _has_javarosa(),
    reason="needs Java 11+ and JavaRosa's Scenario class in ODK Validate's jar",
)
def test_records_are_what_collect_produces(tmp_path):
    from server.forms import read_source

    for form_id in md.FORM_IDS:  # the XForm publish_file stores for each workbook
        path = md.FORMS_DIR / f"{form_id}.xlsx"
        xform, _info, _warnings, _ = read_source(
            path.read_bytes(), path.name, path.stem
        )
        (tmp_path / f"{form_id}.xml").write_bytes(xform)
    shutil.copy(md.COMMUNES_CSV, tmp_path)
    xforms = {f: (tmp_path / f"{f}.xml").read_bytes() for f in md.FORM_IDS}

    records: dict[str, bytes] = {}
    collect_shape: dict[str, bytes] = {}
    args: list[str] = []
    for case_id, case in CASES.items():
        instance_id = f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, case_id)}"
        records[case_id], values = case.record(xforms[case.form_id], instance_id)
        collect_shape[case_id] = build_instance(xforms[case.form_id], values)
        (tmp_path / f"{case_id}.rec").write_bytes(records[case_id])
        args += [case.form_id, f"{case_id}.rec"]
    # Controls: the harness must notice a broken constraint and a missing answer.
    bad = dict(md.VICTIM_WITHOUT_CONSENT, **{"case/case_code": "dn-2026-00123"})
    (tmp_path / "bad-code.rec").write_bytes(
        Case("victim_case", bad, "").record(xforms["victim_case"], "uuid:bad")[0]
    )
    missing = dict(md.OUTREACH_SESSION, **{"participants/n_boys": ""})
    (tmp_path / "missing-boys.rec").write_bytes(
        Case("outreach_session", missing, "").record(
            xforms["outreach_session"], "uuid:missing"
        )[0]
    )
    args += ["victim_case", "bad-code.rec", "outreach_session", "missing-boys.rec"]

    source = tmp_path / "InstanceCheck.java"
    source.write_text(INSTANCE_CHECK_JAVA, encoding="utf-8")
    run = subprocess.run(  # Java 11+ compiles a single source file in memory
        [
            "java",
            "-XX:TieredStopAtLevel=1",
            "-Dfile.encoding=UTF-8",
            "-Duser.timezone=Asia/Ho_Chi_Minh",
            "-cp",
            str(VALIDATE_JAR),
            str(source),
            str(tmp_path),
            *args,
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    lines = {
        line.split()[1]: re.sub(r"\[\d+\]", "", line)  # /a[1]/b[1] -> /a/b
        for line in run.stdout.splitlines()
        if line.startswith(("VALID", "INVALID"))
    }

    for case_id in CASES:
        assert lines[f"{case_id}.rec"].startswith("VALID "), lines[f"{case_id}.rec"]
        rewritten = (tmp_path / f"{case_id}.rec.collect").read_bytes()
        # Same nodes, same order, same values: calculations (commune_name, counts,
        # age_band, instanceName…) and relevance agree with JavaRosa's.
        assert _tree(rewritten) == _tree(collect_shape[case_id]), case_id
    # 2 = ANSWER_CONSTRAINT_VIOLATED, 1 = ANSWER_REQUIRED_BUT_EMPTY
    assert re.fullmatch(
        r"INVALID bad-code\.rec 2 /\w+/case/case_code", lines["bad-code.rec"]
    )
    assert re.fullmatch(
        r"INVALID missing-boys\.rec 1 /\w+/participants/n_boys",
        lines["missing-boys.rec"],
    )


# --- outreach setup publishes the forms with their media ----------------------------


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_setup_publishes_the_mission_forms_with_their_media(app, client, runner):
    from server.cli import main

    app.config["XLSFORMS_DIR"] = str(md.FORMS_DIR)
    first = runner.invoke(main, ["setup"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    for form_id in md.FORM_IDS:
        assert f"published {form_id} version {md.VERSION}" in first.output
    assert "could not publish" not in first.output

    project_id = re.search(r"created project (\d+)", first.output).group(1)

    # What an administrator does next: an app user, and its URL into Collect.
    r = runner.invoke(
        main,
        ["app-user-create", "Máy xã La Êê", "--project", project_id],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    assert all(
        f in r.output.split("assigned forms:")[1].splitlines()[0] for f in md.FORM_IDS
    )
    url = next(line for line in r.output.splitlines() if "/v1/key/" in line).strip()
    base = _path(url)

    r = client.get(f"{base}/formList", headers=OR)
    assert r.status_code == 200
    listed = {
        x.findtext(f"{NS_LIST}formID"): x
        for x in ET.fromstring(r.data).findall(f"{NS_LIST}xform")
    }
    assert set(listed) == set(md.FORM_IDS)
    csv_bytes = md.COMMUNES_CSV.read_bytes()
    csv_md5 = hashlib.md5(csv_bytes).hexdigest()
    titles = {
        "outreach_session": "Truyền thông phòng, chống mua bán người tại cộng đồng",
        "victim_case": "Tiếp nhận, hỗ trợ nạn nhân bị mua bán",
        "staff_training": "Tập huấn cán bộ hỗ trợ nạn nhân bị mua bán",
        "case_followup": "Thăm lại, theo dõi tái hòa nhập",
    }
    for form_id, item in listed.items():
        assert item.findtext(f"{NS_LIST}name") == titles[form_id]
        assert item.findtext(f"{NS_LIST}version") == md.VERSION
        # The XForm downloads with the md5 formList announced.
        download = client.get(_path(item.findtext(f"{NS_LIST}downloadUrl")), headers=OR)
        assert download.status_code == 200
        assert (
            item.findtext(f"{NS_LIST}hash")
            == f"md5:{hashlib.md5(download.data).hexdigest()}"
        )
        data = primary_instance(download.data)
        assert (data.get("id"), data.get("version")) == (form_id, md.VERSION)
        assert b"jr://file-csv/communes.csv" in download.data
        # Its manifest lists communes.csv with the md5 of the file in xlsforms/.
        manifest_url = item.findtext(f"{NS_LIST}manifestUrl")
        assert manifest_url, f"{form_id} has no manifestUrl"
        r = client.get(_path(manifest_url), headers=OR)
        assert r.status_code == 200
        files = ET.fromstring(r.data).findall(f"{NS_MANIFEST}mediaFile")
        if form_id == "case_followup":  # plus the cases entity list (victim_case's)
            cases_entry, *files = files
            assert cases_entry.findtext(f"{NS_MANIFEST}filename") == "cases.csv"
            assert cases_entry.get("type") == "entityList"
        assert [f.findtext(f"{NS_MANIFEST}filename") for f in files] == ["communes.csv"]
        assert files[0].findtext(f"{NS_MANIFEST}hash") == f"md5:{csv_md5}"
        media = client.get(
            _path(files[0].findtext(f"{NS_MANIFEST}downloadUrl")), headers=OR
        )
        assert media.status_code == 200 and media.data == csv_bytes

    with app.app_context():

        def snapshot() -> tuple:
            return (
                db.session.execute(
                    sa.select(
                        FormDef.id, FormDef.form_id, FormDef.version, FormDef.sha256
                    ).order_by(FormDef.id)
                ).all(),
                db.session.execute(
                    sa.select(FormAttachment.id, FormAttachment.blob_sha).order_by(
                        FormAttachment.id
                    )
                ).all(),
                db.session.execute(
                    sa.select(Form.id, Form.current_def_id).order_by(Form.id)
                ).all(),
            )

        before = snapshot()
        assert len(before[0]) == len(md.FORM_IDS)
        # every media file is stored, but cases.csv: the server makes it (entity list)
        assert sum(1 for _, sha in before[1] if not sha) == 1
        db.session.remove()

    # A second `make run` publishes nothing and changes nothing.
    again = runner.invoke(main, ["setup"], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "published" not in again.output and "could not publish" not in again.output
    assert "password:" not in again.output
    with app.app_context():
        assert snapshot() == before
