"""PubMed MEDLINE format (``.nbib`` from "Cite → NBIB", ``pubmed-*.txt`` from
"Save → Format: PubMed").

Why hand-written: the format is tiny and fixed (a tag padded to four
characters, ``"- "``, the value; continuation lines indented by six spaces;
records separated by a blank line), and the only maintained library that
reads it (Biopython's ``Bio.Medline``) would add a large dependency for some
forty lines. The parser is strict -- a line that is neither a tag line, a
continuation nor blank is an error with its line number -- because a lenient
reader would quietly fold a corrupted file into wrong fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from review.io.errors import ImportFormatError
from review.io.fields import (
    as_list,
    clean,
    clean_long,
    first,
    join_pages,
    make_record,
    parse_year,
    unique,
    word_type,
)
from review.io.progress import Advance, counted
from review.io.ris import pieces_of, unify_newlines
from review.records import ImportedRecord

_TAG = re.compile(r"[A-Z][A-Z0-9]{1,3}")


def count_records(text: str) -> int:
    """Cheap estimate of the number of records, for the progress bar."""
    return text.count("PMID- ")


def iter_records(pieces: Iterable[str], filename: str, warnings: list[str]
                 ) -> Iterator[ImportedRecord]:
    """Records of a MEDLINE export arriving as text pieces (LF line ends), in file order."""
    for _, tags in _blocks(complete_lines(pieces), filename):
        yield to_record(tags)


def parse(text: str, filename: str, advance: Advance) -> tuple[list[ImportedRecord], list[str]]:
    """Records of a whole MEDLINE-format export."""
    warnings: list[str] = []
    pieces = pieces_of(unify_newlines(text))
    return list(counted(iter_records(pieces, filename, warnings), advance)), warnings


def complete_lines(pieces: Iterable[str]) -> Iterator[list[str]]:
    """Batches of whole lines from text arriving in pieces; the last batch ends the text.

    The lines are exactly those of ``"".join(pieces).split("\\n")``, so line
    numbers and a missing final newline mean the same as in a whole file.
    """
    carry = ""
    for piece in pieces:
        buf = carry + piece if carry else piece
        cut = buf.rfind("\n")
        if cut == -1:
            carry = buf
            continue
        yield buf[:cut].split("\n")
        carry = buf[cut + 1 :]
    yield [carry]


def _blocks(batches: Iterable[list[str]], filename: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Group lines into records of ``{tag: value or [values]}`` with their start line.

    A record is yielded once the next one starts (or the file ends), because
    continuation lines may still add to it until then.
    """
    current: dict[str, Any] | None = None
    held: tuple[int, dict[str, Any]] | None = None  # the record still being read
    n_blocks = 0
    all_have_source = True  # every record before ``held`` has an SO line
    last_tag = ""
    lineno = 0
    for lines in batches:
        for line in lines:
            lineno += 1
            if line[4:6] == "- " or (len(line) == 5 and line[4] == "-"):
                tag = line[:4].rstrip()
                if _TAG.fullmatch(tag):
                    value = line[6:].strip()
                    if current is None or (tag == "PMID" and "PMID" in current):
                        if held is not None:
                            all_have_source = all_have_source and "SO" in held[1]
                            yield held
                        current = {}
                        held = (lineno, current)
                        n_blocks += 1
                    existing = current.get(tag)
                    if existing is None:
                        current[tag] = value
                    elif existing.__class__ is list:
                        existing.append(value)
                    else:
                        current[tag] = [existing, value]
                    last_tag = tag
                    continue
            stripped = line.strip()
            if not stripped:
                current = None
                continue
            if line[0] in " \t" and current is not None:
                value = current[last_tag]
                if value.__class__ is list:
                    value[-1] = f"{value[-1]} {stripped}" if value[-1] else stripped
                else:
                    current[last_tag] = f"{value} {stripped}" if value else stripped
                continue
            what = (
                "an indented continuation line outside a record"
                if line[0] in " \t"
                else (f"not a MEDLINE line ('{stripped[:40]}'); expected 'TAG - value'")
            )
            raise ImportFormatError(
                filename, what, line=lineno, record=n_blocks + (current is None)
            )
    if held is None:
        raise ImportFormatError(filename, "no MEDLINE records (no 'PMID- ' lines)", line=1)
    # PubMed ends every record with its source line (SO); a last record
    # without one, after records that have it, was cut off.
    if n_blocks > 1 and "SO" not in held[1] and all_have_source:
        raise ImportFormatError(
            filename,
            "the last record has no 'SO' (source) line, which PubMed writes at the end of "
            "every record; the file looks truncated",
            line=held[0],
            record=n_blocks,
        )
    yield held


def to_record(tags: dict[str, Any]) -> ImportedRecord:
    """Map one MEDLINE record's tags to the shared record shape."""
    get = tags.get
    authors = [a for a in (clean(x) for x in as_list(get("FAU") or get("AU"))) if a]
    authors += [a for a in (clean(x) for x in as_list(get("CN"))) if a]
    return make_record(
        tags,
        title=_unbracket(clean(first(get("TI"), get("BTI"), get("TT")))),
        authors=authors,
        year=parse_year(get("DP"), get("DEP"), get("EDAT")),
        journal=clean(first(get("JT"), get("TA"))),
        volume=clean(first(get("VI"))),
        issue=clean(first(get("IP"))),
        pages=join_pages(get("PG")),
        doi=_doi(tags),
        pmid=clean(first(get("PMID"))),
        abstract=clean_long(get("AB")),
        keywords=_keywords(tags),
        type=word_type(get("PT")),
        url=None,
        language=clean(first(get("LA"))),
        publisher=clean(first(get("PB"))),
        issn=_issn(get("IS")),
    )


def _keywords(tags: dict[str, Any]) -> list[str]:
    """Author keywords (``OT``) then MeSH headings (``MH``), the major-topic ``*`` removed."""
    terms = (clean(x) for x in as_list(tags.get("OT")) + as_list(tags.get("MH")))
    return unique(t.lstrip("*") for t in terms if t and t.lstrip("*"))


def _doi(tags: dict[str, Any]) -> str | None:
    for value in as_list(tags.get("AID")) + as_list(tags.get("LID")):
        if value.rstrip().endswith("[doi]"):
            return clean(value.rstrip()[: -len("[doi]")])
    return None


def _issn(value: Any) -> str | None:
    """``1234-5678 (Electronic)`` → ``1234-5678``."""
    text = clean(first(value))
    return text.split(" (")[0] if text else None


def _unbracket(title: str | None) -> str | None:
    """PubMed wraps translated titles in brackets: ``[Loneliness in children].``"""
    if title and title.startswith("[") and title.rstrip(".").endswith("]"):
        inner = title.rstrip(".")[1:-1].strip()
        return inner + ("." if title.endswith(".") else "") if inner else title
    return title
