"""The plain tables the evidence tables and reference lists are made from, read from the store.

Three questions decide what a table may show, and they are answered here once so
the characteristics table, the synthesis tables, the reference list and the PRISMA
counts agree with each other:

* **Which studies are included?** :mod:`review.report.evidence` says, for every
  view: a report counts when its record is not linked as a duplicate, it was
  retrieved and its final full-text label (agreed, resolved or automated, see
  :mod:`review.stages`) is *include*; a study is included when any of its reports is, exactly as
  :mod:`review.report.prisma` counts "reports of new included studies" and "new
  studies". A report included but not yet grouped into a study is a study of its own.
* **What is a study called?** Its ``Study.label`` ("Okafor 2019"), else "Surname
  Year" from its earliest report; two studies with the same name become "Smith
  2019a" and "Smith 2019b" in every table.
* **Which extraction counts?** The rule's one home is
  :func:`review.extraction.counting.choose_extractions`; here it is applied to
  the included studies with their table citations (:func:`extractions_frame`,
  :func:`final_extractions`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from review.extraction.counting import (
    COUNTING_STATUSES,
    EXTRACTION_COLUMNS,
    ChosenExtractions,
    choose_extractions,
)
from review.report import evidence
from review.report.references import short_citation
from review.stages import Stage
from review.store import Store, repo
from review.store.models import Extraction, Record, Report, Study

#: Record fields a reference or a table needs.
BIB_COLUMNS: tuple[str, ...] = (
    "title", "authors", "year", "journal", "volume", "issue", "pages", "doi", "pmid",
    "url", "type", "publisher", "keywords", "abstract",
)
REPORT_COLUMNS: tuple[str, ...] = (
    "report_id", "record_id", "study_id", "study_label", "retrieval", "ft_label", "ft_status",
    "ft_reason", "duplicate", *BIB_COLUMNS,
)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str | list | tuple | dict):
        return len(value) == 0 if not isinstance(value, str) else not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------------------ reports


def reports_frame(store: Store) -> pd.DataFrame:
    """Every report with its study, retrieval state, final full-text outcome and record fields.

    A canonical record may lack a field (a DOI, pages) that a duplicate had; the
    fields filled from duplicates when the cluster was formed (``Record.merged``)
    fill those gaps, so a reference is as complete as the review's data allows.
    """
    with store.session() as s:
        rows = s.execute(
            select(Report.id, Report.record_id, Report.study_id, Study.label, Report.retrieval,
                   Record.merged, *[getattr(Record, c) for c in BIB_COLUMNS])
            .join(Record, Record.id == Report.record_id)
            .outerjoin(Study, Study.id == Report.study_id)
            .order_by(Report.id)
        ).all()
    cols = ["report_id", "record_id", "study_id", "study_label", "retrieval", "merged",
            *BIB_COLUMNS]
    df = pd.DataFrame(rows, columns=cols)
    for i, merged in enumerate(df["merged"]):
        for column, value in (merged or {}).items():
            if column in BIB_COLUMNS and _blank(df.at[i, column]) and not _blank(value):
                df.at[i, column] = value
    ft = repo.outcomes(store, Stage.FULL_TEXT).set_index("record_id")
    df["ft_label"] = [ft["label"].get(r) if r in ft.index else None for r in df["record_id"]]
    df["ft_status"] = [ft["status"].get(r) if r in ft.index else None for r in df["record_id"]]
    df["ft_reason"] = [ft["reason"].get(r) if r in ft.index else None for r in df["record_id"]]
    df["study_id"] = df["study_id"].astype("Int64")
    df["duplicate"] = df["record_id"].isin(evidence.linked_records(store))
    return df[list(REPORT_COLUMNS)]


def disambiguate(citations: Mapping[Any, str]) -> dict[Any, str]:
    """Give different keys that share a citation the suffixes a, b, c... in the mapping's order.

    Done before any table is built, so "Smith 2019a" is the same study in the
    characteristics table, the mechanism table and the reference list.
    """
    by_citation: dict[str, list[Any]] = {}
    for key, citation in citations.items():
        by_citation.setdefault(citation, []).append(key)
    out = dict(citations)
    for citation, keys in by_citation.items():
        if len(keys) > 1:
            for letter, key in zip("abcdefghijklmnopqrstuvwxyz", keys, strict=False):
                out[key] = f"{citation}{letter}"
    return out


def _counted(reports: pd.DataFrame, label: str) -> pd.DataFrame:
    """Reports that count with this final full-text label (:mod:`review.report.evidence`)."""
    ft = {int(r): lab for r, lab in zip(reports["record_id"], reports["ft_label"], strict=True)}
    dups = reports.loc[reports["duplicate"].astype(bool), "record_id"] \
        if "duplicate" in reports.columns else ()
    return reports[evidence.counted_mask(reports, ft, dups, label)]


def included_from(reports: pd.DataFrame) -> pd.DataFrame:
    """Reports of included studies, one row each, with the study's key and citation.

    ``study_key`` is ``"study:<id>"`` for a grouped report and ``"report:<id>"`` for
    one not grouped yet (it counts as a study of its own, as in the PRISMA counts).
    """
    inc = _counted(reports, "include").copy()
    if inc.empty:
        return inc.assign(study_key=pd.Series(dtype=object),
                          short_citation=pd.Series(dtype=object))
    inc["study_key"] = [evidence.study_key(s, r)
                        for s, r in zip(inc["study_id"], inc["report_id"], strict=True)]
    names: dict[Any, str] = {}
    for key, part in inc.groupby("study_key", sort=False):
        labels = [str(x).strip() for x in part["study_label"] if not _blank(x)]
        if labels:
            names[key] = labels[0]
        else:
            first = part.assign(_y=pd.to_numeric(part["year"], errors="coerce")).sort_values(
                ["_y", "report_id"], na_position="last").iloc[0]
            names[key] = short_citation(first["authors"], first["year"])
    sort_key = {k: (0, int(k.split(":")[1])) if k.startswith("study:")
                else (1, int(k.split(":")[1])) for k in names}
    unique = disambiguate(dict(sorted(names.items(), key=lambda kv: sort_key[kv[0]])))
    inc["short_citation"] = inc["study_key"].map(unique)
    first = ["study_key", "study_id", "short_citation", "report_id", "record_id"]
    rest = [c for c in inc.columns if c not in first]
    return inc[first + rest].reset_index(drop=True)


def excluded_from(reports: pd.DataFrame) -> pd.DataFrame:
    """Full-text excluded reports with their final reason and a "Surname Year" citation."""
    exc = _counted(reports, "exclude").copy()
    if exc.empty:
        return exc.assign(short_citation=pd.Series(dtype=object), reason=pd.Series(dtype=object))
    names = {int(r.report_id): short_citation(r.authors, r.year)
             for r in exc.sort_values("report_id").itertuples(index=False)}
    unique = disambiguate(names)
    exc["short_citation"] = [unique[int(r)] for r in exc["report_id"]]
    exc["reason"] = [str(r) if not _blank(r) else "No reason given" for r in exc["ft_reason"]]
    first = ["report_id", "record_id", "short_citation", "reason"]
    return exc[first + [c for c in exc.columns if c not in first]].reset_index(drop=True)


def included_studies(store: Store) -> pd.DataFrame:
    """Reports of the review's included studies (see :func:`included_from`)."""
    return included_from(reports_frame(store))


