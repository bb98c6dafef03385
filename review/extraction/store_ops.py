"""Extraction over the store: who extracted which study with which form, and what is final.

A study's values for one form live in ``extraction`` rows keyed by study, form id,
form *version* and reviewer. Keeping the version in the key is what makes a form
change safe: re-extracting under version 2 writes a new row and never touches
the values validated against version 1. A reviewer's row is a ``draft`` until
they ``submitted`` it (submitting validates it against its exact form version);
with dual extraction the lead's ``consensus`` row (``reviewer_id`` empty; the
audit log says who built it) is what counts. With single extraction a
submitted row counts on its own. A ``final`` row (imported values, such as
the demo's) counts in either mode.

Which row counts is decided in one place, :mod:`review.extraction.counting`;
the synthesis and the tables read the counting rows of the included studies
through :func:`review.report.inputs.final_extractions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from review.extraction import Form, FormLibrary, load_forms, validate_values
from review.extraction.counting import EXTRACTION_COLUMNS, choose_extractions
from review.extraction.forms import find_forms_dir
from review.screening import fulltext
from review.store import Store, repo
from review.store.models import Extraction, Record, Report, Study, utcnow

DRAFT, SUBMITTED, FINAL, CONSENSUS = "draft", "submitted", "final", "consensus"
COLUMNS = list(EXTRACTION_COLUMNS)


class ExtractionError(ValueError):
    """An extraction that cannot be saved as asked; the message says why and where."""


def forms_dir(settings: Mapping[str, Any] | None = None) -> Path:
    """Where the review's forms are (:func:`review.extraction.forms.find_forms_dir`)."""
    return find_forms_dir((settings or {}).get("extraction_forms_dir"))


def library(settings: Mapping[str, Any] | None = None) -> FormLibrary:
    return load_forms(forms_dir(settings))


def extractors_per_study(settings: Mapping[str, Any]) -> int:
    """1 (single extraction) or 2 (dual, with consensus); defaults to single."""
    return 2 if int(settings.get("extractors_per_study", 1) or 1) >= 2 else 1


# --- reading ----------------------------------------------------------------------------------

def studies_to_extract(store: Store) -> pd.DataFrame:
    """Studies with at least one report included at full text: study_id, study, reports."""
    studies = fulltext.studies_frame(store)
    # astype(bool): an empty frame's column is object-typed, and pandas would read it as labels
    chosen = studies[studies["included"].astype(bool)]
    return chosen[["study_id", "study", "reports"]].reset_index(drop=True)


def study_pdfs(store: Store, study_id: int) -> list[dict[str, Any]]:
    """The study's reports that have a stored PDF, oldest report first: record_id, report_id,
    title, pdf_path, pdf_sha256 (the extraction page shows the PDF beside the form)."""
    with store.session() as s:
        rows = s.execute(select(Report.record_id, Report.id, Record.title, Report.pdf_path,
                                Report.pdf_sha256)
                         .join(Record, Record.id == Report.record_id)
                         .where(Report.study_id == int(study_id), Report.pdf_path.isnot(None))
                         .order_by(Report.id)).all()
    return [{"record_id": int(r[0]), "report_id": int(r[1]), "title": r[2] or "",
             "pdf_path": r[3], "pdf_sha256": r[4]} for r in rows]


def extractions_frame(store: Store, study_id: int | None = None) -> pd.DataFrame:
    with store.session() as s:
        q = select(Extraction.id, Extraction.study_id, Extraction.form_id,
                   Extraction.form_version, Extraction.reviewer_id, Extraction.status,
                   Extraction.values, Extraction.updated_at)
        if study_id is not None:
            q = q.where(Extraction.study_id == study_id)
        rows = s.execute(q.order_by(Extraction.id)).all()
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["form_version"] = df["form_version"].astype(int)
    return df


def _mine(rows: pd.DataFrame, study_id: int, form_id: str, reviewer_id: int | None
          ) -> pd.DataFrame:
    sel = (rows["study_id"] == study_id) & (rows["form_id"] == form_id)
    if reviewer_id is None:
        return rows[sel & rows["reviewer_id"].isna()]
    return rows[sel & (rows["reviewer_id"] == reviewer_id)]


def latest_own(store: Store, study_id: int, form_id: str, reviewer_id: int
               ) -> dict[str, Any] | None:
    """This reviewer's newest-version row for a study and form (any status), or None."""
    rows = _mine(extractions_frame(store, study_id), study_id, form_id, reviewer_id)
    if rows.empty:
        return None
    row = rows.sort_values(["form_version", "extraction_id"]).iloc[-1]
    return row.to_dict()


def submitted(store: Store, study_id: int, form_id: str, version: int) -> pd.DataFrame:
    """Reviewers' submitted rows for one study and form version (the inputs of a consensus)."""
    rows = extractions_frame(store, study_id)
    return rows[(rows["form_id"] == form_id) & (rows["form_version"] == version)
                & (rows["status"] == SUBMITTED)].reset_index(drop=True)


