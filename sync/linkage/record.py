"""What the engine compares: one submission as a flat mapping of field values."""

from __future__ import annotations

import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from sync.envelope import field_values, local_name
from sync.linkage.comparators import MISSING
from sync.linkage.errors import FormMismatchError

if t.TYPE_CHECKING:
    from sync.linkage.rules import RuleSet

__all__ = ["Prepared", "Record", "prepare", "record_from_xml"]


@dataclass(frozen=True, slots=True)
class Record:
    """One submission: its id, its form and its answers keyed by field name."""

    record_id: str
    form_id: str
    fields: Mapping[str, t.Any]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A record parsed once for scoring: one value per comparison (None: missing)."""

    record_id: str
    values: tuple[t.Any, ...]


def record_from_xml(
    root: Element,
    form_id: str,
    field_paths: Mapping[str, str],
    *,
    record_id: str | None = None,
) -> Record:
    """Build a :class:`Record` from a parsed instance (``Envelope.root``).

    ``field_paths`` maps field names to XForm paths (``RuleSet.field_paths``). A
    repeated field gives a list; a blank one is left out. ``record_id`` defaults to
    the instance's ``meta/instanceID``.
    """
    fields: dict[str, t.Any] = {}
    for name, path in field_paths.items():
        values = field_values(root, path)
        if values:
            fields[name] = values[0] if len(values) == 1 else values
    if record_id is None:
        record_id = next(
            (
                (el.text or "").strip()
                for el in root.iter()
                if local_name(el.tag) == "instanceID" and (el.text or "").strip()
            ),
            "",
        )
    return Record(record_id=record_id, form_id=form_id, fields=fields)


def prepare(record: Record | Prepared, rules: RuleSet) -> Prepared:
    """Parse ``record`` for ``rules`` (consent gate applied); idempotent."""
    if isinstance(record, Prepared):
        return record
    if record.form_id != rules.form_id:
        raise FormMismatchError(
            record_id=record.record_id, form_id=record.form_id, expected=rules.form_id
        )
    fields = rules.visible(record.fields)
    values = []
    for comparison in rules.comparisons:
        raw = tuple(fields.get(name) for name in comparison.fields)
        values.append(comparison.comparator.prepare(raw))
    return Prepared(record_id=record.record_id, values=tuple(values))


def levels(a: Prepared, b: Prepared, rules: RuleSet) -> tuple[str, ...]:
    """The agreement level of every comparison (``missing`` when a side is blank)."""
    out = []
    for comparison, x, y in zip(rules.comparisons, a.values, b.values, strict=True):
        out.append(
            MISSING if x is None or y is None else comparison.comparator.level(x, y)
        )
    return tuple(out)