def excluded_reports(store: Store) -> pd.DataFrame:
    """Reports excluded at full text, with reasons (see :func:`excluded_from`)."""
    return excluded_from(reports_frame(store))


# --------------------------------------------------------------------------- extractions


def _extraction_rows(store: Store) -> pd.DataFrame:
    with store.session() as s:
        rows = s.execute(select(
            Extraction.id, Extraction.study_id, Extraction.form_id, Extraction.form_version,
            Extraction.reviewer_id, Extraction.status, Extraction.values, Extraction.updated_at,
        ).order_by(Extraction.id)).all()
    return pd.DataFrame(rows, columns=list(EXTRACTION_COLUMNS))


def _study_citations(store: Store, included_only: bool) -> dict[int, str]:
    inc = included_studies(store)
    citations = {int(s): c for s, c in zip(inc["study_id"], inc["short_citation"], strict=True)
                 if pd.notna(s)}
    if included_only:
        return citations
    with store.session() as s:
        labels = dict(s.execute(select(Study.id, Study.label).order_by(Study.id)).all())
    others = {int(k): v for k, v in labels.items() if int(k) not in citations}
    return {**citations, **disambiguate(others)}


def single_extraction(store: Store) -> bool:
    """Whether the review extracts each study once (the default) or twice with consensus."""
    return int(repo.get_settings(store).get("extractors_per_study", 1) or 1) < 2


def choose_from_store(store: Store, status: Sequence[str] = COUNTING_STATUSES, *,
                      included_only: bool = True) -> ChosenExtractions:
    """:func:`choose_extractions` over a review, with the studies' table citations."""
    return choose_extractions(_extraction_rows(store), _study_citations(store, included_only),
                              status, single_extraction(store))


def extractions_frame(store: Store, status: Sequence[str] = COUNTING_STATUSES, *,
                      included_only: bool = True) -> pd.DataFrame:
    """The extractions that count, one row per study per form, as the synthesis expects.

    Columns: ``study_id``, ``short_citation``, ``form_id``, ``form_version`` (int),
    ``values`` (plus ``status`` and ``extraction_id`` for tracing). By default only
    included studies appear, since a study excluded after extraction must not reach
    a table.
    """
    return choose_from_store(store, status, included_only=included_only).frame


def final_extractions(store: Store) -> list[dict[str, Any]]:
    """The extractions that count for the included studies, in the records shape
    :func:`review.synthesis.mechanisms.extractions_frame` takes: what the synthesis
    page, the summary of findings and ``review tables`` all read, so they agree on
    which values count."""
    return [{"study_id": int(r.study_id), "short_citation": r.short_citation,
             "form_id": r.form_id, "form_version": int(r.form_version), "values": r.values}
            for r in extractions_frame(store).itertuples(index=False)]


# ----------------------------------------------------------------------------- codebook


def forms_dir(store: Store | None = None) -> Path:
    """Where the review's forms and codebook are (see ``find_forms_dir``)."""
    from review.extraction.forms import find_forms_dir

    return find_forms_dir(repo.get_settings(store).get("extraction_forms_dir") if store else None)


def codebook_for(store: Store | None = None):
    """The review's codebook (labels and order of codes), or None where there is none."""
    from review.extraction import load_codebook

    folder = forms_dir(store)
    if folder is None or not (folder / "codebook.yaml").is_file():
        return None
    return load_codebook(folder / "codebook.yaml")
