"""server.multipart: the same events as werkzeug's decoder, one pass into the blob store."""

from __future__ import annotations

import hashlib
import io
import random
import uuid

import pytest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import Epilogue, MultipartDecoder, NeedData

from server import multipart
from server.blobs import blob_path

BREAKS = [b"\r\n", b"\n", b"\r"]


def _body(rnd: random.Random, boundary: bytes) -> bytes:
    """A multipart body in one of the shapes clients send (and some they should not)."""
    brk = rnd.choice(BREAKS) if rnd.random() < 0.3 else b"\r\n"
    out = b"preamble" + brk if rnd.random() < 0.2 else b""
    for n in range(rnd.randint(0, 4)):
        out += b"--" + boundary + rnd.choice([b"", b" ", b"\t "]) + brk
        name = f"p{n}".encode()
        if rnd.random() < 0.5:
            out += b'Content-Disposition: form-data; name="' + name + b'"' + brk
        else:
            out += (
                b'Content-Disposition: form-data; name="'
                + name
                + b'"; filename="f.jpg"'
                + brk
                + b"Content-Type: image/jpeg"
                + brk
            )
        out += brk
        # Data that nearly contains the boundary, line breaks and dashes.
        pieces = [
            rnd.randbytes(rnd.randint(0, 300)),
            b"--" + boundary[: rnd.randint(0, len(boundary))],
            rnd.choice(BREAKS) + b"--",
            b"\r",
            b"-",
        ]
        rnd.shuffle(pieces)
        out += b"".join(pieces) + brk
    out += b"--" + boundary + b"--" + rnd.choice([b"", b"  ", b"\r\n", b"\n"])
    if rnd.random() < 0.2:
        out += b"epilogue"
    return out


def _events(decoder: MultipartDecoder, body: bytes, cuts: list[int]) -> list[object]:
    """Feed ``body`` cut at ``cuts``; the events, or the error, as comparable values."""
    events: list[object] = []
    edges = [0, *cuts, len(body)]
    try:
        for start, end in zip(edges, edges[1:], strict=False):
            decoder.receive_data(body[start:end])
            event = decoder.next_event()
            while not isinstance(event, NeedData):
                events.append(event)
                event = decoder.next_event()
        decoder.receive_data(None)
        event = decoder.next_event()
        while not isinstance(event, Epilogue | NeedData):
            events.append(event)
            event = decoder.next_event()
        events.append(event)
    except ValueError as err:
        events.append(("ValueError", str(err)))
    return events


@pytest.mark.parametrize("seed", range(300))
def test_decoder_matches_werkzeug(seed: int) -> None:
    rnd = random.Random(seed)
    boundary = rnd.choice([uuid.uuid4().hex, "----WebKitFormBoundary7MA4YWxk", "a"])
    body = _body(rnd, boundary.encode())
    cuts = sorted(
        rnd.sample(range(1, len(body)), min(len(body) - 1, rnd.randint(0, 6)))
    )
    expected = _events(MultipartDecoder(boundary.encode()), body, cuts)
    got = _events(multipart.Decoder(boundary.encode()), body, cuts)
    assert got == expected


