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
4. Anything else -- NUL bytes without a UTF-16 BOM (and a NUL character
   anywhere in a file with one), many control characters
   in the first 64 KB, known binary signatures (PDF, ZIP, old Excel, gzip) --
   is refused. A stray control character in otherwise good text (a vertical
   tab pasted from Word) is kept: scanning every value for them would cost
   more than they do harm, and the XLSX writer removes what Excel cannot hold.
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

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

#: Decoders that take the BOM's byte order for granted (the BOM itself is skipped).
_EXPLICIT: dict[bytes, str] = {
    codecs.BOM_UTF8: "utf-8",
    codecs.BOM_UTF32_LE: "utf-32-le",
    codecs.BOM_UTF32_BE: "utf-32-be",
    codecs.BOM_UTF16_LE: "utf-16-le",
    codecs.BOM_UTF16_BE: "utf-16-be",
}

#: Bytes with no character in Windows-1252.
_CP1252_UNDEFINED_RE = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
#: Non-letter characters a Western-European export plausibly contains.
_PLAUSIBLE_SYMBOLS = frozenset("\u00a0¡¢£¤¥¦§¨©ª«¬\u00ad®¯°±²³´µ¶·¸¹º»¼½¾¿×÷€‚„…†‡ˆ‰‹‘’“”•–—˜™›")
_LETTER_RUN = re.compile(r"[^\x00-\x7f]{3,}")
_TRAILING_NON_ASCII = re.compile(r"[^\x00-\x7f]{1,2}\Z")
#: C0 control characters that never occur in text exports (tab, LF, CR, FF
#: and the DOS end-of-file marker 0x1A are allowed).
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]")
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]")


@dataclass
class Decoded:
    """Text of a file plus how it was read."""

    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


@dataclass
class Scanned:
    """How to read a file, found by one pass over its bytes (see :func:`scan`).

    ``codec`` is what to hand Python to read the text (``utf-8-sig`` drops a
    BOM); ``encoding`` is the name the import summary shows.
    """

    codec: str
    encoding: str
    size: int
    sha256: str | None = None
    warnings: list[str] = field(default_factory=list)


#: Bytes read at a time by :func:`scan` and the streaming readers.
BLOCK = 1 << 18
#: How much of the start of a file the binary and control-character checks look at.
HEAD = 65536

Blocks = Callable[[], Iterator[bytes]]


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
    scanned = scan(lambda: blocks_of(data), filename)
    return Decoded(data.decode(scanned.codec), scanned.encoding, scanned.warnings)


def blocks_of(data: bytes) -> Iterator[bytes]:
    """``data`` in :data:`BLOCK`-sized pieces, as :func:`scan` reads a file."""
    for start in range(0, len(data), BLOCK):
        yield data[start : start + BLOCK]


def file_blocks(path: Path) -> Iterator[bytes]:
    """The bytes of a file, a block at a time (never the whole file in memory)."""
    with path.open("rb") as handle:
        while block := handle.read(BLOCK):
            yield block


