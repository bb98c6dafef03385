"""Where a review keeps its full-text PDFs, and the checks a file passes before it is kept.

The PDFs belong to the review, so they live beside its database: for a SQLite
review in ``<db stem>-files/`` next to the ``.db`` file (copy the two together
and the review moves whole); for a PostgreSQL team server under the directory
named by ``REVIEW_FILES_DIR``, which every app process must share.

Files are stored under their own SHA-256 (``pdf/ab/abcdef….pdf``): the name a
reviewer's browser sent is never part of a path, so no upload can reach
outside the folder, the same PDF attached twice is stored once, and the hash
kept on the report proves which file a decision was made on.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from review.store import Store

FILES_DIR_ENV = "REVIEW_FILES_DIR"
#: Larger than any journal article; keeps one upload from filling the server's disk.
MAX_PDF_BYTES = 50 * 1024 * 1024
#: Every PDF starts with this header (ISO 32000-1, 7.5.2).
PDF_MAGIC = b"%PDF-"


class FileRejected(ValueError):
    """An upload that is not kept: not a PDF, empty or too large."""


class FilesLocationError(RuntimeError):
    """The review has no place to keep files (PostgreSQL without ``REVIEW_FILES_DIR``)."""


@dataclass(frozen=True)
class StoredFile:
    """A kept file: its path relative to the review's files folder, hash and size."""

    path: str
    sha256: str
    size: int


def files_location(url: str) -> Path | None:
    """The review's files folder from its URL alone (None: a server without ``REVIEW_FILES_DIR``).

    The one rule for the app, the CLI, backup/restore and ``review check``.
    """
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        return db.with_name(f"{db.stem}-files")
    configured = os.environ.get(FILES_DIR_ENV)
    return Path(configured).expanduser() if configured else None


def files_root(store: Store) -> Path:
    """The folder that holds this review's files (created on first use)."""
    root = files_location(store.url)
    if root is None:
        raise FilesLocationError(
            f"this review's database is not a SQLite file, so full texts need a shared "
            f"folder: set {FILES_DIR_ENV} to a directory every app process can write")
    return root.resolve()


def sha256_file(path: Path, block: int = 1 << 20) -> str:
    """SHA-256 of a file read in blocks (a PDF or an archive never sits whole in memory)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def check_pdf(data: bytes, name: str = "the file", max_bytes: int = MAX_PDF_BYTES) -> None:
    """Refuse anything that is not a PDF by its first bytes, or is empty or too large.

    The check reads the content, not the file name or the browser's MIME type,
    both of which the uploader controls.
    """
    if not data:
        raise FileRejected(f"{name} is empty")
    if len(data) > max_bytes:
        raise FileRejected(f"{name} is {len(data) / 1_048_576:.1f} MB; the limit for a full "
                           f"text is {max_bytes / 1_048_576:.0f} MB")
    if not data.startswith(PDF_MAGIC):
        raise FileRejected(f"{name} is not a PDF (it does not start with %PDF-)")


def store_pdf(store: Store, data: bytes, name: str = "the file",
              max_bytes: int = MAX_PDF_BYTES) -> StoredFile:
    """Check and keep a PDF under its hash; returns where it is. Writing is atomic."""
    check_pdf(data, name, max_bytes)
    sha = hashlib.sha256(data).hexdigest()
    rel = f"pdf/{sha[:2]}/{sha}.pdf"
    target = files_root(store) / rel
    if not (target.is_file() and target.stat().st_size == len(data)):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return StoredFile(path=rel, sha256=sha, size=len(data))


def stored_path(store: Store, rel: str) -> Path:
    """Absolute path of a kept file; refuses a path that points outside the files folder.

    ``rel`` comes from the database, which a person could edit by hand, so it
    is checked again rather than trusted.
    """
    root = files_root(store)
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise FileRejected(f"{rel!r} is outside the review's files folder")
    return path


def read_stored(store: Store, rel: str, sha256: str | None = None) -> bytes:
    """The bytes of a kept file, checked against its recorded hash when one is given."""
    path = stored_path(store, rel)
    if not path.is_file():
        raise FileNotFoundError(f"the full text {rel} is missing from {files_root(store)}")
    data = path.read_bytes()
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        raise FileRejected(f"the full text {rel} has changed since it was attached "
                           "(its SHA-256 no longer matches)")
    return data
