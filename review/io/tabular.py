"""CSV, TSV and XLSX exports: Scopus, Web of Science tab-delimited, Zotero,
Covidence, Rayyan, EPPI and hand-made spreadsheets.

Every tool names its columns differently (``Title``, ``Article Title``,
``TI``; ``Source title``, ``Publication Title``, ``SO``), so columns are
matched case-insensitively, ignoring punctuation, against alias lists in
priority order; for each record the first non-empty matched column wins.
Unmatched columns are not lost: every non-empty cell is kept in
``original`` under its column name.
"""

from __future__ import annotations

import csv
import io
import re
import warnings as _warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from review.io import limits
from review.io.errors import ImportFormatError
from review.io.fields import (
    as_list,
    clean,
    clean_long,
    doi_from_text,
    join_pages,
    make_record,
    normalise_doi,
    parse_year,
    pmid_from_text,
    split_keywords,
    split_names,
    word_type,
)
from review.io.progress import Advance
from review.records import ImportedRecord

if TYPE_CHECKING:  # pandas is imported where a table is parsed: reading RIS never needs it
    import pandas as pd

#: Column aliases per field, best first (compared after :func:`column_key`).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "title": (
        "title",
        "ti",
        "article title",
        "document title",
        "primary title",
        "t1",
        "title of article",
        "paper title",
        "study title",
    ),
    "authors": (
        "authors",
        "author",
        "au",
        "author s",
        "author names",
        "a1",
        "author list",
        "creators",
        "af",
        "author full names",
        "author full name",
    ),
    "year": (
        "year",
        "py",
        "publication year",
        "published year",
        "pubyear",
        "pub year",
        "year published",
        "date",
        "publication date",
        "date published",
        "pd",
        "dp",
        "y1",
        "da",
        "issued",
        "ey",
        "ea",
    ),
    "journal": (
        "journal",
        "source title",
        "publication title",
        "journal title",
        "journal name",
        "so",
        "jo",
        "t2",
        "jf",
        "secondary title",
        "publication name",
        "container title",
        "full journal title",
        "journal book",
        "source publication",
        "publication",
        "abbreviated source title",
        "journal abbreviation",
        "ji",
        "j9",
        "ja",
        "j2",
    ),
    "volume": ("volume", "vl", "vol", "vi"),
    "issue": ("issue", "is", "number", "no", "ip", "issue number"),
    "pages": ("pages", "page range", "page numbers", "pagination", "page"),
    "page_start": ("page start", "start page", "first page", "bp", "sp", "beginning page"),
    "page_end": ("page end", "end page", "last page", "ep", "ending page"),
    "article_number": ("art no", "article number", "ar", "article no", "elocation id"),
    "doi": ("doi", "di", "do", "doi link", "digital object identifier"),
    "pmid": ("pmid", "pubmed id", "pm", "pubmed", "pubmedid"),
    # Free-text notes, searched for a "PMID: 123" label (Zotero's Extra).
    "notes": ("extra", "notes", "note", "n1"),
    "abstract": ("abstract", "ab", "abstract note", "n2", "summary"),
    "keywords": (
        "keywords",
        "author keywords",
        "kw",
        "de",
        "manual tags",
        "index keywords",
        "keywords plus",
        "id",
        "mesh terms",
        "mesh headings",
        "mh",
        "ot",
        "tags",
    ),
    "type": (
        "document type",
        "type",
        "item type",
        "dt",
        "pt",
        "ty",
        "entrytype",
        "publication type",
        "reference type",
        "record type",
    ),
    "url": ("url", "link", "ur", "links", "full text link"),
    "language": ("language", "la", "language of original document"),
    "publisher": ("publisher", "pu", "pb"),
    "issn": ("issn", "sn", "eissn", "ei", "e issn", "print issn"),
}
#: Columns that only count as keywords when the table is a Web of Science
#: export ("ID" is Keywords Plus there, a row identifier anywhere else).
_WOS_ONLY = {"id"}
_FORMULA_QUOTED = re.compile(r"^'[=+\-@\t\r]")
_AUTHOR_ID = re.compile(r"\s*\(\d+\)$")
_PROGRESS_STEP = 1000
_DELIMITERS = ("\t", ",", ";")
#: Characters of a table's start in which the whole header row must fit.
_HEAD_LIMIT = 1 << 18