def scan(
    open_blocks: Blocks,
    filename: str,
    *,
    digest: bool = False,
    on_bytes: Callable[[int], None] | None = None,
) -> Scanned:
    """Decide how to decode a file from its bytes, read once a block at a time.

    Why a scan rather than a decode: a 1 GB export must not be held in memory,
    yet the policy needs the whole file (one stray invalid byte at the end
    makes it not UTF-8). ``open_blocks`` is called once, and a second time only
    for a file that is not UTF-8 (the Windows-1252 check). With ``digest`` the
    SHA-256 of the bytes comes back too, so a streamed import hashes and checks
    its file in the same pass. Raises :class:`ImportFormatError` for anything
    the policy refuses.
    """
    blocks = open_blocks()
    try:
        parts: list[bytes] = []
        got = 0
        for block in blocks:
            parts.append(block)
            got += len(block)
            if got >= HEAD:
                break
        head = b"".join(parts)
        del parts
        what = binary_kind(head)
        if what is not None:
            raise ImportFormatError(filename, f"this is {what}, not a search export", line=1)
        if head.startswith(ZIP_MAGIC):
            raise ImportFormatError(
                filename,
                "this is a ZIP archive with no Excel workbook in it (a .docx, or a zipped "
                "export?); extract the export from it first",
                line=1,
            )
        scanner = _Scanner(filename, head, digest, on_bytes)
        for bom, codec in _BOMS:
            if head.startswith(bom):
                return scanner.with_bom(itertools.chain([head], blocks), bom, codec)
        scanned = scanner.plain(itertools.chain([head], blocks))
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:
            close()
    if scanned is not None:
        return scanned
    if not _cp1252_plausible(open_blocks):
        raise ImportFormatError(
            filename,
            f"not valid UTF-8 (byte 0x{scanner.bad_byte:02X} at offset {scanner.bad_at}) and "
            "not unambiguously Windows-1252/Latin-1; re-save the file as UTF-8",
            line=scanner.bad_line,
        )
    return Scanned(
        "cp1252",
        "cp1252",
        scanner.size,
        scanner.sha256,
        [
            f"{filename}: not UTF-8; read as Windows-1252 (Latin-1) -- check accented "
            f"characters, first non-ASCII byte on line {scanner.bad_line}"
        ],
    )


class _Scanner:
    """State of one pass over a file's bytes (size, hash, line count, first faults)."""

    def __init__(
        self, filename: str, head: bytes, digest: bool, on_bytes: Callable[[int], None] | None
    ) -> None:
        self.filename = filename
        self.head = head
        self.hasher = hashlib.sha256() if digest else None
        self.on_bytes = on_bytes
        self.size = 0
        self.lines = 0  # newlines before the current block
        self.content = False  # anything but whitespace seen
        self.bad_at = -1
        self.bad_byte = 0
        self.bad_line = 0

    @property
    def sha256(self) -> str | None:
        return self.hasher.hexdigest() if self.hasher is not None else None

    def _account(self, block: bytes) -> None:
        if self.hasher is not None:
            self.hasher.update(block)
        if self.on_bytes is not None:
            self.on_bytes(len(block))

    def _empty(self) -> ImportFormatError:
        return ImportFormatError(self.filename, "the file is empty")

    def plain(self, blocks: Iterable[bytes]) -> Scanned | None:
        """No byte-order mark: UTF-8 if it all decodes, else ``None`` (try Windows-1252)."""
        nul = self.head.find(b"\x00")
        if nul != -1:
            self._refuse_nul(self.head, nul)
        if self.head.strip():
            _refuse_control_bytes(self.head, self.filename)
        decoder = codecs.getincrementaldecoder("utf-8")()
        valid = True
        for block in blocks:
            self._account(block)
            if not self.content and block.strip():
                self.content = True
            nul = block.find(b"\x00")
            if nul != -1:
                self._refuse_nul(block, nul)
            if valid:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as err:
                    valid = False
                    self._note_invalid(block, err)
            self.lines += block.count(b"\n")
            self.size += len(block)
        if not self.content:
            raise self._empty()
        if valid:
            try:
                decoder.decode(b"", True)
            except UnicodeDecodeError as err:  # a multi-byte character cut off at the end
                valid = False
                self.bad_at = self.size - len(err.object) + err.start
                self.bad_byte = err.object[err.start]
                self.bad_line = self.lines + 1
        return Scanned("utf-8", "utf-8", self.size, self.sha256) if valid else None

    def _note_invalid(self, block: bytes, err: UnicodeDecodeError) -> None:
        # err.object is what the decoder still held from the last block plus this one.
        at = len(block) - len(err.object) + err.start
        self.bad_at = self.size + at
        self.bad_byte = err.object[err.start]
        self.bad_line = self.lines + block.count(b"\n", 0, max(at, 0)) + 1

    def _refuse_nul(self, block: bytes, nul: int) -> None:
        sample = self.head[:2048]
        even = sample[0::2].count(0)
        odd = sample[1::2].count(0)
        hint = (
            " (it looks like UTF-16 without a byte-order mark; re-save it as UTF-8)"
            if max(even, odd) > 0.4 * len(sample) / 2
            else ""
        )
        raise ImportFormatError(
            self.filename,
            f"binary content: NUL byte at offset {self.size + nul}{hint}",
            line=self.lines + block.count(b"\n", 0, nul) + 1,
        )

    def with_bom(self, blocks: Iterable[bytes], bom: bytes, codec: str) -> Scanned:
        """A byte-order mark decides the encoding; the whole file must decode under it.

        Unlike UTF-8 without a BOM, NUL is a legal character here, so it is
        looked for in the decoded text: a NUL anywhere in a record would be
        refused by PostgreSQL at insert time, long after the import looked fine.
        """
        explicit = _EXPLICIT[bom]
        decoder = codecs.getincrementaldecoder(explicit)()
        name = codec.upper().removesuffix("-SIG")
        text_lines = 0
        head_text: list[str] = []
        head_chars = 0
        first = True
        for block in blocks:
            self._account(block)
            self.size += len(block)
            if first:
                block = block[len(bom) :]
                first = False
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as err:
                done = err.object[: err.start].decode(explicit, errors="replace")
                raise ImportFormatError(
                    self.filename,
                    f"invalid {name} byte sequence although the file starts with a "
                    "byte-order mark for that encoding",
                    line=text_lines + done.count("\n") + 1,
                ) from None
            if head_chars < HEAD:
                head_text.append(text[: HEAD - head_chars])
                head_chars += len(head_text[-1])
                if head_chars >= HEAD:
                    _refuse_control_text("".join(head_text), self.filename)
            if not self.content and text.strip():
                self.content = True
            nul = text.find("\x00")
            if nul != -1:
                raise ImportFormatError(
                    self.filename,
                    "binary content: NUL character in the text",
                    line=text_lines + text.count("\n", 0, nul) + 1,
                )
            text_lines += text.count("\n")
        try:
            decoder.decode(b"", True)
        except UnicodeDecodeError:
            raise ImportFormatError(
                self.filename,
                f"invalid {name} byte sequence although the file starts with a "
                "byte-order mark for that encoding: the file ends inside a character",
                line=text_lines + 1,
            ) from None
        if head_chars < HEAD:
            _refuse_control_text("".join(head_text), self.filename)
        if not self.content:
            raise self._empty()
        return Scanned(codec, codec.removesuffix("-sig"), self.size, self.sha256)


