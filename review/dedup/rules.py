"""The decision on one pair, as a table of named match conditions read top to bottom.

Each pair is first described by :class:`Facts` (what its fields say, and what the
file says those fields are worth, :mod:`review.dedup.evidence`). Then the first
:class:`Rule` of :data:`RULES` whose condition holds gives the decision and the
reason a person reads. Thresholds live in :data:`LIMITS`, in one place.

The table is built on one asymmetry: a wrong merge silently removes a study
from the review, while a missed duplicate costs a reviewer a few seconds. So a
pair is linked only when the evidence agrees *and* nothing contradicts it, and
evidence is asked for in proportion to how little the title identifies:

- a contradiction (an erratum mark, a different item DOI, a disagreeing
  locator that this file shows to be reliable, ...) makes a pair "maybe" at
  best, and such a pair is *hard*: clustering never joins its two records;
- a generic or recurring title ("Editorial", a named column) links only on a
  positive item identifier (an item DOI, a PubMed id, the same full page range,
  the same reliable issue); the mere absence of disagreement is not enough.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from review.dedup.evidence import FileEvidence
from review.dedup.normalise import Author, compare_pages
from review.dedup.prepare import Prepared
from review.dedup.traps import kind_conflict, marks_conflict

DUPLICATE = "duplicate"
MAYBE = "maybe"
DISTINCT = "distinct"


@dataclass(frozen=True)
class Limits:
    """Every threshold of the decision, named (title similarities are 0–100)."""

    title_exact: float = 99.5  #: word for word the same title
    title_same: float = 95.0  #: the same title up to typos
    title_near: float = 90.0  #: near enough that a contradiction makes a "maybe", not "distinct"
    title_similar: float = 85.0  #: similar: needs pages or abstract to agree too
    title_related: float = 80.0  #: related titles: a "maybe" with authors and citation
    title_with_id: float = 80.0  #: a shared DOI or PubMed id links titles at least this close
    title_translated: float = 50.0  #: reworded title still linkable by a full citation
    title_exact_despite_id: float = 97.0  #: different ids but otherwise identical: ask a person
    authors_ok: float = 0.75  #: share of the shorter author list found in the longer
    authors_bad: float = 0.5  #: below this (and first authors differ) the authors differ
    authors_many: float = 0.9  #: "all the authors" for the support count
    abstract_same: float = 90.0
    abstract_twin: float = 95.0  #: the same long abstract identifies the work alone
    abstract_different: float = 50.0
    abstract_chars: int = 150  #: abstracts shorter than this are not compared
    abstract_long_chars: int = 300
    support_similar: int = 3  #: agreeing fields a "similar" title needs to link
    support_little: int = 2  #: below this, "little else to compare"


LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision on one pair, its strength (0–1) and the reason a person will read."""

    decision: str
    score: float
    reason: str
    hard: bool  #: a contradiction: the two may never share a cluster
    bits: float = 0.0  #: Fellegi–Sunter log2 likelihood ratio of the locators compared


# ---------------------------------------------------------------------------------------------
# Field comparisons
# ---------------------------------------------------------------------------------------------


def _same_person(x: Author, y: Author) -> bool:
    """Two author entries name one person: surnames equal up to particles, a typo or a
    truncation, and first initials that do not disagree ('Wang T' and 'Wang J' are two people).
    """
    sx, sy = x.surname, y.surname
    if not (
        sx == sy
        or (len(sx) >= 4 and len(sy) >= 4 and (sx.startswith(sy) or sy.startswith(sx)))
        or (min(len(sx), len(sy)) >= 5 and Levenshtein.distance(sx, sy) <= 1)
    ):
        # a garbled split such as 'Le, Quintrec M.' for 'Le Quintrec, M.': a shared name word
        common = x.parts & y.parts
        return bool(common) and max(len(w) for w in common) >= 4
    return not (x.initials and y.initials and x.initials[0] != y.initials[0])