def final_rows(rows: pd.DataFrame, per_study: int) -> pd.DataFrame:
    """The rows that count, one per study and form, by the rule of
    :func:`review.extraction.counting.choose_extractions` (its one home), so the
    extraction page's progress and the synthesis never disagree on which row counts."""
    citations = {int(sid): f"study {int(sid)}" for sid in rows["study_id"].unique()}
    chosen = choose_extractions(rows, citations, single_extraction=per_study < 2).frame
    return rows[rows["extraction_id"].isin(chosen["extraction_id"])].reset_index(drop=True)


def progress_frame(store: Store, forms: list[Form], per_study: int) -> pd.DataFrame:
    """Per study (rows) and form (columns), where extraction stands, in words."""
    studies = studies_to_extract(store)
    rows = extractions_frame(store)
    final = final_rows(rows, per_study)
    done = set(zip(final["study_id"], final["form_id"], strict=True))
    table: dict[str, list[Any]] = {"study": list(studies["study"])}
    for form in forms:
        col = []
        for sid in studies["study_id"]:
            mine = rows[(rows["study_id"] == sid) & (rows["form_id"] == form.id)]
            n_sub = int((mine["status"] == SUBMITTED).sum())
            if (sid, form.id) in done:
                col.append("done")
            elif n_sub >= per_study:
                col.append("needs consensus")
            elif n_sub:
                col.append(f"{n_sub}/{per_study} submitted")
            elif not mine.empty:
                col.append("draft")
            else:
                col.append("")
        table[form.title] = col
    out = pd.DataFrame(table)
    out["forms done"] = [sum(out.loc[i, f.title] == "done" for f in forms)
                         for i in range(len(out))]
    return out


# --- writing ----------------------------------------------------------------------------------

def save(store: Store, *, study_id: int, form: Form, reviewer_id: int, values: dict[str, Any],
         submit: bool, actor: str | None) -> int:
    """Save a reviewer's values for a study under ``form`` (its exact version).

    A draft may be incomplete; submitting validates against the form and is
    refused with every problem listed. Returns the extraction id.
    """
    if submit:
        problems = validate_values(form, values)
        if problems:
            raise ExtractionError("Not submitted. Fix these first: " +
                                  "; ".join(describe_problems(form, problems)))
    return _upsert(store, study_id=study_id, form=form, reviewer_id=reviewer_id, values=values,
                   status=SUBMITTED if submit else DRAFT, actor=actor)


def save_consensus(store: Store, *, study_id: int, form: Form, values: dict[str, Any],
                   actor: str | None) -> int:
    """The lead's consensus values (already built by ``build_consensus``), validated again."""
    problems = validate_values(form, values)
    if problems:
        raise ExtractionError("the consensus is not valid: " +
                              "; ".join(str(p) for p in problems))
    return _upsert(store, study_id=study_id, form=form, reviewer_id=None, values=values,
                   status=CONSENSUS, actor=actor)


def _upsert(store: Store, *, study_id: int, form: Form, reviewer_id: int | None,
            values: dict[str, Any], status: str, actor: str | None) -> int:
    with store.session() as s:
        if s.get(Study, study_id) is None:
            raise ExtractionError(f"there is no study #{study_id}")
        q = select(Extraction).where(Extraction.study_id == study_id,
                                     Extraction.form_id == form.id,
                                     Extraction.form_version == str(form.version))
        q = q.where(Extraction.reviewer_id.is_(None) if reviewer_id is None
                    else Extraction.reviewer_id == reviewer_id)
        row = s.scalars(q).first()
        old = None
        if row is None:
            row = Extraction(study_id=study_id, form_id=form.id, form_version=str(form.version),
                             reviewer_id=reviewer_id, values=values, status=status)
            s.add(row)
        else:
            old = {"status": row.status, "values": row.values}
            row.values, row.status, row.updated_at = values, status, utcnow()
        s.flush()
        repo.audit(s, actor, f"extraction_{status}", "extraction", row.id, study_id=study_id,
                   form_id=form.id, form_version=form.version, reviewer_id=reviewer_id,
                   old=old)
        return row.id


def human_path(form: Form, path: str) -> str:
    """A value problem's path in the form's own words: ``outcomes[2].measure`` →
    "Outcomes, row 3 › Measure" (labels, rows counted from 1), so a reviewer reads
    what to fix instead of internal field ids."""
    import re as _re

    words: list[str] = []
    fields = form.fields
    for part in [p for p in path.split(".") if p]:
        m = _re.fullmatch(r"([A-Za-z0-9_]+)(?:\[(\d+)\])?", part)
        name, row = (m.group(1), m.group(2)) if m else (part, None)
        field = next((f for f in fields if f.id == name), None)
        label = field.label if field is not None else name.replace("_", " ")
        words.append(label + (f", row {int(row) + 1}" if row is not None else ""))
        fields = field.fields if field is not None else ()
    return " › ".join(words) if words else form.title


def describe_problems(form: Form, problems: list) -> list[str]:
    """Each problem as "Label › Sub-label: message" (see :func:`human_path`)."""
    return [f"{human_path(form, p.path)}: {p.message}" if p.path else str(p.message)
            for p in problems]
