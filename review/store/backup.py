"""Backup and restore of a whole review, portable between SQLite and PostgreSQL.

A backup is one zip file: ``manifest.json`` (schema revision, row counts, a
sha256 per table) and one JSON-lines file per table, plus the review's stored
files (PDFs). JSON rather than a database dump so a review can move from a
laptop's SQLite file to the team's PostgreSQL server and back, and so a
damaged archive is detected (checksums) before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from review.store.db import Store, schema_revision
from review.store.models import Base

FORMAT = "review-backup/1"


class BackupError(Exception):
    """The archive is not a review backup, is damaged, or the target is not empty."""


def _tables():
    return Base.metadata.sorted_tables  # parents before children: safe insert order


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@contextmanager
def _snapshot(store: Store) -> Iterator[Connection]:
    """One consistent read of every table, even while reviewers keep deciding.

    Without it each table would be read at a different moment and the archive
    could hold a decision on a record it lacks, which restore then refuses.
    """
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN")  # pysqlite would read each SELECT on its own
            yield conn


def backup(store: Store, out: Path, files_dir: Path | None = None) -> dict[str, int]:
    """Write every table (and the stored files) to ``out``; returns rows per table."""
    counts: dict[str, int] = {}
    digests: dict[str, str] = {}
    tmp = out.with_suffix(out.suffix + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with _snapshot(store) as conn:
            for table in _tables():
                lines = []
                for row in conn.execute(select(table).order_by(*table.primary_key.columns)):
                    lines.append(json.dumps({k: _encode(v) for k, v in row._mapping.items()},
                                            ensure_ascii=False, sort_keys=True))
                data = ("\n".join(lines) + ("\n" if lines else "")).encode()
                zf.writestr(f"tables/{table.name}.jsonl", data)
                counts[table.name] = len(lines)
                digests[table.name] = hashlib.sha256(data).hexdigest()
        if files_dir and files_dir.is_dir():
            for f in sorted(files_dir.rglob("*")):
                if f.is_file():
                    zf.write(f, f"files/{f.relative_to(files_dir).as_posix()}")
        manifest = {"format": FORMAT, "created": datetime.now(UTC).isoformat(),
                    "schema_revision": schema_revision(store.engine), "rows": counts,
                    "sha256": digests}
        zf.writestr("manifest.json", json.dumps(manifest, indent=2))
    tmp.replace(out)  # a crash mid-backup never leaves a truncated file under the real name
    return counts


def restore(store: Store, archive: Path, files_dir: Path | None = None) -> dict[str, int]:
    """Load a backup into an empty review (same schema revision); all or nothing."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"{archive}: not a review backup ({exc})") from exc
    with zf:
        try:
            manifest = json.loads(zf.read("manifest.json"))
        except KeyError as exc:
            raise BackupError(f"{archive}: no manifest.json, not a review backup") from exc
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{archive}: unknown backup format {manifest.get('format')!r}")
        if manifest["schema_revision"] != schema_revision(store.engine):
            raise BackupError(
                f"{archive}: made at schema {manifest['schema_revision']}, the target is at "
                f"{schema_revision(store.engine)}; restore with the matching release")
        payload = {}
        for table in _tables():
            data = zf.read(f"tables/{table.name}.jsonl")
            if hashlib.sha256(data).hexdigest() != manifest["sha256"][table.name]:
                raise BackupError(f"{archive}: table {table.name} is damaged (checksum mismatch)")
            payload[table.name] = data
        with store.engine.begin() as conn:
            for table in _tables():
                if conn.execute(select(func.count()).select_from(table)).scalar():
                    raise BackupError(f"the target review is not empty (table {table.name} has "
                                      "rows); restore into a new database")
            counts = {}
            for table in _tables():
                dt_cols = {c.name for c in table.columns if isinstance(c.type, DateTime)}
                rows = []
                for line in payload[table.name].decode().splitlines():
                    row = json.loads(line)
                    for c in dt_cols & row.keys():
                        if row[c] is not None:
                            row[c] = datetime.fromisoformat(row[c])
                    rows.append(row)
                if rows:
                    try:
                        conn.execute(insert(table), rows)
                    except IntegrityError as exc:
                        raise BackupError(f"{archive}: table {table.name} does not fit the rows "
                                          f"before it ({exc.orig}); the backup is inconsistent"
                                          ) from exc
                counts[table.name] = len(rows)
                if conn.dialect.name == "postgresql" and rows and "id" in table.c:
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT MAX(id) FROM {table.name}))"))
        if files_dir is not None:
            for name in zf.namelist():
                if name.startswith("files/") and not name.endswith("/"):
                    rel = Path(name.removeprefix("files/"))
                    if rel.is_absolute() or ".." in rel.parts:
                        raise BackupError(f"{archive}: unsafe file name {name!r}")
                    target = files_dir / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zf.read(name))
    return counts
