"""The multipart body of an OpenRosa POST, read in one streaming pass.

Werkzeug's form parser costs more than it should on this path. It compiles two regular
expressions for every new boundary (about 0.35 ms; ODK Collect's OkHttp sends a fresh
UUID boundary with every request, so Python's regex cache never hits). It keeps every
file part in a ``SpooledTemporaryFile``, which ingest then reads again to hash and copy
into the blob store. This reader drives werkzeug's own sans-IO ``MultipartDecoder``
(so the grammar, the limits and the quirks it tolerates stay werkzeug's), finds the
boundary with ``bytes.find`` instead, keeps ``xml_submission_file`` in memory (bounded)
and hashes every other file part as it streams in, holding it in memory while the
request's parts fit ``spool_bytes`` and in a temp file in the blob store beyond. An
expected attachment then becomes a blob (:meth:`SpooledPart.keep`: written only if the
blob is new, then renamed into place); anything else is dropped
(:meth:`Received.discard`).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import (
    Data,
    Epilogue,
    Field,
    File,
    MultipartDecoder,
    NeedData,
    State,
)

from server import blobs

XML_FIELD = "xml_submission_file"
CHUNK = 1 << 16
_HSPACE = b" \t\x0b\x0c"  # the regex's [^\S\n\r]: horizontal whitespace


class _Match:
    """The part of ``re.Match`` that ``MultipartDecoder`` reads."""

    __slots__ = ("_start", "_end", "_suffix")

    def __init__(self, start: int, end: int, suffix: bytes) -> None:
        self._start, self._end, self._suffix = start, end, suffix

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def group(self, index: int) -> bytes:
        assert index == 1
        return self._suffix


class _BoundaryFinder:
    """``re.search`` of werkzeug's boundary patterns, by ``bytes.find``.

    The patterns are ``LB--boundary(--HS*LB?|HS*LB)`` (``LB?`` in front for the
    preamble), where ``LB`` is CRLF, LF or CR and ``HS`` horizontal whitespace; this
    returns the same leftmost match without compiling a pattern per boundary.
    """

    __slots__ = ("marker", "prefix_optional")

    def __init__(self, boundary: bytes, *, prefix_optional: bool) -> None:
        self.marker = b"--" + boundary
        self.prefix_optional = prefix_optional

    def search(self, buf: bytes | bytearray, pos: int = 0) -> _Match | None:
        marker = self.marker
        at = buf.find(marker, pos)
        while at != -1:
            start = self._start(buf, at, pos)
            if start is not None:
                after = at + len(marker)
                end = _suffix_end(buf, after)
                if end is not None:
                    return _Match(start, end, bytes(buf[after:end]))
            at = buf.find(marker, at + 1)
        return None

    def _start(self, buf: bytes | bytearray, at: int, pos: int) -> int | None:
        if at - 2 >= pos and buf[at - 2 : at] == b"\r\n":
            return at - 2
        if at - 1 >= pos and buf[at - 1] in b"\r\n":
            return at - 1
        return at if self.prefix_optional else None


def _line_break(buf: bytes | bytearray, at: int) -> int:
    """Length of the line break at ``at``: CRLF 2, LF or CR 1, none 0."""
    if buf[at : at + 2] == b"\r\n":
        return 2
    return 1 if at < len(buf) and buf[at] in b"\r\n" else 0


def _suffix_end(buf: bytes | bytearray, at: int) -> int | None:
    """End of ``--HS*LB?`` (the closing boundary) or ``HS*LB`` after the marker."""
    closing = buf[at : at + 2] == b"--"
    end = at + 2 if closing else at
    while end < len(buf) and buf[end] in _HSPACE:
        end += 1
    brk = _line_break(buf, end)
    if brk == 0 and not closing:
        return None
    return end + brk


class Decoder(MultipartDecoder):
    """werkzeug's decoder with the boundary found by ``bytes.find`` (no regex compile)."""

    def __init__(
        self,
        boundary: bytes,
        max_form_memory_size: int | None = None,
        *,
        max_parts: int | None = None,
    ) -> None:
        # Not super().__init__(): it compiles the two patterns this class replaces.
        self.buffer = bytearray()
        self.complete = False
        self.max_form_memory_size = max_form_memory_size
        self.max_parts = max_parts
        self.state = State.PREAMBLE
        self.boundary = boundary
        self.preamble_re = _BoundaryFinder(boundary, prefix_optional=True)  # type: ignore[assignment]
        self.boundary_re = _BoundaryFinder(boundary, prefix_optional=False)  # type: ignore[assignment]
        self._search_position = 0
        self._parts_decoded = 0


