"""Backup and restore of a whole review, portable between SQLite and PostgreSQL.

A backup is one zip file: ``manifest.json`` (schema revision, row counts, a
sha256 per table and per stored file) and one JSON-lines file per table, plus
the review's stored files (PDFs). JSON rather than a database dump so a review
can move from a laptop's SQLite file to the team's PostgreSQL server and back.

Three promises, each learnt from a way it broke:

* **All or nothing.** Every entry name and every checksum (tables and files)
  is checked before anything is written; the files are unpacked into a private
  folder beside the target, the rows go in one transaction, and the folder is
  moved into place just before that transaction commits. A refusal or a kill
  at any point leaves an empty target that a retry accepts.
* **Bounded memory.** Rows are streamed out of the database into the zip and
  back, a few thousand at a time; files are copied in blocks. A 200,000-record
  review backs up and restores in about the memory of importing it.
* **No live sign-ins travel.** Login sessions are not part of a backup (and
  are dropped from an old archive), so a token from the original review can
  never sign anybody in to a restored copy; nor is the copy's own id
  (:mod:`review.store.instance`), which names its sign-in cookie.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Connection, DateTime, Table, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from review.store.db import Store, schema_revision
from review.store.files import sha256_file
from review.store.models import Base, Record, Source

FORMAT = "review-backup/2"
#: Older archives restore too (their files carry no checksums; their names are still checked).
READABLE_FORMATS = ("review-backup/1", FORMAT)
#: Tables that belong to one running copy of a review, never to its backup.
NOT_BACKED_UP = frozenset({"login_session"})
#: Settings that belong to one copy (its id, which names the sign-in cookie).
LOCAL_SETTINGS = frozenset({"instance_id"})
#: Rows per INSERT on restore, rows per fetch on backup: bounds memory, not correctness.
BATCH = 2000
_BLOCK = 1 << 20
_MANIFEST_MAX = 50 * 1024 * 1024


class BackupError(Exception):
    """The archive is not a review backup, is damaged, or the target is not empty."""


def _tables() -> list[Table]:
    """Tables a backup holds, parents before children (a safe insert order)."""
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_BACKED_UP]


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


def _write_table(zf: zipfile.ZipFile, conn: Connection, table: Table) -> tuple[int, str]:
    """Stream one table into the archive; returns (rows, sha256 of the entry's bytes)."""
    digest, n = hashlib.sha256(), 0
    query = select(table).order_by(*table.primary_key.columns)
    if table.name == "setting":
        query = query.where(table.c.key.not_in(LOCAL_SETTINGS))
    # An import still being written is not part of the review yet (review.store.visibility).
    unfinished = select(Source.__table__.c.id).where(Source.__table__.c.importing.is_not(None))
    if table is Source.__table__:
        query = query.where(table.c.importing.is_(None))
    elif table is Record.__table__:
        query = query.where(table.c.source_id.not_in(unfinished))
    rows = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)
    with zf.open(f"tables/{table.name}.jsonl", "w", force_zip64=True) as fh:
        for row in rows:
            line = (json.dumps({k: _encode(v) for k, v in row._mapping.items()},
                               ensure_ascii=False, sort_keys=True) + "\n").encode()
            fh.write(line)
            digest.update(line)
            n += 1
    return n, digest.hexdigest()


