"""XForm bytes: convert XLSForms with pyxform, read what a form expects, set its version.

No database here: ``server.forms`` stores and publishes what this module reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from server import problem
from sync.envelope import local_name

MEDIA_RE = re.compile(r"jr://(images|audio|video|file|file-csv)/([^\s\"'<>)]+)")
_MEDIA_TYPES = {"images": "image", "audio": "audio", "video": "video"}


@dataclass(frozen=True, slots=True)
class XFormInfo:
    """What the server needs to know about an XForm."""

    form_id: str
    version: str
    title: str | None
    binary_paths: list[str] = field(default_factory=list)
    media: dict[str, str] = field(default_factory=dict)  # name -> type
    has_instance_id: bool = True
    commune_path: str | None = None  # the one field named ``commune``, if exactly one


def convert_xlsform(
    data: bytes, fallback_form_id: str | None = None
) -> tuple[bytes, list[str]]:
    """XLSForm bytes -> (XForm bytes, warnings); pyxform errors become 400.15.

    pyxform takes the form ID from the settings sheet, else from the file name, so the
    fallback (Central's ``X-XlsForm-FormId-Fallback``) is applied by naming a temp file.
    """
    import tempfile

    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    stem = re.sub(r"[^\w.-]", "_", fallback_form_id or "") or "form"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{stem}.xlsx"
        path.write_bytes(data)
        try:
            result = convert(xlsform=str(path), warnings=warnings)
        except PyXFormError as err:
            raise problem.xlsform_invalid(str(err), warnings) from err
        except Exception as err:  # pyxform raises assorted errors for unreadable files
            raise problem.xlsform_invalid(
                f"{type(err).__name__}: {err}", warnings
            ) from err
    return result.xform.encode("utf-8"), list(result.warnings or warnings)


def inspect_xform(xml: bytes) -> XFormInfo:
    """Read form id, version, title, binary fields and media references from an XForm."""
    try:
        root = fromstring(
            xml, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except (DefusedXmlException, ParseError, ValueError) as err:
        raise problem.unparseable("xml", "The XForm is not well-formed.") from err
    title = None
    model = None
    for el in root.iter():
        name = local_name(el.tag)
        if name == "title" and title is None:
            title = (el.text or "").strip() or None
        elif name == "model" and model is None:
            model = el
    if model is None:
        raise problem.unparseable("xml", "The XForm has no model.")
    instance = next(
        (c for c in model if local_name(c.tag) == "instance" and not c.get("id")), None
    )
    data = next(iter(instance), None) if instance is not None else None
    if data is None or not data.get("id"):
        raise problem.missing_parameter("formId")
    binary_paths, commune_paths = [], []
    for el in model.iter():
        if local_name(el.tag) == "bind" and (el.get("type") or "").endswith("binary"):
            binary_paths.append(el.get("nodeset") or "")
        if local_name(el.tag) == "bind" and (el.get("nodeset") or "").endswith(
            "/commune"
        ):
            commune_paths.append(el.get("nodeset") or "")
    has_instance_id = any(local_name(el.tag) == "instanceID" for el in data.iter())
    media: dict[str, str] = {}
    for match in MEDIA_RE.finditer(xml.decode("utf-8", "replace")):
        kind, name = match.groups()
        media.setdefault(Path(name).name, _MEDIA_TYPES.get(kind, "file"))
    return XFormInfo(
        form_id=data.get("id", ""),
        version=data.get("version") or "",
        title=title,
        binary_paths=[p for p in binary_paths if p],
        media=media,
        has_instance_id=has_instance_id,
        commune_path=commune_paths[0] if len(commune_paths) == 1 else None,
    )


def set_version(xml: bytes, version: str) -> bytes:
    """Rewrite the primary instance's version attribute (Central's ?version= on publish)."""
    info = inspect_xform(xml)
    text = xml.decode("utf-8")
    pattern = re.compile(
        r'(<[^>]*\bid="'
        + re.escape(info.form_id)
        + r'"[^>]*?)(\s+version="[^"]*")?([^>]*>)'
    )
    from xml.sax.saxutils import quoteattr

    def repl(m: re.Match[str]) -> str:
        return f"{m.group(1)} version={quoteattr(version)}{m.group(3)}"

    return pattern.sub(repl, text, count=1).encode("utf-8")
