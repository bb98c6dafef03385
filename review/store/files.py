"""Where a review keeps its stored files (full-text PDFs), decided from its database URL alone.

One rule for the CLI, backup/restore and the integrity check: beside a SQLite
file in ``<db stem>-files/`` (copy the two together and the review moves
whole); for a server database, the folder named by ``REVIEW_FILES_DIR``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

FILES_DIR_ENV = "REVIEW_FILES_DIR"


def files_location(url: str) -> Path | None:
    """The review's files folder (None for a server database without ``REVIEW_FILES_DIR``)."""
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        return db.with_name(f"{db.stem}-files")
    env = os.environ.get(FILES_DIR_ENV)
    return Path(env).expanduser() if env else None


def sha256_file(path: Path, block: int = 1 << 20) -> str:
    """SHA-256 of a file read in blocks (a PDF or an archive never sits whole in memory)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()
