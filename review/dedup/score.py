"""Pair scoring and the decision per pair: duplicate, maybe (a person decides), or distinct.

Titles are compared for every candidate pair at C speed with rapidfuzz's
element-wise ``cpdist``; pairs whose titles are far apart and that share no
identifier or citation are dropped there. The survivors get a full comparison
of authors, year, venue, volume, pages, DOI, PubMed id and abstract, and a
decision by explicit rules, each of which leaves its reason in words.

The rules are built on one asymmetry: a wrong merge silently removes a study
from the review, while a missed duplicate costs a reviewer a few seconds. So
a pair is merged only when the evidence agrees *and* nothing contradicts it;
a pair that looks alike but is contradicted by a page range, a DOI, a part
number, an erratum mark, ... goes to the "maybe" list for a person instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from review.dedup.block import Candidates, abstract_start
from review.dedup.normalise import Author, compare_pages, journals_compatible
from review.dedup.prepare import Prepared
from review.dedup.traps import kind_conflict, marks_conflict

DUPLICATE = "duplicate"
MAYBE = "maybe"
DISTINCT = "distinct"

#: Title similarity (0–100) below which a pair is not looked at further unless an id or the
#: citation (year, volume, first page) agrees.
TITLE_FLOOR = 70.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision on one pair, its strength (0–1) and the reason a person will read."""

    decision: str
    score: float
    reason: str
    hard: bool  #: a contradiction: the two may never share a cluster


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


