"""Write any table (a DataFrame) to CSV, formatted XLSX or a landscape DOCX table.

Review tables end up in three places: a CSV for re-analysis, a spreadsheet the team
reads and filters, and a Word document that becomes the paper's appendix. This module
is generic — mechanism tables, CMO tables, evidence tables and meta-analysis
summaries all go through it — so each stage produces a DataFrame and never deals
with file formats.

* CSV is UTF-8 with a byte-order mark, so Excel opens "Ó Súilleabháin 2020" and "◄►"
  correctly.
* XLSX gets a bold, shaded, frozen header row with filters, wrapped text and column
  widths fitted to the content (capped so long quotes wrap instead of running on).
* DOCX gets a landscape A4 page, a repeating header row and small type, which is how
  wide evidence tables are printed.

Several tables can go into one file: pass a mapping of name → DataFrame (a sheet per
table in XLSX, a heading and table each in DOCX; CSV takes one table only). Files are
written to a temporary name and moved into place, so an interrupted export never
leaves half a file where the old one was.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

Tables = pd.DataFrame | Mapping[str, pd.DataFrame]

#: Column width limits in XLSX, in characters.
MIN_WIDTH, MAX_WIDTH = 6, 60
_SHEET_FORBIDDEN = set("[]:*?/\\")


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Bring a meaningful index into the columns and make every column name text."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    named = any(n is not None for n in df.index.names)
    if named or not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    if isinstance(df.columns, pd.MultiIndex):
        df = df.copy()
        df.columns = [" / ".join(str(p) for p in col if str(p)) for col in df.columns]
    return df.rename(columns=str)


def _cell(value: Any) -> Any:
    """A value a spreadsheet or document can hold: lists joined, missing as blank."""
    if value is None:
        return None
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()  # numpy scalar → Python
    return value


def _as_mapping(tables: Tables, default_name: str) -> dict[str, pd.DataFrame]:
    if isinstance(tables, pd.DataFrame):
        return {default_name: tables}
    if not tables:
        raise ValueError("no tables to export")
    return dict(tables)


def _atomic(path: Path, write: Callable[[Path], None]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp files start at 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _sheet_cell(value: Any) -> Any:
    """A cell for CSV/XLSX: record text (titles, quotes) never runs as a formula."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from review.io.export import neutralise

    value = _cell(value)
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value)) if isinstance(value, str) else value


def to_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write one table as UTF-8 CSV (with BOM, for Excel)."""
    table = _prepare(df)
    table = table.apply(lambda col: col.map(_sheet_cell))
    return _atomic(Path(path), lambda tmp: table.to_csv(tmp, index=False, encoding="utf-8-sig"))


def _sheet_name(name: str, used: set[str]) -> str:
    clean = "".join("-" if ch in _SHEET_FORBIDDEN else ch for ch in str(name)).strip("'")
    clean = (clean or "Table")[:31]
    candidate, i = clean, 2
    while candidate.casefold() in used:
        suffix = f" ({i})"
        candidate = clean[: 31 - len(suffix)] + suffix
        i += 1
    used.add(candidate.casefold())
    return candidate


def to_xlsx(tables: Tables, path: str | Path, sheet_name: str = "Table") -> Path:
    """Write one table or several (one sheet each) as a formatted Excel workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    sheets = _as_mapping(tables, sheet_name)
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDE5F0")
    thin = Side(style="thin", color="A6A6A6")
    header_border = Border(bottom=thin)
    wrap_top = Alignment(wrap_text=True, vertical="top")

    def write(tmp: Path) -> None:
        wb = Workbook()
        wb.remove(wb.active)
        used: set[str] = set()
        for name, df in sheets.items():
            table = _prepare(df)
            ws = wb.create_sheet(_sheet_name(name, used))
            ws.append(list(table.columns))
            for row in table.itertuples(index=False):
                ws.append([_sheet_cell(v) for v in row])
            for cell in ws[1]:
                cell.font = header_font
                cell.fill = header_fill
                cell.border = header_border
                cell.alignment = Alignment(wrap_text=True, vertical="center")
            for row in ws.iter_rows(min_row=2):
                for cell in row:
                    cell.alignment = wrap_top
            for i, column in enumerate(table.columns, start=1):
                lengths = [len(str(column))]
                lengths += [
                    max((len(line) for line in str(v).splitlines()), default=0)
                    for v in table.iloc[:, i - 1]
                    if _cell(v) is not None
                ]
                width = min(MAX_WIDTH, max(MIN_WIDTH, max(lengths) + 2))
                ws.column_dimensions[get_column_letter(i)].width = width
            ws.freeze_panes = "A2"
            if len(table.columns):
                ws.auto_filter.ref = (
                    f"A1:{get_column_letter(len(table.columns))}{max(1, len(table) + 1)}"
                )
        wb.save(tmp)

    return _atomic(Path(path), write)


def to_docx(
    tables: Tables,
    path: str | Path,
    title: str | None = None,
    font_size: float = 8,
    landscape: bool = True,
    notes: str | None = None,
) -> Path:
    """Write one table or several (each under a heading) as a Word document.

    ``title`` heads the document; ``notes`` goes under the last table (e.g. "▲ benefit,
    ▼ harm, ◄► no change or mixed").
    """
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    parts = _as_mapping(tables, title or "Table")

    def write(tmp: Path) -> None:
        doc = Document()
        section = doc.sections[0]
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = section.page_height, section.page_width
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Cm(1.5))
        style = doc.styles["Normal"]
        style.font.size = Pt(font_size)
        if title:
            doc.add_heading(title, level=1)
        for name, df in parts.items():
            table_df = _prepare(df)
            if len(parts) > 1 or (not title and name):
                doc.add_heading(str(name), level=2)
            n_cols = max(1, len(table_df.columns))
            table = doc.add_table(rows=1, cols=n_cols)
            table.style = "Table Grid"
            header = table.rows[0]
            # Repeat the header row on every page.
            tr_pr = header._tr.get_or_add_trPr()
            flag = OxmlElement("w:tblHeader")
            flag.set(qn("w:val"), "true")
            tr_pr.append(flag)
            for cell, column in zip(header.cells, table_df.columns, strict=False):
                cell.text = ""
                run = cell.paragraphs[0].add_run(str(column))
                run.bold = True
                run.font.size = Pt(font_size)
                shading = OxmlElement("w:shd")
                shading.set(qn("w:val"), "clear")
                shading.set(qn("w:fill"), "DDE5F0")
                cell._tc.get_or_add_tcPr().append(shading)
            for row in table_df.itertuples(index=False):
                cells = table.add_row().cells
                for cell, value in zip(cells, row, strict=False):
                    shown = _cell(value)
                    cell.text = ""
                    run = cell.paragraphs[0].add_run("" if shown is None else str(shown))
                    run.font.size = Pt(font_size)
            doc.add_paragraph()
        if notes:
            doc.add_paragraph(notes)
        doc.save(tmp)

    return _atomic(Path(path), write)


def export_table(tables: Tables, path: str | Path, **options: Any) -> Path:
    """Write to CSV, XLSX or DOCX, chosen by the file's suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if not isinstance(tables, pd.DataFrame):
            if len(tables) != 1:
                raise ValueError(f"{path.name}: a CSV file holds one table; use .xlsx or .docx")
            tables = next(iter(tables.values()))
        return to_csv(tables, path)
    if suffix == ".xlsx":
        return to_xlsx(tables, path, **options)
    if suffix == ".docx":
        return to_docx(tables, path, **options)
    raise ValueError(f"{path.name}: export as .csv, .xlsx or .docx")
