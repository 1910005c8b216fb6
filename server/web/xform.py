"""Labels of an XForm in the reader's language, and a submission as labelled rows.

Pure code: reads the XForm's body controls, its ``itext`` translations (languages
such as ``Tiếng Việt (vi)`` are matched by the code in brackets) and the choices of
selects (inline items or pyxform's secondary instances). ``rows`` walks a submission
in form order. Anything under a top-level group named ``pii`` or ``link`` is marked
personal.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field
from functools import lru_cache
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring

from server.exports import PII_GROUP, RESTRICTED_GROUPS  # noqa: F401  (one definition)
from sync import local_name

_ITEXT = re.compile(r"jr:itext\(\s*'([^']+)'\s*\)")
_LANG_CODE = re.compile(r"\(([a-z]{2,3})\)\s*$")


@dataclass(slots=True)
class Control:
    """A question or group of the form body, with labels per language code."""

    path: str
    kind: str  # input | select1 | select | upload | group | repeat | trigger
    labels: dict[str, str] = field(default_factory=dict)
    choices: dict[str, dict[str, str]] = field(default_factory=dict)  # value->lang->
    mediatype: str | None = None
    note: bool = False  # a read-only text shown to the worker, never an answer


@dataclass(frozen=True, slots=True)
class Row:
    """One answer of a submission, ready for a page."""

    path: str
    label: str
    value: str
    depth: int
    kind: str  # value | group | repeat | media
    personal: bool = False
    raw: str = ""
    technical: bool = False  # metadata and calculations (no question on screen)


def _parse(xml: bytes) -> Element:
    return fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)


def _lang_code(name: str) -> str:
    match = _LANG_CODE.search(name or "")
    return match.group(1) if match else (name or "default").lower()[:8]


@lru_cache(maxsize=32)
def controls(xform: bytes) -> tuple[dict[str, Control], str]:
    """Controls by path, and the default language code of the form."""
    root = _parse(xform)
    texts: dict[str, dict[str, str]] = {}
    default = "default"
    for tr in root.iter():
        if local_name(tr.tag) != "translation":
            continue
        code = _lang_code(tr.get("lang", ""))
        if tr.get("default"):
            default = code
        for text in tr:
            if local_name(text.tag) != "text":
                continue
            values = [v for v in text if local_name(v.tag) == "value"]
            plain = next((v for v in values if not v.get("form")), None)
            if plain is None and values:
                plain = values[0]
            if plain is not None:
                label = "".join(plain.itertext()).strip()
                texts.setdefault(text.get("id", ""), {})[code] = label
    instances = {
        el.get("id"): el
        for el in root.iter()
        if local_name(el.tag) == "instance" and el.get("id")
    }
    found: dict[str, Control] = {}
    body = next((el for el in root.iter() if local_name(el.tag) == "body"), None)
    if body is not None:
        _walk(body, texts, instances, found)
    for bind in root.iter():
        if local_name(bind.tag) != "bind":
            continue
        control = found.get(bind.get("nodeset") or "")
        readonly = (bind.get("readonly") or "").startswith("true")
        if (
            control
            and readonly
            and not bind.get("calculate")
            and control.kind == "input"
        ):
            control.note = True
    return found, default


def _label(el: Element, texts: dict[str, dict[str, str]]) -> dict[str, str]:
    label = next((c for c in el if local_name(c.tag) == "label"), None)
    if label is None:
        return {}
    match = _ITEXT.search(label.get("ref") or "")
    if match:
        return dict(texts.get(match.group(1), {}))
    text = "".join(label.itertext()).strip()
    return {"*": text} if text else {}


def _walk(
    parent: Element,
    texts: dict[str, dict[str, str]],
    instances: dict[str | None, Element],
    found: dict[str, Control],
) -> None:
    for el in parent:
        kind = local_name(el.tag)
        if kind not in {
            "group",
            "repeat",
            "input",
            "select1",
            "select",
            "upload",
            "trigger",
            "range",
            "odk:rank",
            "rank",
        }:
            continue
        ref = el.get("ref") or el.get("nodeset")
        if ref:
            control = found.get(ref) or Control(ref, kind)
            labels = _label(el, texts)
            if labels or ref not in found:
                control.labels = labels or control.labels
            control.mediatype = el.get("mediatype")
            if kind in {"select1", "select", "rank"}:
                control.choices = _choices(el, texts, instances)
            found[ref] = control
        if kind in {"group", "repeat"}:
            _walk(el, texts, instances, found)


def _choices(
    el: Element,
    texts: dict[str, dict[str, str]],
    instances: dict[str | None, Element],
) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for item in el:
        if local_name(item.tag) == "item":
            value = next((c for c in item if local_name(c.tag) == "value"), None)
            if value is not None and value.text:
                out[value.text.strip()] = _label(item, texts)
        elif local_name(item.tag) == "itemset":
            nodeset = item.get("nodeset") or ""
            match = re.search(r"instance\('([^']+)'\)", nodeset)
            source = instances.get(match.group(1)) if match else None
            if source is None:
                continue
            label_ref = next(
                (c.get("ref") or "" for c in item if local_name(c.tag) == "label"), ""
            )
            for node in source.iter():
                if local_name(node.tag) != "item":
                    continue
                kids = {local_name(c.tag): (c.text or "").strip() for c in node}
                name = kids.get("name")
                if not name:
                    continue
                if "itextId" in kids and "jr:itext" in label_ref:
                    out[name] = dict(texts.get(kids["itextId"], {}))
                elif kids.get("label"):
                    out[name] = {"*": kids["label"]}
    return out


def pick(labels: dict[str, str], lang: str, default: str) -> str:
    """The label in ``lang``, else the form's default language, else any."""
    for key in (lang, default, "*"):
        if labels.get(key):
            return labels[key]
    return next(iter(labels.values()), "")