def compare_authors(
    a: tuple[Author, ...], b: tuple[Author, ...]
) -> tuple[bool | None, float | None]:
    """(first authors are one person, share of the shorter list found in the longer one)."""
    a = tuple(x for x in a if not x.organisation)
    b = tuple(x for x in b if not x.organisation)
    if not a or not b:
        return None, None  # a group author says nothing about the people
    first = _same_person(a[0], b[0])
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    short = short[:12]
    long_ = long_[:40]
    surnames = {y.surname for y in long_}
    found = 0
    for x in short:
        if x.surname in surnames or any(_same_person(x, y) for y in long_):
            found += 1
    return first, found / len(short)


def _equal_or_unknown(x: str, y: str) -> str:
    if not x or not y:
        return ""
    return "same" if x == y else "different"


def _same_doi(x: str, y: str) -> str:
    """'same' when the records share any DOI, 'different' when both have DOIs and share none."""
    if not x or not y:
        return ""
    if x == y:
        return "same"
    return "same" if set(x.split()) & set(y.split()) else "different"


def _range_end(p: Prepared, i: int, j: int) -> str:
    """'same' / 'different' for two full page ranges that start on one page; '' otherwise."""
    x, y = p.pages[i], p.pages[j]
    if x.span_pages < 2 or y.span_pages < 2 or len(x.spans) != 1 or len(y.spans) != 1:
        return ""
    (x0, x1, xp), (y0, y1, yp) = x.spans[0], y.spans[0]
    if x0 != y0 or (xp and yp and xp != yp):
        return ""
    return "same" if x1 == y1 else "different"