@dataclass(slots=True)
class SpooledPart:
    """A file part received whole and hashed, in memory or in an unsynced temp file."""

    filename: str | None
    content_type: str | None
    writer: blobs.TempBlob

    def keep(self) -> blobs.BlobInfo:
        """Make it a blob (write if new, fsync, rename into place); idempotent by hash."""
        return self.writer.keep()

    def discard(self) -> None:
        self.writer.discard()


@dataclass(slots=True)
class Received:
    """The instance XML (``None`` if the part was missing) and the other file parts."""

    xml: bytes | None = None
    parts: list[tuple[str, SpooledPart]] = field(default_factory=list)

    def discard(self) -> None:
        """Delete the temp files of every part not kept."""
        for _name, part in self.parts:
            part.discard()


def read(
    stream: t.BinaryIO,
    boundary: bytes,
    *,
    tmp_root: Path,
    max_xml_bytes: int,
    max_parts: int | None = 1000,
    max_field_bytes: int | None = 500_000,
    spool_bytes: int = 0,
) -> Received:
    """Decode the whole body; raises ``ValueError`` on a malformed or truncated body.

    ``xml_submission_file`` is kept to ``max_xml_bytes + 1`` bytes (the caller refuses
    longer ones); non-file fields are read and dropped, bounded by ``max_field_bytes``.
    File parts stay in memory while all of them together fit ``spool_bytes``; a part
    that would not fit goes to a temp file. On any error every temp file already
    written is deleted.
    """
    decoder = Decoder(boundary, max_field_bytes, max_parts=max_parts)
    received = Received()
    try:
        _decode(
            decoder,
            stream,
            received,
            tmp_root,
            max_xml_bytes,
            max_field_bytes,
            spool_bytes,
        )
    except BaseException:
        received.discard()
        raise
    return received


def _decode(
    decoder: Decoder,
    stream: t.BinaryIO,
    received: Received,
    tmp_root: Path,
    max_xml_bytes: int,
    max_field_bytes: int | None,
    spool_bytes: int,
) -> None:
    xml: list[bytes] | None = None  # chunks of the XML part while it is being read
    xml_size = 0
    sink: blobs.TempBlob | None = None  # the file part being streamed to disk
    field_size: int | None = None  # bytes of a plain (non-file) field, to bound it
    done = False
    while not done:
        chunk = stream.read(CHUNK)
        decoder.receive_data(chunk or None)
        event = decoder.next_event()
        while not isinstance(event, NeedData | Epilogue):
            if isinstance(event, File | Field):
                if sink is not None:  # the part before is whole: charge its memory
                    spool_bytes -= sink.memory_bytes
                xml = sink = field_size = None
                if event.name == XML_FIELD and received.xml is None:
                    xml, xml_size = [], 0
                elif isinstance(event, File):
                    sink = blobs.TempBlob(tmp_root, spool=spool_bytes)
                    ctype = event.headers.get("content-type")
                    received.parts.append(
                        (event.name, SpooledPart(event.filename, ctype, sink))
                    )
                else:
                    field_size = 0
            elif isinstance(event, Data):
                if xml is not None:
                    if xml_size <= max_xml_bytes:
                        xml.append(event.data[: max_xml_bytes + 1 - xml_size])
                        xml_size += len(xml[-1])
                    if not event.more_data:
                        received.xml, xml = b"".join(xml), None
                elif sink is not None:
                    sink.write(event.data)
                elif field_size is not None and max_field_bytes is not None:
                    field_size += len(event.data)
                    if field_size > max_field_bytes:
                        raise RequestEntityTooLarge()
            event = decoder.next_event()
        done = isinstance(event, Epilogue) or not chunk
    if decoder.state is not State.EPILOGUE and decoder.state is not State.COMPLETE:
        raise ValueError("the body ended inside a part")
