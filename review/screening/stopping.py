"""When is it safe to stop screening? Recall estimates, their bounds, and the evidence to stop.

Two kinds of evidence, with different promises
----------------------------------------------
**1. An independent random sample (Callaghan & Müller-Hansen 2020, "Statistical
stopping criteria for automated screening in systematic reviews", Systematic
Reviews 9:273). Distribution-free.** At some point (``sampling_start``) the
``N`` records not yet screened form an urn. A uniformly random order of that
urn is fixed, and its records are drawn one after another; ranked screening
may go on at the same time, and a drawn record that the ranking has already
put in front of a reviewer costs nothing more (its label is known). After
``n`` draws with ``k`` relevant among them, H0 is "recall < τ". With
``seen`` relevant records found in total and ``r_before`` found before the
urn was formed, H0 holds exactly when the urn held
``K ≥ K_tar = floor(seen/τ − r_before) + 1`` relevant records, and under H0
the chance of ``k`` or fewer relevant in the sample is at most the
hypergeometric ``P(X ≤ k; N, K_tar, n)`` — the p-value. Stop when it falls
below the level spent on ``k``: ``α_k = α / ((k + 1)(k + 2))`` with
``α = 1 − confidence``. The test is re-applied after every draw; for a fixed
``k`` the p-value only falls as draws go on, so the first look at which level
``k`` can reject is fixed in advance and the chance of a false stop at that
level is below ``α_k``; the levels sum to ``α``, so the promise holds however
often the test is looked at (a single level ``α`` for every ``k`` stops below
the target in about 5.1% of simulated urns: ``tests/screening``). Inverting
the test at one look gives the one-sided lower bound on recall shown to
reviewers. This promise holds for *any*
ranking; its price is that ruling out a couple of hidden relevant records in
a large urn needs most of the urn (with ``K_tar = 2``, about 78% of it).

**2. The ranked order as a counting process (after Stevenson & Bin-Hezam
2023, "Stopping methods for technology-assisted reviews based on point
processes"). Model-based.** Relevant records turn up along the screening
order like events of an inhomogeneous Poisson process whose rate falls
log-linearly with the share screened, ``λ(t) = θ·exp(b·t)``. The rule
asks the exact posterior predictive question: given where the finds fell,
how likely is it that ``K_tar`` or more relevant records are still hidden
(``K_tar`` as above, with nothing found by sampling)? With flat priors on
``log θ`` and ``b``, ``θ`` integrates out in closed form (the hidden count is
negative binomial given ``b``) and ``b`` is integrated on a grid
(:func:`rate_posterior`); stop when that probability is below ``α``. An
earlier version used the maximum-likelihood fit, the delta method on
``log μ`` and a lognormal approximation; that approximation is poor when the
decay is steep (the Fisher information at a fit on the edge of the range of
``b`` says little about the far tail), and on the shared benchmark sets it
stopped after 65% of the records on average where the exact posterior
stops after 64%, with the same recall. The range of ``b`` is the prior's one
assumption (:func:`max_decay`). The promise holds when the model describes
the ranking; it costs no extra screening, and :mod:`tests.screening` checks it on
simulated rankings drawn from the model. A ranking with a long tail of
hard-to-find relevant records breaks the assumption: then only the random
sample protects the review.

**Knee (Cormack & Grossman 2016), a heuristic companion.** The gain curve
bends when the ranking runs dry; the slope ratio before and after the knee
(with +1 smoothing after it) must reach ``156 − min(found, 150)``. No
statistical promise; shown for reference.

Assumptions stated plainly: labels are correct (a missed relevant record is
invisible to every method); the random order is really uniform over the urn
(the app's random queue does this; skipping records breaks it); tests are
re-applied after each record, which makes the stated confidence approximate,
and the tests in ``tests/screening`` measure how often it holds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp
from scipy.stats import hypergeom, nbinom

#: Default target recall and confidence of the recommendation.
DEFAULT_TARGET = 0.95
DEFAULT_CONFIDENCE = 0.95


def k_target(relevant_before: int, relevant_seen: int, target: float) -> int:
    """Smallest number of relevant records in the urn that would make recall < target.

    ``relevant_seen`` counts every relevant record found so far (before the urn
    was formed and since); ``relevant_before`` those found before.
    """
    return math.floor(relevant_seen / target - relevant_before + 1e-12) + 1


def sample_level(relevant_in_sample: int, confidence: float = DEFAULT_CONFIDENCE) -> float:
    """The share of ``α`` spent on samples with ``k`` relevant records: ``α / ((k+1)(k+2))``."""
    k = relevant_in_sample
    return (1.0 - confidence) / ((k + 1) * (k + 2))


def _check_sample(urn_size: int, drawn: int, relevant_in_sample: int) -> None:
    if urn_size < 0 or drawn < 0 or relevant_in_sample < 0:
        raise ValueError("urn size, draws and relevant records cannot be negative")
    if drawn > urn_size:
        raise ValueError(f"cannot draw {drawn} records from an urn of {urn_size}")
    if relevant_in_sample > drawn:
        raise ValueError("more relevant records in the sample than records drawn")


def hypergeometric_p_value(
    urn_size: int,
    drawn: int,
    relevant_in_sample: int,
    relevant_before: int,
    target: float = DEFAULT_TARGET,
    relevant_seen: int | None = None,
) -> float:
    """p-value of H0 "recall < target" after ``drawn`` random draws from an urn.

    ``relevant_seen`` defaults to ``relevant_before + relevant_in_sample`` (no
    ranked screening beside the sample); pass it when the ranking has found
    more relevant records in the urn than the sample has.
    """
    _check_sample(urn_size, drawn, relevant_in_sample)
    if not 0 < target < 1:
        raise ValueError("target recall must lie strictly between 0 and 1")
    seen = relevant_before + relevant_in_sample if relevant_seen is None else relevant_seen
    k_tar = k_target(relevant_before, seen, target)
    # Records in the urn that could still be relevant: all but the irrelevant ones drawn.
    if k_tar > urn_size - (drawn - relevant_in_sample):
        return 0.0
    return float(hypergeom.cdf(relevant_in_sample, urn_size, k_tar, drawn))


def urn_bounds(urn_size: int, drawn: int, k: int, alpha: float) -> tuple[int, int]:
    """Plausible range [K_min, K_max] of relevant records in the urn (one-sided, level alpha)."""
    _check_sample(urn_size, drawn, k)
    ks = np.arange(k, urn_size - (drawn - k) + 1)
    keep_hi = ks[hypergeom.cdf(k, urn_size, ks, drawn) >= alpha]  # P(X <= k | K) falls with K
    keep_lo = ks[hypergeom.sf(k - 1, urn_size, ks, drawn) >= alpha]  # P(X >= k | K) rises
    return (int(keep_lo.min()) if keep_lo.size else k, int(keep_hi.max()) if keep_hi.size else k)


def draws_to_stop(urn_size: int, drawn: int, relevant_in_sample: int, relevant_before: int,
                  relevant_seen: int, target: float = DEFAULT_TARGET,
                  confidence: float = DEFAULT_CONFIDENCE) -> int | None:
    """Further random draws needed, if all of them are irrelevant, before the test says stop.

    None when even drawing the whole urn would not do (it then says stop by
    itself: the urn is empty). What the app tells the reviewer to screen next.
    """
    level = sample_level(relevant_in_sample, confidence)

    def says_stop(extra: int) -> bool:
        return hypergeometric_p_value(urn_size, drawn + extra, relevant_in_sample,
                                      relevant_before, target, relevant_seen) < level

    lo, hi = 0, urn_size - drawn
    if not says_stop(hi):
        return None
    while lo < hi:  # the p-value only falls as more irrelevant records are drawn
        mid = (lo + hi) // 2
        if says_stop(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


# --- the counting process --------------------------------------------------------------------

def _log_geometric(b: np.ndarray, lo: int, hi: int, n_total: int) -> np.ndarray:
    """``log Σ_{i=lo}^{hi} exp(b·i/n)`` for every ``b``, in closed form (a geometric series).

    Closed form keeps each look O(grid), not O(records), so 100,000-record
    reviews cost the same as small ones.
    """
    x = np.asarray(b, dtype=float) / n_total
    m = hi - lo + 1
    out = np.full_like(x, math.log(m))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        up, down = x > 0, x < 0
        out[up] = (x[up] * hi + np.log(-np.expm1(-x[up] * m)) - np.log(-np.expm1(-x[up])))
        out[down] = (x[down] * lo + np.log(-np.expm1(x[down] * m))
                     - np.log(-np.expm1(x[down])))
    return out


def max_decay(n_total: int) -> float:
    """The prior's range for ``b``: the rate changes by at most a factor ``n²`` over the review.

    A rate that starts near one relevant record per record cannot sensibly
    fall below one per ``n²`` records (an expected ``1/n`` relevant records in
    the whole review); without a bound, two early finds and a run of misses
    put most of the posterior on an arbitrarily steep decay, because the
    likelihood flattens out as ``b → −∞``, and the rule would stop after a
    dozen records. The same bound applies to a rising rate.
    """
    return 2.0 * math.log(max(n_total, 2))


@dataclass(frozen=True)
class RatePosterior:
    """The posterior of the decay ``b`` on a grid, and what it says about hidden records.

    ``weights`` sum to one over ``b``; ``log_screened`` and ``log_unscreened``
    are ``log Σ exp(b·t)`` over the screened and the unscreened positions;
    ``found`` is the number of relevant records found.
    """

    b: np.ndarray
    weights: np.ndarray
    log_screened: np.ndarray
    log_unscreened: np.ndarray
    found: int

    def _share_screened(self) -> np.ndarray:
        # the negative binomial's success probability S/(S+R), per b
        share = np.exp(self.log_screened - np.logaddexp(self.log_screened, self.log_unscreened))
        return np.clip(share, 1e-300, 1.0)  # 0 would be an undefined distribution

    def tail(self, k: int) -> float:
        """P(at least ``k`` relevant records are still hidden), averaged over the posterior."""
        if k <= 0:
            return 1.0
        return float(self.weights @ nbinom.sf(k - 1, self.found, self._share_screened()))

    def mean_hidden(self) -> float:
        """Posterior mean of the hidden count: ``found · E[R/S]``."""
        with np.errstate(divide="ignore"):
            log_terms = np.log(self.weights) + self.log_unscreened - self.log_screened
        return float(self.found * np.exp(min(logsumexp(log_terms), 700.0)))


def rate_posterior(labels_in_order: Sequence[int] | np.ndarray,
                   n_total: int) -> RatePosterior | None:
    """Exact posterior of the log-linear rate model (None when there is nothing to say).

    Model: record ``i`` (``t = i/n``) is relevant at rate ``θ·exp(b·t)``;
    prior flat on ``log θ`` and on ``b`` within ``±``:func:`max_decay`. Integrating ``θ`` out gives
    ``p(b | data) ∝ exp(b·T) / S_b^N`` (``N`` found, ``T = Σ t`` over them,
    ``S_b = Σ_{screened} exp(b·t)``), the conditional likelihood of where the
    finds fell; given ``b`` the hidden count is negative binomial with ``N``
    and ``S_b / (S_b + R_b)`` (``R_b`` the same sum over the unscreened
    positions). ``b`` is integrated on an 801-point grid (the log posterior
    is concave, so the smooth unimodal integrand needs no more). None before
    any relevant record is found or once everything is screened.
    """
    y = np.asarray(labels_in_order, dtype=int)
    s, found = int(y.size), int(y.sum())
    if found == 0 or s >= n_total:
        return None
    positions = np.flatnonzero(y) + 1
    t_sum = float(positions.sum()) / n_total

    def log_post(b: np.ndarray) -> np.ndarray:
        return b * t_sum - found * _log_geometric(b, 1, s, n_total)

    bound = max_decay(n_total)
    grid = np.linspace(-bound, bound, 801)
    lp = log_post(grid)
    w = np.exp(lp - lp.max())
    return RatePosterior(b=grid, weights=w / w.sum(),
                         log_screened=_log_geometric(grid, 1, s, n_total),
                         log_unscreened=_log_geometric(grid, s + 1, n_total, n_total),
                         found=found)


#: Grid for the floor's share ``w`` of the screened intensity (log-uniform on ``[1/n, 1]``)
#: and for the decay under it: coarser than the plain model's, since each look costs
#: O(found × grid) here rather than O(grid).
_FLOOR_SHARES, _FLOOR_DECAYS = 41, 201


def floor_posterior(labels_in_order: Sequence[int] | np.ndarray,
                    n_total: int, no_floor: float = 0.0) -> RatePosterior | None:
    """Posterior of the log-linear rate *plus a constant floor* (None when nothing to say).

    Why a floor: some relevant records give the classifier nothing to go on (no
    abstract, unusual wording), so the ranking places them no better than at
    random, and they turn up at a steady rate wherever they are. A pure decay
    reads the early cluster of easy finds as "the rate has fallen to nothing" and
    stops before those records (titles-only exports: `benchmarks/stopping_candidates.py`).

    Model: with ``Λ`` the expected number of finds in the screened records and
    ``w`` the floor's share of it, a screened record ``i`` is relevant at rate
    ``Λ·[(1 − w)·e^{b·t}/S_b + w/s]`` and an unscreened one at the same rate.
    Priors: flat on ``log Λ``, ``b`` within ``±``:func:`max_decay`, ``w``
    log-uniform on ``[1/n, 1]`` (scale-free: a floor of one record in the whole
    review is as plausible a priori as half the finds). ``Λ`` integrates out, so
    given ``(w, b)`` the hidden count is negative binomial with ``N`` and
    ``1 / (1 + ratio)``, ``ratio = (1 − w)·R_b/S_b + w·(n − s)/s``; ``(w, b)`` is
    summed on a 41 × 201 grid. ``no_floor`` puts that prior probability on ``w = 0`` (a
    spike-and-slab prior: the plain model and the floor model averaged by their evidence;
    measured in `benchmarks/stopping_candidates.py`, not a registered rule: it stopped
    between the two everywhere, and still below target in 18.5% of rankings with a
    scattered tail). Returned as a :class:`RatePosterior` whose
    ``log_unscreened − log_screened`` is ``log ratio``, so the tail and the mean
    are computed exactly as for the plain model.
    """
    y = np.asarray(labels_in_order, dtype=int)
    s, found = int(y.size), int(y.sum())
    if found == 0 or s >= n_total:
        return None
    bound = max_decay(n_total)
    b = np.linspace(-bound, bound, _FLOOR_DECAYS)
    w = np.geomspace(1.0 / n_total, 1.0, _FLOOR_SHARES)
    prior = np.full(w.size, (1.0 - no_floor) / w.size)
    if no_floor > 0:
        w, prior = np.concatenate([[0.0], w]), np.concatenate([[no_floor], prior])
    log_s = _log_geometric(b, 1, s, n_total)
    log_r = _log_geometric(b, s + 1, n_total, n_total)
    with np.errstate(divide="ignore"):
        log_decaying = np.log1p(-w)[:, None, None]
        log_flat = (np.log(w) - math.log(s))[:, None, None]
    t = (np.flatnonzero(y) + 1) / n_total
    loglik = np.zeros((w.size, b.size))
    for start in range(0, t.size, 256):  # finds in blocks: memory stays bounded on big reviews
        log_f = b[:, None] * t[None, start:start + 256] - log_s[:, None]
        loglik += np.logaddexp(log_decaying + log_f[None], log_flat).sum(axis=2)
    loglik += np.log(prior)[:, None]
    weights = np.exp(loglik - loglik.max())
    ratio = (1.0 - w)[:, None] * np.exp(log_r - log_s)[None, :] + (w * (n_total - s) / s)[:, None]
    with np.errstate(divide="ignore"):
        log_ratio = np.log(ratio)
    return RatePosterior(b=np.broadcast_to(b, ratio.shape).ravel(),
                         weights=(weights / weights.sum()).ravel(),
                         log_screened=np.zeros(ratio.size), log_unscreened=log_ratio.ravel(),
                         found=found)


# --- the knee ---------------------------------------------------------------------------------

def knee_slope_ratio(labels_in_order: Sequence[int] | np.ndarray) -> float:
    """Cormack & Grossman's slope ratio at the knee of the gain curve (0 before any relevant)."""
    y = np.asarray(labels_in_order, dtype=int)
    s = y.size
    found = int(y.sum())
    if found == 0 or s < 2:
        return 0.0
    i = np.arange(1, s + 1)
    gain = np.cumsum(y)
    # the knee is the point of the curve farthest above the line from (0, 0) to (s, found)
    knee = int(np.argmax(s * gain - found * i)) + 1
    rel_knee = int(gain[knee - 1])
    if knee >= s or rel_knee == 0:
        return 0.0
    return (rel_knee / knee) / ((found - rel_knee + 1) / (s - knee))