# ---------------------------------------------------------------------------------------------
# What a pair's fields say
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Facts:
    """Everything the rules read about one pair, computed once.

    Not frozen: a frozen dataclass sets each of these fields through
    ``object.__setattr__``, which made building the facts the costliest step of
    scoring 100,000 records. Nothing changes them after :func:`facts`.
    """

    ts: float  #: title similarity 0–100 (NaN: a title is missing)
    has_title: bool
    truncated: bool
    first_au: bool | None
    au_share: float | None
    author_ok: bool
    author_bad: bool
    many_authors: bool
    yd: int | None
    years: tuple[int, int]
    jc: bool | None
    vol: str
    iss: str
    issue_conflict: bool  #: issues differ and the issue is reliable in this file
    issue_positive: bool  #: same volume and issue, the issue being reliable in this file
    pages: str
    ranged: bool  #: both have a page range of two pages or more
    range_end: str  #: full ranges starting on one page: 'same' / 'different' / ''
    end_conflict: bool  #: ranges start together but end apart, the end reliable in this file
    doi: str
    doi_reliable: bool
    pmid: str
    ab_sim: float | None
    long_abstracts: bool
    kind: str
    marks: str
    conference: tuple[bool, bool]
    cochrane: tuple[bool, bool]
    one_page: tuple[bool, bool]
    span_pages: tuple[int, int]
    weak_title: bool  #: generic or recurring: the title alone identifies no item
    short_title: bool  #: fewer than three subject words, but not generic
    generic_title: bool  #: no subject word at all ('Editorial', 'From the editor')
    recurring: bool
    translated: bool
    bits: float

    # -- derived views the rules share ---------------------------------------------------------
    @property
    def alike(self) -> bool:
        """Alike enough that a contradiction leaves a question for a person.

        A generic title agreeing ('Editorial') is no evidence at all, so a
        contradiction settles such a pair: two items (no maybe-list flood of one
        editor's monthly editorials). A subject title seen twice with two page
        ranges may be a typo: a person looks.
        """
        return (
            self.has_title
            and self.ts >= LIMITS.title_near
            and not self.author_bad
            and not self.generic_title
        )

    @property
    def same_id(self) -> bool:
        return self.doi == "same" or self.pmid == "same"

    @property
    def ident(self) -> str:
        if self.doi == "same" or self.doi == "different":
            return "same DOI" if self.doi == "same" else "different DOIs"
        return "same PubMed id" if self.pmid == "same" else "different PubMed ids"

    @property
    def different_id(self) -> bool:
        return self.doi == "different" or self.pmid == "different"

    @property
    def citation_same(self) -> bool:
        return self.yd == 0 and self.vol == "same" and self.pages == "same"

    @property
    def full_citation(self) -> bool:
        """Year, volume and the whole page range agree, with the authors."""
        return self.citation_same and self.ranged and self.range_end != "different"

    @property
    def same_abstract_meeting(self) -> bool:
        """One meeting abstract: one page or a meeting venue, one title, authors and venue.

        Conference papers are often indexed a year apart (meeting year, supplement year).
        """
        ci, cj = self.conference
        meeting_i = ci or self.one_page[0]
        meeting_j = cj or self.one_page[1]
        year_ok = self.yd == 0 or (ci and cj and self.yd == 1 and self.first_au is True)
        return bool(
            (ci or cj)
            and meeting_i
            and meeting_j
            and self.jc is True
            and year_ok
            and self.ts >= LIMITS.title_same
            and self.author_ok
            and self.vol != "different"
        )

    @property
    def abstract_twice(self) -> bool:
        """One abstract printed in two meetings' supplements: same words, authors and year."""
        return bool(
            self.conference[0]
            and self.conference[1]
            and self.jc is False
            and self.yd == 0
            and self.ts >= LIMITS.title_exact
            and self.first_au is True
            and self.au_share is not None
            and self.au_share >= LIMITS.authors_ok
            and self.many_authors
        )

    @property
    def support(self) -> int:
        return sum(
            (
                self.jc is True,
                self.vol == "same",
                self.pages == "same",
                self.yd == 0,
                self.issue_positive,
                self.ab_sim is not None and self.ab_sim >= LIMITS.abstract_same,
                self.au_share is not None
                and self.au_share >= LIMITS.authors_many
                and self.many_authors,
            )
        )

    @property
    def positive_item_id(self) -> str:
        """An identifier of the item itself, beyond the title ('' if none)."""
        if (
            self.range_end == "same"
            and self.yd is not None
            and self.yd <= 1
            and self.vol != "different"
        ):
            return "same full page range"
        if self.issue_positive and self.yd == 0 and not self.end_conflict:
            if self.pages in {"same", ""}:
                return "same volume and issue"
        if (
            self.pages == "same"
            and self.span_pages[0] == 1
            and self.span_pages[1] == 1
            and self.yd == 0
            and self.vol == "same"
        ):
            return "same page of the same volume"
        return ""

    @property
    def conflicts(self) -> str:
        """Contradictions that similar titles cannot outweigh, in words ('' if none)."""
        out: list[str] = []
        if self.marks and not (self.full_citation and self.author_ok and self.ts >= 90):
            out.append(self.marks)
        same_abstract = self.same_abstract_meeting or self.abstract_twice
        # meeting abstracts' 'pages' may be abstract numbers; two full page ranges are pages
        if self.pages == "different" and (not same_abstract or self.ranged):
            out.append("different page ranges")
        if self.vol == "different" and not self.abstract_twice:
            out.append("different volumes")
        if self.issue_conflict and not same_abstract:
            out.append("different issues (the issue is reliable in this file)")
        if self.end_conflict and self.weak_title:
            out.append("page ranges end apart (the last page is reliable in this file)")
        if self.yd is not None and self.yd >= 2:
            out.append(f"years {min(self.years)} and {max(self.years)}")
        if self.cochrane[0] and self.cochrane[1] and self.yd:
            out.append("Cochrane review update (different years)")
        elif self.cochrane[0] != self.cochrane[1] and self.jc is not None:
            out.append("Cochrane review vs journal article")
        if self.conference[0] != self.conference[1] and not same_abstract:
            # a meeting abstract printed in the journal is one page long (or shares the issue)
            article_span = self.span_pages[1] if self.conference[0] else self.span_pages[0]
            same_issue = (
                self.jc is not False
                and self.yd == 0
                and (
                    (self.vol == "same" and self.pages in {"same", "overlap", ""})
                    or (self.vol != "different" and self.range_end == "same")
                )
            )
            if not same_issue and not (self.jc is not False and 0 < article_span <= 2):
                out.append("conference abstract vs journal article")
        if self.ab_sim is not None and self.ab_sim < LIMITS.abstract_different:
            out.append("different abstracts")
        return "; ".join(out)


