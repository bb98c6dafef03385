"""Normalisers shared by every reader: years, DOIs, pages, authors, types.

Each export format spells the same facts differently (``2016///`` vs
``2016 May 3``; ``https://doi.org/10.1/x`` vs ``doi:10.1/x``; ``1021-9`` vs
``1021--1029``). Normalising them in one place means deduplication compares
like with like, whichever database a record came from. The untouched values
always stay in the record's ``original`` dict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from review.records import ImportedRecord

_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")
#: Crossref's recommended DOI pattern, loosened to stop at whitespace.
_DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>]+", re.IGNORECASE)
_DOI_PREFIX = re.compile(
    r"^\s*(?:(?:https?://)?(?:dx\.)?doi\.org/|doi\s*[:=]?\s*|info:doi/)", re.IGNORECASE
)
_DOI_URL = re.compile(r"(?:https?://)?(?:dx\.)?doi\.org/(10\.\S+)", re.IGNORECASE)
#: "doi: 10..." in notes, "doi=10...&..." inside links (stop at the next parameter).
_DOI_LABELLED = re.compile(r"\bdoi\s*[:=]?\s*(10\.\d{4,9}/[^\s&]+)", re.IGNORECASE)
_PMID_LABELLED = re.compile(r"\bPMID\s*[:=]?\s*(\d{1,9})\b", re.IGNORECASE)
_PUBMED_URL = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d{1,9})")
_DASHES = re.compile(r"\s*(?:-{1,3}|[\u2010-\u2015\u2212])\s*")


def clean(value: Any) -> str | None:
    """One-line text with runs of whitespace collapsed, or ``None`` when empty.

    Continuation lines arrive joined by a space; wrapped exports leave double
    spaces, tabs and non-breaking spaces that would defeat exact matching.
    The common case -- nothing to collapse -- returns early, which matters
    at 100,000 records.
    """
    if value is None:
        return None
    if value.__class__ is not str:
        if isinstance(value, list):
            value = " ".join(str(v) for v in value if v)
        else:
            value = str(value)
    text = value.strip()
    if "  " in text or "\t" in text or "\n" in text or "\xa0" in text or "\r" in text:
        text = " ".join(text.split())
    return text or None


def clean_long(value: Any) -> str | None:
    """:func:`clean` for long text; several values (a repeated ``AB``) are joined."""
    return clean(value)


def first(*values: Any) -> Any:
    """The first value that is not empty; a repeated tag gives its first occurrence."""
    for value in values:
        if isinstance(value, list):
            value = next((v for v in value if v), None)
        if value is not None and value != "":
            return value
    return None


def pick(tags: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    """The cleaned value of the first of ``keys`` that ``tags`` holds non-empty."""
    for key in keys:
        value = tags.get(key)
        if value:
            if value.__class__ is list:
                value = next((v for v in value if v and v.strip()), None)
                if value is None:
                    continue
            text = clean(value)
            if text:
                return text
    return None


def as_list(value: Any) -> list[str]:
    """A tag's values as a list, whether it occurred once or many times.

    A list is returned as it is (not copied): callers only read it.
    """
    if value is None or value == "":
        return []
    if value.__class__ is list:
        if all(v.__class__ is str for v in value):
            return value
        return [str(v) for v in value]
    return [str(value)]


def parse_year(*values: Any) -> int | None:
    """The first plausible four-digit year in any of ``values``.

    Handles ``2016``, ``2016///``, ``2016/05/03/``, ``2016 May 3``,
    ``2015 Dec-2016 Jan`` (first year wins) and spreadsheet floats ``2016.0``.
    """
    for value in values:
        for item in as_list(value) if not isinstance(value, int | float) else [str(value)]:
            match = _YEAR.search(item)
            if match:
                return int(match.group(1))
    return None


def normalise_doi(value: Any) -> str | None:
    """A bare DOI (``10.xxxx/...``) from a DOI field, URL or ``doi:`` label.

    Case is kept (DOIs are case-insensitive; comparison is the matcher's job).
    """
    text = first(value)
    if text is None:
        return None
    text = unquote(_DOI_PREFIX.sub("", str(text).strip()))
    match = _DOI.search(text)
    if match is None:
        return None
    return match.group(0).rstrip(".,;)]}")


def doi_from_text(value: Any) -> str | None:
    """A DOI only where the text clearly names one: a doi.org URL, ``doi: 10...``
    or a value that is itself a DOI. Used for URL and note fields, which hold
    many other things."""
    for item in as_list(value):
        item = item.strip()
        match = _DOI_URL.search(item) or _DOI_LABELLED.search(item)
        if match:
            return normalise_doi(match.group(1))
        if item.startswith("10.") and _DOI.fullmatch(item.rstrip(".")):
            return normalise_doi(item)
    return None


def pmid_from_text(value: Any) -> str | None:
    """A PubMed id from ``PMID: 123`` labels or PubMed URLs."""
    for item in as_list(value):
        match = _PMID_LABELLED.search(item) or _PUBMED_URL.search(item)
        if match:
            return match.group(1)
    return None


def join_pages(start: Any, end: Any = None) -> str | None:
    """``SP``/``EP`` (or a page range) as one ``start-end`` string.

    MEDLINE abbreviates end pages (``1021-9`` means 1021-1029); we expand them
    so that a record from PubMed and the same record from Scopus agree.
    """
    start_text = clean(first(start))
    end_text = clean(first(end))
    if start_text and end_text and end_text != start_text and not _DASHES.search(start_text):
        pages = f"{start_text}-{end_text}"
    else:
        pages = start_text or end_text
    if not pages:
        return None
    parts = _DASHES.split(pages)
    if len(parts) == 2 and all(parts):
        first_page, last_page = parts
        if (
            first_page.isdigit()
            and last_page.isdigit()
            and len(last_page) < len(first_page)
            and int(last_page) < int(first_page)
        ):
            last_page = first_page[: len(first_page) - len(last_page)] + last_page
        if last_page == first_page:
            return first_page
        return f"{first_page}-{last_page}"
    return pages


#: Placeholders databases write where a record has no author.
_NO_AUTHOR = re.compile(
    r"^\[?(?:no author(?: name)? available|anonymous|anon\.?)\]?$", re.IGNORECASE
)


def split_names(value: Any) -> list[str]:
    """Split an author cell into names.

    Exports join authors with ``;`` (Scopus since 2023, Zotero, Covidence, Web
    of Science), with `` and `` (BibTeX, Rayyan) or, in older Scopus CSVs, with
    ``,`` after initials (``Smith J., Doe A.B.``). A single ``Surname, Given``
    stays one name.
    """
    names: list[str] = []
    for item in as_list(value):
        if ";" in item:
            parts = item.split(";")
        elif " and " in item:
            parts = item.split(" and ")
        elif "|" in item:
            parts = item.split("|")
        elif re.search(r"\.,\s", item):
            parts = re.split(r"(?<=\.),\s+", item)
        else:
            parts = [item]
        names.extend(p for p in (clean(part) for part in parts) if p and not _NO_AUTHOR.match(p))
    return names


def split_keywords(value: Any) -> list[str]:
    """Keywords from list items and ``;``-joined cells (``,`` only when there is no ``;``)."""
    words: list[str] = []
    for item in as_list(value):
        parts = item.split(";") if ";" in item else [item]
        words.extend(p for p in (clean(part) for part in parts) if p)
    return unique(words)


def split_keywords_commas(value: Any) -> list[str]:
    """Keywords from cells that may use commas (BibTeX, Zotero tags)."""
    words: list[str] = []
    for item in as_list(value):
        sep = ";" if ";" in item else ","
        words.extend(p for p in (clean(part) for part in item.split(sep)) if p)
    return unique(words)


def unique(values: Iterable[str]) -> list[str]:
    """Values in first-seen order without repeats (compared case-insensitively)."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.casefold()
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


#: RIS ``TY`` codes to the BibTeX entry types the deduplication input uses
#: (``ENTRYTYPE``); anything unlisted is ``misc``.
RIS_TYPES: dict[str, str] = {
    **dict.fromkeys(
        ["JOUR", "JFULL", "EJOUR", "MGZN", "ABST", "INPR", "NEWS", "NEWSPAPER", "SER"],
        "article",
    ),
    **dict.fromkeys(["CONF", "CPAPER"], "inproceedings"),
    **dict.fromkeys(["BOOK", "EBOOK", "EDBOOK"], "book"),
    **dict.fromkeys(["CHAP", "ECHAP"], "incollection"),
    "THES": "phdthesis",
    **dict.fromkeys(["RPRT", "GOVDOC"], "techreport"),
    **dict.fromkeys(["UNPB", "MANSCPT"], "unpublished"),
}
#: The reverse, for writing RIS.
TYPE_TO_RIS: dict[str, str] = {
    "article": "JOUR",
    "inproceedings": "CONF",
    "book": "BOOK",
    "incollection": "CHAP",
    "phdthesis": "THES",
    "techreport": "RPRT",
    "unpublished": "UNPB",
    "misc": "GEN",
}
_WORD_TYPES: tuple[tuple[str, str], ...] = (
    ("conference", "inproceedings"),
    ("proceedings", "inproceedings"),
    ("meeting", "inproceedings"),
    ("chapter", "incollection"),
    ("book section", "incollection"),
    ("booksection", "incollection"),
    ("book", "book"),
    ("thesis", "phdthesis"),
    ("dissertation", "phdthesis"),
    ("report", "techreport"),
    ("preprint", "unpublished"),
    ("article", "article"),
    ("review", "article"),
    ("letter", "article"),
    ("editorial", "article"),
    ("note", "article"),
    ("erratum", "article"),
    ("comment", "article"),
    ("journal", "article"),
    ("trial", "article"),
    ("survey", "article"),
)
_BIBTEX_TYPES = {
    "article": "article",
    "inproceedings": "inproceedings",
    "conference": "inproceedings",
    "proceedings": "inproceedings",
    "book": "book",
    "inbook": "incollection",
    "incollection": "incollection",
    "phdthesis": "phdthesis",
    "mastersthesis": "phdthesis",
    "thesis": "phdthesis",
    "techreport": "techreport",
    "report": "techreport",
    "unpublished": "unpublished",
}
_WOS_PT = {"J": "article", "C": "inproceedings", "B": "book", "S": "article", "P": "misc"}


def ris_type(code: Any) -> str | None:
    """Record type from a RIS ``TY`` code."""
    text = code if code.__class__ is str else clean(first(code))
    if text is None:
        return None
    return RIS_TYPES.get(text.upper(), "misc")


def word_type(*labels: Any) -> str | None:
    """Record type from free-text labels (``Journal Article``, ``Conference Paper``,
    ``bookSection``, BibTeX entry types, Web of Science ``PT`` letters).

    Labels are tried in order, each item of a repeated tag too (PubMed lists
    ``English Abstract`` before ``Journal Article``); the first that names a
    known type wins, else ``misc``.
    """
    seen_any = False
    for label in labels:
        for item in as_list(label):
            text = clean(item)
            if text is None:
                continue
            seen_any = True
            kind = _one_word_type(text)
            if kind is not None:
                return kind
    return "misc" if seen_any else None


def _one_word_type(text: str) -> str | None:
    low = text.casefold()
    if low in _BIBTEX_TYPES:
        return _BIBTEX_TYPES[low]
    if text in _WOS_PT:
        return _WOS_PT[text]
    if text.upper() in RIS_TYPES:
        return RIS_TYPES[text.upper()]
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text).casefold()
    for word, kind in _WORD_TYPES:
        if word in spaced:
            return kind
    return None


def make_record(
    original: dict[str, Any],
    *,
    title: str | None = None,
    authors: list[str] | None = None,
    year: int | None = None,
    journal: str | None = None,
    volume: str | None = None,
    issue: str | None = None,
    pages: str | None = None,
    doi: str | None = None,
    pmid: str | None = None,
    abstract: str | None = None,
    keywords: list[str] | None = None,
    type: str | None = None,  # noqa: A002 (the record field is called type)
    url: str | None = None,
    language: str | None = None,
    publisher: str | None = None,
    issn: str | None = None,
) -> ImportedRecord:
    """A record with every normalised key present (``None`` or ``[]`` when absent).

    Keyword arguments rather than a generic loop: this runs once per record.
    """
    return {  # type: ignore[return-value]
        "title": title or None,
        "authors": authors or [],
        "year": year,
        "journal": journal or None,
        "volume": volume or None,
        "issue": issue or None,
        "pages": pages or None,
        "doi": doi or None,
        "pmid": pmid or None,
        "abstract": abstract or None,
        "type": type or None,
        "url": url or None,
        "language": language or None,
        "publisher": publisher or None,
        "issn": issn or None,
        "keywords": keywords or [],
        "original": original,
    }