def backup(store: Store, out: Path, files_dir: Path | None = None) -> dict[str, int]:
    """Write every table (and the stored files) to ``out``; returns rows per table."""
    counts: dict[str, int] = {}
    digests: dict[str, str] = {}
    files: dict[str, str] = {}
    tmp = out.with_suffix(out.suffix + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with _snapshot(store) as conn:
            for table in _tables():
                counts[table.name], digests[table.name] = _write_table(zf, conn, table)
        if files_dir and files_dir.is_dir():
            for f in sorted(files_dir.rglob("*")):
                if f.is_file() and not f.is_symlink():
                    rel = f.relative_to(files_dir).as_posix()
                    files[rel] = sha256_file(f)
                    zf.write(f, f"files/{rel}")
        manifest = {"format": FORMAT, "created": datetime.now(UTC).isoformat(),
                    "schema_revision": schema_revision(store.engine), "rows": counts,
                    "sha256": digests, "files": files}
        zf.writestr("manifest.json", json.dumps(manifest, indent=2))
    tmp.replace(out)  # a crash mid-backup never leaves a truncated file under the real name
    return counts


# --- restore ----------------------------------------------------------------------------------

def _safe_rel(archive: Path, name: str) -> str:
    """The part of a ``files/...`` entry name below ``files/``, refused unless plainly inside."""
    rel = name.removeprefix("files/")
    parts = PurePosixPath(rel).parts
    if (not rel or "\\" in rel or "\x00" in rel or rel.startswith("/")
            or any(p in ("..", ".", "") for p in parts) or ":" in parts[0]):
        raise BackupError(f"{archive}: unsafe file name {name!r} in the archive; nothing was "
                          "restored")
    return rel


def _entry_sha(zf: zipfile.ZipFile, name: str) -> str:
    h = hashlib.sha256()
    with zf.open(name) as fh:
        while chunk := fh.read(_BLOCK):
            h.update(chunk)
    return h.hexdigest()


def _read_manifest(zf: zipfile.ZipFile, archive: Path) -> dict[str, Any]:
    try:
        info = zf.getinfo("manifest.json")
    except KeyError as exc:
        raise BackupError(f"{archive}: no manifest.json, not a review backup") from exc
    if info.file_size > _MANIFEST_MAX:
        raise BackupError(f"{archive}: manifest.json is {info.file_size:,} bytes; not a backup")
    try:
        manifest = json.loads(zf.read(info))
    except (ValueError, zipfile.BadZipFile) as exc:
        raise BackupError(f"{archive}: manifest.json is damaged ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") not in READABLE_FORMATS:
        fmt = manifest.get("format") if isinstance(manifest, dict) else None
        raise BackupError(f"{archive}: unknown backup format {fmt!r}")
    return manifest


def verify(zf: zipfile.ZipFile, archive: Path, manifest: dict[str, Any]) -> dict[str, str]:
    """Check every entry before anything is written; returns {files entry: rel path}.

    Refuses an entry the format does not have, an unsafe or repeated name, a
    table or file whose bytes do not match the manifest, a file the manifest
    lists but the archive lacks (and, in the current format, the reverse).
    """
    names = zf.namelist()
    if len(names) != len(set(names)):
        raise BackupError(f"{archive}: an entry name appears twice; nothing was restored")
    expected_tables = {f"tables/{t.name}.jsonl" for t in Base.metadata.sorted_tables}
    file_entries: dict[str, str] = {}
    for name in names:
        if name == "manifest.json" or name in expected_tables:
            continue
        if name.startswith("files/"):
            if not name.endswith("/"):
                file_entries[name] = _safe_rel(archive, name)
            continue
        raise BackupError(f"{archive}: unexpected entry {name!r}; not a review backup")
    sums = manifest.get("sha256") or {}
    for table in _tables():
        name = f"tables/{table.name}.jsonl"
        if name not in names:
            raise BackupError(f"{archive}: table {table.name} is missing from the archive")
        if _entry_sha(zf, name) != sums.get(table.name):
            raise BackupError(f"{archive}: table {table.name} is damaged (checksum mismatch)")
    if manifest["format"] != "review-backup/1":
        listed = manifest.get("files")
        if not isinstance(listed, dict):
            raise BackupError(f"{archive}: the manifest lists no file checksums")
        have = set(file_entries.values())
        for rel in sorted(set(listed) ^ have):
            where = "missing from the archive" if rel in listed else "not in the manifest"
            raise BackupError(f"{archive}: stored file {rel!r} is {where}")
        for name, rel in file_entries.items():
            if _entry_sha(zf, name) != listed[rel]:
                raise BackupError(f"{archive}: stored file {rel!r} is damaged (checksum "
                                  "mismatch)")
    return file_entries


def _unpack_files(zf: zipfile.ZipFile, entries: dict[str, str], folder: Path) -> None:
    for name, rel in entries.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(name) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, _BLOCK)


