"""The XLSForms in ``xlsforms/`` and their commune list.

Every workbook is converted the way the server and Central do (pyxform, plus ODK
Validate when Java is present), so a form that Collect would refuse fails here.
"""

from __future__ import annotations

import csv
import importlib.util
import shutil
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from pyxform.xls2xform import convert

ROOT = Path(__file__).resolve().parent.parent
FORMS_DIR = ROOT / "xlsforms"
FORM_PATHS = sorted(FORMS_DIR.glob("*.xlsx"))
COMMUNES_CSV = FORMS_DIR / "communes.csv"
# Entity lists a form reads, served by the server (not files in xlsforms/).
ENTITY_LISTS = {"case_followup": {"jr://file-csv/cases.csv"}}
SAMPLE_CASES_CSV = FORMS_DIR / "checks" / "cases.csv"
LANGUAGES = ("Tiếng Việt (vi)", "English (en)")
HAS_JAVA = shutil.which("java") is not None
VALIDATE_JAR = (
    Path(importlib.util.find_spec("pyxform").origin).parent
    / "validators/odk_validate/bin/ODK_Validate.jar"
)

NS = {
    "h": "http://www.w3.org/1999/xhtml",
    "xf": "http://www.w3.org/2002/xforms",
    "jr": "http://openrosa.org/javarosa",
}
CONSENT_REF = "/data/consent_block/consent"
# Border communes on the Laos border (2025 codes), spelled as in the package.
BORDER_COMMUNES = {
    "20443": "Hùng Sơn",
    "20455": "Tây Giang",
    "20698": "La Êê",
    "20704": "La Dêê",
    "20716": "Đắc Pring",
}


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Converted:
    """A converted form: its XForm tree and helpers over its binds."""

    path: Path
    root: ET.Element
    warnings: list[str]

    @property
    def binds(self) -> dict[str, dict[str, str]]:
        model = self.root.find("h:head/xf:model", NS)
        return {b.get("nodeset"): b.attrib for b in model.findall("xf:bind", NS)}

    @property
    def instance(self) -> ET.Element:
        return self.root.find("h:head/xf:model/xf:instance/*", NS)

    def relevance_chain(self, path: str) -> list[str]:
        """The ``relevant`` expressions of ``path`` and of all its ancestors."""
        binds = self.binds
        parts = path.strip("/").split("/")
        chain = []
        for depth in range(2, len(parts) + 1):
            bind = binds.get("/" + "/".join(parts[:depth]), {})
            if bind.get("relevant"):
                chain.append(bind["relevant"])
        return chain


@pytest.fixture(scope="module", params=FORM_PATHS, ids=[p.name for p in FORM_PATHS])
def form(request: pytest.FixtureRequest) -> Converted:
    """Each workbook, converted once (ODK Validate runs when Java is installed)."""
    result = convert(xlsform=str(request.param), validate=HAS_JAVA)
    return Converted(request.param, ET.fromstring(result.xform), result.warnings)


@pytest.fixture(scope="module")
def victim_case() -> Converted:
    """The victim_case form, converted without Validate (the form test does that)."""
    path = FORMS_DIR / "victim_case.xlsx"
    result = convert(xlsform=str(path), validate=False)
    return Converted(path, ET.fromstring(result.xform), result.warnings)


@pytest.fixture(scope="module")
def communes_tool() -> ModuleType:
    """``tools/communes.py`` as a module."""
    return _load("communes_tool", ROOT / "tools" / "communes.py")


def test_forms_exist() -> None:
    names = {p.stem for p in FORM_PATHS}
    assert {
        "outreach_session",
        "victim_case",
        "staff_training",
        "case_followup",
    } <= names


@pytest.mark.skipif(not HAS_JAVA, reason="ODK Validate needs Java")
def test_form_passes_odk_validate(form: Converted) -> None:
    # The fixture already ran Validate; reaching here means JavaRosa accepted it.
    assert form.warnings == []


def test_form_has_instance_id_and_name(form: Converted) -> None:
    binds = form.binds
    assert binds["/data/meta/instanceID"].get(f"{{{NS['jr']}}}preload") == "uid"
    assert binds["/data/meta/instanceName"].get("calculate")


def test_form_id_and_version(form: Converted) -> None:
    data = form.instance
    assert data.get("id") == form.path.stem
    assert data.get("version", "").isdigit() and len(data.get("version")) == 10


def test_form_is_bilingual_with_vietnamese_default(form: Converted) -> None:
    itext = form.root.find("h:head/xf:model/xf:itext", NS)
    translations = {t.get("lang"): t for t in itext.findall("xf:translation", NS)}
    assert set(translations) == set(LANGUAGES)
    assert translations[LANGUAGES[0]].get("default") == "true()"
    ids = [
        {text.get("id") for text in t.findall("xf:text", NS)}
        for t in translations.values()
    ]
    assert ids[0] == ids[1], "every text must exist in both languages"


