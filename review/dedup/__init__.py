"""Deduplication: find the records that are one work, link them, and ask a person when unsure.

Public API: :func:`find_duplicates` (pure, DataFrame in → :class:`DedupResult` out),
:func:`deduplicate` (the same run on plain columns or rows → :class:`DedupRows`, without
pandas), and :func:`pairwise_scores` to evaluate clusters against labelled duplicate groups.
"""

from review.dedup.engine import DedupResult, DedupRows, deduplicate, find_duplicates
from review.dedup.evaluate import PairwiseScores, pairwise_scores

__all__ = [
    "DedupResult",
    "DedupRows",
    "PairwiseScores",
    "deduplicate",
    "find_duplicates",
    "pairwise_scores",
]
