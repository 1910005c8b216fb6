"""Content-addressed blob files: streamed in through a temp file, renamed when whole."""

from __future__ import annotations

import hashlib
import os
import tempfile
import typing as t
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from server.db import db
from server.models import Blob

CHUNK = 1 << 16


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


def write_stream(
    stream: t.BinaryIO, root: Path | None = None, fsync: bool = True
) -> BlobInfo:
    """Copy ``stream`` into the store without holding it in memory; idempotent by hash."""
    root = root or data_dir()
    tmp_dir = root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                sha.update(chunk)
                md5.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            if fsync:
                os.fsync(out.fileno())
        info = BlobInfo(sha.hexdigest(), md5.hexdigest(), size)
        final = blob_path(info.sha256, root)
        if final.exists():
            os.unlink(tmp_name)
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, final)
            if fsync:  # make the rename itself durable before the row that names it
                _fsync_dir(final.parent)
        return info
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


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
