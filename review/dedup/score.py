"""Pair scoring and the decision per pair: duplicate, maybe (a person decides), or distinct.

Titles are compared for every candidate pair at C speed with rapidfuzz's
element-wise ``cpdist``; the file's field evidence is learnt from those pairs
(:mod:`review.dedup.evidence`); pairs whose titles are far apart and that share
no item identifier or citation are dropped. The survivors are described and
decided by the rule table of :mod:`review.dedup.rules`, each decision with its
reason in words.
"""

from __future__ import annotations

import math
import struct
from array import array
from dataclasses import dataclass

from rapidfuzz import fuzz

from review.dedup.block import Candidates, abstract_start
from review.dedup.evidence import FileEvidence, learn
from review.dedup.prepare import Prepared
from review.dedup.rules import DISTINCT, DUPLICATE, MAYBE, Verdict, decide, facts

__all__ = ["DISTINCT", "DUPLICATE", "MAYBE", "ScoredPair", "Verdict", "judge_one", "score_pairs"]


#: Title similarity (0–100) below which a pair is not looked at further unless an id or the
#: citation (year, volume, first page) agrees.
TITLE_FLOOR = 70.0

NAN = math.nan


@dataclass(frozen=True, slots=True)
class ScoredPair:
    """The verdict on one candidate pair (positions ``a < b``)."""

    a: int
    b: int
    title_sim: float
    score: float
    decision: str
    reason: str
    hard: bool
    bits: float


def _single(values: list[float]) -> list[float]:
    """Values rounded to single precision, as rapidfuzz's bulk scorers return them: the
    thresholds were tuned on those numbers, so every similarity is rounded the same way."""
    return array("f", values).tolist()


_F32 = struct.Struct("f")


def _f32(x: float) -> float:
    """One value rounded to single precision (see :func:`_single`)."""
    return _F32.unpack(_F32.pack(x))[0]


def _title_pairs(p: Prepared, a: list[int], b: list[int]) -> tuple[list[float], list[bool]]:
    """(title similarity 0–100 or NaN where a title is missing, truncated-title flag)."""
    title, alt = p.title, p.title_alt
    ratio = fuzz.ratio
    sim = _single([ratio(title[i], title[j]) for i, j in zip(a, b, strict=True)])
    truncated = [False] * len(a)
    for k, (i, j) in enumerate(zip(a, b, strict=True)):
        x, y = title[i], title[j]
        if not x or not y:
            sim[k] = NAN
            continue
        s = sim[k]
        if s >= 97 and not (alt[i] or alt[j]):
            continue  # the usual duplicate: nothing below can change it
        # word order shuffles (a subtitle moved first): a reordering is a small difference
        if 40 <= s < 97:
            s = max(s, _f32(_f32(fuzz.token_sort_ratio(x, y)) - 2.0))
        # one title cut short: by a field-length limit (100+ characters, the same title) or by
        # a dropped subtitle (similar, not the same)
        lx, ly = len(x), len(y)
        short_len = min(lx, ly)
        if s < 95 and short_len >= 40 and abs(lx - ly) >= 8:
            short, longer = (x, y) if lx <= ly else (y, x)
            prefix_sim = _f32(ratio(short, longer[:short_len]))
            if prefix_sim >= 95:
                if short_len >= 100:
                    s = max(s, prefix_sim)
                    truncated[k] = True
                else:
                    s = max(s, 88.0)
        # the translated title of one record against the original-language title of the other
        if (alt[i] or alt[j]) and s < 95:
            alts_i = [t for t in (x, alt[i]) if t]
            alts_j = [t for t in (y, alt[j]) if t]
            s = max(s, max(ratio(u, v) for u in alts_i for v in alts_j))
        sim[k] = s
    return sim, truncated


def score_pairs(p: Prepared, cand: Candidates) -> tuple[list[ScoredPair], FileEvidence]:
    """Verdicts for the candidate pairs that could be duplicates (distinct ones left out).

    Returns the scored pairs (in candidate order) and the file's evidence learnt
    from all candidate pairs; a pair judged distinct is kept only when the
    distinction is a hard contradiction, because clustering needs those to keep
    related records apart.
    """
    a, b = cand.a, cand.b
    sim, truncated = _title_pairs(p, a, b)
    ev = learn(p, a, b, sim)
    # cheap pre-filter: a shared id or a shared citation keeps a pair with dissimilar titles
    doi = [d.split(" ", 1)[0] for d in ev.item_doi]
    page = [pg.starts[0] if pg.starts else pg.locator for pg in p.pages]
    abstract: list[str] | None = None
    rows: list[ScoredPair] = []
    for k, (i, j) in enumerate(zip(a, b, strict=True)):
        s = sim[k]
        if not (s >= TITLE_FLOOR or s != s):  # NaN (no title) is looked at
            if abstract is None:
                abstract = [abstract_start(ab) for ab in p.abstract]
            if not (
                (doi[i] and doi[i] == doi[j])
                or (p.pmid[i] and p.pmid[i] == p.pmid[j])
                or (
                    p.year[i] >= 0
                    and p.year[i] == p.year[j]
                    and p.volume[i]
                    and p.volume[i] == p.volume[j]
                    and page[i]
                    and page[i] == page[j]
                )
                or (abstract[i] and abstract[i] == abstract[j])
            ):
                continue
        v = decide(facts(p, ev, i, j, s, truncated[k]))
        if v.decision != DISTINCT or v.hard:
            rows.append(ScoredPair(i, j, s, v.score, v.decision, v.reason, v.hard, v.bits))
    return rows, ev


def judge_one(p: Prepared, ev: FileEvidence, i: int, j: int) -> Verdict:
    """The verdict on a single pair that blocking did not propose (used by clustering)."""
    a, b = min(i, j), max(i, j)
    sim, truncated = _title_pairs(p, [a], [b])
    return decide(facts(p, ev, a, b, sim[0], truncated[0]))