def _refuse_control_bytes(data: bytes, filename: str) -> None:
    sample = data[:HEAD]
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
    sample = text[:HEAD]
    controls = _CONTROL_TEXT.findall(sample)
    if len(controls) > max(8, len(sample) // 200):
        first = _CONTROL_TEXT.search(sample)
        assert first is not None
        raise ImportFormatError(
            filename,
            f"binary content: control character U+{ord(first.group()):04X}",
            line=sample.count("\n", 0, first.start()) + 1,
        )


def _cp1252_plausible(open_blocks: Blocks) -> bool:
    """Whether the whole file reads unambiguously as Windows-1252 (see the module docstring).

    Windows-1252 is one byte per character, so blocks decode independently;
    only a run of non-ASCII letters can straddle two blocks, hence the carry.
    """
    blocks = open_blocks()
    carry = ""
    try:
        for block in blocks:
            if _CP1252_UNDEFINED_RE.search(block):
                return False
            text = block.decode("cp1252")
            for char in set(text):
                if char > "\x7f" and not (
                    char.isalpha() and char <= "\u017f" or char in _PLAUSIBLE_SYMBOLS
                ):
                    return False
            joined = carry + text
            for run in _LETTER_RUN.findall(joined):
                if sum(c.isalpha() for c in run) >= 3:
                    return False
            tail = _TRAILING_NON_ASCII.search(joined)
            carry = tail.group() if tail else ""
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:
            close()
    return True