def _title_pairs(p: Prepared, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(title similarity 0–100 or NaN where a title is missing, truncated-title flag)."""
    if len(a) == 0:
        return np.empty(0), np.empty(0, bool)
    ta = [p.title[i] for i in a]
    tb = [p.title[i] for i in b]
    sim = process.cpdist(ta, tb, scorer=fuzz.ratio, workers=-1).astype(np.float64)
    la = np.fromiter(map(len, ta), np.int64, len(ta))
    lb = np.fromiter(map(len, tb), np.int64, len(tb))
    missing = (la == 0) | (lb == 0)
    sim[missing] = np.nan
    truncated = np.zeros(len(a), bool)
    # word order shuffles (a subtitle moved first): a reordering is a small difference
    low = np.flatnonzero(~missing & (sim < 97) & (sim >= 40))
    if len(low):
        sort_sim = process.cpdist(
            [ta[k] for k in low], [tb[k] for k in low], scorer=fuzz.token_sort_ratio, workers=-1
        )
        sim[low] = np.maximum(sim[low], sort_sim - 2.0)
    # one title cut short: by a field-length limit (100+ characters, the same title) or by a
    # dropped subtitle (similar, not the same)
    short_len = np.minimum(la, lb)
    cut = np.flatnonzero(~missing & (sim < 95) & (short_len >= 40) & (np.abs(la - lb) >= 8))
    if len(cut):
        shorts = [ta[k] if la[k] <= lb[k] else tb[k] for k in cut]
        prefixes = [(tb[k] if la[k] <= lb[k] else ta[k])[: short_len[k]] for k in cut]
        prefix_sim = process.cpdist(shorts, prefixes, scorer=fuzz.ratio, workers=-1)
        hit = prefix_sim >= 95
        long_cut = hit & (short_len[cut] >= 100)
        sim[cut[long_cut]] = np.maximum(sim[cut[long_cut]], prefix_sim[long_cut])
        truncated[cut[long_cut]] = True
        sub = cut[hit & ~long_cut]
        sim[sub] = np.maximum(sim[sub], 88.0)
    # the translated title of one record against the original-language title of the other
    has_alt = np.fromiter((bool(p.title_alt[i]) for i in a), bool, len(a)) | np.fromiter(
        (bool(p.title_alt[j]) for j in b), bool, len(b)
    )
    for k in np.flatnonzero(has_alt & ~missing & (sim < 95)):
        i, j = a[k], b[k]
        alts_i = [t for t in (p.title[i], p.title_alt[i]) if t]
        alts_j = [t for t in (p.title[j], p.title_alt[j]) if t]
        sim[k] = max(sim[k], max(fuzz.ratio(u, v) for u in alts_i for v in alts_j))
    return sim, truncated


def _codes(values: list[str]) -> np.ndarray:
    """Integer codes of string values, -1 for ''."""
    codes, _ = pd.factorize(pd.Series(values, dtype=object).replace("", None), use_na_sentinel=True)
    return codes.astype(np.int64)


# ---------------------------------------------------------------------------------------------
# The decision
# ---------------------------------------------------------------------------------------------


def _strength(ts: float, parts: list[tuple[float, float]]) -> float:
    """A 0–1 summary for sorting and display: weighted mean of the evidence that exists."""
    total = 0.55 * (0.0 if np.isnan(ts) else ts / 100.0)
    weight = 0.55 if not np.isnan(ts) else 0.0
    for value, w in parts:
        total += value * w
        weight += w
    return round(total / weight, 4) if weight else 0.0


def judge(p: Prepared, i: int, j: int, ts: float, truncated: bool = False) -> Verdict:
    """Decide whether records ``i`` and ``j`` are one work; every branch names its reason."""
    has_title = not np.isnan(ts)
    first_au, au_share = compare_authors(p.authors[i], p.authors[j])
    author_ok = first_au is True or (au_share is not None and au_share >= 0.75)
    author_bad = first_au is False and (au_share is None or au_share < 0.5)
    yi, yj = int(p.year[i]), int(p.year[j])
    yd = abs(yi - yj) if yi >= 0 and yj >= 0 else None
    jc = journals_compatible(p.journal[i], p.journal[j])
    vol = _equal_or_unknown(p.volume[i], p.volume[j])
    iss = _equal_or_unknown(p.issue[i], p.issue[j])
    pages = compare_pages(p.pages[i], p.pages[j])
    doi = _same_doi(p.doi[i], p.doi[j])
    pmid = _equal_or_unknown(p.pmid[i], p.pmid[j])
    ab_sim = None
    if len(p.abstract[i]) >= 150 and len(p.abstract[j]) >= 150:
        ab_sim = fuzz.token_set_ratio(p.abstract[i], p.abstract[j])

    evidence = [
        (1.0 if author_ok else (0.0 if author_bad else 0.5), 0.15)
        if first_au is not None
        else None,
        (1.0 if yd == 0 else 0.5 if yd == 1 else 0.0, 0.05) if yd is not None else None,
        (1.0 if jc else 0.0, 0.05) if jc is not None else None,
        (1.0 if vol == "same" else 0.0, 0.05) if vol else None,
        (1.0 if pages == "same" else 0.3 if pages == "overlap" else 0.0, 0.08) if pages else None,
        (1.0 if doi == "same" else 0.0, 0.2) if doi else None,
        (ab_sim / 100.0, 0.1) if ab_sim is not None else None,
    ]
    strength = _strength(ts, [e for e in evidence if e is not None])

    def verdict(decision: str, reason: str, hard: bool = False) -> Verdict:
        return Verdict(decision, strength, reason, hard)

    # -- what kind of record each is: an erratum is never its article ------------------------
    kind = kind_conflict(p.kinds[i], p.kinds[j])
    alike = has_title and ts >= 90 and not author_bad
    if kind:
        what = {
            "erratum": "erratum vs article",
            "retraction": "retraction notice vs article",
            "comment": "comment/reply vs article",
            "protocol": "protocol vs results",
        }[kind]
        return verdict(MAYBE if alike else DISTINCT, what, hard=True)

    # -- identifiers ------------------------------------------------------------------------
    if doi == "same" or pmid == "same":
        ident = "same DOI" if doi == "same" else "same PubMed id"
        marks = marks_conflict(p.marks[i], p.marks[j], truncated) if has_title else ""
        if marks:
            return verdict(MAYBE, f"{ident} but {marks}", hard=True)
        if not has_title or ts >= 80 or (author_ok and (pages == "same" or vol == "same")):
            return verdict(DUPLICATE, ident)
        return verdict(MAYBE, f"{ident} but titles differ")
    if doi == "different" or pmid == "different":
        # Databases do carry wrong DOIs; but two works cannot share year, volume and page range,
        # so that citation with the same title and authors outweighs a DOI mismatch.
        ident = "different DOIs" if doi == "different" else "different PubMed ids"
        ranged = p.pages[i].span_pages >= 2 and p.pages[j].span_pages >= 2
        if (
            has_title
            and ts >= 95
            and author_ok
            and yd == 0
            and vol == "same"
            and pages == "same"
            and ranged
        ):
            return verdict(DUPLICATE, f"same title, authors and citation despite {ident}")
        exact = has_title and ts >= 97 and author_ok and vol != "different" and pages != "different"
        return verdict(MAYBE if exact else DISTINCT, ident, hard=True)

    if not has_title:
        citation = yd == 0 and vol == "same" and pages == "same" and jc is not False and author_ok
        return verdict(
            MAYBE if citation else DISTINCT,
            "no title to compare; citation agrees" if citation else "no title to compare",
        )

    # -- contradictions that similar titles cannot outweigh ---------------------------------
    conflicts: list[str] = []
    # Two works cannot start on the same page of the same volume in the same year: such a
    # citation outweighs a digit or a word that differs in the title (a typo: 'p6INK4a').
    ranged = p.pages[i].span_pages >= 2 and p.pages[j].span_pages >= 2
    citation_strong = yd == 0 and vol == "same" and pages == "same" and ranged and author_ok
    marks = marks_conflict(p.marks[i], p.marks[j], truncated)
    if marks and not (citation_strong and ts >= 90):
        conflicts.append(marks)
    # Two meeting abstracts (one page, or a conference venue) with one title, authors, venue
    # and year are one abstract: their 'pages' are often abstract or poster numbers.
    meeting_i = p.conference[i] or p.pages[i].span_pages == 1
    meeting_j = p.conference[j] or p.pages[j].span_pages == 1
    same_abstract = (
        (p.conference[i] or p.conference[j])
        and meeting_i
        and meeting_j
        and jc is True
        and yd == 0
        and ts >= 95
        and author_ok
        and vol != "different"
    )
    # One abstract printed in two meetings' supplements (presented twice): word for word the
    # same title by the same authors in the same year. Volumes and pages of two different
    # journals say nothing then.
    abstract_twice = (
        p.conference[i]
        and p.conference[j]
        and jc is False
        and yd == 0
        and ts >= 99.5
        and first_au is True
        and au_share is not None
        and au_share >= 0.75
        and len(p.authors[i]) >= 2
        and len(p.authors[j]) >= 2
    )
    same_abstract = same_abstract or abstract_twice
    if pages == "different" and not same_abstract:
        conflicts.append("different page ranges")
    if vol == "different" and not abstract_twice:
        conflicts.append("different volumes")
    if yd is not None and yd >= 2:
        conflicts.append(f"years {min(yi, yj)} and {max(yi, yj)}")
    if p.journal[i].cochrane and p.journal[j].cochrane and yd:
        conflicts.append("Cochrane review update (different years)")
    elif p.journal[i].cochrane != p.journal[j].cochrane and jc is not None:
        conflicts.append("Cochrane review vs journal article")
    if p.conference[i] != p.conference[j] and not same_abstract:
        # a meeting abstract printed in the journal is one page long (or shares the issue)
        article = p.pages[j] if p.conference[i] else p.pages[i]
        same_issue = (
            jc is not False and vol == "same" and yd == 0 and pages in {"same", "overlap", ""}
        )
        if not same_issue and not (jc is not False and 0 < article.span_pages <= 2):
            conflicts.append("conference abstract vs journal article")
    if ab_sim is not None and ab_sim < 50:
        conflicts.append("different abstracts")
    if conflicts:
        return verdict(MAYBE if alike else DISTINCT, "; ".join(conflicts), hard=True)

    # -- agreement ----------------------------------------------------------------------------
    citation_same = yd == 0 and vol == "same" and pages == "same"
    support = sum(
        (
            jc is True,
            vol == "same",
            pages == "same",
            yd == 0,
            iss == "same",
            ab_sim is not None and ab_sim >= 90,
            au_share is not None and au_share >= 0.9 and len(p.authors[i]) >= 2,
        )
    )
    venue_differs = jc is False and pages != "same"
    if not p.informative[i] or not p.informative[j]:
        # "Editorial", "Reply", "Pleural effusion": the title alone identifies nothing
        if ts >= 95 and citation_same and not author_bad:
            return verdict(DUPLICATE, "short title; same citation")
        if ts >= 95 and author_ok and yd == 0 and jc is True and vol == "same" and not pages:
            return verdict(DUPLICATE, "short title; same authors, journal, volume and year")
        return verdict(MAYBE if ts >= 95 and not author_bad else DISTINCT, "short title")

    if ts >= 95:
        if author_bad:
            return verdict(MAYBE, "same title, different authors")
        if first_au is None and support < 2:
            return verdict(MAYBE, "same title; authors missing and little else to compare")
        if yd == 1 and support < 2:
            return verdict(MAYBE, "same title; years one apart")
        if abstract_twice:
            return verdict(DUPLICATE, "same meeting abstract in two supplements")
        if venue_differs:
            return verdict(MAYBE, "same title; different journals")
        how = "same title" if ts >= 99.5 else "near-identical title"
        return verdict(DUPLICATE, f"{how}, authors and citation agree")
    if ts >= 85:
        # a group's papers in one journal and year can have titles this close: a similar
        # (not near-identical) title needs the page or the abstract to agree as well
        pinned = pages == "same" or (ab_sim is not None and ab_sim >= 90)
        if author_ok and pinned and support >= 3 and yd is not None and yd <= 1:
            return verdict(DUPLICATE, "similar title; authors and citation agree")
        if author_ok or (first_au is None and support >= 2):
            return verdict(MAYBE, "similar title")
        return verdict(DISTINCT, "similar title, authors differ")
    if citation_same and first_au is True:
        # the same year, volume and page range by the same authors: one article whose title
        # was translated or reworded by one of the databases. A single page is not enough:
        # several meeting abstracts share a page.
        ranged = p.pages[i].span_pages >= 2 and p.pages[j].span_pages >= 2
        translated = p.translated[i] or p.translated[j]
        if ranged and (ts >= 50 or translated) and au_share is not None and au_share >= 0.75:
            return verdict(DUPLICATE, "same citation and authors; title translated or reworded")
        return verdict(MAYBE, "same citation and first author; titles differ")
    long_abstracts = min(len(p.abstract[i]), len(p.abstract[j])) >= 300
    if long_abstracts and ab_sim is not None and ab_sim >= 95 and author_ok and jc is not False:
        # the same long abstract by the same authors: the title was translated or reworded
        if yd is not None and yd <= 1:
            return verdict(DUPLICATE, "same abstract and authors; title reworded")
    if ts >= 80 and author_ok and support >= 2:
        return verdict(MAYBE, "related title")
    return verdict(DISTINCT, "titles differ")


def score_pairs(p: Prepared, cand: Candidates) -> pd.DataFrame:
    """Verdicts for the candidate pairs that could be duplicates (distinct ones left out).

    Returns columns ``a, b, title_sim, score, decision, reason, hard``; a pair
    judged distinct is kept only when the distinction is a hard contradiction,
    because clustering needs those to keep related records apart.
    """
    a, b = cand.a, cand.b
    sim, truncated = _title_pairs(p, a, b)
    # cheap pre-filter: a shared id or a shared citation keeps a pair with dissimilar titles
    keep = np.nan_to_num(sim, nan=100.0) >= TITLE_FLOOR
    if not keep.all():
        doi = _codes([d.split(" ", 1)[0] for d in p.doi])
        pmid = _codes(p.pmid)
        vol = _codes(p.volume)
        page = _codes([pg.starts[0] if pg.starts else pg.locator for pg in p.pages])

        def same(codes: np.ndarray) -> np.ndarray:
            return (codes[a] >= 0) & (codes[a] == codes[b])

        citation = (p.year[a] >= 0) & (p.year[a] == p.year[b]) & same(vol) & same(page)
        abstract = same(_codes([abstract_start(ab) for ab in p.abstract]))
        keep |= same(doi) | same(pmid) | citation | abstract
    rows = []
    for k in np.flatnonzero(keep):
        i, j = int(a[k]), int(b[k])
        v = judge(p, i, j, float(sim[k]), bool(truncated[k]))
        if v.decision != DISTINCT or v.hard:
            rows.append((i, j, sim[k], v.score, v.decision, v.reason, v.hard))
    return pd.DataFrame(
        rows, columns=["a", "b", "title_sim", "score", "decision", "reason", "hard"]
    ).astype({"a": np.int64, "b": np.int64, "title_sim": float, "score": float, "hard": bool})


def judge_one(p: Prepared, i: int, j: int) -> Verdict:
    """The verdict on a single pair that blocking did not propose (used by clustering)."""
    a = np.array([min(i, j)], np.int64)
    b = np.array([max(i, j)], np.int64)
    sim, truncated = _title_pairs(p, a, b)
    return judge(p, int(a[0]), int(b[0]), float(sim[0]), bool(truncated[0]))
