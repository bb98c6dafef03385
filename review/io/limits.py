"""How much of a file an import agrees to unpack and parse, whatever its size on disk.

Why: a limit on the file's size is no limit on the work. A 1 MB workbook (a
ZIP container) unpacked to 4 million rows and ran for minutes in gigabytes; a
196 KB workbook held a 200-million-character title; a 1.7 MB CSV had 200,000
columns. These limits apply to what is *decompressed and parsed*, and every
refusal names the file and the limit, before the review is touched.

The numbers are far above any real search export (a database export is at
most a few hundred thousand records with a few dozen columns, and the longest
field -- an abstract or a cited-references list -- is tens of thousands of
characters) and far below what exhausts a laptop.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO

from review.io.errors import ImportFormatError

#: Records in one file.
MAX_RECORDS = 1_000_000
#: Columns in a table's header.
MAX_COLUMNS = 1_000
#: Characters in one field of one record (title, abstract, any column or tag).
MAX_FIELD_CHARS = 1_000_000
#: Bytes a workbook's XML may unpack to (the workbook itself is limited to 50 MB on disk).
MAX_UNPACKED_BYTES = 400_000_000
#: Cells in a workbook (rows x columns actually present).
MAX_CELLS = 30_000_000
#: Bytes unpacked at a time; well below 4 x MAX_FIELD_CHARS (see the run check).
_BLOCK = 1 << 20


def too_many_records(name: str, n: int) -> ImportFormatError:
    return ImportFormatError(name, f"more than {MAX_RECORDS:,} records; the limit per file is "
                             f"{MAX_RECORDS:,}: split the export into smaller files",
                             record=n)


def check_record(name: str, record: dict, number: int, line: int | None = None) -> None:
    """Refuse a record with a field longer than :data:`MAX_FIELD_CHARS` (names the field)."""
    for key, value in record.items():
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            raise field_too_long(name, key, len(value), number, line)
        if isinstance(value, list):
            total = sum(len(v) for v in value if isinstance(v, str))
            if total > MAX_FIELD_CHARS:
                raise field_too_long(name, key, total, number, line)
    original = record.get("original")
    if isinstance(original, dict):
        for key, value in original.items():
            if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
                raise field_too_long(name, key, len(value), number, line)


def field_too_long(name: str, field: str, n: int, record: int | None,
                   line: int | None = None) -> ImportFormatError:
    return ImportFormatError(name, f"field {field!r} is {n:,} characters long; the limit is "
                             f"{MAX_FIELD_CHARS:,} characters per field", line=line,
                             record=record)


def check_header(name: str, header: str, delimiter: str, complete: bool) -> None:
    """Refuse a table whose header row has more than :data:`MAX_COLUMNS` columns.

    ``complete`` is False when the header row did not end within the start of
    the file that was read: a header that long is refused as it is.
    """
    if not complete:
        raise ImportFormatError(name, f"the header row is longer than {len(header):,} "
                                f"characters (at least {header.count(delimiter) + 1:,} "
                                f"columns); the limit is {MAX_COLUMNS:,} columns", line=1)
    columns = header.count(delimiter) + 1
    if columns > MAX_COLUMNS:
        raise ImportFormatError(name, f"the header row has {columns:,} columns; the limit is "
                                f"{MAX_COLUMNS:,} columns", line=1)


def check_workbook(source: bytes | Path | IO[bytes], name: str) -> None:
    """Unpack a workbook's XML a block at a time, refusing it past any limit before parsing.

    Counts what is really there (bytes unpacked, ``<row`` and ``<c`` elements,
    the longest run of text), not what the ZIP directory or the sheet's
    ``<dimension>`` claims, both of which a hostile file can forge.
    """
    import io

    unpacked = rows = cells = 0
    longest = 0
    src = io.BytesIO(source) if isinstance(source, bytes) else source
    with zipfile.ZipFile(src) as zf:
        for info in zf.infolist():
            if not info.filename.endswith((".xml", ".rels")) or info.is_dir():
                continue
            sheet = info.filename.startswith("xl/worksheets/")
            run = 0  # length of the run still open at the end of the last block
            tail = b""
            with zf.open(info) as fh:
                while block := fh.read(_BLOCK):
                    unpacked += len(block)
                    if unpacked > MAX_UNPACKED_BYTES:
                        raise ImportFormatError(
                            name, f"the workbook unpacks to more than "
                            f"{MAX_UNPACKED_BYTES // 1_000_000:,} MB of XML; the limit is "
                            f"{MAX_UNPACKED_BYTES // 1_000_000:,} MB: save it as CSV, which is "
                            "read in chunks")
                    if sheet:
                        joined = tail + block
                        rows += joined.count(b"<row ") + joined.count(b"<row>")
                        cells += joined.count(b"<c ") + joined.count(b"<c>")
                        tail = block[-5:]
                        rows -= tail.count(b"<row ") + tail.count(b"<row>")
                        cells -= tail.count(b"<c ") + tail.count(b"<c>")
                        if rows > MAX_RECORDS + 1:
                            raise ImportFormatError(
                                name, f"the sheet has more than {MAX_RECORDS:,} rows; the limit "
                                f"is {MAX_RECORDS:,} records per file: split the export")
                        if cells > MAX_CELLS:
                            raise ImportFormatError(
                                name, f"the workbook has more than {MAX_CELLS:,} cells; the "
                                f"limit is {MAX_CELLS:,}: save it as CSV or split it")
                    # The longest run between two angle brackets (text, or a tag): a cell
                    # holds no more characters than that many bytes. A run inside one block
                    # is shorter than the block, far below the limit, so only runs that
                    # cross blocks are measured (two finds per block, not a scan).
                    first = min((i for i in (block.find(b"<"), block.find(b">")) if i >= 0),
                                default=-1)
                    if first < 0:
                        run += len(block)
                    else:
                        longest = max(longest, run + first)
                        run = len(block) - max(block.rfind(b"<"), block.rfind(b">")) - 1
                    longest = max(longest, run)
                    if longest > 4 * MAX_FIELD_CHARS:  # UTF-8: at most 4 bytes a character
                        raise ImportFormatError(
                            name, f"a cell holds more than {MAX_FIELD_CHARS:,} characters; the "
                            f"limit is {MAX_FIELD_CHARS:,} characters per field")
