"""Read what a submission says about itself, from hostile bytes, safely."""

from __future__ import annotations

import hashlib
import typing as t
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from sync.errors import MalformedSubmissionError, MissingFormIdError

__all__ = ["Envelope", "parse_submission", "field_values", "local_name"]

MAX_INSTANCE_ID_LENGTH = 249


@dataclass(frozen=True, slots=True)
class Envelope:
    """The identity of one submission version, plus its parsed tree."""

    form_id: str
    version: str
    instance_id: str
    deprecated_id: str | None
    instance_name: str | None
    encrypted: bool
    sha256: str
    generated_instance_id: bool = False
    root: Element = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    def encrypted_files(self) -> list[str]:
        """Names of the encrypted parts an encrypted envelope announces (media, then XML)."""
        if not self.encrypted:
            return []
        names = [
            (el.text or "").strip()
            for el in self.root.iter()
            if local_name(el.tag) == "file" and el.text
        ]
        names += [
            (el.text or "").strip()
            for el in self.root
            if local_name(el.tag) == "encryptedXmlFile" and el.text
        ]
        return [name for name in names if name]


def local_name(tag: str | t.Any) -> str:
    """Tag without its ``{namespace}``; OpenRosa clients vary in namespaces."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _child(parent: Element, name: str) -> Element | None:
    for child in parent:
        if local_name(child.tag) == name:
            return child
    return None


def _text(parent: Element | None, name: str) -> str | None:
    if parent is None:
        return None
    child = _child(parent, name)
    if child is None or child.text is None:
        return None
    value = child.text.strip()
    return value or None


def _check_depth(root: Element, max_depth: int) -> None:
    stack: list[tuple[Element, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise MalformedSubmissionError(reason=f"nesting deeper than {max_depth}")
        stack.extend((child, depth + 1) for child in node)


def parse_submission(
    xml: bytes, *, max_bytes: int = 10_000_000, max_depth: int = 64
) -> Envelope:
    """Parse instance XML without DTDs, entities or external fetches.

    :raises MalformedSubmissionError: empty, oversized, hostile or unparseable XML.
    :raises MissingFormIdError: the root has no ``id`` attribute.
    """
    if not xml or not xml.strip():
        raise MalformedSubmissionError(reason="the XML is empty")
    if len(xml) > max_bytes:
        raise MalformedSubmissionError(
            reason=f"the XML is larger than {max_bytes} bytes"
        )
    try:
        root = fromstring(
            xml, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as err:
        raise MalformedSubmissionError(
            reason="DTDs and entities are not allowed"
        ) from err
    except (ParseError, ValueError) as err:
        raise MalformedSubmissionError(reason="it is not well-formed XML") from err
    _check_depth(root, max_depth)
    form_id = (root.get("id") or "").strip()
    if not form_id:
        raise MissingFormIdError()
    meta = _child(root, "meta")
    instance_id = _text(meta, "instanceID") or _text(root, "instanceID")
    generated = False
    if instance_id is None:
        instance_id = f"uuid:{uuid.uuid4()}"
        generated = True
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise MalformedSubmissionError(reason="the instanceID is too long")
    encrypted = root.get("encrypted", "").lower() in {"yes", "true"} or (
        _child(root, "base64EncryptedKey") is not None
    )
    return Envelope(
        form_id=form_id,
        version=(root.get("version") or "").strip(),
        instance_id=instance_id,
        deprecated_id=_text(meta, "deprecatedID"),
        instance_name=_text(meta, "instanceName"),
        encrypted=encrypted,
        sha256=hashlib.sha256(xml).hexdigest(),
        generated_instance_id=generated,
        root=root,
    )


def _walk(nodes: Iterable[Element], names: list[str]) -> Iterator[Element]:
    if not names:
        yield from nodes
        return
    head, rest = names[0], names[1:]
    for node in nodes:
        yield from _walk((c for c in node if local_name(c.tag) == head), rest)


def field_values(root: Element, path: str) -> list[str]:
    """Non-empty text values at an XForm path like ``/data/group/photo`` (repeats: many)."""
    names = [part for part in path.split("/") if part]
    if not names:
        return []
    values = []
    for node in _walk([root], names[1:]):
        if node.text and node.text.strip():
            values.append(node.text.strip())
    return values