def delimiter_of(header: str) -> str | None:
    """The delimiter of a table header line, if it looks like one.

    A header has at least two cells, each short and containing letters (column
    names), which rules out most prose that merely contains commas.
    """
    header = header.lstrip("\ufeff").rstrip("\r\n")
    best: tuple[int, str] | None = None
    for delimiter in _DELIMITERS:
        cells = [c.strip().strip('"').strip() for c in header.split(delimiter)]
        named = [c for c in cells if c]
        if len(named) < 2:
            continue
        if not all(len(c) <= 80 and re.search(r"[A-Za-z]", c) for c in named):
            continue
        if best is None or len(named) > best[0]:
            best = (len(named), delimiter)
    return best[1] if best else None


def table_header_has_title(header: str) -> bool:
    """Whether a line is a table header with a column we read as the title."""
    delimiter = delimiter_of(header)
    if delimiter is None:
        return False
    cells = [c.strip().strip('"') for c in header.lstrip("\ufeff").split(delimiter)]
    return "title" in match_columns(cells)


def column_key(name: Any) -> str:
    """``"Author(s) ID"`` → ``"author s id"``: lower case, punctuation to single spaces."""
    return re.sub(r"[^a-z0-9]+", " ", str(name).lstrip("\ufeff").lower()).strip()


def match_columns(columns: list[str]) -> dict[str, list[str]]:
    """For each field, the table's columns that hold it, best first."""
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(column_key(column), column)
    is_wos = "pt" in by_key and "ut" in by_key
    matched: dict[str, list[str]] = {}
    for field_name, aliases in COLUMN_ALIASES.items():
        found = [
            by_key[alias]
            for alias in aliases
            if alias in by_key and (alias not in _WOS_ONLY or is_wos)
        ]
        if found:
            matched[field_name] = found
    return matched


def _csv_layout(head: str, filename: str = "the table") -> tuple[str, bool]:
    """Delimiter of a table from its first line, and whether it is Web of Science's tab export.

    Refuses a header of more than :data:`review.io.limits.MAX_COLUMNS` columns
    before pandas parses a row (200,000 columns took 45 s and 1.4 GB).
    """
    first_line = next(iter(head[:65536].lstrip("\ufeff").splitlines()), "")
    delimiter = delimiter_of(first_line) or ","
    header = next(iter(head.lstrip("\ufeff").splitlines()), "")
    complete = len(header) < len(head.lstrip("\ufeff")) or len(head) < _HEAD_LIMIT
    limits.check_header(filename, header, delimiter, complete)
    is_wos_tabbed = delimiter == "\t" and re.match(r"(?:\ufeff)?PT\tAU\t", head) is not None
    return delimiter, is_wos_tabbed


def _read_csv(source: Any, filename: str, delimiter: str, is_wos_tabbed: bool, **more: Any):
    """``pandas.read_csv`` with our options; its errors become ImportFormatError."""
    import pandas as pd

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        return pd.read_csv(
            source,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            index_col=False,
            quoting=csv.QUOTE_NONE if is_wos_tabbed else csv.QUOTE_MINIMAL,
            skip_blank_lines=True,
            engine="c",
            **more,
        )


def _table_error(err: Exception, filename: str) -> ImportFormatError:
    """The pandas/csv error as a message naming the line (pandas counts lines from 1)."""
    import pandas as pd

    if isinstance(err, pd.errors.EmptyDataError):
        return ImportFormatError(filename, "the table has no header row", line=1)
    message = str(err)
    detail = message.split("C error: ")[-1].strip()
    line: int | None = None
    if match := re.search(r"in line (\d+)", message):  # 1-based physical line
        line = int(match.group(1))
    elif match := re.search(r"at row (\d+)", message):  # 0-based, header is row 0
        line = int(match.group(1)) + 1
    return ImportFormatError(
        filename,
        f"malformed table: {detail} (an unclosed quote or a stray delimiter?)",
        line=line,
        record=(line - 1) if line and line > 1 else None,
    )


def _table_errors() -> tuple[type[Exception], ...]:
    """The errors a table parse may raise (pandas imported only when a table is read)."""
    import pandas as pd

    return (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error)


def read_csv_frame(text: str, filename: str) -> pd.DataFrame:
    """The table in a delimited text file, every cell a string."""
    delimiter, is_wos_tabbed = _csv_layout(text[:_HEAD_LIMIT], filename)
    if is_wos_tabbed:
        # Web of Science writes no quotes (a title may start with '"') and ends
        # every row, but not the header, with a tab.
        # Rows end at LF, CRLF or a lone CR, as in the streamed reader (_TrimmedRows).
        text = "".join(_trim_row(line) for line in io.StringIO(text, newline=""))
    try:
        frame = _read_csv(io.StringIO(text), filename, delimiter, is_wos_tabbed)
    except _table_errors() as err:
        raise _table_error(err, filename) from err
    return _tidy(frame)