_KIND_WORDS = {
    "erratum": "erratum vs article",
    "retraction": "retraction notice vs article",
    "comment": "comment/reply vs article",
    "protocol": "protocol vs results",
}


def facts(
    p: Prepared, ev: FileEvidence, i: int, j: int, ts: float, truncated: bool = False
) -> Facts:
    """Describe the pair (i, j) for the rules."""
    first_au, au_share = compare_authors(p.authors[i], p.authors[j])
    yi, yj = int(p.year[i]), int(p.year[j])
    vol = _equal_or_unknown(p.volume[i], p.volume[j])
    iss = _equal_or_unknown(p.issue[i], p.issue[j])
    issue_reliable = ev.reliable("issue")
    end = _range_end(p, i, j)
    doi = _same_doi(ev.item_doi[i], ev.item_doi[j])
    pmid = _equal_or_unknown(p.pmid[i], p.pmid[j])
    ab_sim = None
    if len(p.abstract[i]) >= LIMITS.abstract_chars and len(p.abstract[j]) >= LIMITS.abstract_chars:
        ab_sim = fuzz.token_set_ratio(p.abstract[i], p.abstract[j])
    has_title = ts == ts  # NaN: a title is missing
    marks = marks_conflict(p.marks[i], p.marks[j], truncated) if has_title else ""
    # Fellegi–Sunter weight of the locators compared, with this file's m/u rates
    bits = 0.0
    for name, state in (("issue", iss), ("volume", vol), ("doi", doi), ("range_end", end)):
        if state:
            rate = ev.rates[name]
            bits += rate.agree_bits if state == "same" else rate.disagree_bits
    si, sj = p.pages[i].span_pages, p.pages[j].span_pages
    return Facts(
        ts=ts,
        has_title=has_title,
        truncated=truncated,
        first_au=first_au,
        au_share=au_share,
        author_ok=first_au is True or (au_share is not None and au_share >= LIMITS.authors_ok),
        author_bad=first_au is False and (au_share is None or au_share < LIMITS.authors_bad),
        many_authors=len(p.authors[i]) >= 2 and len(p.authors[j]) >= 2,
        yd=abs(yi - yj) if yi >= 0 and yj >= 0 else None,
        years=(yi, yj),
        jc=ev.same_venue(p.journal[i], p.journal[j]),
        vol=vol,
        iss=iss,
        issue_conflict=iss == "different" and issue_reliable,
        issue_positive=iss == "same" and issue_reliable and vol == "same",
        pages=compare_pages(p.pages[i], p.pages[j]),
        ranged=si >= 2 and sj >= 2,
        range_end=end,
        end_conflict=end == "different" and ev.reliable("range_end"),
        doi=doi,
        doi_reliable=ev.reliable("doi"),
        pmid=pmid,
        ab_sim=ab_sim,
        long_abstracts=min(len(p.abstract[i]), len(p.abstract[j])) >= LIMITS.abstract_long_chars,
        kind=kind_conflict(p.kinds[i], p.kinds[j]),
        marks=marks,
        conference=(bool(p.conference[i]), bool(p.conference[j])),
        cochrane=(p.journal[i].cochrane, p.journal[j].cochrane),
        one_page=(si == 1, sj == 1),
        span_pages=(si, sj),
        weak_title=bool(ev.weak_title[i] or ev.weak_title[j]),
        short_title=not (p.informative[i] and p.informative[j]),
        generic_title=bool(p.generic[i] or p.generic[j]),
        recurring=bool(ev.recurring[i] or ev.recurring[j]),
        translated=bool(p.translated[i] or p.translated[j]),
        bits=round(bits, 2),
    )


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One named match condition: when it holds, the pair gets this decision and reason."""

    name: str
    decision: str
    reason: str | Callable[[Facts], str]
    when: Callable[[Facts], bool]
    hard: bool = False  #: the two records may never share a cluster

    def reason_for(self, f: Facts) -> str:
        return self.reason(f) if callable(self.reason) else self.reason


L = LIMITS


def _id_agrees(f: Facts) -> bool:
    return (
        not f.has_title
        or f.ts >= L.title_with_id
        or (f.author_ok and (f.pages == "same" or f.vol == "same"))
    )


def _locator_contradiction(f: Facts) -> str:
    """A reliable locator that disagrees despite a shared identifier."""
    if f.issue_conflict:
        return "different issues"
    if f.pages == "different":
        return "different page ranges"
    if f.end_conflict:
        return "page ranges end apart"
    return ""


RULES: tuple[Rule, ...] = (
    # -- what kind of record each is: an erratum is never its article ------------------------
    Rule(
        "kind, alike",
        MAYBE,
        lambda f: _KIND_WORDS[f.kind],
        lambda f: bool(f.kind) and f.alike,
        True,
    ),
    Rule("kind", DISTINCT, lambda f: _KIND_WORDS[f.kind], lambda f: bool(f.kind), True),
    # -- a shared item identifier -------------------------------------------------------------
    Rule(
        "same id, title marks differ",
        MAYBE,
        lambda f: f"{f.ident} but {f.marks}",
        lambda f: f.same_id and bool(f.marks),
        True,
    ),
    Rule(
        "same id, reliable locator differs",
        MAYBE,
        lambda f: f"{f.ident} but {_locator_contradiction(f)}",
        lambda f: f.same_id and bool(_locator_contradiction(f)),
        True,
    ),
    Rule("same id", DUPLICATE, lambda f: f.ident, lambda f: f.same_id and _id_agrees(f)),
    Rule(
        "same id, titles differ",
        MAYBE,
        lambda f: f"{f.ident} but titles differ",
        lambda f: f.same_id,
    ),
    # -- different item identifiers -----------------------------------------------------------
    Rule(
        "different ids in a file where they are unreliable, full citation agrees",
        DUPLICATE,
        lambda f: (
            f"same title, authors and citation despite {f.ident} "
            "(identifiers disagree often in this file)"
        ),
        lambda f: (
            f.different_id
            and not (f.doi == "different" and f.doi_reliable)
            and f.has_title
            and f.ts >= L.title_same
            and f.author_ok
            and f.full_citation
            and not f.weak_title
            and not f.issue_conflict
        ),
    ),
    Rule(
        "different ids, otherwise identical",
        MAYBE,
        lambda f: f.ident,
        lambda f: (
            f.different_id
            and f.has_title
            and f.ts >= L.title_exact_despite_id
            and f.author_ok
            and f.vol != "different"
            and f.pages != "different"
        ),
        True,
    ),
    Rule("different ids", DISTINCT, lambda f: f.ident, lambda f: f.different_id, True),
    # -- no title ------------------------------------------------------------------------------
    Rule(
        "no title, citation agrees",
        MAYBE,
        "no title to compare; citation agrees",
        lambda f: not f.has_title and f.citation_same and f.jc is not False and f.author_ok,
    ),
    Rule("no title", DISTINCT, "no title to compare", lambda f: not f.has_title),
    # -- contradictions that similar titles cannot outweigh ---------------------------------
    Rule(
        "contradiction, alike",
        MAYBE,
        lambda f: f.conflicts,
        lambda f: bool(f.conflicts) and f.alike,
        True,
    ),
    Rule("contradiction", DISTINCT, lambda f: f.conflicts, lambda f: bool(f.conflicts), True),
    # -- a title that identifies nothing alone: a positive item identifier is needed ----------
    Rule(
        "weak title, positive item identifier",
        DUPLICATE,
        lambda f: f"{'recurring' if f.recurring else 'generic'} title; {f.positive_item_id}",
        lambda f: (
            f.weak_title
            and f.ts >= L.title_same
            and not f.author_bad
            and f.jc is not False
            and bool(f.positive_item_id)
        ),
    ),
    Rule(
        "weak title reworded, full page range and authors",
        DUPLICATE,
        "same full page range, volume and authors; title reworded",
        lambda f: (
            f.weak_title
            and f.ts >= L.title_translated
            and f.range_end == "same"
            and f.vol == "same"
            and f.yd == 0
            and f.first_au is True
            and f.au_share is not None
            and f.au_share >= L.authors_ok
        ),
    ),
    Rule(
        "weak title, nothing identifies the item",
        MAYBE,
        lambda f: f"{'recurring' if f.recurring else 'generic'} title; nothing identifies the item",
        lambda f: f.weak_title and f.ts >= L.title_same and not f.author_bad,
    ),
    Rule(
        "weak title, unlike",
        DISTINCT,
        lambda f: "recurring title" if f.recurring else "short title",
        lambda f: f.weak_title,
    ),
    # -- a short but specific title ('Empyema thoracis'): the citation must agree ------------
    Rule(
        "short title, same citation",
        DUPLICATE,
        "short title; same citation",
        lambda f: f.short_title and f.ts >= L.title_same and f.citation_same and not f.author_bad,
    ),
    Rule(
        "short title, same authors, journal, volume and year",
        DUPLICATE,
        "short title; same authors, journal, volume and year",
        lambda f: (
            f.short_title
            and f.ts >= L.title_same
            and f.author_ok
            and f.yd == 0
            and f.jc is True
            and f.vol == "same"
            and not f.pages
        ),
    ),
    Rule(
        "short title",
        MAYBE,
        "short title",
        lambda f: f.short_title and f.ts >= L.title_same and not f.author_bad,
    ),
    Rule("short title, unlike", DISTINCT, "short title", lambda f: f.short_title),
    # -- an identifying title -------------------------------------------------------------------
    Rule(
        "same title, different authors",
        MAYBE,
        "same title, different authors",
        lambda f: f.ts >= L.title_same and f.author_bad,
    ),
    Rule(
        "same title, no authors",
        MAYBE,
        "same title; authors missing and little else to compare",
        lambda f: f.ts >= L.title_same and f.first_au is None and f.support < L.support_little,
    ),
    Rule(
        "same conference paper a year apart",
        DUPLICATE,
        "same title and authors of a conference paper indexed a year apart",
        lambda f: (
            f.ts >= L.title_exact
            and f.yd == 1
            and f.conference[0]
            and f.conference[1]
            and f.first_au is True
            and f.au_share is not None
            and f.au_share >= L.authors_ok
            and f.jc is not False
        ),
    ),
    Rule(
        "same title, a year apart",
        MAYBE,
        "same title; years one apart",
        lambda f: f.ts >= L.title_same and f.yd == 1 and f.support < L.support_little,
    ),
    Rule(
        "one abstract in two supplements",
        DUPLICATE,
        "same meeting abstract in two supplements",
        lambda f: f.ts >= L.title_same and f.abstract_twice,
    ),
    Rule(
        "same title, different journals",
        MAYBE,
        "same title; different journals",
        lambda f: f.ts >= L.title_same and f.jc is False and f.pages != "same",
    ),
    Rule(
        "same title, authors and citation",
        DUPLICATE,
        lambda f: (
            f"{'same' if f.ts >= L.title_exact else 'near-identical'} title, "
            "authors and citation agree"
        ),
        lambda f: f.ts >= L.title_same,
    ),
    Rule(
        "similar title, authors and citation",
        DUPLICATE,
        "similar title; authors and citation agree",
        lambda f: (
            f.ts >= L.title_similar
            and f.author_ok
            and (f.pages == "same" or (f.ab_sim is not None and f.ab_sim >= L.abstract_same))
            and f.support >= L.support_similar
            and f.yd is not None
            and f.yd <= 1
        ),
    ),
    Rule(
        "similar title",
        MAYBE,
        "similar title",
        lambda f: (
            f.ts >= L.title_similar
            and (f.author_ok or (f.first_au is None and f.support >= L.support_little))
        ),
    ),
    Rule(
        "similar title, authors differ",
        DISTINCT,
        "similar title, authors differ",
        lambda f: f.ts >= L.title_similar,
    ),
    Rule(
        "reworded title, full citation and authors",
        DUPLICATE,
        "same citation and authors; title translated or reworded",
        lambda f: (
            f.citation_same
            and f.first_au is True
            and f.ranged
            and (f.ts >= L.title_translated or f.translated)
            and f.au_share is not None
            and f.au_share >= L.authors_ok
        ),
    ),
    Rule(
        "reworded title, same citation and first author",
        MAYBE,
        "same citation and first author; titles differ",
        lambda f: f.citation_same and f.first_au is True,
    ),
    Rule(
        "reworded title, same long abstract",
        DUPLICATE,
        "same abstract and authors; title reworded",
        lambda f: (
            f.long_abstracts
            and f.ab_sim is not None
            and f.ab_sim >= L.abstract_twin
            and f.author_ok
            and f.jc is not False
            and f.yd is not None
            and f.yd <= 1
        ),
    ),
    Rule(
        "related title",
        MAYBE,
        "related title",
        lambda f: f.ts >= L.title_related and f.author_ok and f.support >= L.support_little,
    ),
)
FALLBACK = Rule("titles differ", DISTINCT, "titles differ", lambda f: True)


def _strength(f: Facts) -> float:
    """A 0–1 summary for sorting and display: weighted mean of the evidence that exists."""
    parts: list[tuple[float, float]] = []
    if f.first_au is not None:
        parts.append((1.0 if f.author_ok else (0.0 if f.author_bad else 0.5), 0.15))
    if f.yd is not None:
        parts.append((1.0 if f.yd == 0 else 0.5 if f.yd == 1 else 0.0, 0.05))
    if f.jc is not None:
        parts.append((1.0 if f.jc else 0.0, 0.05))
    if f.vol:
        parts.append((1.0 if f.vol == "same" else 0.0, 0.05))
    if f.pages:
        parts.append((1.0 if f.pages == "same" else 0.3 if f.pages == "overlap" else 0.0, 0.08))
    if f.doi:
        parts.append((1.0 if f.doi == "same" else 0.0, 0.2))
    if f.ab_sim is not None:
        parts.append((f.ab_sim / 100.0, 0.1))
    total = 0.55 * (f.ts / 100.0 if f.has_title else 0.0)
    weight = 0.55 if f.has_title else 0.0
    for value, w in parts:
        total += value * w
        weight += w
    return round(total / weight, 4) if weight else 0.0


def decide(f: Facts) -> Verdict:
    """The first rule of the table that holds decides; its name is kept in the reason."""
    for rule in RULES:
        if rule.when(f):
            return Verdict(rule.decision, _strength(f), rule.reason_for(f), rule.hard, f.bits)
    return Verdict(FALLBACK.decision, _strength(f), FALLBACK.reason_for(f), False, f.bits)
