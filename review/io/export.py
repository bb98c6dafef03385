"""Write records out as CSV, XLSX or RIS, ready to reopen in the readers.

Two promises, both for the reviewer's sake:

* **Safe to open in a spreadsheet.** A title such as ``=HYPERLINK(...)`` or
  ``@SUM(...)`` in a search export would run as a formula when a colleague
  opens the CSV in Excel (CSV/formula injection). Text cells that start with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are written with a
  leading apostrophe, which spreadsheets show as plain text; our own CSV/XLSX
  reader removes that apostrophe again, so exports round-trip.
* **Nothing half-written.** Each writer fills a temporary file next to the
  target and renames it into place only when complete.

Lists (authors, keywords) are joined with ``"; "``, which the readers split
again. The ``original`` column (the raw tags) is left out of tables: it is a
nested structure, and the store keeps it.
"""

from __future__ import annotations

import math
import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import rispy
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from review.io.fields import TYPE_TO_RIS
from review.records import FIELDS

#: Characters that make a spreadsheet treat a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Excel refuses longer cells.
XLSX_CELL_LIMIT = 32_767
LIST_SEPARATOR = "; "


def neutralise(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would run as a formula with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def records_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records (the ``review.records`` shape, plus any extra keys) as a DataFrame:
    every normalised field, in the shared order, then the extra keys."""
    frame = pd.DataFrame.from_records(records)
    for column in FIELDS:  # every export has the same columns, even when all are empty
        if column not in frame.columns:
            frame[column] = None
    return frame[[*FIELDS, *(c for c in frame.columns if c not in FIELDS)]]


def table_for_export(records_df: pd.DataFrame) -> pd.DataFrame:
    """The cells as they will be written: lists joined, gaps empty, formulas neutralised."""
    frame = records_df.drop(columns=[c for c in ("original",) if c in records_df.columns])
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        series = frame[column]
        if column == "year":
            years = pd.to_numeric(series, errors="coerce")
            if years.notna().sum() == series.notna().sum():  # nothing lost: write numbers
                out[column] = years.astype("Int64")
                continue
        elif pd.api.types.is_numeric_dtype(series):
            out[column] = series
            continue
        out[column] = series.map(_cell)
    return out.reset_index(drop=True)


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, list | tuple):
        value = LIST_SEPARATOR.join(str(v) for v in value if v is not None)
    elif isinstance(value, dict):
        value = "; ".join(f"{k}: {v}" for k, v in value.items())
    elif not isinstance(value, str):
        return value
    return neutralise(value)


def write_csv(records_df: pd.DataFrame, path: Path | str) -> Path:
    """Write records as UTF-8 CSV with a byte-order mark (so Excel reads accents right)."""
    table = table_for_export(records_df)
    with _atomic(Path(path)) as tmp:
        # CRLF rows (RFC 4180) also make the writer quote cells holding a bare CR.
        table.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return Path(path)


def write_xlsx(records_df: pd.DataFrame, path: Path | str, *, sheet_name: str = "records") -> Path:
    """Write records as an Excel workbook (one sheet, header row frozen)."""
    table = table_for_export(records_df)
    truncated = 0
    for column in table.columns:
        if not pd.api.types.is_numeric_dtype(table[column]):
            truncated += int((table[column].map(_len) > XLSX_CELL_LIMIT).sum())
            table[column] = table[column].map(_xlsx_text)
    if truncated:
        warnings.warn(
            f"{truncated} cell(s) longer than Excel's {XLSX_CELL_LIMIT:,} characters were cut",
            stacklevel=2,
        )
    with _atomic(Path(path)) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            table.to_excel(writer, index=False, sheet_name=sheet_name)
            writer.sheets[sheet_name].freeze_panes = "A2"
    return Path(path)


def _len(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def _xlsx_text(value: Any) -> Any:
    """Remove control characters openpyxl cannot store; respect Excel's cell limit."""
    if not isinstance(value, str):
        return value
    # neutralise after stripping: "\x01=cmd|..." must not become a live "=cmd|..."
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_CELL_LIMIT])


def write_ris(records: list[dict[str, Any]], path: Path | str) -> Path:
    """Write records as RIS through rispy, readable by EndNote, Zotero and our reader.

    The PubMed id goes into a note (``N1  - PMID: 123``), where reference
    managers and :mod:`review.io.ris` look for it; other keys a caller added
    (``stage``, ``record_id``...) become notes ``key: value`` too.
    """
    references = [ris_reference(record) for record in records]
    with _atomic(Path(path)) as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rispy.dump(references, tmp, encoding="utf-8")
    return Path(path)


def ris_reference(record: dict[str, Any]) -> dict[str, Any]:
    """One record as a rispy reference (rispy's default field names)."""
    text: Callable[[Any], str | None] = _one_line
    reference: dict[str, Any] = {
        "type_of_reference": TYPE_TO_RIS.get(str(record.get("type") or "article"), "GEN")
    }
    simple = {
        "title": "title",
        "journal": "secondary_title",
        "volume": "volume",
        "issue": "number",
        "doi": "doi",
        "abstract": "abstract",
        "language": "language",
        "publisher": "publisher",
        "issn": "issn",
    }
    for field_name, ris_name in simple.items():
        value = text(record.get(field_name))
        if value:
            reference[ris_name] = value
    authors = [a for a in map(text, record.get("authors") or []) if a]
    if authors:
        reference["authors"] = authors
    year = record.get("year")
    if year is not None and not (isinstance(year, float) and math.isnan(year)):
        reference["year"] = str(int(year))
    pages = text(record.get("pages"))
    if pages:
        start, _, end = pages.partition("-")
        reference["start_page"] = start
        if end:
            reference["end_page"] = end
    keywords = [k for k in map(text, record.get("keywords") or []) if k]
    if keywords:
        reference["keywords"] = keywords
    url = text(record.get("url"))
    if url:
        reference["urls"] = [url]
    notes = []
    pmid = text(record.get("pmid"))
    if pmid:
        notes.append(f"PMID: {pmid}")
    for key, value in record.items():
        if key in FIELDS or key == "original" or value is None or isinstance(value, dict | list):
            continue
        value = text(value)
        if value:
            notes.append(f"{key}: {value}")
    if notes:
        reference["notes"] = notes
    return reference


def _one_line(value: Any) -> str | None:
    """RIS has one value per line: line breaks inside a value become spaces."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = " ".join(str(value).split())
    return text or None


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
    tmp.touch(exist_ok=False)  # ordinary permissions, unlike mkstemp's 0600
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
