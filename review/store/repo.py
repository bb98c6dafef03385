"""The queries and writes each stage needs, over a :class:`~review.store.db.Store`.

Every write that changes what a reviewer or lead author sees goes through here
so it is one transaction and leaves an audit-log row. Reads return DataFrames
or plain dicts: the stage algorithms stay free of SQLAlchemy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from review.records import FIELDS
from review.stages import Stage, stage_outcomes
from review.store import settings as settings_rules
from review.store.db import Store, retry_busy, sqlite_path
from review.store.models import (
    LABELS,
    ROLES,
    SOURCE_KINDS,
    STAGES,
    AuditLog,
    Decision,
    DuplicateLink,
    Record,
    Report,
    Resolution,
    Reviewer,
    Setting,
    Source,
    utcnow,
)
from review.store.staging import (
    COPY_CHUNK,
    attached,
    delete_source_rows,
    record_stage,
    sweep_abandoned,
)
from review.store.visibility import INCLUDE_UNFINISHED

#: What a new review starts with; the lead edits these in the app.
#: The defaults of every setting (:class:`review.store.settings.Settings`), as plain values.
DEFAULT_SETTINGS: dict[str, Any] = settings_rules.DEFAULTS

_hasher = PasswordHasher()


class DuplicateImportError(Exception):
    """The same file (same sha256) was imported before; pass ``force`` to import it again."""


class RepoError(ValueError):
    """A request the data does not allow (unknown stage, label, reviewer ...)."""


def audit(s: Session, actor: str | None, action: str, table: str, row_id: int | None,
          *, at: datetime | None = None, **detail: Any) -> None:
    """Append an audit-log row in the caller's transaction (so it commits with the change).

    ``at`` is for callers that decide on a clock of their own (sign-in throttling);
    otherwise the row is stamped now.
    """
    s.add(AuditLog(actor=actor, action=action, table_name=table, row_id=row_id,
                   detail=json.loads(json.dumps(detail, default=str)),
                   **({"at": at} if at is not None else {})))


# --- settings ---------------------------------------------------------------------------------

def settings_in(s: Session) -> settings_rules.Settings:
    """The review's settings read in the caller's transaction (the one reader of the table)."""
    return settings_rules.parse({row.key: row.value for row in s.scalars(select(Setting))})


def review_settings(store: Store) -> settings_rules.Settings:
    """The review's settings, typed, defaults filled in for keys the lead never set."""
    with store.session() as s:
        return settings_in(s)


def get_settings(store: Store) -> dict[str, Any]:
    """:func:`review_settings` as a plain dict (what the pages hand around)."""
    return review_settings(store).as_dict()


def set_setting(store: Store, key: str, value: Any, actor: str | None = None) -> None:
    """Validate and store one setting (:func:`review.store.settings.check`), audited.

    Raises :class:`review.store.settings.SettingsError` (a :class:`ValueError`) naming the
    key for an unknown key or a value it does not allow; nothing is written then.
    """
    value = settings_rules.check(key, value)
    if isinstance(value, tuple):
        value = list(value)
    with store.session() as s:
        row = s.get(Setting, key)
        old = row.value if row else DEFAULT_SETTINGS.get(key)
        if row is None:
            s.add(Setting(key=key, value=value))
        else:
            row.value = value
            row.updated_at = utcnow()
        audit(s, actor, "set_setting", "setting", None, key=key, old=old, new=value)


# --- sources and records ----------------------------------------------------------------------

def _first_import(s: Session, sha256: str) -> Source | None:
    """The first import of this file, finished or still being written by another process."""
    return s.scalars(select(Source).where(Source.sha256 == sha256).order_by(Source.id)
                     .execution_options(**{INCLUDE_UNFINISHED: True})).first()


def _duplicate(file_name: str, earlier: Source) -> DuplicateImportError:
    if earlier.importing is not None:
        return DuplicateImportError(
            f"{file_name} is being imported right now (source {earlier.name!r}, "
            f"#{earlier.id}, same sha256); wait for that import to finish")
    return DuplicateImportError(
        f"{file_name} was already imported as source {earlier.name!r} "
        f"(#{earlier.id}, {earlier.record_count} records, same sha256); "
        "use --force to import it again")


