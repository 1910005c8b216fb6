"""Content-addressed blob files: streamed in through a temp file, renamed when whole."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from server.db import db
from server.models import Blob

CHUNK = 1 << 16
# A request's temp file lives as long as the request (the server's timeout is 300 s):
# an older one was left by a killed process or a power cut.
STALE_TMP_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """Hashes and size of a stored blob."""

    sha256: str
    md5: str
    size: int


def data_dir() -> Path:
    """The configured blob directory."""
    return Path(current_app.config["OUTREACH_DATA_DIR"])


def blob_path(sha256: str, root: Path | None = None) -> Path:
    """Where the blob with this hash lives (two-level fan-out)."""
    root = root or data_dir()
    return root / sha256[:2] / sha256[2:4] / sha256


class TempBlob:
    """A blob being received, hashed as it is written: in memory up to a budget, then
    in a temp file under ``<root>/tmp``.

    :meth:`keep` makes it durable and renames it into place (a whole file or nothing);
    :meth:`discard` drops it. Either may be called more than once.

    A part that fits the ``spool`` budget touches the disk only if its blob is new: an
    exact resend (Collect's retry), or a part the form does not expect, creates and
    deletes no file. That matters for speed, not only for IO: on ext4, every file
    created while many inodes were freed in the last minutes walks past those inodes
    (``recently_deleted``), which made each create 10 to 40 times dearer here. And a
    victim's photo sent to the wrong form never lands on disk.
    """

    def __init__(self, root: Path, spool: int = 0) -> None:
        self.root = root
        self._spool = spool  # bytes this blob may still hold in memory
        self._chunks: list[bytes] | None = []  # None once rolled over to a file
        self._fd = -1
        self._tmp_name: str | None = None
        self._sha, self._md5, self._size = hashlib.sha256(), hashlib.md5(), 0
        self._info: BlobInfo | None = None
        self._closed = False
        if spool <= 0:
            self._roll_over()

    @property
    def memory_bytes(self) -> int:
        """Bytes it holds in memory (0 once it has rolled over to a file)."""
        return self._size if self._chunks is not None else 0

    def write(self, chunk: bytes) -> None:
        assert not self._closed, "write after keep or discard"
        self._sha.update(chunk)
        self._md5.update(chunk)
        self._size += len(chunk)
        if self._chunks is not None:
            if self._size <= self._spool:
                self._chunks.append(bytes(chunk))
                return
            self._roll_over()
        _write_all(self._fd, chunk)

    def keep(self, fsync: bool = True) -> BlobInfo:
        """Flush (and fsync), rename into the store; idempotent by hash."""
        if self._info is not None:
            return self._info
        assert not self._closed, "keep after discard"
        self._closed = True
        info = BlobInfo(self._sha.hexdigest(), self._md5.hexdigest(), self._size)
        final = blob_path(info.sha256, self.root)
        try:
            if final.exists():
                self._drop()
            else:
                if self._chunks is not None:
                    self._roll_over()
                self._install(final, fsync)
        except BaseException:
            self._drop()
            raise
        self._info = info
        return info

    def discard(self) -> None:
        """Drop the content unless it was kept."""
        if self._info is None:
            self._closed = True
            self._drop()

    def _roll_over(self) -> None:
        """Move the content to a new temp file; later writes go there."""
        tmp_dir = self.root / "tmp"
        try:  # directories are made when missing, not checked on every call
            self._fd, self._tmp_name = tempfile.mkstemp(dir=tmp_dir)
        except FileNotFoundError:
            tmp_dir.mkdir(parents=True, exist_ok=True)
            self._fd, self._tmp_name = tempfile.mkstemp(dir=tmp_dir)
        chunks, self._chunks = self._chunks or [], None
        for chunk in chunks:
            _write_all(self._fd, chunk)

    def _install(self, final: Path, fsync: bool) -> None:
        assert self._tmp_name is not None
        if fsync:
            os.fsync(self._fd)
        os.close(self._fd)
        self._fd = -1
        try:
            os.replace(self._tmp_name, final)
        except FileNotFoundError:  # a new fan-out directory
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._tmp_name, final)
            if fsync:  # and the new directories' own entries
                _fsync_dir(final.parent.parent)
                _fsync_dir(self.root)
        self._tmp_name = None
        if fsync:  # make the rename itself durable before the row that names it
            _fsync_dir(final.parent)

    def _drop(self) -> None:
        self._chunks = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._tmp_name is not None:
            try:
                os.unlink(self._tmp_name)
            except FileNotFoundError:
                pass
            self._tmp_name = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_stream(
    stream: t.BinaryIO, root: Path | None = None, fsync: bool = True
) -> BlobInfo:
    """Copy ``stream`` into the store without holding it in memory; idempotent by hash."""
    blob = TempBlob(root or data_dir())
    try:
        while chunk := stream.read(CHUNK):
            blob.write(chunk)
        return blob.keep(fsync)
    except BaseException:
        blob.discard()
        raise


def sweep_tmp(root: Path | None = None, older_than: float = STALE_TMP_SECONDS) -> int:
    """Delete temp files of uploads that never finished; returns how many.

    They can hold a victim's photo, so they must not linger after a crash.
    """
    tmp = (root or data_dir()) / "tmp"
    cutoff = time.time() - older_than
    removed = 0
    try:
        entries = list(os.scandir(tmp))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:  # another process swept it first
            continue
    return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(data: bytes, root: Path | None = None) -> BlobInfo:
    """Store small in-memory content (form media uploaded as a request body)."""
    import io

    return write_stream(io.BytesIO(data), root)


def record(info: BlobInfo, content_type: str | None = None) -> None:
    """Insert the blob row unless it exists (safe under concurrent inserts)."""
    from server import store

    store.record_blob(info.sha256, info.md5, info.size, content_type)


def lookup(sha256: str) -> Blob | None:
    """The blob row for a hash, if recorded."""
    return db.session.execute(sa.select(Blob).where(Blob.sha256 == sha256)).scalar()
