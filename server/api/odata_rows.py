"""OData rows from submission XML, shaped by the form schema (Central's data/odata).

Pure code (no Flask, no database): ``form_schema`` reads an XForm's primary instance and
binds once; ``to_row`` walks one submission against it. Every schema field is present
(null when the submission lacks it, gh#206 in Central); groups become nested objects;
``int``/``decimal`` become numbers; geo types become GeoJSON (or WKT); everything else
is the element's text.
"""

from __future__ import annotations

import hashlib
import math
import re
import typing as t
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring

from sync import local_name

_JR_TEMPLATE = "{http://openrosa.org/javarosa}template"
_INT = re.compile(r"\s*([+-]?\d+)")
_IDENT = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True, slots=True)
class Field:
    """One node of the form schema: a value, a group or a repeat."""

    name: str
    kind: str  # "value" | "group" | "repeat"
    type: str = "string"
    children: tuple[Field, ...] = field(default=())

    @property
    def key(self) -> str:
        """The OData identifier for the field name."""
        return sanitize(self.name)


def sanitize(name: str) -> str:
    """Central's sanitizeOdataIdentifier: word characters only, no leading digit."""
    out = _IDENT.sub("_", name)
    return f"_{out}" if out[:1].isdigit() else out


def _parse(xml: bytes) -> Element:
    return fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)


@lru_cache(maxsize=64)
def form_schema(xml: bytes) -> tuple[Field, ...]:
    """The fields of an XForm's primary instance, typed by its binds."""
    root = _parse(xml)
    model = next(el for el in root.iter() if local_name(el.tag) == "model")
    instance = next(
        c for c in model if local_name(c.tag) == "instance" and not c.get("id")
    )
    data = next(iter(instance))
    binds = {
        el.get("nodeset", ""): (el.get("type") or "string").rsplit(":", 1)[-1]
        for el in model
        if local_name(el.tag) == "bind"
    }
    repeats = {
        el.get("nodeset") for el in root.iter() if local_name(el.tag) == "repeat"
    }

    def build(parent: Element, path: str) -> tuple[Field, ...]:
        fields: list[Field] = []
        seen: set[str] = set()
        for child in parent:
            name = local_name(child.tag)
            if not name or name in seen:
                continue
            seen.add(name)
            child_path = f"{path}/{name}"
            if child_path in repeats or child.get(_JR_TEMPLATE) is not None:
                fields.append(Field(name, "repeat", "", build(child, child_path)))
            elif len(child):
                fields.append(Field(name, "group", "", build(child, child_path)))
            else:
                fields.append(Field(name, "value", binds.get(child_path, "string")))
        return tuple(fields)

    return build(data, f"/{local_name(data.tag)}")


def repeat_names(schema: tuple[Field, ...], prefix: str = "Submissions") -> list[str]:
    """Repeat table names (``Submissions.household.member``) for the service doc."""
    names: list[str] = []
    for f in schema:
        if f.kind == "repeat":
            names.append(f"{prefix}.{f.key}")
        if f.kind in ("repeat", "group"):
            names += repeat_names(
                f.children, f"{prefix}.{f.key}" if f.kind == "repeat" else prefix
            )
    return names


def is_encrypted(root: Element) -> bool:
    """An encrypted envelope carries base64EncryptedKey at its root."""
    return any(local_name(c.tag) == "base64EncryptedKey" for c in root)


def parse_instance(xml: bytes) -> Element:
    """Parse stored submission XML (already bounded when it was ingested)."""
    return _parse(xml)


def to_row(
    schema: tuple[Field, ...],
    root: Element,
    instance_id: str,
    *,
    expand: bool = False,
    wkt: bool = False,
) -> dict[str, t.Any]:
    """The data part of one OData row (``__id`` and ``__system`` are the caller's)."""
    row: dict[str, t.Any] = {}
    _fill(schema, root, row, _Context(instance_id, expand, wkt), [])
    return row


@dataclass(slots=True)
class _Context:
    instance_id: str
    expand: bool
    wkt: bool