def iter_csv_frames(
    handle: TextIO, head: str, filename: str, chunksize: int
) -> Iterator[pd.DataFrame]:
    """The table in an open delimited text file, ``chunksize`` rows at a time.

    ``handle`` must be opened with ``newline=""`` (pandas handles CRLF itself,
    and a CR quoted inside a cell is data); ``head`` is the start of the text,
    from which the delimiter is decided. Each frame is tidied as
    :func:`read_csv_frame` tidies a whole table, and pandas counts lines
    across chunks, so errors name the line in the whole file.
    """
    delimiter, is_wos_tabbed = _csv_layout(head[:_HEAD_LIMIT], filename)
    source: Any = _TrimmedRows(handle) if is_wos_tabbed else handle
    try:
        reader = _read_csv(source, filename, delimiter, is_wos_tabbed, chunksize=chunksize)
        with reader:
            while True:
                with _warnings.catch_warnings():
                    _warnings.simplefilter("ignore")  # pandas warns about ragged rows
                    frame = next(reader, None)
                if frame is None:
                    return
                yield _tidy(frame)
    except _table_errors() as err:
        raise _table_error(err, filename) from err


class _TrimmedRows:
    """A file-like view of a Web of Science tab export with each row's trailing tab removed.

    pandas only calls ``read(size)``; rows are handed over whole, a batch at
    a time, so memory stays bounded.
    """

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle

    def read(self, size: int = -1) -> str:
        if size is None or size < 0:
            return "".join(_trim_row(line) for line in self._handle)
        out: list[str] = []
        got = 0
        while got < size:
            line = self._handle.readline()
            if not line:
                break
            row = _trim_row(line)
            out.append(row)
            got += len(row)
        return "".join(out)

    def __iter__(self) -> Iterator[str]:
        return (_trim_row(line) for line in self._handle)


def _trim_row(line: str) -> str:
    ended = line.endswith(("\n", "\r"))
    return line.rstrip("\r\n").rstrip("\t\r") + ("\n" if ended else "")


def is_workbook(source: bytes | Path, filename: str) -> bool:
    """Whether a file that starts like a ZIP container holds an Excel workbook.

    A container the ZIP reader cannot open at all -- cut short, corrupted, an
    unsupported ZIP version -- is refused here: ``zipfile`` raises
    ``BadZipFile``, ``NotImplementedError``, ``EOFError`` and more on such
    files (the fuzzer found ``NotImplementedError`` escaping the importer).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            return "xl/workbook.xml" in zf.namelist()
    except OSError as err:
        if isinstance(source, bytes) or isinstance(err, zipfile.BadZipFile):
            reason = str(err)
        else:
            raise ImportFormatError(
                filename, f"cannot read the file ({err.strerror or err})"
            ) from err
    except Exception as err:  # zipfile's many ways of failing on damaged containers
        reason = f"{type(err).__name__}: {err}"
    raise ImportFormatError(
        filename,
        f"this is a damaged ZIP container (an Excel workbook cut short or corrupted?) that "
        f"cannot be opened ({reason}); download or save the file again",
        line=1,
    )


def read_xlsx_frame(data: bytes, filename: str) -> tuple[pd.DataFrame, list[str]]:
    """The first sheet of a workbook that has a title column, every cell a string.

    The workbook's unpacked size, rows, cells and longest cell are checked
    first (:func:`review.io.limits.check_workbook`): openpyxl would otherwise
    unpack whatever the ZIP container holds.
    """
    import pandas as pd

    try:
        limits.check_workbook(data, filename)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as err:
        raise ImportFormatError(
            filename, f"not a readable Excel workbook ({type(err).__name__}: {err})") from err
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")  # openpyxl warns about styles it cannot read
            sheets = pd.read_excel(
                io.BytesIO(data),
                sheet_name=None,
                dtype=str,
                engine="openpyxl",
                keep_default_na=False,
                na_filter=False,
            )
    except Exception as err:  # openpyxl/zipfile raise many kinds on corrupt workbooks
        reason = "not a ZIP container" if isinstance(err, zipfile.BadZipFile) else str(err)
        raise ImportFormatError(
            filename, f"not a readable Excel workbook ({type(err).__name__}: {reason})"
        ) from err
    if not sheets:
        raise ImportFormatError(filename, "the workbook has no sheets")
    notes: list[str] = []
    for frame in sheets.values():
        _check_columns(frame, filename)
    for name, frame in sheets.items():
        if "title" in match_columns([str(c) for c in frame.columns]):
            if len(sheets) > 1:
                notes.append(f"{filename}: read sheet '{name}' (the first with a title column)")
            return _tidy(frame), notes
    name, frame = next(iter(sheets.items()))
    return _tidy(frame), notes


def _check_columns(frame: pd.DataFrame, filename: str) -> None:
    if len(frame.columns) > limits.MAX_COLUMNS:
        raise ImportFormatError(filename, f"the header row has {len(frame.columns):,} columns; "
                                f"the limit is {limits.MAX_COLUMNS:,} columns", line=1)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the empty, unnamed columns trailing delimiters create; undo our own
    formula neutralising (``'=...`` written by :mod:`review.io.export`)."""
    frame.columns = [str(c).lstrip("\ufeff").strip() for c in frame.columns]
    keep = [
        c
        for c in frame.columns
        if not (c.startswith("Unnamed: ") and not frame[c].astype(str).str.strip().any())
    ]
    frame = frame[keep].astype(str)
    for column in frame.columns:
        series = frame[column]
        quoted = series.str.match(_FORMULA_QUOTED)
        if quoted.any():
            frame[column] = series.where(~quoted, series.str[1:])
    return frame