def test_form_records_metadata(form: Converted) -> None:
    binds = form.binds
    for name in ("start", "end", "today", "deviceid", "username"):
        assert f"/data/{name}" in binds


def test_form_uses_the_commune_list_as_media(form: Converted) -> None:
    sources = {
        i.get("src")
        for i in form.root.findall("h:head/xf:model/xf:instance", NS)
        if i.get("src")
    }
    entity_lists = ENTITY_LISTS.get(form.path.stem, set())
    assert sources == {"jr://file-csv/communes.csv", *entity_lists}
    for source in entity_lists:  # served from the dataset, never a file beside it
        assert not (FORMS_DIR / source.rsplit("/", 1)[1]).exists()
    assert COMMUNES_CSV.exists(), "media must sit next to the xlsx"
    communes = [path for path in form.binds if path.rsplit("/", 1)[-1] == "commune"]
    assert len(communes) == 1, "exactly one field named 'commune' (2025 code)"


def test_victim_case_asks_consent_first(victim_case: Converted) -> None:
    questions = [
        path
        for path, bind in victim_case.binds.items()
        if not path.startswith("/data/meta")
        and path.count("/") > 2
        and bind.get("readonly") != "true()"
    ]
    assert questions[0] == CONSENT_REF


def test_victim_case_pii_group_requires_consent(victim_case: Converted) -> None:
    binds = victim_case.binds
    pii_fields = [p for p in binds if p.startswith("/data/pii/")]
    assert {"full_name", "id_number", "phone"} <= {
        p.rsplit("/", 1)[-1] for p in pii_fields
    }
    for path in pii_fields:
        chain = victim_case.relevance_chain(path)
        assert any(CONSENT_REF in expr and "'yes'" in expr for expr in chain), (
            f"{path} is not gated on consent"
        )


def test_victim_case_keeps_identifiers_inside_pii(victim_case: Converted) -> None:
    identifying = {
        "full_name",
        "birth_year",
        "ethnicity",
        "id_number",
        "phone",
        "village",
        "contact_name",
        "contact_phone",
        "case_notes",
    }
    outside = [
        path
        for path in victim_case.binds
        if not path.startswith("/data/pii") and path.rsplit("/", 1)[-1] in identifying
    ]
    assert outside == []
    groups = [g for g in victim_case.root.iter(f"{{{NS['xf']}}}group")]
    assert [g.get("ref") for g in groups].count("/data/pii") == 1


def test_victim_case_link_code_only_without_consent(victim_case: Converted) -> None:
    """The pseudonymous linkage code (README "The link group"): its own group,
    asked only without consent, constrained to two letters and a birth year, and
    read by nothing else in the form (instance name, entity, calculations)."""
    binds = victim_case.binds
    link = sorted(p for p in binds if p.startswith("/data/link/"))
    assert link == ["/data/link/link_code", "/data/link/link_status"]
    for path in link:
        chain = victim_case.relevance_chain(path)
        assert any(CONSENT_REF in expr and "'no'" in expr for expr in chain), path
    assert "'given'" in binds["/data/link/link_code"]["relevant"]
    assert "^[A-Za-z]{2}[0-9]{4}$" in binds["/data/link/link_code"]["constraint"]
    assert binds["/data/link/link_status"]["required"] == "true()"
    readers = [
        path
        for path, bind in binds.items()
        if path != "/data/link"
        and not path.startswith("/data/link/")
        and any("/data/link" in str(v) for v in bind.values())
    ]
    assert readers == []
    assert not any(p.startswith("/data/link") for p in _saved(victim_case))
    groups = [g.get("ref") for g in victim_case.root.iter(f"{{{NS['xf']}}}group")]
    assert groups.count("/data/link") == 1


def test_victim_case_services_limited_to_needs(victim_case: Converted) -> None:
    services = victim_case.root.find(".//xf:select[@ref='/data/services']", NS)
    itemset = services.find("xf:itemset", NS)
    assert "selected( /data/needs , name)" in itemset.get("nodeset")
    assert "/data/needs" in victim_case.binds["/data/services"]["constraint"]


ENTITIES = "{http://www.opendatakit.org/xforms/entities}"
# What victim_case may put in the entity list that goes to phones (README).
SAFE_CASE_PROPERTIES = {
    "case_code",
    "commune",
    "sex",
    "age_band",
    "risk",
    "next_visit",
    "services_outstanding",
    "status",
    "last_contact",
}


def _saved(form: Converted) -> dict[str, str]:
    """Field path -> entity property, from the binds' entities:saveto."""
    return {
        path: bind[f"{ENTITIES}saveto"]
        for path, bind in form.binds.items()
        if f"{ENTITIES}saveto" in bind
    }


