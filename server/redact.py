"""Restricted personal data out of submission XML, for callers without ``pii.read``.

Pure code (no Flask, no database). The restricted groups are the instance's top-level
groups named in ``server.exports.RESTRICTED_GROUPS`` (``pii``, ``link``); callers pass
that set in. ``redact`` rewrites only those groups: every element in them stays, with
no text, comment or attribute (namespace declarations excepted), so a client parses
the result as before; every other byte of the document is kept as stored.

Stored XML passed defusedxml at ingest. It is read here with expat directly because the
rewrite needs byte offsets, which ElementTree does not give; DTDs and entity
declarations are refused as defusedxml refuses them (``forbid_dtd``,
``forbid_entities``, ``forbid_external``).
"""

from __future__ import annotations

import typing as t
from collections.abc import Collection
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

__all__ = ["RedactionError", "redact", "restricted_path"]


class RedactionError(ValueError):
    """The stored XML could not be read for redaction (never served unredacted)."""


def restricted_path(path: str, groups: Collection[str]) -> bool:
    """Whether an XForm path such as ``/data/pii/photo`` lies in a restricted group."""
    names = [_local(part) for part in path.split("/") if part]
    return len(names) >= 2 and names[1] in groups


def redact(xml: bytes, groups: Collection[str]) -> bytes:
    """``xml`` with every top-level group named in ``groups`` emptied.

    :raises RedactionError: the bytes are not well-formed XML, or carry a DTD or an
        entity declaration.
    """
    rewrite = _Rewrite(xml, frozenset(groups))
    parser = expat.ParserCreate()
    parser.ordered_attributes = True
    parser.StartElementHandler = rewrite.start
    parser.EndElementHandler = rewrite.end
    parser.XmlDeclHandler = rewrite.declaration
    parser.StartDoctypeDeclHandler = _forbidden
    parser.EntityDeclHandler = _forbidden
    parser.UnparsedEntityDeclHandler = _forbidden
    parser.ExternalEntityRefHandler = _forbidden
    rewrite.parser = parser
    try:
        parser.Parse(xml, True)
    except expat.ExpatError as err:
        raise RedactionError(f"unreadable XML: {err}") from err
    return rewrite.result()


def _forbidden(*_args: t.Any) -> t.NoReturn:
    raise RedactionError("DTDs and entities are not allowed in submissions")


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _tag_end(xml: bytes, at: int) -> int:
    """The offset just past the tag starting at ``at`` (``>`` inside quotes skipped)."""
    quote = 0
    for i in range(at, len(xml)):
        c = xml[i]
        if quote:
            if c == quote:
                quote = 0
        elif c in (0x22, 0x27):  # " '
            quote = c
        elif c == 0x3E:  # >
            return i + 1
    raise RedactionError("unterminated tag")


class _Rewrite:
    """Expat handlers collecting each restricted group's span and its replacement."""

    def __init__(self, xml: bytes, groups: frozenset[str]) -> None:
        self.xml, self.groups = xml, groups
        self.parser: t.Any = None
        self.encoding = "utf-8"
        self.depth = 0
        self.spans: list[tuple[int, int, str]] = []
        # inside a restricted group: [name, has_children, self_closing, tag_end]
        self.open: list[list[t.Any]] = []
        self.pieces: list[str] = []
        self.start_at = 0

    def declaration(self, _version: t.Any, encoding: str | None, _sa: t.Any) -> None:
        if encoding:
            self.encoding = encoding

    def start(self, name: str, attributes: list[str]) -> None:
        self.depth += 1
        inside = bool(self.open)
        if not inside and not (self.depth == 2 and _local(name) in self.groups):
            return
        at = self.parser.CurrentByteIndex
        end = _tag_end(self.xml, at)
        if not inside:
            self.start_at, self.pieces = at, []
        elif not self.open[-1][1]:
            self.open[-1][1] = True
            self.pieces.append(">")
        kept = "".join(
            f" {key}={quoteattr(value)}"
            for key, value in zip(attributes[::2], attributes[1::2], strict=True)
            if key == "xmlns" or key.startswith("xmlns:")
        )
        self.pieces.append(f"<{name}{kept}")
        self.open.append([name, False, self.xml[end - 2 : end] == b"/>", end])

    def end(self, _name: str) -> None:
        self.depth -= 1
        if not self.open:
            return
        name, has_children, self_closing, tag_end = self.open.pop()
        self.pieces.append(f"</{name}>" if has_children else "/>")
        if self.open:
            return
        if self_closing:
            stop = tag_end
        else:
            stop = self.xml.index(b">", self.parser.CurrentByteIndex) + 1
        self.spans.append((self.start_at, stop, "".join(self.pieces)))

    def result(self) -> bytes:
        out, last = [], 0
        for start, stop, replacement in self.spans:
            out += [self.xml[last:start], replacement.encode(self.encoding)]
            last = stop
        out.append(self.xml[last:])
        return b"".join(out)