def parse_frame(
    frame: pd.DataFrame, filename: str, advance: Advance, *, header_line: int = 1
) -> tuple[list[ImportedRecord], list[str]]:
    """Records of a table with one row per record."""
    matched = title_columns(list(frame.columns), filename, header_line)
    records, skipped = frame_records(frame, matched, advance)
    warnings = [f"{filename}: {skipped} empty row(s) skipped"] if skipped else []
    if not records:
        raise ImportFormatError(filename, "the table has a header but no rows", line=header_line)
    return records, warnings


def title_columns(columns: list[str], filename: str, header_line: int = 1) -> dict[str, list[str]]:
    """:func:`match_columns`, refusing a table with no title column."""
    matched = match_columns(columns)
    if "title" not in matched:
        shown = ", ".join(columns[:25]) + (" ..." if len(columns) > 25 else "")
        raise ImportFormatError(
            filename,
            "no column holds the title (expected e.g. 'Title', 'Article Title' or 'TI'); "
            f"columns found: {shown}",
            line=header_line,
        )
    return matched


def frame_records(
    frame: pd.DataFrame, matched: dict[str, list[str]], advance: Advance | None = None
) -> tuple[list[ImportedRecord], int]:
    """Records of the rows of a table (or of one chunk of it), and how many rows were empty."""
    records: list[ImportedRecord] = []
    skipped = 0
    pending = 0
    for row in frame.to_dict("records"):
        original = {k: v for k, v in row.items() if v and v.strip()}
        pending += 1
        if advance is not None and pending == _PROGRESS_STEP:
            advance(pending)
            pending = 0
        if not original:
            skipped += 1
            continue
        records.append(_to_record(original, matched))
    if advance is not None:
        advance(pending)
    return records, skipped


def _first(row: dict[str, str], columns: list[str] | None) -> str | None:
    for column in columns or ():
        value = row.get(column)
        if value:
            return value
    return None


def _to_record(row: dict[str, str], matched: dict[str, list[str]]) -> ImportedRecord:
    def get(field_name: str) -> str | None:
        return _first(row, matched.get(field_name))

    authors = [_AUTHOR_ID.sub("", a) for a in split_names(get("authors"))]
    keywords = split_keywords([row[c] for c in matched.get("keywords", ()) if row.get(c)])
    doi = normalise_doi(get("doi")) or doi_from_text(as_list(get("url")))
    pages = join_pages(get("pages")) or join_pages(get("page_start"), get("page_end"))
    return make_record(
        row,
        title=clean(get("title")),
        authors=[a for a in authors if a],
        year=parse_year(*(row.get(c) for c in matched.get("year", ()))),
        journal=clean(get("journal")),
        volume=clean(get("volume")),
        issue=clean(get("issue")),
        pages=pages or clean(get("article_number")),
        doi=doi,
        pmid=clean(get("pmid")) or pmid_from_text(get("notes")),
        abstract=clean_long(get("abstract")),
        keywords=keywords,
        type=word_type(get("type")),
        url=clean(get("url")),
        language=clean(get("language")),
        publisher=clean(get("publisher")),
        issn=clean(get("issn")),
    )
