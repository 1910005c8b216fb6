"""sync/ and geo/ are pure libraries: no Flask, SQLAlchemy or server imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "flask",
    "flask_sqlalchemy",
    "flask_migrate",
    "sqlalchemy",
    "server",
    "werkzeug",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "sync").rglob("*.py")) + sorted((ROOT / "geo").rglob("*.py")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_pure_library_imports(path):
    assert not (_imports(path) & FORBIDDEN), (
        f"{path} imports {_imports(path) & FORBIDDEN}"
    )


def test_checker_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlalchemy as sa\nfrom flask import g\n")
    assert _imports(bad) & FORBIDDEN == {"sqlalchemy", "flask"}
