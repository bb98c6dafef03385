"""When is it safe to stop screening? Recall estimates with a statistical guarantee.

Method (Callaghan & Müller-Hansen, 2020, "Statistical stopping criteria for
automated screening in systematic reviews", Systematic Reviews 9:273)
--------------------------------------------------------------------------
Screening runs in two phases.

1. **Prioritised phase.** Records are screened in the model's order. Relevant
   records found here: ``r_before``.
2. **Random-sampling phase.** Once a reviewer (or the heuristic below) thinks
   the ranked list is exhausted, the remaining ``N_urn`` unscreened records are
   treated as an urn and screened *in uniformly random order*. After ``n``
   draws with ``k`` relevant among them, consider the null hypothesis
   H0: "recall so far is below the target τ". Recall is
   ``(r_before + k) / (r_before + K)`` where ``K`` is the (unknown) number of
   relevant records in the urn, so H0 holds exactly when
   ``K ≥ K_tar = floor((r_before + k) / τ − r_before) + 1``. Under H0 the
   chance of seeing ``k`` or fewer relevant records in ``n`` draws is at most
   the hypergeometric ``P(X ≤ k; N_urn, K_tar, n)`` (it only shrinks for larger
   ``K``). That is the p-value; when it falls below ``α = 1 − confidence`` we
   reject H0 and recommend stopping: recall ≥ τ with that confidence.

The same inversion gives the uncertainty shown at any moment: every ``K`` that
the sample cannot reject is plausible, so the one-sided lower bound of recall
is ``(r_before + k) / (r_before + K_max)`` with ``K_max`` the largest ``K`` whose
``P(X ≤ k)`` is still ≥ α, and the upper bound comes from the smallest ``K``
whose ``P(X ≥ k)`` is ≥ α. Recommending "stop" is the same as "the lower
bound has reached the target". The point estimate is ``K̂ = k·N_urn/n``.

Assumptions, stated plainly:

* the draws really are uniformly random from *all* records left when the
  sampling phase began (the app's ``random`` queue does this; a reviewer who
  skips records breaks it);
* labels are correct: a missed relevant record is invisible to every method;
* the test is re-applied after every draw, as in the paper. Repeated looks
  make the stated confidence approximate rather than exact; the ``floor`` in
  ``K_tar`` and the discreteness of the test make it conservative in practice,
  and the benchmark reports how often the target was actually met.

The guarantee costs screening when few relevant records exist: with 20 found,
``K_tar`` is 2 and showing that two relevant records are not hiding in the
urn takes about three quarters of it. That is the honest price of a 95%
guarantee on a small review; the heuristic below is cheaper and has none.

Also provided
-------------
* :func:`irrelevant_in_a_row` and the *heuristic* reviewers know: stop (or
  switch to random sampling) after ``N`` irrelevant records in a row
  (default 50). It has no statistical guarantee; it is shown for reference
  and used as the cue to begin the random-sampling phase.
* *Ranked quasi-sampling* (same paper, §"ranked quasi-sampling"): before
  random sampling begins, the last ``m`` prioritised records are treated as
  if they were a random sample of themselves plus everything unscreened. If
  the ranking puts relevant records no later than random order would, this is
  conservative; the estimate is marked ``guaranteed=False`` because that
  assumption cannot be checked from inside the review.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import hypergeom

#: Default target recall and confidence of the recommendation.
DEFAULT_TARGET = 0.95
DEFAULT_CONFIDENCE = 0.95
#: Default N for the "N irrelevant in a row" heuristic.
DEFAULT_HEURISTIC_N = 50


@dataclass(frozen=True)
class RecallEstimate:
    """Where screening stands: estimated recall, its bounds, and what to do.

    ``recall_low``/``recall_high`` are one-sided bounds at ``confidence``
    (together a ``2·confidence − 1`` interval). ``p_value`` tests
    H0: recall < ``target``; ``stop`` is ``p_value < 1 − confidence``.
    ``guaranteed`` is True only when the estimate rests on random sampling.
    """

    n_total: int
    n_screened: int
    relevant_found: int
    method: str
    guaranteed: bool
    target: float
    confidence: float
    recall: float | None
    recall_low: float | None
    recall_high: float | None
    estimated_relevant_total: float | None
    p_value: float | None
    stop: bool
    sample_size: int
    sample_relevant: int
    irrelevant_in_a_row: int
    heuristic_n: int
    heuristic_fired: bool

    @property
    def recommendation(self) -> str:
        """One sentence a reviewer can act on."""
        if self.stop:
            return (
                f"Stop: recall is at least {self.target:.0%} with {self.confidence:.0%} "
                f"confidence ({self.method}, p = {self.p_value:.3g})."
            )
        if self.method == "random-sampling":
            return (
                f"Continue random sampling: {self.target:.0%} recall not yet shown "
                f"with {self.confidence:.0%} confidence (p = {self.p_value:.3g})."
            )
        if self.heuristic_fired:
            return (
                f"{self.irrelevant_in_a_row} irrelevant records in a row: switch to random "
                "sampling of the remaining records to test whether it is safe to stop."
            )
        return "Continue screening in ranked order."


def irrelevant_in_a_row(labels_in_order: Sequence[int] | np.ndarray) -> int:
    """Irrelevant records screened since the last relevant one (or since the start)."""
    labels = np.asarray(labels_in_order, dtype=int)
    hits = np.flatnonzero(labels == 1)
    return int(labels.size if hits.size == 0 else labels.size - hits[-1] - 1)


def heuristic_stop_position(
    labels_in_order: Sequence[int] | np.ndarray, n: int = DEFAULT_HEURISTIC_N
) -> int | None:
    """Records screened when ``n`` irrelevant in a row first occurred (None if never)."""
    run = 0
    for i, label in enumerate(np.asarray(labels_in_order, dtype=int)):
        run = 0 if label == 1 else run + 1
        if run >= n:
            return i + 1
    return None


def k_target(relevant_before: int, relevant_in_sample: int, target: float) -> int:
    """Smallest number of relevant records in the urn that would make recall < target."""
    seen = relevant_before + relevant_in_sample
    return math.floor(seen / target - relevant_before + 1e-12) + 1


def hypergeometric_p_value(
    urn_size: int,
    drawn: int,
    relevant_in_sample: int,
    relevant_before: int,
    target: float = DEFAULT_TARGET,
) -> float:
    """p-value of H0 "recall < target" after ``drawn`` random draws from an urn.

    ``urn_size``: records unscreened when sampling began; ``relevant_before``:
    relevant records found before sampling began.
    """
    _check_sample(urn_size, drawn, relevant_in_sample)
    if not 0 < target < 1:
        raise ValueError("target recall must lie strictly between 0 and 1")
    k_tar = k_target(relevant_before, relevant_in_sample, target)
    # Records in the urn that could still be relevant: all but the irrelevant ones drawn.
    if k_tar > urn_size - (drawn - relevant_in_sample):
        return 0.0
    return float(hypergeom.cdf(relevant_in_sample, urn_size, k_tar, drawn))


def _check_sample(urn_size: int, drawn: int, relevant_in_sample: int) -> None:
    if urn_size < 0 or drawn < 0 or relevant_in_sample < 0:
        raise ValueError("urn size, draws and relevant records cannot be negative")
    if drawn > urn_size:
        raise ValueError(f"cannot draw {drawn} records from an urn of {urn_size}")
    if relevant_in_sample > drawn:
        raise ValueError("more relevant records in the sample than records drawn")


def _urn_bounds(
    urn_size: int, drawn: int, k: int, alpha: float
) -> tuple[int, int]:
    """Plausible range [K_min, K_max] of relevant records in the urn at level alpha (one-sided)."""
    ks = np.arange(k, urn_size - (drawn - k) + 1)
    lower_tail = hypergeom.cdf(k, urn_size, ks, drawn)  # P(X <= k | K), falls with K
    upper_tail = hypergeom.sf(k - 1, urn_size, ks, drawn)  # P(X >= k | K), rises with K
    keep_hi = ks[lower_tail >= alpha]
    keep_lo = ks[upper_tail >= alpha]
    k_max = int(keep_hi.max()) if keep_hi.size else k
    k_min = int(keep_lo.min()) if keep_lo.size else k
    return k_min, k_max


def _sample_estimate(
    *,
    urn_size: int,
    drawn: int,
    k: int,
    relevant_before: int,
    target: float,
    confidence: float,
) -> tuple[float, float, float, float, float]:
    """(recall, low, high, estimated total relevant, p) from one (quasi-)sample."""
    alpha = 1.0 - confidence
    seen = relevant_before + k
    if drawn == 0:
        k_min, k_max = 0, urn_size
        k_hat = float("nan")
        p = 1.0
    else:
        k_min, k_max = _urn_bounds(urn_size, drawn, k, alpha)
        k_hat = k * urn_size / drawn
        p = hypergeometric_p_value(urn_size, drawn, k, relevant_before, target)
    total_hat = relevant_before + (k_hat if drawn else float("nan"))

    def recall(total: float) -> float:
        return 1.0 if total <= 0 else seen / total

    point = recall(relevant_before + max(k_hat, k)) if drawn else float("nan")
    return point, recall(relevant_before + k_max), recall(relevant_before + k_min), total_hat, p


def recall_estimate(
    labels_in_order: Sequence[int] | np.ndarray,
    n_total: int,
    *,
    sampling_start: int | None = None,
    target: float = DEFAULT_TARGET,
    confidence: float = DEFAULT_CONFIDENCE,
    heuristic_n: int = DEFAULT_HEURISTIC_N,
    quasi_sampling: bool = True,
) -> RecallEstimate:
    """Estimate the recall reached so far and whether it is safe to stop.

    ``labels_in_order``: 1/0 for every record screened so far, in screening
    order (priors first). ``n_total``: records in the review (screened or not).
    ``sampling_start``: index in ``labels_in_order`` of the first record drawn
    in the random-sampling phase, or None while still in ranked order. With it,
    the estimate and the recommendation carry the hypergeometric guarantee;
    without it, ranked quasi-sampling gives an indicative estimate
    (``guaranteed=False``), or nothing if ``quasi_sampling`` is False.
    """
    labels = np.asarray(labels_in_order, dtype=int)
    if labels.ndim != 1 or not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be a sequence of 0 (irrelevant) and 1 (relevant)")
    if n_total < labels.size:
        raise ValueError(f"{labels.size} records screened but the review has only {n_total}")
    if not 0 < target < 1 or not 0 < confidence < 1:
        raise ValueError("target recall and confidence must lie strictly between 0 and 1")
    run = irrelevant_in_a_row(labels)
    common = dict(
        n_total=int(n_total),
        n_screened=int(labels.size),
        relevant_found=int(labels.sum()),
        target=target,
        confidence=confidence,
        irrelevant_in_a_row=run,
        heuristic_n=heuristic_n,
        heuristic_fired=run >= heuristic_n,
    )
    if labels.size == n_total and labels.size > 0:
        # Everything screened: recall is 1 by definition, nothing left to test.
        return RecallEstimate(
            **common, method="complete", guaranteed=True, recall=1.0, recall_low=1.0,
            recall_high=1.0, estimated_relevant_total=float(labels.sum()), p_value=0.0,
            stop=True, sample_size=0, sample_relevant=0,
        )
    if sampling_start is not None:
        if not 0 <= sampling_start <= labels.size:
            raise ValueError("sampling_start must index a screened record (or the next one)")
        before, sample = labels[:sampling_start], labels[sampling_start:]
        urn = n_total - sampling_start
        point, low, high, total, p = _sample_estimate(
            urn_size=urn, drawn=sample.size, k=int(sample.sum()),
            relevant_before=int(before.sum()), target=target, confidence=confidence,
        )
        return RecallEstimate(
            **common, method="random-sampling", guaranteed=True, recall=_nan_none(point),
            recall_low=low, recall_high=high, estimated_relevant_total=_nan_none(total),
            p_value=p, stop=p < 1.0 - confidence, sample_size=int(sample.size),
            sample_relevant=int(sample.sum()),
        )
    if not quasi_sampling or labels.size == 0 or labels.sum() == 0:
        return RecallEstimate(
            **common, method="none", guaranteed=False, recall=None, recall_low=None,
            recall_high=None, estimated_relevant_total=None, p_value=None, stop=False,
            sample_size=0, sample_relevant=0,
        )
    m, p = _best_quasi_window(labels, n_total, target)
    start = labels.size - m
    point, low, high, total, _ = _sample_estimate(
        urn_size=n_total - start, drawn=m, k=int(labels[start:].sum()),
        relevant_before=int(labels[:start].sum()), target=target, confidence=confidence,
    )
    return RecallEstimate(
        **common, method="ranked-quasi-sampling", guaranteed=False, recall=_nan_none(point),
        recall_low=low, recall_high=high, estimated_relevant_total=_nan_none(total),
        p_value=p, stop=p < 1.0 - confidence, sample_size=m,
        sample_relevant=int(labels[start:].sum()),
    )


def quasi_sampling_p_values(
    labels_in_order: Sequence[int] | np.ndarray, n_total: int, target: float = DEFAULT_TARGET
) -> np.ndarray:
    """p-value of "recall < target" for every trailing window m = 1..len(labels).

    Entry ``m − 1`` treats the last ``m`` screened records as a random sample
    of themselves plus the ``n_total − len(labels)`` unscreened ones.
    """
    labels = np.asarray(labels_in_order, dtype=int)
    size = labels.size
    m = np.arange(1, size + 1)
    k = np.cumsum(labels[::-1])  # relevant among the last m
    before = labels.sum() - k
    urn = n_total - size + m
    seen = before + k
    k_tar = np.floor(seen / target - before + 1e-12).astype(int) + 1
    possible = k_tar <= urn - (m - k)
    p = np.zeros(size)
    p[possible] = hypergeom.cdf(k[possible], urn[possible], k_tar[possible], m[possible])
    return p


def _best_quasi_window(labels: np.ndarray, n_total: int, target: float) -> tuple[int, float]:
    p = quasi_sampling_p_values(labels, n_total, target)
    best = int(np.argmin(p))
    return best + 1, float(p[best])


def _nan_none(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def random_sampling_stop(
    labels_in_order: Sequence[int] | np.ndarray,
    sampling_start: int,
    n_total: int,
    target: float = DEFAULT_TARGET,
    confidence: float = DEFAULT_CONFIDENCE,
) -> int | None:
    """First number of records screened at which the random-sampling test says stop.

    ``labels_in_order`` holds the ranked prefix (``sampling_start`` records)
    followed by the random draws. Returns None if the test never fires.
    The test is evaluated after every draw, in one vectorised pass.
    """
    labels = np.asarray(labels_in_order, dtype=int)
    before = int(labels[:sampling_start].sum())
    sample = labels[sampling_start:]
    if sample.size == 0:
        return None
    urn = n_total - sampling_start
    drawn = np.arange(1, sample.size + 1)
    k = np.cumsum(sample)
    k_tar = np.floor((before + k) / target - before + 1e-12).astype(int) + 1
    possible = k_tar <= urn - (drawn - k)
    p = np.zeros(sample.size)
    p[possible] = hypergeom.cdf(k[possible], urn, k_tar[possible], drawn[possible])
    hits = np.flatnonzero(p < 1.0 - confidence)
    return None if hits.size == 0 else sampling_start + int(hits[0]) + 1
