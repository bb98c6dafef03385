"""One rule for "which of the review's records is this paper?": DOI, then PMID, then title.

Two features ask it: the bulk PDF import (a file's name and first pages,
:mod:`review.screening.pdf_import`) and seeding the ranking model with known
relevant papers from an uploaded export (:mod:`review.screening.seed`). Both
go through :class:`Matcher`, so a DOI is cleaned, a PMID compared and a title
normalised the same way everywhere:

* a DOI matches when its cleaned form (lower case, no ``https://doi.org/`` or
  ``doi:`` prefix, no trailing punctuation) equals a record's;
* a PMID matches when its digits equal a record's;
* a title matches when the record's normalised title (letters and digits
  only, accents folded) equals the paper's title, or, being at least
  :data:`MIN_TITLE_CHARS` long, is contained in it -- or in a text that holds
  a title somewhere (a file name, a first page): a short title is too common
  to trust by containment.

The first kind of evidence that finds anything decides; the caller sees every
record it found and by what, and decides what an ambiguous hit means.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: A title shorter than this (normalised characters) is too common to match by containment.
MIN_TITLE_CHARS = 25

_DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>]+", re.IGNORECASE)


def normalise(text: str | None) -> str:
    """Lower-case letters and digits only (accents folded): for title comparison."""
    s = unicodedata.normalize("NFKD", text or "")
    s = "".join(c for c in s if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "", s.lower())


def clean_doi(doi: str | None) -> str | None:
    """A DOI in the one form compared: lower case, no resolver prefix, no trailing punctuation."""
    if not doi:
        return None
    d = doi.strip().lower()
    d = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", d)
    return d.rstrip(".,;)]") or None


def clean_pmid(pmid: str | None) -> str | None:
    """A PMID as its digits ("PMID: 123" and " 123 " are the same paper)."""
    digits = re.sub(r"\D", "", str(pmid or ""))
    return digits.lstrip("0") or None


def dois_in(text: str) -> list[str]:
    """Every DOI written in ``text``, cleaned."""
    return [c for c in (clean_doi(m.group(0)) for m in _DOI.finditer(text)) if c]


@dataclass(frozen=True)
class Candidate:
    """A record one may match: ``key`` is what the caller acts on (a report or the record)."""

    key: int
    record_id: int
    doi: str | None
    pmid: str | None
    title: str  # normalised
    has_pdf: bool = False


def candidate(key: int, record_id: int, doi: str | None, pmid: str | None,
              title: str | None, has_pdf: bool = False) -> Candidate:
    """A :class:`Candidate` with its identifiers cleaned the one way they are compared."""
    return Candidate(int(key), int(record_id), clean_doi(doi), clean_pmid(pmid),
                     normalise(title), bool(has_pdf))


class Matcher:
    """The review's records indexed by DOI, PMID and normalised title (built once per import)."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        self.candidates = list(candidates)
        self._doi: dict[str, list[Candidate]] = {}
        self._pmid: dict[str, list[Candidate]] = {}
        self._title: dict[str, list[Candidate]] = {}
        for c in self.candidates:
            if c.doi:
                self._doi.setdefault(c.doi, []).append(c)
            if c.pmid:
                self._pmid.setdefault(c.pmid, []).append(c)
            if c.title:
                self._title.setdefault(c.title, []).append(c)
        self._long = [c for c in self.candidates if len(c.title) >= MIN_TITLE_CHARS]

    def by_doi(self, dois: Iterable[str | None]) -> list[Candidate]:
        hits = {c.key: c for d in dois for c in self._doi.get(clean_doi(d) or "", [])}
        return list(hits.values())

    def by_pmid(self, pmid: str | None) -> list[Candidate]:
        return list(self._pmid.get(clean_pmid(pmid) or "", []))

    def by_title(self, title: str | None) -> list[Candidate]:
        """Records whose title is ``title`` (normalised), else is long enough and inside it
        (the paper's title carries a subtitle the record lacks)."""
        t = normalise(title)
        if not t:
            return []
        if t in self._title:
            return list(self._title[t])
        return self.title_in(t)

    def title_in(self, text: str | None) -> list[Candidate]:
        """Records whose title is long enough to trust and appears inside ``text`` (a file
        name, a first page): a short title would match by chance."""
        t = normalise(text)
        return [c for c in self._long if c.title in t] if t else []

    def match(self, evidence: Iterable[tuple[str, str, object]]) -> tuple[list[Candidate], str]:
        """Try ``(kind, label, value)`` in order (kind ``doi``, ``dois``, ``pmid``, ``title`` or
        ``title_in``);
        the first that finds a record wins: (its records, its label). ``([], "")`` if none does."""
        for kind, label, value in evidence:
            if not value:
                continue
            if kind == "doi":
                hits = self.by_doi([str(value)])
            elif kind == "dois":
                hits = self.by_doi(value)  # type: ignore[arg-type]
            elif kind == "pmid":
                hits = self.by_pmid(str(value))
            elif kind == "title":
                hits = self.by_title(str(value))
            elif kind == "title_in":
                hits = self.title_in(str(value))
            else:
                raise ValueError(f"unknown kind of evidence {kind!r}")
            if hits:
                return hits, label
        return [], ""