def _rows(zf: zipfile.ZipFile, table: Table) -> Iterator[list[dict[str, Any]]]:
    """The archived rows of one table, a batch at a time, datetimes parsed back."""
    dt_cols = {c.name for c in table.columns if isinstance(c.type, DateTime)}
    batch: list[dict[str, Any]] = []
    with zf.open(f"tables/{table.name}.jsonl") as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8"):
            if not line.strip():
                continue
            row = json.loads(line)
            if table.name == "setting" and row.get("key") in LOCAL_SETTINGS:
                continue
            for c in dt_cols & row.keys():
                if row[c] is not None:
                    row[c] = datetime.fromisoformat(row[c])
            batch.append(row)
            if len(batch) >= BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _insert_all(conn: Connection, zf: zipfile.ZipFile, archive: Path) -> dict[str, int]:
    counts = {}
    for table in _tables():
        n = 0
        for rows in _rows(zf, table):
            try:
                conn.execute(insert(table), rows)
            except IntegrityError as exc:
                raise BackupError(f"{archive}: table {table.name} does not fit the rows "
                                  f"before it ({exc.orig}); the backup is inconsistent"
                                  ) from exc
            n += len(rows)
        counts[table.name] = n
        if conn.dialect.name == "postgresql" and n and "id" in table.c:
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT MAX(id) FROM {table.name}))"))
    return counts


def _refuse_non_empty(conn: Connection) -> None:
    for table in Base.metadata.sorted_tables:
        if table.name in NOT_BACKED_UP:
            continue
        query = select(func.count()).select_from(table)
        if table.name == "setting":
            query = query.where(table.c.key.not_in(LOCAL_SETTINGS))
        if conn.execute(query).scalar():
            raise BackupError(f"the target review is not empty (table {table.name} has rows); "
                              "restore into a new database")


@contextmanager
def _files_into_place(staged: Path, files_dir: Path) -> Iterator[None]:
    """Move the unpacked files to ``files_dir`` now; move them back out if the block fails.

    Anything already at ``files_dir`` (files of an empty review) is kept aside
    under a dated name, never deleted.
    """
    aside = None
    if files_dir.exists() and any(files_dir.iterdir()):
        aside = files_dir.with_name(f"{files_dir.name}.before-restore-"
                                    f"{datetime.now(UTC):%Y%m%dT%H%M%S}")
        files_dir.rename(aside)
    elif files_dir.exists():
        files_dir.rmdir()
    staged.rename(files_dir)
    try:
        yield
    except BaseException:
        files_dir.rename(staged)
        if aside is not None:
            aside.rename(files_dir)
        raise


def _check_counts(archive: Path, manifest: dict[str, Any], counts: dict[str, int]) -> None:
    rows = manifest.get("rows") or {}
    for name, n in counts.items():
        if name in rows and rows[name] != n:
            raise BackupError(f"{archive}: table {name} holds {n} rows, the manifest says "
                              f"{rows[name]}")


def restore(store: Store, archive: Path, files_dir: Path | None = None) -> dict[str, int]:
    """Load a backup into an empty review (same schema revision); all or nothing."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"{archive}: not a review backup ({exc})") from exc
    with zf:
        manifest = _read_manifest(zf, archive)
        if manifest.get("schema_revision") != schema_revision(store.engine):
            raise BackupError(
                f"{archive}: made at schema {manifest.get('schema_revision')}, the target is "
                f"at {schema_revision(store.engine)}; restore with the matching release")
        try:
            file_entries = verify(zf, archive, manifest)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:  # CRC error, truncated entry
            raise BackupError(f"{archive}: the archive is damaged ({exc})") from exc
        with store.engine.connect() as conn:
            _refuse_non_empty(conn)
            conn.rollback()
        if file_entries and files_dir is None:
            raise BackupError(f"{archive} holds {len(file_entries)} stored files but this "
                              "review has no files folder (set REVIEW_FILES_DIR)")
        parent = files_dir.parent if files_dir is not None else None
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=parent, prefix=".restoring-") as tmp:
            staged = Path(tmp) / "files"
            staged.mkdir()
            _unpack_files(zf, file_entries, staged)
            with store.engine.connect() as conn:
                trans = conn.begin()
                try:
                    _refuse_non_empty(conn)
                    counts = _insert_all(conn, zf, archive)
                    _check_counts(archive, manifest, counts)
                    if file_entries and files_dir is not None:
                        with _files_into_place(staged, files_dir):
                            trans.commit()  # files back out if the commit fails
                    else:
                        trans.commit()
                except BaseException:
                    if trans.is_active:
                        trans.rollback()
                    raise
    return counts
