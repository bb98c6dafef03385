"""Swappable parts of the ranker, registered by name (as ASReview has them).

A *model* is one choice of each role:

* **feature extractor** — records → sparse matrix, computed once per review
  (:class:`review.screening.features.FeatureConfig`);
* **classifier** — a scikit-learn estimator factory; its ``decision_function``
  (or ``predict_proba``) scores every record;
* **balancing** — per-label sample weights, because relevant records are rare;
* **query strategy** — which unscreened record to show next, given the scores.

Stopping rules have their own registry in :mod:`review.screening.rules`.
``review simulate --model NAME`` and the app's lead pick a model from
:func:`available_models`. The default (:data:`DEFAULT_MODEL`) was chosen by
leave-one-set-out over the shared benchmark sets (``benchmarks/screening.py``
prints the table), never on one set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from review.screening.features import FeatureConfig

#: Feature extractors: name → configuration of the cached TF-IDF blocks.
FEATURES: dict[str, FeatureConfig] = {
    "tfidf": FeatureConfig(),
    "tfidf-words": FeatureConfig(char_ngrams=None),
    # ASReview's word features (title once, word 1-2-grams, words in over 95% of records
    # dropped) plus the all-MiniLM-L6-v2 sentence vectors at weight 0.35: measured in
    # benchmarks/embedding_probe.py, chosen leave-one-set-out among weights 0.25-1.0.
    "words+minilm": FeatureConfig(char_ngrams=None, keyword_weight=0.0, title_repeats=1,
                                  word_max_df=0.95, embedding_weight=0.35),
}

#: Classifiers: name → factory of an unfitted scikit-learn estimator.
CLASSIFIERS: dict[str, Callable[[], object]] = {
    # Squared hinge with C = 0.11 and relevant records weighted 9.8× the balanced weight are
    # the settings of ASReview's default SVM; on our features they beat the plain hinge
    # (C = 0.1, 10×) with and without keywords, paired on the same priors
    # (``benchmarks/ranker_candidates.py``: mean WSS@95 0.516 vs 0.500 with keywords,
    # 0.510 vs 0.500 without, worst set −0.068 vs −0.097 against ASReview).
    # A fixed random_state: liblinear's coordinate descent visits the rows in a random
    # order, drawn from NumPy's global generator when none is given, so the same labels
    # could rank differently from one run (or one app process) to the next.
    "svm": lambda: LinearSVC(C=0.11, loss="squared_hinge", dual=True, max_iter=5000,
                             random_state=0),
    "svm-hinge": lambda: LinearSVC(C=0.1, loss="hinge", dual=True, max_iter=5000,
                                   random_state=0),
    "logistic": lambda: LogisticRegression(C=10.0, max_iter=1000),
    "nb": lambda: ComplementNB(alpha=0.1),
}


def weighted(y: np.ndarray, relevant_weight: float = 9.8) -> np.ndarray:
    """Balanced class weights with relevant records up-weighted a further ``relevant_weight``×."""
    n1, n0 = int(y.sum()), int(len(y) - y.sum())
    w = np.where(y == 1, relevant_weight * n0 / max(n1, 1), 1.0)
    return w * len(y) / w.sum()


def balanced(y: np.ndarray) -> np.ndarray:
    """Each class weighs as much in total as the other."""
    return weighted(y, 1.0)


def unweighted(y: np.ndarray) -> np.ndarray:
    return np.ones(len(y))


#: Balancing: name → labels → sample weights.
BALANCING: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "weighted": weighted, "balanced": balanced, "none": unweighted,
}


def query_max(scores: np.ndarray, pool: np.ndarray, rng: np.random.Generator) -> int:
    """The highest-scoring unscreened record (the reference protocol)."""
    return int(pool[np.argmax(scores[pool])])


def query_max_random(scores: np.ndarray, pool: np.ndarray, rng: np.random.Generator) -> int:
    """Mostly the top record; one time in twenty a random one, so no theme hides forever."""
    return int(rng.choice(pool)) if rng.random() < 0.05 else query_max(scores, pool, rng)


#: Query strategies: name → (scores, unscreened positions, rng) → position to screen next.
QUERIES: dict[str, Callable[[np.ndarray, np.ndarray, np.random.Generator], int]] = {
    "max": query_max, "max-random": query_max_random,
}


@dataclass(frozen=True)
class Model:
    """One choice per role; ``name`` is what ``--model`` and the app accept."""

    name: str
    features: str
    classifier: str
    balance: str
    query: str
    description: str

    def feature_config(self) -> FeatureConfig:
        return FEATURES[self.features]


MODELS: dict[str, Model] = {m.name: m for m in (
    Model("svm", "tfidf", "svm", "weighted", "max",
          "linear SVM on TF-IDF words, character n-grams and keywords (default without "
          "the embed extra)"),
    Model("svm-hinge", "tfidf", "svm-hinge", "weighted", "max",
          "linear SVM with the plain hinge loss (the default until December 2026)"),
    Model("svm-words", "tfidf-words", "svm", "weighted", "max",
          "linear SVM on TF-IDF words and keywords (no character n-grams: cheaper)"),
    Model("logistic", "tfidf", "logistic", "balanced", "max",
          "logistic regression on TF-IDF words, character n-grams and keywords"),
    Model("nb", "tfidf-words", "nb", "none", "max",
          "complement naive Bayes on TF-IDF words and keywords"),
    Model("svm-explore", "tfidf", "svm", "weighted", "max-random",
          "the svm model, with one random record in twenty"),
    Model("svm-minilm", "words+minilm", "svm", "weighted", "max",
          "linear SVM on TF-IDF words and MiniLM sentence vectors (default; embed extra)"),
)}

#: The model used when none is named, where its optional extra (review[embed]) is installed.
#: Chosen leave-one-set-out on the five shared sets, with and without keywords: it has the
#: best mean WSS@95 on the other four sets whichever set is held out (``benchmarks/
#: screening.py``; closing note of issue 15 for the table).
DEFAULT_MODEL = "svm-minilm"
#: The default where the extra is not installed: the best model on words alone.
FALLBACK_MODEL = "svm"


def default_model() -> str:
    """The model a review uses when nobody chose one: the default if it can run here."""
    return DEFAULT_MODEL if missing_requirement(DEFAULT_MODEL) is None else FALLBACK_MODEL


def missing_requirement(name: str) -> str | None:
    """Why the registered model ``name`` cannot run on this installation, or None."""
    if FEATURES[MODELS[name].features].embedding_weight > 0:
        from review.screening.embedding import missing_reason

        return missing_reason()
    return None


def available_models() -> list[tuple[str, str]]:
    """(name, description) of every model that can run here, the default first: for the
    app's lead, who should not be offered a model whose optional extra is not installed."""
    first = default_model()
    names = [first, *sorted(n for n in MODELS if n != first)]
    return [(n, MODELS[n].description) for n in names if missing_requirement(n) is None]


def get_model(name: str | None) -> Model:
    """The registered model called ``name`` (the default for None); a clear error otherwise."""
    key = default_model() if name in (None, "", "default") else name
    if key not in MODELS:
        raise KeyError(f"unknown model {name!r}; choose one of {', '.join(sorted(MODELS))}")
    return MODELS[key]


def scores_of(estimator: object, X) -> np.ndarray:
    """One relevance score per row, higher = more likely relevant, for any registered classifier."""
    if hasattr(estimator, "decision_function"):
        return np.asarray(estimator.decision_function(X)).ravel()
    proba = estimator.predict_log_proba(X)  # type: ignore[attr-defined]
    return np.asarray(proba[:, 1] - proba[:, 0]).ravel()
