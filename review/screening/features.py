"""Text features for ranking records, computed once per review and cached.

Why these features: at the start of a review the model has seen one or two
relevant records, so it has to generalise from very few words. Word uni- and
bigrams (TF-IDF, sublinear term frequency) carry the topic; character n-grams
inside word boundaries let spelling variants, plurals and drug-name stems
("triptan", "sumatriptan", "zolmitriptan") share weight; controlled keywords
(MeSH terms and author keywords), where an export has them, are kept as whole
terms in their own block because a reviewer's criteria often map onto them
directly. Each block is L2-normalised and weighted before the blocks are
joined, so no block dominates just because it has more columns, and the
joined row is normalised again so that dot products are cosine similarities.

Nothing here looks at labels: the matrix depends only on the records, which is
what lets a review compute it once and retrain on it after every decision.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

_KEYWORD_SPLIT = re.compile(r"\s*[;|]\s*")


@dataclass(frozen=True)
class FeatureConfig:
    """Which feature blocks to build and how much each weighs.

    The defaults were chosen on general grounds (see module docstring) and
    checked on the shared benchmark sets; they are the same for every review.
    """

    word_ngrams: tuple[int, int] = (1, 2)
    word_min_df: int = 1
    word_weight: float = 1.0
    #: Words in more than this share of records are dropped (1.0 keeps every word).
    word_max_df: float = 1.0
    char_ngrams: tuple[int, int] | None = (3, 5)
    char_min_df: int = 2
    char_weight: float = 1.0
    #: Cap on the character n-gram vocabulary, so 100,000-record reviews stay in memory.
    char_max_features: int | None = 200_000
    keyword_weight: float = 0.5
    title_repeats: int = 2
    #: Weight of the all-MiniLM-L6-v2 sentence vectors (0 = none; needs the embed extra).
    embedding_weight: float = 0.0


@dataclass
class FeatureMatrix:
    """The cached features of one review: row i belongs to ``record_ids[i]``."""

    record_ids: np.ndarray
    X: sp.csr_matrix
    config: FeatureConfig

    @property
    def n_records(self) -> int:
        return int(self.X.shape[0])


def _clean(values: Iterable[object]) -> list[str]:
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            out.append("")
        else:
            out.append(str(v))
    return out


def keyword_terms(value: object) -> list[str]:
    """A record's keywords as lower-case terms, whether given as a list or "a; b; c"."""
    if value is None or value is pd.NA:
        return []
    if isinstance(value, float) and np.isnan(value):
        return []
    if isinstance(value, (list, tuple, np.ndarray)):
        items = [str(x) for x in value]
    else:
        items = _KEYWORD_SPLIT.split(str(value))
    # MeSH qualifiers ("Migraine Disorders/drug therapy") and the "*" major-topic
    # marker split into parts, so the heading and the qualifier count on their own.
    terms: list[str] = []
    for item in items:
        for part in item.replace("*", "").split("/"):
            part = part.strip().lower()
            if part:
                terms.append(part)
    return terms


def record_text(df: pd.DataFrame, title_repeats: int = 2) -> list[str]:
    """Title (repeated, as titles are short and dense) followed by the abstract."""
    titles = _clean(df["title"]) if "title" in df else [""] * len(df)
    abstracts = _clean(df["abstract"]) if "abstract" in df else [""] * len(df)
    sep = " . "
    return [sep.join([t] * max(1, title_repeats) + [a])
            for t, a in zip(titles, abstracts, strict=True)]


def sentence_texts(df: pd.DataFrame) -> list[str]:
    """What the sentence encoder reads of each record: "title. abstract"."""
    from review.screening.embedding import record_texts

    titles = _clean(df["title"]) if "title" in df else [""] * len(df)
    abstracts = _clean(df["abstract"]) if "abstract" in df else [""] * len(df)
    return record_texts(titles, abstracts)


def _identity(terms: list[str]) -> list[str]:
    return terms


def _block(X: sp.spmatrix, weight: float) -> sp.csr_matrix:
    return normalize(sp.csr_matrix(X, dtype=np.float32), norm="l2", copy=False) * np.float32(weight)


def build_features(df: pd.DataFrame, config: FeatureConfig | None = None,
                   on_progress: Callable[[int, int], None] | None = None) -> FeatureMatrix:
    """TF-IDF features for every record in ``df`` (columns: record_id, title, abstract, keywords).

    Empty records (no title, abstract or keywords) get an all-zero row: they
    score like an unknown record rather than breaking the fit. With
    ``config.embedding_weight`` > 0 the records' sentence vectors are appended
    (:mod:`review.screening.embedding`); ``on_progress(done, total)`` follows the
    records the encoder has still to embed.
    """
    config = config or FeatureConfig()
    texts = record_text(df, config.title_repeats)
    blocks: list[sp.csr_matrix] = []
    has_text = any(t.strip(" .") for t in texts)
    if has_text:
        def words(max_df: float) -> sp.spmatrix:
            return TfidfVectorizer(
                ngram_range=config.word_ngrams,
                min_df=config.word_min_df,
                max_df=max_df,
                sublinear_tf=True,
                strip_accents="unicode",
                dtype=np.float32,
            ).fit_transform(texts)

        try:
            counts = words(config.word_max_df)
        except ValueError:  # a tiny review whose every word is in almost every record
            counts = words(1.0)
        blocks.append(_block(counts, config.word_weight))
        if config.char_ngrams is not None:
            try:
                chars = TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=config.char_ngrams,
                    min_df=min(config.char_min_df, len(texts)),
                    max_features=config.char_max_features,
                    sublinear_tf=True,
                    strip_accents="unicode",
                    dtype=np.float32,
                )
                blocks.append(_block(chars.fit_transform(texts), config.char_weight))
            except ValueError:  # every n-gram below min_df: tiny reviews
                pass
    if "keywords" in df and config.keyword_weight > 0:
        terms = [keyword_terms(v) for v in df["keywords"]]
        if any(terms):
            kw = TfidfVectorizer(
                analyzer=_identity, sublinear_tf=True, dtype=np.float32, min_df=1
            )
            blocks.append(_block(kw.fit_transform(terms), config.keyword_weight))
    if not blocks:
        raise ValueError("no record has a title, abstract or keywords to rank on")
    if config.embedding_weight > 0:
        from review.screening.embedding import embed_texts

        vectors = embed_texts(sentence_texts(df), on_progress=on_progress)
        blocks.append(_block(sp.csr_matrix(vectors), config.embedding_weight))
    X = normalize(sp.hstack(blocks, format="csr", dtype=np.float32), norm="l2", copy=False).tocsr()
    X.sum_duplicates()  # canonical once here, so the rows a fit takes need no re-check
    return FeatureMatrix(record_ids=df["record_id"].to_numpy(), X=X, config=config)
