"""What the lead's data page reads and writes: imports from uploads, export tables as bytes.

Imports go through the same two calls the command line uses
(:func:`review.io.read_bytes`, then :func:`review.store.repo.add_source`, one
transaction), so a file that fails to parse, or fails half-way into the
database, leaves the review exactly as it was. Exports go through
:mod:`review.io.export`, which neutralises spreadsheet formulas; this module
only shapes the tables and turns the writers' files into bytes for a
browser download.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from review.records import FIELDS
from review.stages import STAGES, current_decisions
from review.store import Store, repo

#: Export formats offered per table (RIS only makes sense for records).
EXPORT_FORMATS = {"records": ("csv", "xlsx", "ris"), "decisions": ("csv", "xlsx")}
MIME = {"csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ris": "application/x-research-info-systems"}


@dataclass
class ImportSummary:
    """What the lead is told after an import."""

    source_id: int
    source: str
    kind: str
    file_name: str
    fmt: str
    records: int
    missing: dict[str, int]
    warnings: list[str] = field(default_factory=list)


def import_upload(store: Store, data: bytes, file_name: str, *, source: str, kind: str,
                  search_date: str | None = None, query: str | None = None,
                  force: bool = False, actor: str | None = None,
                  on_progress: Callable[[int, int], None] | None = None) -> ImportSummary:
    """Read an uploaded search export and add it as one source; all or nothing.

    Raises :class:`review.io.ImportFormatError` for a file that cannot be read
    (naming the line), :class:`review.store.repo.DuplicateImportError` for a
    file imported before (unless ``force``), :class:`review.store.repo.RepoError`
    for a bad kind or name. ``on_progress(done, total)`` follows the storing.
    """
    from review.io import read_bytes

    source = (source or "").strip()
    if not source:
        raise repo.RepoError("name the source, e.g. 'PubMed' or 'PsycINFO (Ovid)'")
    imported = read_bytes(data, file_name)
    total, done = len(imported.records), 0

    def tick(k: int) -> None:
        nonlocal done
        done += k
        if on_progress:
            on_progress(done, total)

    source_id = repo.add_source(
        store, name=source, kind=kind, file_name=Path(file_name).name or file_name,
        file_format=imported.fmt, sha256=imported.sha256, records=imported.records,
        missing=imported.missing, search_date=(search_date or "").strip() or None,
        query=(query or "").strip() or None, actor=actor, force=force, on_progress=tick)
    return ImportSummary(source_id=source_id, source=source, kind=kind,
                         file_name=Path(file_name).name, fmt=imported.fmt, records=total,
                         missing={k: int(v) for k, v in imported.missing.items()},
                         warnings=list(imported.warnings))


def records_for_export(store: Store) -> pd.DataFrame:
    """Every record, every field, with its source, canonical id and current stage."""
    fields = [f for f in FIELDS]
    recs = repo.records_frame(store, columns=fields)
    stages = repo.record_stages(store).set_index("record_id")["stage"]
    recs.insert(3, "stage", [stages.get(r, "") for r in recs["record_id"]])
    first = ["record_id", "canonical_id", "source", "stage"]
    return recs[first + [c for c in recs.columns if c not in first and c != "source_id"]]


def decisions_for_export(store: Store) -> pd.DataFrame:
    """Every decision ever made (both stages), oldest first, marking the ones that count now.

    The log is append-only, so the export is too: ``current`` is true for each
    reviewer's latest, non-withdrawn decision per record and stage.
    """
    names = repo.reviewers_frame(store).set_index("reviewer_id")["username"]
    titles = repo.records_frame(store, columns=["title"]).set_index("record_id")["title"]
    frames = []
    for stage in STAGES:
        d = repo.decisions_frame(store, stage)
        if d.empty:
            continue
        current = set(current_decisions(d)["id"])
        d = d.assign(stage=stage, current=d["id"].isin(current))
        frames.append(d)
    cols = ["decision_id", "stage", "record_id", "title", "reviewer", "label", "reason", "note",
            "created_at", "current"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True).sort_values("id")
    out["reviewer"] = [names.get(r, str(r)) for r in out["reviewer_id"]]
    out["title"] = [titles.get(r) for r in out["record_id"]]
    out = out.rename(columns={"id": "decision_id"})
    # as text: Excel cannot hold timezone-aware times (PostgreSQL returns them)
    out["created_at"] = [t.isoformat() if hasattr(t, "isoformat") else t
                         for t in out["created_at"]]
    return out[cols].reset_index(drop=True)


def export_bytes(table: pd.DataFrame, fmt: str) -> bytes:
    """``table`` written by :mod:`review.io.export` in ``fmt``, as bytes for a download."""
    from review.io import export as exporters

    writers = {"csv": exporters.write_csv, "xlsx": exporters.write_xlsx,
               "ris": lambda df, out: exporters.write_ris(df.to_dict("records"), out)}
    if fmt not in writers:
        raise ValueError(f"export to csv, xlsx or ris, not {fmt!r}")
    with tempfile.TemporaryDirectory(prefix="review-export-") as tmp:
        out = Path(tmp) / f"export.{fmt}"
        writers[fmt](table, out)
        return out.read_bytes()
