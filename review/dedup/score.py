"""Pair scoring and the decision per pair: duplicate, maybe (a person decides), or distinct.

Titles are compared for every candidate pair at C speed with rapidfuzz's
element-wise ``cpdist``; the file's field evidence is learnt from those pairs
(:mod:`review.dedup.evidence`); pairs whose titles are far apart and that share
no item identifier or citation are dropped. The survivors are described and
decided by the rule table of :mod:`review.dedup.rules`, each decision with its
reason in words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from review.dedup.block import Candidates, abstract_start
from review.dedup.evidence import FileEvidence, learn
from review.dedup.prepare import Prepared
from review.dedup.rules import DISTINCT, DUPLICATE, MAYBE, Verdict, decide, facts

__all__ = ["DISTINCT", "DUPLICATE", "MAYBE", "Verdict", "judge_one", "score_pairs"]


#: Title similarity (0–100) below which a pair is not looked at further unless an id or the
#: citation (year, volume, first page) agrees.
TITLE_FLOOR = 70.0


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


def score_pairs(p: Prepared, cand: Candidates) -> tuple[pd.DataFrame, FileEvidence]:
    """Verdicts for the candidate pairs that could be duplicates (distinct ones left out).

    Returns columns ``a, b, title_sim, score, decision, reason, hard, bits`` and the
    file's evidence learnt from all candidate pairs; a pair judged distinct is kept
    only when the distinction is a hard contradiction, because clustering needs
    those to keep related records apart.
    """
    a, b = cand.a, cand.b
    sim, truncated = _title_pairs(p, a, b)
    ev = learn(p, a, b, sim)
    # cheap pre-filter: a shared id or a shared citation keeps a pair with dissimilar titles
    keep = np.nan_to_num(sim, nan=100.0) >= TITLE_FLOOR
    if not keep.all():
        doi = _codes([d.split(" ", 1)[0] for d in ev.item_doi])
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
        v = decide(facts(p, ev, i, j, float(sim[k]), bool(truncated[k])))
        if v.decision != DISTINCT or v.hard:
            rows.append((i, j, sim[k], v.score, v.decision, v.reason, v.hard, v.bits))
    frame = pd.DataFrame(
        rows, columns=["a", "b", "title_sim", "score", "decision", "reason", "hard", "bits"]
    ).astype({"a": np.int64, "b": np.int64, "title_sim": float, "score": float, "hard": bool})
    return frame, ev


def judge_one(p: Prepared, ev: FileEvidence, i: int, j: int) -> Verdict:
    """The verdict on a single pair that blocking did not propose (used by clustering)."""
    a = np.array([min(i, j)], np.int64)
    b = np.array([max(i, j)], np.int64)
    sim, truncated = _title_pairs(p, a, b)
    return decide(facts(p, ev, int(a[0]), int(b[0]), float(sim[0]), bool(truncated[0])))
