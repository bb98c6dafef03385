"""Turn the raw bytes of a search export into text, or refuse clearly.

Why a policy rather than "try everything": guessing an encoding wrongly does
not fail, it silently turns author names into mojibake that later defeats
deduplication. So we only accept encodings we can tell apart with certainty,
and otherwise ask the reviewer to re-save the file as UTF-8:

1. A byte-order mark decides: UTF-8 (``EF BB BF``), UTF-32 and UTF-16 (LE/BE).
   Web of Science's "Tab-delimited (Win)" export is UTF-16 with a BOM; Scopus
   and EndNote write UTF-8 with a BOM.
2. Without a BOM the file must be valid UTF-8 (which covers plain ASCII).
3. A file that is not valid UTF-8 is read as Windows-1252 (the superset of
   Latin-1 that EndNote and Excel on Windows write) only when that reading is
   unambiguous: none of the five bytes cp1252 leaves undefined occurs, every
   non-ASCII byte decodes to a Latin letter or ordinary typographic punctuation,
   and no run of three or more non-ASCII letters occurs (Cyrillic, Greek and
   East-Asian encodings produce exactly such runs when misread as cp1252).
   The import then carries a warning so the reviewer can spot-check accents.
4. Anything else -- NUL bytes without a UTF-16 BOM, many control characters
   in the first 64 KB, known binary signatures (PDF, ZIP, old Excel, gzip) --
   is refused. A stray control character in otherwise good text (a vertical
   tab pasted from Word) is kept: scanning every value for them would cost
   more than they do harm, and the XLSX writer removes what Excel cannot hold.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from review.io.errors import ImportFormatError

#: Signatures of binary files people mistake for search exports.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "a legacy Office file (.xls/.doc); save it as .xlsx or CSV",
    ),
    (b"\x1f\x8b", "a gzip-compressed file; decompress it first"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"7z\xbc\xaf", "a 7-Zip archive; extract it first"),
    (b"Rar!", "a RAR archive; extract it first"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
ZIP_MAGIC = b"PK\x03\x04"

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: Bytes with no character in Windows-1252.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
#: Non-letter characters a Western-European export plausibly contains.
_PLAUSIBLE_SYMBOLS = frozenset("\u00a0¡¢£¤¥¦§¨©ª«¬\u00ad®¯°±²³´µ¶·¸¹º»¼½¾¿×÷€‚„…†‡ˆ‰‹‘’“”•–—˜™›")
_LETTER_RUN = re.compile(r"[^\x00-\x7f]{3,}")
#: C0 control characters that never occur in text exports (tab, LF, CR, FF
#: and the DOS end-of-file marker 0x1A are allowed).
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]")


@dataclass
class Decoded:
    """Text of a file plus how it was read."""

    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


def line_of(data: bytes, offset: int) -> int:
    """1-based line number of a byte offset, for error messages."""
    return data.count(b"\n", 0, offset) + 1


def binary_kind(data: bytes) -> str | None:
    """Name of a known binary format the bytes start with, else ``None``."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    return None


def decode(data: bytes, filename: str) -> Decoded:
    """Decode ``data`` by the policy in the module docstring."""
    if not data.strip():
        raise ImportFormatError(filename, "the file is empty")
    what = binary_kind(data)
    if what is not None:
        raise ImportFormatError(filename, f"this is {what}, not a search export", line=1)
    if data.startswith(ZIP_MAGIC):
        raise ImportFormatError(
            filename,
            "this is a ZIP archive with no Excel workbook in it (a .docx, or a zipped "
            "export?); extract the export from it first",
            line=1,
        )

    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as err:
                unit = 4 if "32" in encoding else 2 if "16" in encoding else 1
                line = _text_line(data, err.start, encoding, unit)
                raise ImportFormatError(
                    filename,
                    f"invalid {encoding.upper().removesuffix('-SIG')} byte sequence although "
                    "the file starts with a byte-order mark for that encoding",
                    line=line,
                ) from None
            if text.startswith("\ufeff"):  # utf-16/32 codecs keep no BOM, utf-8-sig neither
                text = text[1:]
            _refuse_control_text(text, filename)
            return Decoded(text, encoding.removesuffix("-sig"))

    nul = data.find(b"\x00")
    if nul != -1:
        even = data[0:2048:2].count(0)
        odd = data[1:2048:2].count(0)
        hint = (
            " (it looks like UTF-16 without a byte-order mark; re-save it as UTF-8)"
            if max(even, odd) > 0.4 * min(len(data), 2048) / 2
            else ""
        )
        raise ImportFormatError(
            filename, f"binary content: NUL byte at offset {nul}{hint}", line=line_of(data, nul)
        )
    _refuse_control_bytes(data, filename)

    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as err:
        bad_at = err.start
    text = _cp1252_if_unambiguous(data)
    if text is None:
        raise ImportFormatError(
            filename,
            f"not valid UTF-8 (byte 0x{data[bad_at]:02X} at offset {bad_at}) and not "
            "unambiguously Windows-1252/Latin-1; re-save the file as UTF-8",
            line=line_of(data, bad_at),
        )
    return Decoded(
        text,
        "cp1252",
        [
            f"{filename}: not UTF-8; read as Windows-1252 (Latin-1) -- check accented "
            f"characters, first non-ASCII byte on line {line_of(data, bad_at)}"
        ],
    )


def _text_line(data: bytes, offset: int, encoding: str, unit: int) -> int:
    """Line number of a byte offset in a UTF-16/32 file (newline is one code unit)."""
    if unit == 1:
        return line_of(data, offset)
    prefix = data[: offset - offset % unit]
    try:
        return prefix.decode(encoding, errors="replace").count("\n") + 1
    except UnicodeError:
        return 1


def _refuse_control_bytes(data: bytes, filename: str) -> None:
    sample = data[:65536]
    controls = _CONTROL.findall(sample)
    if len(controls) > max(8, len(sample) // 200):
        first = _CONTROL.search(sample)
        assert first is not None
        raise ImportFormatError(
            filename,
            f"binary content: {len(controls)} control bytes in the first "
            f"{len(sample):,} bytes (first 0x{first.group()[0]:02X})",
            line=line_of(data, first.start()),
        )


def _refuse_control_text(text: str, filename: str) -> None:
    sample = text[:65536]
    controls = [c for c in sample if c < " " and c not in "\t\n\r\f\x1a"]
    if "\x00" in sample or len(controls) > max(8, len(sample) // 200):
        first = next(i for i, c in enumerate(sample) if c < " " and c not in "\t\n\r\f\x1a")
        raise ImportFormatError(
            filename,
            f"binary content: control character U+{ord(sample[first]):04X}",
            line=sample.count("\n", 0, first) + 1,
        )


def _cp1252_if_unambiguous(data: bytes) -> str | None:
    if any(b in _CP1252_UNDEFINED for b in set(data)):
        return None
    text = data.decode("cp1252")
    for char in {c for c in text if c > "\x7f"}:
        if not (char.isalpha() and char <= "\u017f" or char in _PLAUSIBLE_SYMBOLS):
            return None
    for run in _LETTER_RUN.findall(text):
        if sum(c.isalpha() for c in run) >= 3:
            return None
    return text
