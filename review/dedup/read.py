"""Read a file of records into the table :func:`find_duplicates` takes, for stand-alone runs.

CSV goes straight to pandas so its ``ID`` column survives as the record id
(benchmarks and outside tools join on it). RIS, MEDLINE (nbib/txt), Web of
Science and BibTeX go through the project's importers (:func:`review.io.read_records`),
and each record's id is the one the file gave it (BibTeX key, RIS ``ID``,
PubMed id) or else its position in the file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from review.dedup.normalise import text_of

CSV_SUFFIXES = frozenset({".csv", ".tsv", ".tab"})


class RecordsFileError(ValueError):
    """A records file that cannot be read; the message names the file and what is wrong."""


def read_table(path: Path | str) -> pd.DataFrame:
    """Records of ``path`` as a DataFrame with an ``ID`` column (strings, unique)."""
    path = Path(path)
    if not path.is_file():
        raise RecordsFileError(f"{path}: no such file")
    if path.suffix.lower() in CSV_SUFFIXES:
        return _read_csv(path)
    return _read_export(path)


def _read_csv(path: Path) -> pd.DataFrame:
    sep = "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","
    try:
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=True, encoding="utf-8-sig")
    except UnicodeDecodeError:
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=True, encoding="latin-1")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise RecordsFileError(f"{path.name}: not a readable CSV file ({exc})") from exc
    if df.empty and len(df.columns) == 0:
        raise RecordsFileError(f"{path.name}: the file holds no records")
    id_col = next((c for c in df.columns if c.lower() in {"id", "record_id", "key"}), None)
    if id_col is None:
        df.insert(0, "ID", [str(k + 1) for k in range(len(df))])
    else:
        ids = df[id_col].fillna("").astype(str).str.strip()
        blank = ids.index[ids == ""].tolist()
        if blank:
            # header is line 1, so row k of the frame is line k + 2 of the file
            raise RecordsFileError(
                f"{path.name}: line {blank[0] + 2} has no {id_col} (every record needs an id)"
            )
        repeated = ids[ids.duplicated()].tolist()
        if repeated:
            line = int(ids.index[ids.duplicated()][0]) + 2
            raise RecordsFileError(
                f"{path.name}: line {line} repeats {id_col} {repeated[0]!r}; ids must be unique"
            )
        df[id_col] = ids
        if id_col != "ID":
            df = df.rename(columns={id_col: "ID"})
    return df


def _read_export(path: Path) -> pd.DataFrame:
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
    return pd.DataFrame(rows)
