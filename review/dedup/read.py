"""Read a file of records into the plain columns the engine takes, for stand-alone runs.

CSV is read with the standard library so its ``ID`` column survives as the
record id (benchmarks and outside tools join on it) and a small file costs
no pandas import (half a second of CPU, more than deduplicating a few thousand
records). Cells are read as pandas reads them with ``dtype=str``: its default
missing-value markers (``NA``, ``NaN``, ``NULL``, an empty cell, ...) are None.
RIS, MEDLINE (nbib/txt), Web of Science and BibTeX go through the project's
importers (:func:`review.io.read_records`), and each record's id is the one the
file gave it (BibTeX key, RIS ``ID``, PubMed id) or else its position in the file.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from review.dedup.normalise import text_of
from review.dedup.prepare import RecordTable, record_table

CSV_SUFFIXES = frozenset({".csv", ".tsv", ".tab"})

#: pandas.read_csv's default missing-value markers (``keep_default_na=True``).
NA_VALUES = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)


class RecordsFileError(ValueError):
    """A records file that cannot be read; the message names the file and what is wrong."""


def read_records_file(path: Path | str) -> RecordTable:
    """Records of ``path`` as plain columns with an ``ID`` column (strings, unique)."""
    path = Path(path)
    if not path.is_file():
        raise RecordsFileError(f"{path}: no such file")
    if path.suffix.lower() in CSV_SUFFIXES:
        return _read_csv(path)
    return _read_export(path)


def read_table(path: Path | str):  # noqa: ANN201 - a DataFrame; pandas is imported here only
    """Records of ``path`` as a DataFrame with an ``ID`` column (strings, unique)."""
    import pandas as pd

    table = read_records_file(path)
    return pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in table.columns.items()})


def _rows(path: Path, encoding: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(line number, cells)]) of a CSV/TSV file; blank lines skipped."""
    delimiter = "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with path.open(newline="", encoding=encoding) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header: list[str] | None = None
        rows: list[tuple[int, list[str]]] = []
        for cells in reader:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if header is None:
                header = cells
            else:
                rows.append((reader.line_num, cells))
    return header or [], rows


def _read_csv(path: Path) -> RecordTable:
    try:
        try:
            header, rows = _rows(path, "utf-8-sig")
        except UnicodeDecodeError:
            header, rows = _rows(path, "latin-1")
    except csv.Error as exc:
        raise RecordsFileError(f"{path.name}: not a readable CSV file ({exc})") from exc
    if not header:
        raise RecordsFileError(f"{path.name}: the file holds no records")
    names = _unique_names(header)
    width = len(names)
    columns: dict[str, list[str | None]] = {name: [] for name in names}
    cols = list(columns.values())
    for line, cells in rows:
        if len(cells) > width:
            raise RecordsFileError(
                f"{path.name}: line {line} has {len(cells)} fields where the header has {width}"
            )
        for k, col in enumerate(cols):
            v = cells[k] if k < len(cells) else ""
            col.append(None if v in NA_VALUES else v)
    id_col = next((c for c in names if c.lower() in {"id", "record_id", "key"}), None)
    if id_col is None:
        columns = {"ID": [str(k + 1) for k in range(len(rows))], **columns}
    else:
        ids = [(v or "").strip() for v in columns[id_col]]
        seen: set[str] = set()
        for (line, _), rid in zip(rows, ids, strict=True):
            if not rid:
                raise RecordsFileError(
                    f"{path.name}: line {line} has no {id_col} (every record needs an id)"
                )
            if rid in seen:
                raise RecordsFileError(
                    f"{path.name}: line {line} repeats {id_col} {rid!r}; ids must be unique"
                )
            seen.add(rid)
        columns[id_col] = ids
        if id_col != "ID":
            columns = {("ID" if c == id_col else c): v for c, v in columns.items()}
    return RecordTable(columns, len(rows))


def _unique_names(header: list[str]) -> list[str]:
    """Column names made unique the way pandas does it ('x', 'x.1', 'x.2')."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for name in header:
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        out.append(name)
    return out


def _read_export(path: Path) -> RecordTable:
    try:
        from review.io import read_records
        from review.io.errors import ImportFormatError
    except ImportError as exc:  # the importers are a separate part of the project
        raise RecordsFileError(f"{path.name}: reading this format needs review.io ({exc})") from exc
    try:
        imported = read_records(path)
    except ImportFormatError as exc:
        raise RecordsFileError(str(exc)) from exc
    rows = []
    seen: set[str] = set()
    for k, rec in enumerate(imported.records, start=1):
        original = rec.get("original") or {}
        rid = ""
        for key in ("ID", "id", "key", "PMID"):
            rid = text_of(original.get(key))
            if rid:
                break
        rid = rid or text_of(rec.get("pmid")) or str(k)
        if rid in seen:  # a repeated id in the file: fall back to the position
            rid = f"{rid}#{k}"
        seen.add(rid)
        row = {f: rec.get(f) for f in rec if f != "original"}
        row["ID"] = rid
        rows.append(row)
    return record_table(rows)