def rows(
    xform: bytes,
    instance: bytes,
    lang: str,
    *,
    commune_names: t.Mapping[str, str] | None = None,
) -> list[Row]:
    """A submission as labelled rows in document order (meta fields left out)."""
    found, default = controls(xform)
    root = _parse(instance)
    out: list[Row] = []
    top = f"/{local_name(root.tag)}"
    _rows(root, top, 0, found, default, lang, commune_names or {}, out, False)
    return out


def _rows(
    node: Element,
    path: str,
    depth: int,
    found: dict[str, Control],
    default: str,
    lang: str,
    names: t.Mapping[str, str],
    out: list[Row],
    personal: bool,
) -> None:
    for child in node:
        name = local_name(child.tag)
        if name == "meta":
            continue
        child_path = f"{path}/{name}"
        control = found.get(child_path)
        is_personal = personal or (depth == 0 and name in RESTRICTED_GROUPS)
        label = pick(control.labels, lang, default) if control else ""
        label = label or name
        if len(child):
            kind = control.kind if control and control.kind == "repeat" else "group"
            out.append(Row(child_path, label, "", depth, kind, is_personal))
            _rows(
                child,
                child_path,
                depth + 1,
                found,
                default,
                lang,
                names,
                out,
                is_personal,
            )
            continue
        raw = (child.text or "").strip()
        if control is None:
            # calculates and metadata: shown with their name, if answered
            if raw:
                out.append(
                    Row(child_path, name, raw, depth, "value", is_personal, raw, True)
                )
            continue
        if control.note:
            continue
        if control.kind == "upload":
            out.append(Row(child_path, label, raw, depth, "media", is_personal, raw))
            continue
        value = raw
        if control.kind in {"select1", "select"} and raw:
            parts = raw.split() if control.kind == "select" else [raw]
            value = ", ".join(_choice(control, p, lang, default, names) for p in parts)
        out.append(Row(child_path, label, value, depth, "value", is_personal, raw))


def _choice(
    control: Control, value: str, lang: str, default: str, names: t.Mapping[str, str]
) -> str:
    labels = control.choices.get(value)
    if labels:
        return pick(labels, lang, default)
    if value in names:  # select_one_from_file communes.csv
        return f"{names[value]} ({value})"
    return value