def test_victim_case_entity_carries_no_personal_data(victim_case: Converted) -> None:
    entity = victim_case.instance.find("xf:meta/xf:entity", NS)
    assert entity is not None and entity.get("dataset") == "cases"
    assert entity.get("create") is not None and entity.get("update") is None
    saved = _saved(victim_case)
    assert set(saved.values()) == SAFE_CASE_PROPERTIES
    assert not any(path.startswith("/data/pii") for path in saved)
    calc = victim_case.binds["/data/meta/entity/label"]["calculate"]
    assert "full_name" not in calc and "/data/pii/given_name" in calc
    # the given name needs both consents, in the expression itself
    assert CONSENT_REF in calc and "/data/consent_block/consent_name_on_phone" in calc
    given = victim_case.relevance_chain("/data/pii/given_name")
    assert any("consent_name_on_phone" in expr for expr in given)


def test_case_followup_updates_the_case_entity() -> None:
    path = FORMS_DIR / "case_followup.xlsx"
    form = Converted(path, ET.fromstring(convert(xlsform=str(path)).xform), [])
    entity = form.instance.find("xf:meta/xf:entity", NS)
    assert entity.get("dataset") == "cases" and entity.get("update") is not None
    assert entity.get("create") is None and entity.find("xf:label", NS) is None
    assert set(_saved(form).values()) <= SAFE_CASE_PROPERTIES
    assert (
        "instance('cases')" in form.binds["/data/meta/entity/@baseVersion"]["calculate"]
    )


def test_case_code_pattern_is_documented() -> None:
    readme = (FORMS_DIR / "README.md").read_text("utf-8")
    assert "^[A-Z]{2,4}-[0-9]{4}-[0-9]{3,5}$" in readme


def test_workbooks_match_their_definitions() -> None:
    build = _load("xlsforms_build", FORMS_DIR / "build.py")
    problems = [build.stale(f, FORMS_DIR / f"{f.form_id}.xlsx") for f in build.FORMS]
    assert [p for p in problems if p] == [], "run python xlsforms/build.py"


def test_communes_csv_shape() -> None:
    with COMMUNES_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    text = COMMUNES_CSV.read_text("utf-8")
    assert not text.startswith("\ufeff")
    assert unicodedata.is_normalized("NFC", text)
    assert list(rows[0])[:2] == ["name", "label"]
    assert all(":" not in column for column in rows[0]), "columns become XML names"
    codes = [row["name"] for row in rows]
    assert len(codes) == len(set(codes)) == 94
    assert all(code.isdigit() and len(code) == 5 for code in codes)
    by_code = {row["name"]: row for row in rows}
    for code, name in BORDER_COMMUNES.items():
        assert by_code[code]["short_name"] == name
        assert by_code[code]["label"].startswith(f"Xã {name} (cũ: ")
    assert "A Tiêng" in by_code["20455"]["label"]  # findable by its old name


@pytest.mark.skipif(
    importlib.util.find_spec("vietnamadminunits") is None,
    reason="needs the vietnamadminunits package",
)
def test_communes_csv_is_regenerated_identically(communes_tool: ModuleType) -> None:
    fresh = communes_tool.render_csv(communes_tool.load_communes("Đà Nẵng"))
    assert COMMUNES_CSV.read_text("utf-8") == fresh
    assert communes_tool.render_csv(communes_tool.load_communes("48")) == fresh


def _has_javarosa_scenario() -> bool:
    if not (shutil.which("javac") and HAS_JAVA and VALIDATE_JAR.is_file()):
        return False
    with zipfile.ZipFile(VALIDATE_JAR) as jar:
        return "org/javarosa/test/Scenario.class" in jar.namelist()


@pytest.mark.skipif(
    not _has_javarosa_scenario(),
    reason="needs javac and JavaRosa's Scenario class in pyxform's ODK Validate jar",
)
def test_form_logic_in_javarosa(tmp_path: Path) -> None:
    """Constraints, relevance, filters and calculations, answered as on a phone."""
    for path in FORM_PATHS:
        xform = convert(xlsform=str(path), validate=False).xform
        (tmp_path / f"{path.stem}.xml").write_text(xform, encoding="utf-8")
    shutil.copy(COMMUNES_CSV, tmp_path)
    shutil.copy(SAMPLE_CASES_CSV, tmp_path)  # what the server sends a phone
    source = FORMS_DIR / "checks" / "FormLogic.java"
    classes = tmp_path / "classes"
    build = subprocess.run(
        [
            "javac",
            "-encoding",
            "UTF-8",
            "-cp",
            str(VALIDATE_JAR),
            "-d",
            str(classes),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    run = subprocess.run(
        [
            "java",
            "-Dfile.encoding=UTF-8",
            "-cp",
            f"{VALIDATE_JAR}:{classes}",
            "FormLogic",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    failures = [line for line in run.stdout.splitlines() if line.startswith("FAIL")]
    assert run.returncode == 0 and not failures, run.stdout + run.stderr[-2000:]
