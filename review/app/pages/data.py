"""Data page (lead): import search exports, deduplicate, download records and decisions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from review.app.context import AppContext
from review.app.widgets import escape_markdown
from review.dedup import review_ops as dedup_ops
from review.io import ImportFormatError
from review.io import store_ops as ops
from review.store import repo
from review.store.models import SOURCE_KINDS

TITLE = "Data"
ICON = ":material/database:"
URL = "data"
ROLES = ("lead",)

_FLASH = "data_flash"
_SUMMARY = "data_import_summary"
_KIND_HELP = ("PRISMA 2020 counts databases and registers in one column and websites, "
              "organisations and citation searching in the other.")


def render(ctx: AppContext) -> None:
    ctx.require("lead")
    st.title(TITLE)
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        st.success(escape_markdown(flash))
    _import(ctx)
    st.divider()
    _dedup(ctx)
    st.divider()
    _export(ctx)


# --- import -----------------------------------------------------------------------------------

def _import(ctx: AppContext) -> None:
    st.header("Import a search export")
    summary: ops.ImportSummary | None = st.session_state.pop(_SUMMARY, None)
    if summary is not None:
        _show_summary(summary)

    nonce = st.session_state.setdefault("data_upload_nonce", 0)
    upload = st.file_uploader("Search export (RIS, PubMed/MEDLINE, Web of Science, BibTeX, "
                              "CSV, TSV or XLSX)", key=f"data_upload_{nonce}")
    c1, c2 = st.columns(2)
    source = c1.text_input("Source name", key="data_source",
                           placeholder="e.g. PubMed, PsycINFO (Ovid), ClinicalTrials.gov")
    kind = c2.selectbox("Kind", SOURCE_KINDS, key="data_kind", help=_KIND_HELP)
    c3, c4 = st.columns(2)
    search_date = c3.text_input("Search date", key="data_search_date",
                                placeholder="e.g. 2024-03-01")
    force = c4.checkbox("Import even if this file was imported before", key="data_force")
    query = st.text_area("Search strategy (optional)", key="data_query", height=80)

    if st.button("Import", key="data_import", type="primary", disabled=upload is None):
        if upload is None:
            return
        bar = st.progress(0.0, text=f"Reading {upload.name}")

        def progress(done: int, total: int) -> None:
            bar.progress(done / total if total else 1.0,
                         text=f"Storing records: {done:,} of {total:,}")

        try:
            result = ops.import_upload(
                ctx.store, upload.getvalue(), upload.name, source=source, kind=kind,
                search_date=search_date, query=query, force=force, actor=ctx.user.username,
                on_progress=progress)
        except ImportFormatError as exc:
            bar.empty()
            st.error(escape_markdown(f"Nothing was imported. {exc}"))
            return
        except repo.DuplicateImportError as exc:
            bar.empty()
            message = str(exc).replace("use --force to import it again",
                                       "tick “Import even if this file was imported before” "
                                       "to import it again")
            st.error(escape_markdown(f"Nothing was imported. {message}"))
            return
        except repo.RepoError as exc:
            bar.empty()
            st.error(escape_markdown(str(exc)))
            return
        st.session_state[_SUMMARY] = result
        st.session_state["data_upload_nonce"] = nonce + 1  # an empty uploader for the next file
        st.rerun()

    sources = repo.sources_frame(ctx.store)
    if sources.empty:
        st.info("No sources yet: import the first search export above.")
        return
    st.subheader("Sources")
    st.dataframe(pd.DataFrame({
        "source": sources["source_id"], "name": sources["name"], "kind": sources["kind"],
        "file": sources["file_name"], "format": sources["format"],
        "records": sources["records"], "imported": sources["imported_at"],
    }), hide_index=True)
    st.caption(f"{int(sources['records'].sum()):,} records from {len(sources)} source(s).")


def _show_summary(s: ops.ImportSummary) -> None:
    st.success(escape_markdown(
        f"Imported {s.records:,} records from {s.file_name} as source “{s.source}” "
        f"(#{s.source_id}, {s.kind}, {s.fmt})."))
    missing = {k: v for k, v in s.missing.items() if v}
    if missing:
        st.text("Records missing a key field:")
        st.dataframe(pd.DataFrame({
            "field": list(missing), "records missing it": list(missing.values()),
            "share": [f"{v / s.records:.0%}" if s.records else "" for v in missing.values()],
        }), hide_index=True)
    else:
        st.text("Every record has a title, authors, year, abstract and DOI.")
    for w in s.warnings[:20]:
        st.warning(escape_markdown(w))
    if len(s.warnings) > 20:
        st.text(f"… and {len(s.warnings) - 20} more warnings.")


# --- deduplication ----------------------------------------------------------------------------

def _dedup(ctx: AppContext) -> None:
    st.header("Deduplicate")
    st.caption("Certain duplicates are linked to one canonical record (never deleted); "
               "uncertain pairs wait on the duplicates page.")
    if st.button("Run deduplication", key="data_dedup"):
        bar = st.progress(0.0, text="Starting")

        def progress(fraction: float, text: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=text)

        run = dedup_ops.run_deduplication(ctx.store, ctx.user.username, progress)
        st.session_state[_FLASH] = run.message
        st.session_state["data_last_run"] = run.run_id if run.links_added else None
        st.rerun()
    last = st.session_state.get("data_last_run")
    if last:
        st.caption("A run gone wrong can be undone as a whole; a person's own links stay, "
                   "and the pairs it had linked are not linked automatically again.")
        if st.button(f"Undo deduplication run {last}", key="data_dedup_undo"):
            from review.dedup.store_ops import DedupStoreError

            try:
                n = dedup_ops.undo_deduplication(ctx.store, last, ctx.user.username)
            except DedupStoreError as exc:
                st.error(escape_markdown(str(exc)))
                return
            st.session_state["data_last_run"] = None
            st.session_state[_FLASH] = f"Run {last} undone: {n} link(s) removed."
            st.rerun()


# --- export -----------------------------------------------------------------------------------

def _export(ctx: AppContext) -> None:
    st.header("Download")
    c1, c2 = st.columns(2)
    what = c1.radio("Table", list(ops.EXPORT_FORMATS), key="data_export_what", horizontal=True,
                    format_func=lambda w: {"records": "Records with their stage",
                                           "decisions": "Decisions (full log)"}[w])
    fmt = c2.radio("Format", ops.EXPORT_FORMATS[what], key=f"data_export_fmt_{what}",
                   horizontal=True, format_func=str.upper)
    if st.button("Prepare the file", key="data_export"):
        table = (ops.records_for_export(ctx.store) if what == "records"
                 else ops.decisions_for_export(ctx.store))
        st.session_state["data_export_file"] = (what, fmt, len(table),
                                                ops.export_bytes(table, fmt))
    ready = st.session_state.get("data_export_file")
    if ready is not None:
        r_what, r_fmt, n, data = ready
        st.download_button(f"Download {r_what} ({n:,} rows, {r_fmt.upper()})", data,
                           file_name=f"{r_what}.{r_fmt}", mime=ops.MIME[r_fmt],
                           key="data_download")
