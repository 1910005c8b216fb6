"""Every field a duplicate rule set reads exists in the form it is kept with.

A form edit that moves a field would otherwise make the rules silently read nothing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pyxform.xls2xform import convert

from sync.linkage import load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = sorted((ROOT / "xlsforms" / "dedup").glob("*.toml"))


def _instance_paths(xform: str) -> set[str]:
    root = ET.fromstring(xform)
    ns = "{http://www.w3.org/2002/xforms}"
    instance = next(i for i in root.iter(f"{ns}instance") if not i.get("id"))
    data = next(iter(instance))
    paths: set[str] = set()

    def walk(node: ET.Element, prefix: str) -> None:
        path = f"{prefix}/{node.tag.rsplit('}', 1)[-1]}"
        paths.add(path)
        for child in node:
            walk(child, path)

    walk(data, "")
    return paths


@pytest.mark.parametrize("rules_path", RULES, ids=lambda p: p.name)
def test_rule_set_fields_exist_in_form(rules_path):
    rules = load_rules(rules_path)
    xlsx = ROOT / "xlsforms" / f"{rules.form_id}.xlsx"
    assert xlsx.exists(), f"no form {xlsx.name} for {rules_path.name}"
    paths = _instance_paths(convert(xlsform=str(xlsx)).xform)
    missing = {name: path for name, path in rules.field_paths.items() if path not in paths}
    assert not missing, f"{rules_path.name} reads fields the form does not have: {missing}"
