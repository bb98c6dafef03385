"""BibTeX / BibLaTeX (Zotero, JabRef, Google Scholar, Scopus "BibTeX") via bibtexparser 2.x.

bibtexparser splits the file and reports broken blocks with their line; we
then run its middlewares per entry ourselves rather than in the parse stack,
for three reasons:

* entries with a repeated citation key (common when several searches are
  exported into one file) arrive as ``DuplicateBlockKeyBlock`` and would skip
  a parse-stack middleware -- they are still records and are imported;
* ``url``/``doi`` must not be LaTeX-decoded (``%`` starts a LaTeX comment and
  would cut a URL short);
* a name the strict BibTeX name splitter rejects should cost that entry its
  ``Last, First`` ordering, not the whole import.

Names come out as ``Last, First`` (``{\\"o}`` → ``ö``, braces removed);
``{World Health Organization}`` stays one name. bibtexparser's LaTeX
decoder leaves list values alone, so names are decoded one by one after
splitting.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares import (
    LatexDecodingMiddleware,
    MergeNameParts,
    NameParts,
    NormalizeFieldKeys,
    SeparateCoAuthors,
    SplitNameParts,
)
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    Field,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
)

from review.io.errors import ImportFormatError
from review.io.fields import (
    clean,
    clean_long,
    first,
    join_pages,
    make_record,
    normalise_doi,
    parse_year,
    pmid_from_text,
    split_keywords_commas,
    word_type,
)
from review.io.progress import Advance
from review.records import ImportedRecord

#: Fields kept verbatim: LaTeX decoding would damage them.
_VERBATIM = ("url", "doi", "file", "eprint", "pmid", "issn", "isbn")
_PROGRESS_STEP = 500
#: Characters and pairs that LaTeX decoding changes; a value with none of them is plain text
#: (checked against pylatexenc for every character up to U+024F and 20,000 random strings).
_LATEX_SIGNIFICANT = re.compile(r"[\\{}%&~$]|--|``|''|[!?]`")
#: The same without braces: a value whose only LaTeX is balanced braces just loses them
#: (checked against pylatexenc on 3,455 random brace-balanced strings).
_LATEX_BEYOND_BRACES = re.compile(r"[\\%&~$]|--|``|''|[!?]`")
_BRACE = re.compile(r"[{}]")
#: Values longer than this are not LaTeX-decoded (no real field comes near it).
LATEX_DECODE_LIMIT = 100_000

# bibtexparser logs every unknown field type at INFO and key clashes at WARNING;
# the import summary reports what matters, so keep the library quiet.
logging.getLogger("bibtexparser").setLevel(logging.ERROR)


def count_records(text: str) -> int:
    """Cheap estimate of the number of records, for the progress bar."""
    return text.count("@")


def parse(text: str, filename: str, advance: Advance) -> tuple[list[ImportedRecord], list[str]]:
    """Records of a BibTeX file, plus warnings for the import summary."""
    try:
        library = bibtexparser.parse_string(text)
    except Exception as err:  # the splitter raises on pathological input
        raise ImportFormatError(filename, f"could not parse BibTeX ({err})") from err
    records: list[ImportedRecord] = []
    warnings: list[str] = []
    pending = 0
    for block in library.blocks:
        if not isinstance(block, Entry | ParsingFailedBlock):
            continue  # @string, @preamble, @comment and text between entries
        line = (block.start_line + 1) if block.start_line is not None else None
        entry = _entry_of(block, filename, line, len(records) + 1, warnings)
        if entry is None:
            continue
        try:
            fields, note = _decoded_fields(entry, library)
        except Exception as err:  # middlewares are third-party code; keep the promise
            raise ImportFormatError(
                filename,
                f"could not read entry '{entry.key}' ({type(err).__name__}: {err})",
                line=line,
                record=len(records) + 1,
            ) from err
        if note:
            warnings.append(f"{filename}, line {line}: entry '{entry.key}': {note}")
        records.append(to_record(entry.entry_type, entry.key, fields))
        pending += 1
        if pending == _PROGRESS_STEP:
            advance(pending)
            pending = 0
    advance(pending)
    if not records:
        raise ImportFormatError(
            filename, "no BibTeX entries (nothing like '@article{...}')", line=1
        )
    return records, warnings


def _entry_of(
    block: Entry | ParsingFailedBlock,
    filename: str,
    line: int | None,
    number: int,
    warnings: list[str],
) -> Entry | None:
    if isinstance(block, Entry):
        return block
    inner = block.ignore_error_block
    if isinstance(block, DuplicateBlockKeyBlock) and isinstance(inner, Entry):
        warnings.append(
            f"{filename}, line {line}: citation key '{inner.key}' repeats; imported both"
        )
        return inner
    if isinstance(block, DuplicateFieldKeyBlock) and isinstance(inner, Entry):
        keys = ", ".join(sorted(block.duplicate_keys))
        warnings.append(f"{filename}, line {line}: field(s) {keys} repeat in one entry; last kept")
        return inner
    if isinstance(block, MiddlewareErrorBlock) and isinstance(inner, Entry):
        warnings.append(f"{filename}, line {line}: entry '{inner.key}': {block.error}")
        return inner
    if isinstance(block, DuplicateBlockKeyBlock | MiddlewareErrorBlock):
        return None  # a repeated or unresolvable @string: no record is lost
    reason = getattr(block.error, "abort_reason", None) or str(block.error) or "syntax error"
    end = f" (reading stopped on line {line + (block.raw or '').count(chr(10))})" if line else ""
    raise ImportFormatError(
        filename,
        f"broken BibTeX entry{end}: {reason.strip()} Check its braces and quotes; a file cut "
        "short ends inside an entry.",
        line=line,
        record=number,
    )


class _LatexDecodingExceptVerbatim(LatexDecodingMiddleware):
    """Decode LaTeX everywhere except in fields where it would damage the value.

    pylatexenc reads one token per character (about 60,000 a second): most
    values hold no LaTeX at all and are passed through untouched, which makes
    a typical import several times faster, and a value longer than
    :data:`LATEX_DECODE_LIMIT` is kept as written with a warning -- a 10 MB
    field would otherwise take minutes (found by ``benchmarks/fuzz_importers.py``).
    """

    def _transform_python_value_string(self, python_string: str) -> tuple[str, str]:
        if not _LATEX_SIGNIFICANT.search(python_string):
            return python_string, ""
        if len(python_string) > LATEX_DECODE_LIMIT:
            return python_string, (
                f"a value of {len(python_string):,} characters is kept as written "
                "(too long to decode its LaTeX)"
            )
        if not _LATEX_BEYOND_BRACES.search(python_string) and _braces_balanced(python_string):
            # "{COVID}-19", "{World Health Organization}": braces that only protect
            # capitals, the commonest LaTeX in Zotero and JabRef exports.
            return python_string.replace("{", "").replace("}", ""), ""
        return super()._transform_python_value_string(python_string)

    def transform_entry(self, entry: Entry, library: Library):
        kept = [entry.pop(key) for key in _VERBATIM if key in entry]
        result = super().transform_entry(entry, library)
        target = result.ignore_error_block if isinstance(result, MiddlewareErrorBlock) else result
        for field in kept:
            target.set_field(field)
        return result


def _braces_balanced(text: str) -> bool:
    depth = 0
    for brace in _BRACE.findall(text):
        depth += 1 if brace == "{" else -1
        if depth < 0:
            return False
    return depth == 0


_NORMALISE_KEYS = NormalizeFieldKeys()
_SEPARATE = SeparateCoAuthors()
_SPLIT = SplitNameParts()
_DECODE = _LatexDecodingExceptVerbatim()
_MERGE = MergeNameParts(style="last")


def _decoded_fields(entry: Entry, library: Library) -> tuple[dict[str, Any], str]:
    """Field values of one entry, LaTeX-decoded, names split; plus a note on anything skipped."""
    notes: list[str] = []

    def apply(middleware, entry: Entry) -> tuple[Entry, bool]:
        result = middleware.transform_entry(entry, library)
        if isinstance(result, MiddlewareErrorBlock):
            notes.append(str(result.error))
            return result.ignore_error_block, False
        return result, True

    entry, _ = apply(_NORMALISE_KEYS, entry)
    entry, _ = apply(_SEPARATE, entry)
    entry, names_split = apply(_SPLIT, entry)
    if names_split:  # "First Last" and "Last, First" both become "Last, First"
        entry, _ = apply(_MERGE, entry)
    entry, _ = apply(_DECODE, entry)
    fields = {field.key: field.value for field in entry.fields}
    # bibtexparser's LaTeX decoder skips list values, so names (now lists of
    # strings, braces intact) are decoded one by one.
    for key in ("author", "editor", "translator"):
        value = fields.get(key)
        if isinstance(value, list):
            names = [v.merge_last_name_first if isinstance(v, NameParts) else str(v) for v in value]
            fields[key] = _decode_strings(names, library)
    return fields, "; ".join(notes)


def _decode_strings(values: list[str], library: Library) -> list[str]:
    """LaTeX-decode plain strings through the same middleware."""
    scratch = Entry("misc", "scratch", [Field(f"v{i}", v) for i, v in enumerate(values)])
    result = _DECODE.transform_entry(scratch, library)
    if isinstance(result, MiddlewareErrorBlock):
        result = result.ignore_error_block
    return [str(result[f"v{i}"]) for i in range(len(values))]


def to_record(entry_type: str, key: str, fields: dict[str, Any]) -> ImportedRecord:
    """Map one decoded BibTeX entry to the shared record shape."""
    get = fields.get
    original: dict[str, Any] = {"ENTRYTYPE": entry_type, "ID": key, **fields}
    authors = [a for a in (clean(x) for x in _as_names(get("author"))) if a]
    return make_record(
        original,
        title=clean(
            first(get("title"), get("booktitle") if entry_type.lower() == "book" else None)
        ),
        authors=authors,
        year=parse_year(get("year"), get("date")),
        journal=clean(
            first(
                get("journal"),
                get("journaltitle"),
                None if entry_type.lower() == "book" else get("booktitle"),
                get("series"),
            )
        ),
        volume=clean(first(get("volume"))),
        issue=clean(first(get("number"), get("issue"))),
        pages=join_pages(get("pages")),
        doi=normalise_doi(get("doi")),
        pmid=clean(first(get("pmid"))) or pmid_from_text(get("note")),
        abstract=clean_long(get("abstract")),
        keywords=split_keywords_commas(get("keywords")),
        type=word_type(entry_type),
        url=clean(first(get("url"))),
        language=clean(first(get("language"), get("langid"))),
        publisher=clean(first(get("publisher"))),
        issn=clean(first(get("issn"))),
    )


def _as_names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]