def _frame(fields: tuple[Field, ...]) -> dict[str, t.Any]:
    out: dict[str, t.Any] = {}
    for f in fields:
        if f.kind == "value":
            out[f.key] = None
        elif f.kind == "group":
            out[f.key] = _frame(f.children)
    return out


def _fill(
    fields: tuple[Field, ...],
    element: Element,
    out: dict[str, t.Any],
    ctx: _Context,
    trail: list[tuple[str, int]],
) -> None:
    nodes: dict[str, list[Element]] = {}
    for child in element:
        nodes.setdefault(local_name(child.tag), []).append(child)
    for f in fields:
        found = nodes.get(f.name, [])
        if f.kind == "group":
            obj = _frame(f.children)
            if found:
                _fill(f.children, found[0], obj, ctx, trail)
            out[f.key] = obj
        elif f.kind == "repeat":
            if not found:
                continue
            link = [f"Submissions('{quote(ctx.instance_id, safe='')}')"]
            link += [
                f"{name}('{_hash(ctx.instance_id, trail[: i + 1])}')"
                for i, (name, _n) in enumerate(trail)
            ]
            out[f"{f.key}@odata.navigationLink"] = "/".join([*link, f.key])
            if ctx.expand:
                bags = []
                for index, node in enumerate(found):
                    here = [*trail, (f.key, index)]
                    bag = _frame(f.children)
                    bag["__id"] = _hash(ctx.instance_id, here)
                    _fill(f.children, node, bag, ctx, here)
                    bags.append(bag)
                out[f.key] = bags
        else:
            out[f.key] = value(f.type, found[0].text if found else None, wkt=ctx.wkt)


def _hash(instance_id: str, trail: list[tuple[str, int]]) -> str:
    """A stable id for a repeat instance (sha1 of its path, as Central does)."""
    parts = [f"Submissions#{instance_id}", *(f"{name}#{i}" for name, i in trail)]
    return hashlib.sha1("%%".join(parts).encode(), usedforsecurity=False).hexdigest()


def _float(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def _point(text: str) -> tuple[list[float], float | None] | None:
    parts = [_float(p) for p in text.split()]
    if len(parts) < 2 or parts[0] is None or parts[1] is None:
        return None
    coordinates = [parts[1], parts[0]]  # GeoJSON is lon, lat
    if len(parts) > 2 and parts[2] is not None:
        coordinates.append(parts[2])
    return coordinates, parts[3] if len(parts) > 3 else None


def value(kind: str, text: str | None, *, wkt: bool = False) -> t.Any:
    """One field's OData value from its XML text."""
    if text is None or text == "":
        return None
    if kind == "int":
        match = _INT.match(text)
        return int(match.group(1)) if match else None
    if kind == "decimal":
        return _float(text.strip())
    if kind == "geopoint":
        point = _point(text)
        if point is None:
            return None
        coordinates, accuracy = point
        if wkt:
            return f"POINT ({' '.join(_num(c) for c in coordinates)})"
        geo: dict[str, t.Any] = {"type": "Point", "coordinates": coordinates}
        if accuracy is not None:
            geo["properties"] = {"accuracy": accuracy}
        return geo
    if kind in ("geotrace", "geoshape"):
        points = [p for p in (_point(s) for s in re.split(r"; ?", text.strip())) if p]
        if not points:
            return None
        coords = [c for c, _acc in points]
        if wkt:
            joined = ",".join(" ".join(_num(x) for x in c) for c in coords)
            return (
                f"LINESTRING ({joined})"
                if kind == "geotrace"
                else f"POLYGON (({joined}))"
            )
        geo = (
            {"type": "LineString", "coordinates": coords}
            if kind == "geotrace"
            else {"type": "Polygon", "coordinates": [coords]}
        )
        accuracies = [acc for _c, acc in points]
        if any(a is not None for a in accuracies):
            geo["properties"] = {"accuracies": accuracies}
        return geo
    return text


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else repr(x)