def _claim(s: Session, src: Source, file_name: str) -> None:
    """Insert the source row; the unique index settles two imports of one file racing.

    The check before it is only a courtesy (it refuses before the file is
    parsed); this insert is the atomic part: on PostgreSQL the second import
    waits for the first to commit, then fails here; on SQLite the writes are
    serialised and the second sees the first's row.
    """
    s.add(src)
    try:
        s.flush()
    except IntegrityError:
        s.rollback()
        earlier = _first_import(s, src.sha256)
        if earlier is None:
            raise
        raise _duplicate(file_name, earlier) from None


def _record_row(rec: dict[str, Any], source_id: int, position: int) -> dict[str, Any]:
    row = {f: rec.get(f) for f in FIELDS}
    year = row.get("year")
    if year is not None and not isinstance(year, int):
        try:
            row["year"] = int(str(year).strip()[:4])
        except ValueError:
            raise RepoError(f"record {position}: year {year!r} is not a year") from None
    row["authors"] = list(rec.get("authors") or [])
    row["keywords"] = list(rec.get("keywords") or [])
    for f in ("volume", "issue", "pages", "pmid", "doi"):
        if row.get(f) is not None:
            row[f] = str(row[f])[:300]
    row.update(source_id=source_id, position=position, original=rec.get("original") or {},
               merged={})
    return row


def add_source(
    store: Store,
    *,
    name: str,
    kind: str,
    file_name: str,
    file_format: str,
    sha256: str,
    records: Sequence[dict[str, Any]],
    missing: dict[str, int] | None = None,
    search_date: str | None = None,
    query: str | None = None,
    actor: str | None = None,
    force: bool = False,
    chunk: int = 5000,
    on_progress: Any = None,
) -> int:
    """Add one imported file and all its records in a single transaction; returns the source id.

    Either the whole file lands or nothing does, so a crash or a bad record
    never leaves a half-imported source behind.
    """
    if kind not in SOURCE_KINDS:
        raise RepoError(f"source kind must be one of {', '.join(SOURCE_KINDS)}, not {kind!r}")
    sweep_abandoned(store)  # a killed import's hidden rows would block this file's re-import
    with store.session() as s:
        earlier = _first_import(s, sha256)
        if earlier is not None and not force:
            raise _duplicate(file_name, earlier)
        src = Source(name=name, kind=kind, file_name=file_name, file_format=file_format,
                     sha256=sha256, record_count=len(records), missing=missing or {},
                     search_date=search_date, query=query, imported_by=actor,
                     repeat_of=earlier.id if earlier is not None else None)
        _claim(s, src, file_name)
        for start in range(0, len(records), chunk):
            rows = [_record_row(r, src.id, start + i + 1)
                    for i, r in enumerate(records[start:start + chunk])]
            # render_nulls: one executemany per chunk even when records lack different fields
            s.execute(insert(Record).execution_options(render_nulls=True), rows)
            if on_progress:
                on_progress(len(rows))
        audit(s, actor, "import", "source", src.id, name=name, kind=kind, file=file_name,
              records=len(records), sha256=sha256)
        return src.id


def sources_frame(store: Store) -> pd.DataFrame:
    with store.session() as s:
        rows = s.execute(select(Source.id, Source.name, Source.kind, Source.file_name,
                                Source.file_format, Source.record_count, Source.sha256,
                                Source.imported_at, Source.missing)).all()
    cols = ["source_id", "name", "kind", "file_name", "format", "records", "sha256",
            "imported_at", "missing"]
    return pd.DataFrame(rows, columns=cols)


def live_links(s: Session) -> pd.DataFrame:
    rows = s.execute(select(DuplicateLink.record_id, DuplicateLink.canonical_id,
                            DuplicateLink.score, DuplicateLink.method)
                     .where(DuplicateLink.undone_at.is_(None))).all()
    return pd.DataFrame(rows, columns=["record_id", "canonical_id", "score", "method"])


