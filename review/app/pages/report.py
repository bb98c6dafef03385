"""Report page (lead): the PRISMA 2020 flow diagram and counts, evidence tables, references
and the GRADE summary of findings.

Everything is derived from the store as the page opens (:mod:`review.report`),
so what the lead previews is what a journal gets; the files are the same ones
``review prisma`` and ``review tables`` write. Drawing and writing files is
cached on the counts and tables themselves, so a rerun (a click on a download)
does not redo them while the review is unchanged.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from review.app.context import AppContext
from review.app.widgets import escape_markdown
from review.extraction import FormError, load_forms
from review.extraction import store_ops as extraction_ops
from review.report import flow_diagram, prisma_files
from review.report.inputs import final_extractions, included_studies
from review.report.prisma import PrismaCounts, counts_from_store
from review.report.references import format_reference, grouped_references, write_references
from review.report.tables import EvidenceTables, tables_from_store, write_evidence_tables
from review.store import repo
from review.synthesis import mechanisms
from review.synthesis import store_ops as sof_ops

TITLE = "Report"
ICON = ":material/summarize:"
URL = "report"
ROLES = ("lead",)

VIEWS = ("PRISMA flow", "Evidence tables", "References", "Summary of findings")
MIME = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf",
        "json": "application/json", "csv": "text/csv", "ris": "application/x-research-info-systems",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "md": "text/markdown", "txt": "text/plain"}


def render(ctx: AppContext) -> None:
    ctx.require("lead")
    st.title(TITLE)
    view = st.radio("Show", VIEWS, horizontal=True, key="rep_view")
    if view == "PRISMA flow":
        _prisma(ctx)
    elif view == "Evidence tables":
        _tables(ctx)
    elif view == "References":
        _references(ctx)
    else:
        _summary_of_findings(ctx)


# --- PRISMA -----------------------------------------------------------------------------------

@st.cache_data(max_entries=16, show_spinner="Drawing the flow diagram…")
def _prisma_files(counts_json: str, title: str | None) -> dict[str, bytes]:
    """Diagram (SVG, PNG, PDF) and counts (JSON, PRISMA2020 CSV) for these counts, as bytes."""
    counts = PrismaCounts(**json.loads(counts_json))
    with tempfile.TemporaryDirectory(prefix="review-prisma-") as tmp:
        out = Path(tmp)
        paths = flow_diagram.save(counts, out, title=title)
        paths.append(prisma_files.write_json(counts, out / "prisma_counts.json"))
        paths.append(prisma_files.write_csv(counts, out / "prisma_counts.csv"))
        return {p.name: p.read_bytes() for p in paths}


def _prisma(ctx: AppContext) -> None:
    st.header("PRISMA 2020 flow diagram")
    counts = counts_from_store(ctx.store)
    for problem in counts.checks:
        st.warning(escape_markdown(f"Counts do not add up: {problem}"))
    title = repo.get_settings(ctx.store).get("review_title")
    files = _prisma_files(json.dumps(counts.__dict__, sort_keys=True, default=_plain_number),
                          title if title and title != "Untitled review" else None)
    st.image(files["prisma_flow.png"])
    _downloads(files, "rep_prisma")
    values = counts.as_prisma2020()
    st.subheader("Counts")
    st.caption("Field names of the PRISMA2020 R package's input file.")
    st.dataframe(pd.DataFrame({"box": list(values), "n": [str(v) for v in values.values()]}),
                 hide_index=True)
    c1, c2 = st.columns(2)
    c1.metric("Excluded by reviewers", counts.excluded_by_reviewers)
    c2.metric("Excluded by the stopping rule", counts.excluded_by_stopping_rule)


def _plain_number(value: object) -> object:
    """numpy numbers as Python numbers (the counts are JSON-keyed for the cache)."""
    return value.item() if hasattr(value, "item") else str(value)


# --- evidence tables --------------------------------------------------------------------------

@st.cache_data(max_entries=16, show_spinner="Writing the tables…")
def _table_files(tables: dict[str, pd.DataFrame], notes: tuple[str, ...],
                 title: str | None) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory(prefix="review-tables-") as tmp:
        paths = write_evidence_tables(EvidenceTables(dict(tables), list(notes), title), tmp)
        return {p.name: p.read_bytes() for p in paths}


def _tables(ctx: AppContext) -> None:
    st.header("Evidence tables")
    result = tables_from_store(ctx.store)
    for note in result.notes:
        st.caption(escape_markdown(note))
    numbered = result.numbered()
    if not any(len(df) for _, _, df in numbered):
        st.info("No included or excluded studies yet: the tables fill in from full-text "
                "decisions and extractions.")
    for i, spec, df in numbered:
        st.subheader(f"Table {i}. {spec.caption}")
        if df.empty:
            st.text("(empty)")
        else:
            st.dataframe(df, hide_index=True)
        st.caption(escape_markdown(spec.note))
    files = _table_files(result.tables, tuple(result.notes), result.title)
    _downloads(files, "rep_tables")


# --- references -------------------------------------------------------------------------------

@st.cache_data(max_entries=16, show_spinner="Writing the reference lists…")
def _reference_files(reports: pd.DataFrame) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory(prefix="review-refs-") as tmp:
        return {p.name: p.read_bytes() for p in write_references(reports, tmp)}


def _references(ctx: AppContext) -> None:
    st.header("References of included studies")
    reports = included_studies(ctx.store)
    if reports.empty:
        st.info("No study is included yet.")
        return
    groups = grouped_references(reports)
    st.caption(f"{len(groups)} studies, {len(reports)} reports (APA 7).")
    for citation, rows in groups:
        st.markdown(f"**{escape_markdown(citation)}**")
        for row in rows:
            st.markdown(escape_markdown(format_reference(row)))
    _downloads(_reference_files(_plain(reports)), "rep_refs")


def _plain(reports: pd.DataFrame) -> pd.DataFrame:
    """The report rows with lists as lists and gaps as None, so the cache can hash them."""
    out = reports.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = [list(v) if isinstance(v, list | tuple) else v for v in out[col]]
    return out


def _downloads(files: dict[str, bytes], key: str) -> None:
    names = sorted(files, key=lambda n: (Path(n).suffix, n))
    per_row = 5
    for start in range(0, len(names), per_row):
        cols = st.columns(per_row)
        for col, name in zip(cols, names[start:start + per_row], strict=False):
            suffix = Path(name).suffix.lstrip(".")
            col.download_button(name, files[name], file_name=name,
                                mime=MIME.get(suffix, "application/octet-stream"),
                                key=f"{key}_{name}")



# --- GRADE summary of findings ----------------------------------------------------------------

@st.cache_data(max_entries=8, show_spinner="Pooling each outcome…")
def _sof(records_json: str, forms_dir: str) -> sof_ops.Panel:
    """The summary of findings for these final extractions (cached on them)."""
    ex = mechanisms.extractions_frame(json.loads(records_json))
    return sof_ops.sof_panel(ex, load_forms(forms_dir).codebook)


def _summary_of_findings(ctx: AppContext) -> None:
    st.header("GRADE summary of findings")
    settings = ctx.settings or repo.get_settings(ctx.store)
    try:
        forms_dir = extraction_ops.forms_dir(settings)
        records = final_extractions(ctx.store)
    except (extraction_ops.ExtractionError, FormError) as exc:
        st.error(escape_markdown(f"The extraction forms cannot be loaded: {exc}"))
        return
    if not records:
        st.info("No final extraction yet: the summary of findings is drafted from pooled "
                "outcome data.")
        return
    panel = _sof(json.dumps(records, sort_keys=True, ensure_ascii=False, default=str),
                 str(forms_dir.resolve()))
    if panel.empty:
        st.info(panel.empty)
    st.caption("Each outcome and time point pooled as on the Synthesis page (random effects, "
               "REML; every result of a study in a three-level model). Inconsistency, "
               "imprecision and publication bias are rated from the numbers; risk of bias and "
               "indirectness are the team's to rate.")
    for name, table in panel.tables.items():
        st.dataframe(table, hide_index=True)
        for fmt, data in panel.downloads.get(name, {}).items():
            st.download_button(f"Summary of findings ({fmt.upper()})", data,
                               file_name=f"summary_of_findings.{fmt}", mime=MIME[fmt],
                               key=f"rep_sof_{fmt}")
    for note in panel.notes:
        st.caption(escape_markdown(note))