def knee_threshold(found: int) -> float:
    """The slope ratio the knee method asks for: higher when few relevant records are known."""
    return 156.0 - min(found, 150)


# --- what the reviewer sees ---------------------------------------------------------------------

@dataclass(frozen=True)
class RecallEstimate:
    """Where screening stands: estimated recall, its bounds, and what to do next.

    ``recall_low`` is a one-sided lower bound at ``confidence``. ``p_value``
    is the evidence against "recall < target"; ``stop`` is ``p_value < 1 −
    confidence``. ``guaranteed`` is True only when the estimate rests on a
    random sample (or everything is screened). ``draws_needed`` is how many
    more randomly drawn records, all irrelevant, would let the sample say stop.
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
    sample_size: int = 0
    sample_relevant: int = 0
    draws_needed: int | None = None

    @property
    def recommendation(self) -> str:
        """One sentence a reviewer can act on (:func:`stopping_advice`)."""
        return stopping_advice(self)


def stopping_advice(est: RecallEstimate) -> str:
    """The reviewer's view in words: the estimate, its lower bound, and what to do next.

    Pure, so the app, the CLI and the tests show the same sentence; the next
    step is concrete ("screen these 40 randomly drawn records") wherever the
    random-sample test can say how many draws would settle it.
    """
    target, conf = f"{est.target:.0%}", f"{est.confidence:.0%}"
    if est.method == "complete":
        return "Every record is screened: recall is 100%."
    if est.method == "none" or est.recall is None and est.recall_low is None:
        return ("Keep screening in ranked order: no relevant record found yet, so recall "
                "cannot be estimated.")
    point = "not yet known" if est.recall is None else f"{est.recall:.0%}"
    basis = ("from a random sample" if est.guaranteed
             else "from the ranked order (a model, not a random sample)")
    head = (f"Estimated recall {point}, at least {est.recall_low:.0%} with {conf} confidence, "
            f"{basis}; target {target}.")
    draws = ""
    if est.draws_needed is not None:
        draws = (f"screen these {est.draws_needed} randomly drawn records: if none is relevant, "
                 f"recall of at least {target} is shown with {conf} confidence.")
    if est.stop and est.guaranteed:
        return f"{head} Stop: the random sample shows the target is reached."
    if est.guaranteed:
        return f"{head} Next: continue random sampling; {draws or 'draw further records.'}"
    if est.stop:
        return (f"{head} The target looks reached. To confirm it with a guarantee, start random "
                f"sampling (Team page) and {draws or 'screen randomly drawn records.'}")
    return f"{head} Next: continue screening in ranked order."


def _recall(seen: int, total: float) -> float:
    return 1.0 if total <= 0 else min(1.0, seen / total)


def sample_estimate(*, urn_size: int, sample_labels: Sequence[int] | np.ndarray,
                    relevant_before: int, relevant_seen: int, n_total: int, n_screened: int,
                    target: float = DEFAULT_TARGET,
                    confidence: float = DEFAULT_CONFIDENCE) -> RecallEstimate:
    """The random-sample estimate: ``sample_labels`` are the draws from the urn, in order."""
    sample = np.asarray(sample_labels, dtype=int)
    drawn, k = int(sample.size), int(sample.sum())
    alpha = 1.0 - confidence
    if drawn == 0:
        k_min, k_max, k_hat, p = 0, urn_size, float("nan"), 1.0
    else:
        k_min, k_max = urn_bounds(urn_size, drawn, k, alpha)
        k_hat = k * urn_size / drawn
        p = hypergeometric_p_value(urn_size, drawn, k, relevant_before, target, relevant_seen)
    # relevant records in the urn that the ranking found outside the sample are known too
    outside = relevant_seen - relevant_before - k
    total_hat = relevant_before + max(k_hat, k + outside) if drawn else None
    return RecallEstimate(
        n_total=n_total, n_screened=n_screened, relevant_found=relevant_seen,
        method="random sample", guaranteed=True, target=target, confidence=confidence,
        recall=None if total_hat is None else _recall(relevant_seen, total_hat),
        recall_low=_recall(relevant_seen, relevant_before + max(k_max, k + outside)),
        recall_high=_recall(relevant_seen, relevant_before + max(k_min, k + outside)),
        estimated_relevant_total=total_hat, p_value=p,
        stop=drawn > 0 and p < sample_level(k, confidence), sample_size=drawn,
        sample_relevant=k,
        draws_needed=draws_to_stop(urn_size, drawn, k, relevant_before, relevant_seen, target,
                                   confidence),
    )


def counting_evidence(labels_in_order: Sequence[int] | np.ndarray, n_total: int,
                      target: float = DEFAULT_TARGET, *, floor: bool = False
                      ) -> tuple[RatePosterior | None, float | None, float]:
    """(posterior, point recall, p-value of "recall < target") of the ranked order.

    The p-value is the posterior predictive probability that ``K_tar`` or more
    relevant records are still hidden; 1.0 (and no recall) while the
    posterior does not exist. The cheap core of :func:`counting_estimate`,
    which the stopping rules call as screening goes on. ``floor`` uses the
    model with a floor (:func:`floor_posterior`) instead of the plain decay.
    """
    y = np.asarray(labels_in_order, dtype=int)
    seen, s = int(y.sum()), int(y.size)
    post = floor_posterior(y, n_total) if floor else rate_posterior(y, n_total)
    if post is None:
        return None, None, 1.0
    recall = _recall(seen, seen + min(post.mean_hidden(), n_total - s))
    return post, recall, post.tail(k_target(seen, seen, target))


def counting_estimate(labels_in_order: Sequence[int] | np.ndarray, n_total: int, *,
                      target: float = DEFAULT_TARGET,
                      confidence: float = DEFAULT_CONFIDENCE,
                      floor: bool = False) -> RecallEstimate:
    """The counting-process estimate from the labels in screening order (model-based).

    ``floor``: the rate model with a floor (the ``floor`` stopping rule's), so the page's
    estimate and advice agree with the rule the lead chose.
    """
    y = np.asarray(labels_in_order, dtype=int)
    seen, s = int(y.sum()), int(y.size)
    post, recall, p = counting_evidence(y, n_total, target, floor=floor)
    unscreened = n_total - s
    # lower bound: recall if the hidden count is at its (confidence) predictive quantile
    hidden_hi = unscreened
    if post is not None:
        lo, hi = 0, unscreened  # the smallest h with P(hidden > h) < 1 - confidence
        while lo < hi:
            mid = (lo + hi) // 2
            if post.tail(mid + 1) < 1.0 - confidence:
                hi = mid
            else:
                lo = mid + 1
        hidden_hi = lo
    return RecallEstimate(
        n_total=n_total, n_screened=s, relevant_found=seen,
        method="counting process with a floor" if floor else "counting process",
        guaranteed=False, target=target, confidence=confidence,
        recall=recall, recall_low=_recall(seen, seen + hidden_hi),
        recall_high=1.0, estimated_relevant_total=seen / recall if recall else None, p_value=p,
        stop=p < 1.0 - confidence,
        draws_needed=draws_to_stop(unscreened, 0, 0, seen, seen, target, confidence),
    )


def recall_estimate(
    labels_in_order: Sequence[int] | np.ndarray,
    n_total: int,
    *,
    sampling_start: int | None = None,
    target: float = DEFAULT_TARGET,
    confidence: float = DEFAULT_CONFIDENCE,
    floor: bool = False,
) -> RecallEstimate:
    """Estimate the recall reached so far and whether it is safe to stop (the app's view).

    ``labels_in_order``: 1/0 for every record screened so far, in screening
    order. ``n_total``: records in the review. ``sampling_start``: index of the
    first record screened in the random-sampling phase (the app's random queue
    hands out records in a fixed random order of the urn), or None while the
    review is in ranked order; then the counting-process estimate is given, with a
    floor in the rate when ``floor`` (the lead chose the ``floor`` rule).
    """
    labels = np.asarray(labels_in_order, dtype=int)
    if labels.ndim != 1 or not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be a sequence of 0 (irrelevant) and 1 (relevant)")
    if n_total < labels.size:
        raise ValueError(f"{labels.size} records screened but the review has only {n_total}")
    if not 0 < target < 1 or not 0 < confidence < 1:
        raise ValueError("target recall and confidence must lie strictly between 0 and 1")
    seen = int(labels.sum())
    if labels.size == n_total and labels.size > 0:
        return RecallEstimate(
            n_total=n_total, n_screened=int(labels.size), relevant_found=seen,
            method="complete", guaranteed=True, target=target, confidence=confidence,
            recall=1.0, recall_low=1.0, recall_high=1.0, estimated_relevant_total=float(seen),
            p_value=0.0, stop=True)
    if sampling_start is not None:
        if not 0 <= sampling_start <= labels.size:
            raise ValueError("sampling_start must index a screened record (or the next one)")
        before = labels[:sampling_start]
        return sample_estimate(
            urn_size=n_total - sampling_start, sample_labels=labels[sampling_start:],
            relevant_before=int(before.sum()), relevant_seen=seen, n_total=n_total,
            n_screened=int(labels.size), target=target, confidence=confidence)
    if seen == 0:
        return RecallEstimate(
            n_total=n_total, n_screened=int(labels.size), relevant_found=0, method="none",
            guaranteed=False, target=target, confidence=confidence, recall=None,
            recall_low=None, recall_high=None, estimated_relevant_total=None, p_value=None,
            stop=False)
    return counting_estimate(labels, n_total, target=target, confidence=confidence, floor=floor)