def records_frame(store: Store, *, canonical_only: bool = False,
                  columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Records with their source name and canonical id (their own id when not a duplicate).

    ``columns``: the record fields to read (None: all; empty: the ids alone, which is all a
    caller needs to see whether the review's records have changed)."""
    every = ["title", "authors", "year", "journal", "volume", "issue", "pages", "doi", "pmid",
             "abstract", "keywords", "type"]
    cols = every if columns is None else list(columns)
    with store.session() as s:
        q = select(Record.id, Record.source_id, Source.name,
                   *[getattr(Record, c) for c in cols]).join(Source)
        # plain tuples: pandas builds a frame from 100,000 of them ten times faster than
        # from SQLAlchemy's rows, and the app's refit reads this on every refresh
        df = pd.DataFrame([tuple(r) for r in s.execute(q.order_by(Record.id))],
                          columns=["record_id", "source_id", "source", *cols])
        links = live_links(s)
    canon = dict(zip(links["record_id"], links["canonical_id"], strict=True))
    df["canonical_id"] = [canon.get(r, r) for r in df["record_id"]]
    if canonical_only:
        df = df[df["canonical_id"] == df["record_id"]]
    return df.reset_index(drop=True)


def link_duplicate(store: Store, record_id: int, canonical_id: int, *, score: float | None = None,
                   method: str = "manual", reason: str | None = None,
                   actor: str | None = None) -> int:
    """Link ``record_id`` to ``canonical_id``; never deletes (undo: :func:`unlink_duplicate`)."""
    if record_id == canonical_id:
        raise RepoError(f"record {record_id} cannot be a duplicate of itself")
    with store.session() as s:
        link = DuplicateLink(record_id=record_id, canonical_id=canonical_id, score=score,
                             method=method, reason=reason, created_by=actor)
        s.add(link)
        s.flush()
        audit(s, actor, "link_duplicate", "duplicate_link", link.id, record_id=record_id,
              canonical_id=canonical_id, score=score, method=method)
        return link.id


def unlink_duplicate(store: Store, link_id: int, actor: str | None = None) -> None:
    """Undo a duplicate link: the row stays, stamped with who undid it and when."""
    with store.session() as s:
        link = s.get(DuplicateLink, link_id)
        if link is None or link.undone_at is not None:
            raise RepoError(f"no live duplicate link #{link_id}")
        link.undone_at, link.undone_by = utcnow(), actor
        audit(s, actor, "unlink_duplicate", "duplicate_link", link_id,
              record_id=link.record_id, canonical_id=link.canonical_id)


# --- reviewers --------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    return _hasher.hash(password)


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    """A hash of a random secret, verified in place of an unknown user's (same cost)."""
    if not _DUMMY:
        import secrets

        _DUMMY.append(_hasher.hash(secrets.token_urlsafe(24)))
    return _DUMMY[0]


def add_reviewer(store: Store, username: str, display_name: str | None = None,
                 role: str = "reviewer", password: str | None = None,
                 actor: str | None = None) -> int:
    if role not in ROLES:
        raise RepoError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    # One person, one name: trimmed, and unique without regard to case (single sign-on
    # matches e-mail addresses without case, so "ANA" and "ana" must be one account).
    username = (username or "").strip()
    if not username:
        raise RepoError("a reviewer needs a user name")
    with store.session() as s:
        clash = s.scalars(select(Reviewer.username).where(
            func.lower(Reviewer.username) == username.lower())).first()
        if clash is not None:
            raise RepoError(f"a reviewer called {clash!r} already exists (user names are "
                            "compared without case)")
        r = Reviewer(username=username, display_name=(display_name or "").strip() or username,
                     role=role, password_hash=hash_password(password) if password else None)
        s.add(r)
        s.flush()
        audit(s, actor, "add_reviewer", "reviewer", r.id, username=username, role=role)
        return r.id


def authenticate(store: Store, username: str, password: str) -> Reviewer | None:
    """The active reviewer whose password matches, else None (no hint which part was wrong)."""
    name = (username or "").strip().lower()
    with store.session() as s:
        r = s.scalars(select(Reviewer).where(func.lower(Reviewer.username) == name,
                                             Reviewer.active.is_(True))).first()
        # The same argon2 work whether or not the name exists, so a name cannot be
        # found by timing the answer.
        stored = r.password_hash if r is not None and r.password_hash else _dummy_hash()
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if r is None or not r.password_hash:
            return None
        if _hasher.check_needs_rehash(r.password_hash):
            r.password_hash = _hasher.hash(password)
        return r


def reviewer_for_identity(store: Store, email: str) -> Reviewer | None:
    """The active reviewer a single-sign-on identity belongs to: user name = e-mail address.

    Matched without regard to case (identity providers and leads spell addresses
    differently); the lead creates the reviewer with the address as user name, so
    nobody gets in just by having an account at the provider.
    """
    email = (email or "").strip().lower()
    if not email:
        return None
    with store.session() as s:
        return s.scalars(select(Reviewer).where(func.lower(Reviewer.username) == email,
                                                Reviewer.active.is_(True))).first()


def reviewers_frame(store: Store) -> pd.DataFrame:
    with store.session() as s:
        rows = s.execute(select(Reviewer.id, Reviewer.username, Reviewer.display_name,
                                Reviewer.role, Reviewer.active)).all()
    return pd.DataFrame(rows, columns=["reviewer_id", "username", "display_name", "role",
                                       "active"])


# --- decisions and resolutions ----------------------------------------------------------------

def _check(stage: str, label: str) -> None:
    if stage not in STAGES:
        raise RepoError(f"stage must be one of {', '.join(STAGES)}, not {stage!r}")
    if label not in LABELS:
        raise RepoError(f"label must be one of {', '.join(LABELS)}, not {label!r}")


def add_decision(store: Store, *, record_id: int, reviewer_id: int, stage: str, label: str,
                 reason: str | None = None, note: str | None = None,
                 request_id: str | None = None, actor: str | None = None) -> int:
    """Append a decision (and its audit row) in one transaction; returns its id.

    A repeated ``request_id`` (a retried click) returns the first decision's id
    instead of writing it twice. A decision that meets a busy SQLite file (a
    long import or backup elsewhere) is tried again, and past the last try
    raises :class:`~review.store.db.StoreBusyError` with a message for the
    reviewer, never a raw "database is locked".
    """
    _check(stage, label)
    return retry_busy(lambda: _add_decision(store, record_id, reviewer_id, stage, label,
                                            reason, note, request_id, actor))


def _add_decision(store: Store, record_id: int, reviewer_id: int, stage: str, label: str,
                  reason: str | None, note: str | None, request_id: str | None,
                  actor: str | None) -> int:
    try:
        with store.session() as s:
            d = Decision(record_id=record_id, reviewer_id=reviewer_id, stage=stage, label=label,
                         reason=reason or None, note=note or None, request_id=request_id)
            s.add(d)
            s.flush()
            audit(s, actor or str(reviewer_id), "decide", "decision", d.id, record_id=record_id,
                  stage=stage, label=label, reason=reason)
            return d.id
    except IntegrityError:
        if request_id is None:
            raise
        with store.session() as s:
            existing = s.scalars(select(Decision.id).where(Decision.request_id == request_id))
            found = existing.first()
            if found is None:
                raise
            return found


def decisions_frame(store: Store, stage: str, *, reviewer_id: int | None = None) -> pd.DataFrame:
    """Decisions at a stage; pass ``reviewer_id`` to see only that reviewer's (blind mode)."""
    with store.session() as s:
        q = select(Decision.id, Decision.record_id, Decision.reviewer_id, Decision.label,
                   Decision.reason, Decision.note, Decision.created_at).where(
            Decision.stage == stage)
        if reviewer_id is not None:
            q = q.where(Decision.reviewer_id == reviewer_id)
        rows = s.execute(q.order_by(Decision.id)).all()
    return pd.DataFrame(rows, columns=["id", "record_id", "reviewer_id", "label", "reason",
                                       "note", "created_at"])


def add_resolution(store: Store, *, record_id: int, stage: str, label: str, resolved_by: int,
                   reason: str | None = None, note: str | None = None,
                   actor: str | None = None) -> int:
    _check(stage, label)
    return retry_busy(lambda: _add_resolution(store, record_id, stage, label, resolved_by,
                                              reason, note, actor))


def _add_resolution(store: Store, record_id: int, stage: str, label: str, resolved_by: int,
                    reason: str | None, note: str | None, actor: str | None) -> int:
    with store.session() as s:
        r = Resolution(record_id=record_id, stage=stage, label=label, reason=reason, note=note,
                       resolved_by=resolved_by)
        s.add(r)
        s.flush()
        audit(s, actor or str(resolved_by), "resolve", "resolution", r.id, record_id=record_id,
              stage=stage, label=label, reason=reason)
        return r.id


def resolutions_frame(store: Store, stage: str) -> pd.DataFrame:
    with store.session() as s:
        rows = s.execute(select(Resolution.id, Resolution.record_id, Resolution.label,
                                Resolution.reason, Resolution.created_at, Resolution.resolved_by)
                         .where(Resolution.stage == stage).order_by(Resolution.id)).all()
    return pd.DataFrame(rows, columns=["id", "record_id", "label", "reason", "created_at",
                                       "resolved_by"])


def outcomes(store: Store, stage: str) -> pd.DataFrame:
    """Where each decided record stands at ``stage`` (see :mod:`review.stages`)."""
    per_record = int(get_settings(store)["reviewers_per_record"])
    with store.session() as s:
        automation = set(s.scalars(select(Reviewer.id).where(Reviewer.role == "automation")))
    return stage_outcomes(decisions_frame(store, stage), resolutions_frame(store, stage),
                          per_record, automation)


# --- reports (full text) ----------------------------------------------------------------------

def ensure_reports(store: Store, actor: str | None = None) -> int:
    """Create a report (sought for retrieval) for each record included at title/abstract.

    Idempotent, so every page can call it; returns how many reports were added.
    """
    ta = outcomes(store, Stage.TITLE_ABSTRACT)
    included = set(ta.loc[ta["label"] == "include", "record_id"].astype(int))
    with store.session() as s:
        have = set(s.scalars(select(Report.record_id)))
        # a record linked as a duplicate is not sought: its cluster's canonical record is
        linked = {int(r) for r in live_links(s)["record_id"]}
        new = sorted(included - have - linked)
        if new:
            s.execute(insert(Report), [{"record_id": r, "retrieval": "sought",
                                        "created_at": utcnow()} for r in new])
            audit(s, actor, "seek_reports", "report", None, records=new)
    return len(new)


# --- status -----------------------------------------------------------------------------------

def record_stages(store: Store) -> pd.DataFrame:
    """Each record's current stage in words a reviewer uses, for `status` and exports."""
    recs = records_frame(store, columns=["title"])
    ta = outcomes(store, Stage.TITLE_ABSTRACT).set_index("record_id")
    ft = outcomes(store, Stage.FULL_TEXT).set_index("record_id")
    with store.session() as s:
        retrieval = dict(s.execute(select(Report.record_id, Report.retrieval)).all())
    stages = []
    for rid, cid in zip(recs["record_id"], recs["canonical_id"], strict=True):
        if rid != cid:
            stages.append("duplicate")
            continue
        if rid in ft.index and ft.at[rid, "label"] in ("include", "exclude"):
            stages.append(f"full text: {ft.at[rid, 'label']}d")
        elif rid in ft.index and ft.at[rid, "status"] == "conflict":
            stages.append("full text: conflict")
        elif retrieval.get(rid) == "not_retrieved":
            stages.append("full text: not retrieved")
        elif rid in ta.index:
            st, label = ta.at[rid, "status"], ta.at[rid, "label"]
            if st == "conflict":
                stages.append("title/abstract: conflict")
            elif label == "include":
                stages.append("full text: awaiting decision")
            elif label in ("exclude", "maybe"):
                stages.append(f"title/abstract: {label if label == 'maybe' else 'excluded'}")
            else:
                stages.append("title/abstract: in progress")
        else:
            stages.append("unscreened")
    recs["stage"] = stages
    return recs


def records_with_stage(store: Store) -> pd.DataFrame:
    """Every record's fields, source, canonical id and current stage, in import order."""
    stages = record_stages(store)[["record_id", "stage"]]
    return records_frame(store).merge(stages, on="record_id", how="left")


def count_records(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(Record)) or 0)


def add_source_streaming(
    store: Store,
    *,
    name: str,
    kind: str,
    file_name: str,
    file_format: str,
    sha256: str,
    chunks: Iterable[Sequence[dict[str, Any]]],
    missing: dict[str, int] | None = None,
    search_date: str | None = None,
    query: str | None = None,
    actor: str | None = None,
    force: bool = False,
    on_progress: Any = None,
) -> int:
    """Add one imported file whose records arrive in chunks; the whole file lands or nothing.

    For exports too large to hold in memory (``review import`` streams every
    file through here): the duplicate-file check runs before the first chunk
    is read; an exception from ``chunks`` (a malformed record near the end of
    the file), from a row, or the process dying mid-way leaves the review
    unchanged. ``missing`` is read only after the last chunk, so a streaming
    reader may still be filling it in.

    On SQLite the chunks are parsed and checked into a scratch file first
    (:mod:`review.store.staging`) and the review is written in short
    transactions, hidden from every reader until the last one, so reviewers
    keep deciding during a long import and never see half a file.
    PostgreSQL locks rows, not the database, so there each chunk is inserted
    as it arrives, in one transaction.
    """
    if kind not in SOURCE_KINDS:
        raise RepoError(f"source kind must be one of {', '.join(SOURCE_KINDS)}, not {kind!r}")
    sweep_abandoned(store)  # a killed import's hidden rows would block this file's re-import
    with store.session() as s:
        earlier = _first_import(s, sha256)
        if earlier is not None and not force:
            raise _duplicate(file_name, earlier)
    meta = dict(name=name, kind=kind, file_name=file_name, file_format=file_format,
                sha256=sha256, search_date=search_date, query=query, imported_by=actor)
    path = sqlite_path(store.url)
    if path is not None:
        return _add_staged(store, path, meta, chunks, missing, force, on_progress)
    with store.session() as s:
        src = Source(**meta, record_count=0, missing={},
                     repeat_of=earlier.id if earlier is not None else None)
        _claim(s, src, file_name)
        # One INSERT statement per chunk whichever fields are empty (without
        # render_nulls the ORM splits a chunk by which keys are None).
        statement = insert(Record).execution_options(render_nulls=True)
        count = 0
        for chunk in chunks:
            rows = [_record_row(r, src.id, count + i + 1) for i, r in enumerate(chunk)]
            if not rows:
                continue
            s.execute(statement, rows)
            count += len(rows)
            if on_progress:
                on_progress(len(rows))
        src.record_count = count
        src.missing = dict(missing or {})
        audit(s, actor, "import", "source", src.id, name=name, kind=kind, file=file_name,
              records=count, sha256=sha256)
        return src.id


def _add_staged(store: Store, path: Any, meta: dict[str, Any],
                chunks: Iterable[Sequence[dict[str, Any]]], missing: dict[str, int] | None,
                force: bool, on_progress: Any) -> int:
    """SQLite: parse into a scratch file, then short copy transactions (see
    :mod:`review.store.staging`); the source stays hidden until the last one."""
    with record_stage(path) as stage:
        for chunk in chunks:
            rows = [_record_row(r, 0, stage.count + i + 1) for i, r in enumerate(chunk)]
            stage.add(rows)
            if on_progress and rows:
                on_progress(len(rows))

        def claim() -> int:
            with store.session() as s:
                earlier = _first_import(s, meta["sha256"])
                if earlier is not None and not force:
                    raise _duplicate(meta["file_name"], earlier)
                src = Source(**meta, record_count=stage.count, missing=dict(missing or {}),
                             repeat_of=earlier.id if earlier is not None else None,
                             importing=stage.marker)
                _claim(s, src, meta["file_name"])
                return src.id

        source_id = retry_busy(claim)
        try:
            with store.engine.connect() as conn, attached(conn, stage):
                for after in range(0, stage.count, COPY_CHUNK):
                    def copy_one(after: int = after) -> int:
                        with conn.begin():
                            return stage.copy_chunk(conn, source_id, after, COPY_CHUNK)

                    retry_busy(copy_one)

            def finish() -> None:
                with store.session() as s:
                    s.execute(update(Source).where(Source.id == source_id)
                              .values(importing=None))
                    audit(s, meta["imported_by"], "import", "source", source_id,
                          name=meta["name"], kind=meta["kind"], file=meta["file_name"],
                          records=stage.count, sha256=meta["sha256"])

            retry_busy(finish)
        except BaseException:
            delete_source_rows(store, source_id)
            raise
        return source_id