def _post(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0uNd") -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def _read(body: bytes, tmp_path, **limits):  # type: ignore[no-untyped-def]
    limits.setdefault("max_xml_bytes", 100)
    return multipart.read(io.BytesIO(body), b"b0uNd", tmp_root=tmp_path, **limits)


def test_read_streams_files_to_temp_and_keeps_xml_in_memory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    photo = random.Random(1).randbytes(200_000)
    body = _post(
        [
            ("xml_submission_file", "submission.xml", b"<data id='f'/>"),
            ("photo.jpg", "photo.jpg", photo),
            ("note", None, b"a plain field is read and dropped"),
            ("extra.bin", "extra.bin", b"not expected"),
        ]
    )
    got = _read(body, tmp_path, max_xml_bytes=1000)
    assert got.xml == b"<data id='f'/>"
    assert [name for name, _part in got.parts] == ["photo.jpg", "extra.bin"]
    assert len(list((tmp_path / "tmp").iterdir())) == 2
    info = got.parts[0][1].keep()
    assert info.sha256 == hashlib.sha256(photo).hexdigest()
    assert info.md5 == hashlib.md5(photo).hexdigest()
    assert blob_path(info.sha256, tmp_path).read_bytes() == photo
    got.discard()  # the kept one stays; the other temp file goes
    assert list((tmp_path / "tmp").iterdir()) == []
    assert blob_path(info.sha256, tmp_path).read_bytes() == photo


def test_truncated_body_leaves_no_temp_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    body = _post(
        [
            ("xml_submission_file", "s.xml", b"<data/>"),
            ("a.jpg", "a.jpg", b"x" * 100_000),
        ]
    )
    with pytest.raises(ValueError):
        _read(body[:70_000], tmp_path)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_xml_is_bounded_and_plain_fields_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    body = _post([("xml_submission_file", "s.xml", b"<" * 5000)])
    got = _read(body, tmp_path)
    assert got.xml == b"<" * 101  # one more than allowed: the caller refuses it
    body = _post([("note", None, b"n" * 5000)])
    with pytest.raises(RequestEntityTooLarge):
        _read(body, tmp_path, max_field_bytes=1000)


def test_too_many_parts_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    body = _post([(f"f{n}", f"f{n}", b"x") for n in range(20)])
    with pytest.raises(RequestEntityTooLarge):
        _read(body, tmp_path, max_parts=5)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_sweep_removes_only_stale_temp_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A killed upload's temp file (it may hold a victim's photo) does not linger."""
    import os
    import time

    from server.blobs import STALE_TMP_SECONDS, sweep_tmp

    assert sweep_tmp(tmp_path) == 0  # no temp folder yet
    (tmp_path / "tmp").mkdir()
    old, fresh = tmp_path / "tmp" / "old", tmp_path / "tmp" / "fresh"
    old.write_bytes(b"photo")
    fresh.write_bytes(b"in flight")
    stale = time.time() - STALE_TMP_SECONDS - 60
    os.utime(old, (stale, stale))
    assert sweep_tmp(tmp_path) == 1
    assert not old.exists() and fresh.exists()


def test_parts_within_the_spool_budget_touch_the_disk_only_when_new(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A resent photo, or a part nobody expects, creates and deletes no file."""
    photo = random.Random(2).randbytes(150_000)
    body = _post(
        [
            ("xml_submission_file", "s.xml", b"<data/>"),
            ("photo.jpg", "photo.jpg", photo),
            ("extra.bin", "extra.bin", b"not expected"),
        ]
    )
    got = _read(body, tmp_path, spool_bytes=1_000_000)
    assert not (tmp_path / "tmp").exists()  # nothing written while reading
    info = got.parts[0][1].keep()
    got.discard()
    assert blob_path(info.sha256, tmp_path).read_bytes() == photo
    assert list((tmp_path / "tmp").iterdir()) == []
    stored = blob_path(info.sha256, tmp_path).stat()

    (tmp_path / "tmp").rmdir()
    again = _read(body, tmp_path, spool_bytes=1_000_000)
    assert again.parts[0][1].keep() == info
    again.discard()
    assert not (tmp_path / "tmp").exists()  # the resend wrote nothing at all
    assert blob_path(info.sha256, tmp_path).stat().st_mtime_ns == stored.st_mtime_ns


def test_the_spool_budget_is_shared_by_the_parts_of_one_request(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rnd = random.Random(3)
    first, second, third = (rnd.randbytes(n) for n in (120_000, 120_000, 50_000))
    body = _post(
        [
            ("xml_submission_file", "s.xml", b"<data/>"),
            ("a.jpg", "a.jpg", first),  # fits: stays in memory
            ("b.jpg", "b.jpg", second),  # would pass the budget: rolls over mid-part
            ("c.jpg", "c.jpg", third),  # fits what is left: in memory
        ]
    )
    got = _read(body, tmp_path, spool_bytes=200_000)
    assert len(list((tmp_path / "tmp").iterdir())) == 1
    assert [part.writer.memory_bytes for _name, part in got.parts] == [120_000, 0, 50_000]
    infos = [part.keep() for _name, part in got.parts]
    got.discard()
    for info, data in zip(infos, (first, second, third), strict=True):
        assert blob_path(info.sha256, tmp_path).read_bytes() == data
        assert info.md5 == hashlib.md5(data).hexdigest() and info.size == len(data)
    assert list((tmp_path / "tmp").iterdir()) == []
