"""What an XForm declares about entities, and the entity block of a submission.

Pure parsing (no database): ``read_spec`` reads a form version once at publish,
``read_block`` reads each submission with that spec (reference section 8; xforms-spec
``entities.html``). Elements are matched by local name, as clients vary in namespaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from server import problem
from sync.envelope import local_name

ENTITIES_NS = "http://www.opendatakit.org/xforms/entities"
SAVETO = f"{{{ENTITIES_NS}}}saveto"
ACTIONS = ("create", "update")
# Central's validatePropertyName: an XML name, not name/label, not starting with __.
_PROPERTY = re.compile(r"^(?!__)[^\W\d][\w.-]*$")
_RESERVED = {"name", "label"}
UUID_RE = re.compile(
    r"^(uuid:)?([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class EntitySpec:
    """A form version's entity declaration: the dataset, actions and property fields."""

    dataset: str
    actions: tuple[str, ...]
    entity_path: str  # e.g. /data/meta/entity
    has_label: bool
    properties: dict[str, str] = field(default_factory=dict)  # property -> path


@dataclass(frozen=True, slots=True)
class EntityBlock:
    """The ``meta/entity`` element of one submission and the properties it carries."""

    dataset: str | None
    id: str | None
    create: str | None
    update: str | None
    base_version: str | None
    trunk_version: str | None
    branch_id: str | None
    label: str | None  # None: the form has no label element or it was left out
    data: dict[str, str] = field(default_factory=dict)

    def wants(self, action: str) -> bool:
        """Only "1" and "true" trigger an action (Central)."""
        value = self.create if action == "create" else self.update
        return value in ("1", "true")


def is_valid_property_name(name: str) -> bool:
    """Whether ``name`` can be an entity property (and an XML element in the CSV)."""
    return bool(_PROPERTY.match(name)) and name.lower() not in _RESERVED


def _paths(el: Element, prefix: str) -> Iterator[tuple[str, Element]]:
    path = f"{prefix}/{local_name(el.tag)}"
    yield path, el
    for child in el:
        yield from _paths(child, path)


def read_spec(xml: bytes) -> EntitySpec | None:
    """The entity declaration of an XForm, or None when it declares none.

    :raises problem.Problem: 400.25 for declarations this server cannot honour.
    """
    if ENTITIES_NS.encode() not in xml:
        return None
    try:
        root = fromstring(
            xml, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except (DefusedXmlException, ParseError, ValueError) as err:
        raise problem.unparseable("xml", "The XForm is not well-formed.") from err
    model = next((e for e in root.iter() if local_name(e.tag) == "model"), None)
    if model is None:
        return None
    instance = next(
        (c for c in model if local_name(c.tag) == "instance" and not c.get("id")), None
    )
    data = next(iter(instance), None) if instance is not None else None
    if data is None:
        return None
    entities = [
        (path, el)
        for path, el in _paths(data, "")
        if local_name(el.tag) == "entity" and el.get("dataset") is not None
    ]
    if not entities:
        return None
    if len(entities) > 1 or not entities[0][0].endswith("/meta/entity"):
        raise problem.invalid_entity_form(
            "Only one entity per form, in the meta group, is supported."
        )
    path, entity = entities[0]
    dataset = (entity.get("dataset") or "").strip()
    if not dataset or not is_valid_property_name(dataset.replace(".", "_")):
        raise problem.invalid_entity_form("Invalid dataset name.")
    actions = tuple(a for a in ACTIONS if entity.get(a) is not None)
    properties: dict[str, str] = {}
    for bind in model:
        if local_name(bind.tag) != "bind" or bind.get(SAVETO) is None:
            continue
        name = bind.get(SAVETO, "").strip()
        if not is_valid_property_name(name):
            raise problem.invalid_entity_form("Invalid entity property name.")
        if name.lower() in {p.lower() for p in properties}:
            raise problem.invalid_entity_form(
                "Multiple Form Fields cannot be saved to a single property."
            )
        properties[name] = bind.get("nodeset", "")
    has_label = any(local_name(c.tag) == "label" for c in entity)
    return EntitySpec(dataset, actions, path, has_label, properties)


def _find(root: Element, path: str) -> Element | None:
    """The first element at an XForm path (its first segment is the instance root)."""
    node: Element | None = root
    for name in [p for p in path.split("/") if p][1:]:
        node = next((c for c in node if local_name(c.tag) == name), None)
        if node is None:
            return None
    return node


def read_block(root: Element, spec: EntitySpec) -> EntityBlock | None:
    """The entity block of a submission tree, or None when the element is absent.

    Properties whose field is absent (not relevant, so Collect left it out) are not in
    ``data``: they are not changed. A present but empty field sets the value to "".
    """
    entity = _find(root, spec.entity_path)
    if entity is None:
        return None
    label_el = next((c for c in entity if local_name(c.tag) == "label"), None)
    data = {}
    for name, path in spec.properties.items():
        el = _find(root, path)
        if el is not None:
            data[name] = "".join(el.itertext())
    return EntityBlock(
        dataset=entity.get("dataset"),
        id=entity.get("id"),
        create=entity.get("create"),
        update=entity.get("update"),
        base_version=entity.get("baseVersion"),
        trunk_version=entity.get("trunkVersion"),
        branch_id=entity.get("branchId"),
        label=None if label_el is None else "".join(label_el.itertext()),
        data=data,
    )


def normalize_uuid(value: str | None, field_name: str = "uuid") -> str:
    """A version 4 UUID in lower case, without ``uuid:`` (400.2 / 400.11 otherwise)."""
    if value is None or not value.strip():
        raise problem.missing_parameter(field_name)
    match = UUID_RE.match(value.strip())
    if match is None:
        raise problem.invalid_data_type(field_name, "valid version 4 UUID")
    return match.group(2).lower()


def parse_version(value: str | None, field_name: str, *, required: bool) -> int | None:
    """A version number attribute: blank is None (or 400.2 when required)."""
    if value is None or not value.strip():
        if required:
            raise problem.missing_parameter(field_name)
        return None
    if not value.strip().isdigit():
        raise problem.invalid_data_type(field_name, "integer")
    return int(value.strip())
