"""The stopping rules' promises, checked against scipy/statsmodels and thousands of simulated urns.

Everything the rule claims is recomputed here from first principles:
K_tar by counting, p-values and bounds by ``scipy.stats.hypergeom`` /
``poisson``, the rate fit by ``statsmodels``' Poisson GLM, and the rate of
stops below the target recall by simulating urns and rankings whose recall is
known. A rule that stopped a little too eagerly (a larger K_tar, a looser
threshold) makes these tests fail.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom, hypergeom, poisson

from review.screening.rules import CountingRule, Progress, get_rule, replay_stop
from review.screening.stopping import (
    counting_estimate,
    counting_evidence,
    draws_to_stop,
    floor_posterior,
    hypergeometric_p_value,
    knee_slope_ratio,
    knee_threshold,
    rate_posterior,
    recall_estimate,
    sample_estimate,
    urn_bounds,
)

ALPHA = 0.05


def k_tar_by_counting(before: int, seen: int, target: float) -> int:
    """The fewest relevant records left in the urn that make recall fall below the target."""
    k = 0
    while seen / (before + k + (seen - before)) >= target:
        k += 1
    # ``k`` hidden records beyond those seen; in the urn there are also the seen ones found there
    return k + (seen - before)


@pytest.mark.parametrize(("urn", "drawn", "k", "before", "target"), [
    (500, 100, 0, 20, 0.95), (500, 400, 0, 20, 0.95), (800, 300, 2, 40, 0.95),
    (200, 150, 1, 10, 0.90), (1000, 600, 3, 57, 0.95), (300, 299, 0, 5, 0.80),
    (50, 10, 4, 0, 0.95), (120, 60, 0, 19, 0.95),
])
def test_p_value_is_scipy_hypergeometric_at_the_counted_k_target(urn, drawn, k, before, target):
    k_tar = k_tar_by_counting(before, before + k, target)
    expected = 0.0 if k_tar > urn - (drawn - k) else hypergeom(urn, k_tar, drawn).cdf(k)
    assert hypergeometric_p_value(urn, drawn, k, before, target) == pytest.approx(expected,
                                                                                 abs=1e-12)


def test_ranked_finds_beside_the_sample_raise_k_target():
    # 30 found before, 2 in the sample and 5 more found by the ranking inside the urn: 37 seen
    k_tar = k_tar_by_counting(30, 37, 0.95)
    assert hypergeometric_p_value(600, 200, 2, 30, 0.95, relevant_seen=37) == pytest.approx(
        hypergeom(600, k_tar, 200).cdf(2))


@pytest.mark.parametrize(("urn", "drawn", "k"), [(400, 100, 0), (400, 100, 3), (90, 90, 2),
                                                 (1000, 50, 1)])
def test_urn_bounds_are_the_inverted_scipy_test(urn, drawn, k):
    lo, hi = urn_bounds(urn, drawn, k, ALPHA)
    ks = np.arange(k, urn - (drawn - k) + 1)
    assert hi == ks[hypergeom(urn, ks, drawn).cdf(k) >= ALPHA].max()
    assert lo == ks[hypergeom(urn, ks, drawn).sf(k - 1) >= ALPHA].min()
    assert lo <= round(k * urn / drawn) <= hi


def test_draws_to_stop_is_the_smallest_all_irrelevant_sample_scipy_rejects():
    urn, before = 700, 25
    k_tar = k_tar_by_counting(before, before, 0.95)
    # with no relevant record in the sample, the rule spends alpha / 2 (k = 0)
    need = int(np.flatnonzero(hypergeom(urn, k_tar, np.arange(urn + 1)).cdf(0) < ALPHA / 2)[0])
    assert draws_to_stop(urn, 0, 0, before, before) == need
    est = recall_estimate([1] * before + [0] * 100, 825, sampling_start=125)
    assert est.sample_size == 0 and est.draws_needed == need
    assert f"screen these {est.draws_needed} randomly drawn records" in est.recommendation


def _first_stop(urn_labels: np.ndarray, before: int, target: float) -> int | None:
    """Independent oracle: first draw where scipy's hypergeometric test rejects recall < target."""
    N = urn_labels.size
    n = np.arange(1, N + 1)
    k = np.cumsum(urn_labels)
    seen = before + k
    counted = {int(s): k_tar_by_counting(before, int(s), target) for s in np.unique(seen)}
    k_tar = np.array([counted[int(s)] for s in seen])
    possible = k_tar <= N - (n - k)
    p = np.zeros(N)
    p[possible] = hypergeom.cdf(k[possible], N, k_tar[possible], n[possible])
    hits = np.flatnonzero(p < ALPHA / ((k + 1) * (k + 2)))  # alpha spent over k, sums to alpha
    return None if hits.size == 0 else int(hits[0]) + 1


def test_random_sample_stops_below_target_in_at_most_alpha_of_thousands_of_urns():
    rng = np.random.default_rng(20240601)
    trials, below, checked = 2000, 0, 0
    for _ in range(trials):
        before = int(rng.integers(3, 80))
        # urns that hide just enough relevant records to put recall below the target
        hidden = k_tar_by_counting(before, before, 0.95) + int(rng.integers(0, 3))
        urn_size = int(rng.integers(hidden + 20, 800))
        urn = np.zeros(urn_size, dtype=int)
        urn[:hidden] = 1
        rng.shuffle(urn)
        stop = _first_stop(urn, before, 0.95)
        if stop is None:
            continue
        recall = (before + urn[:stop].sum()) / (before + hidden)
        below += recall < 0.95
        if checked < 40:  # the implementation says stop exactly where the oracle does
            checked += 1
            kwargs = dict(urn_size=urn_size, relevant_before=before, n_total=urn_size + before,
                          n_screened=before + stop)
            at = sample_estimate(sample_labels=urn[:stop], relevant_seen=before + urn[:stop].sum(),
                                 **kwargs)
            assert at.stop, (before, hidden, urn_size, stop)
            if stop > 1:
                prev = sample_estimate(sample_labels=urn[:stop - 1],
                                       relevant_seen=before + urn[:stop - 1].sum(), **kwargs)
                assert not prev.stop, (before, hidden, urn_size, stop)
    assert below / trials <= ALPHA


@pytest.mark.parametrize("target", [0.8, 0.95])
def test_sample_rule_keeps_its_promise_beside_any_ranking(target):
    """The ``sample`` rule as the simulation runs it, on rankings good, bad and adversarial."""
    rng = np.random.default_rng(7)
    runs, below = 120, 0
    for i in range(runs):
        n = int(rng.integers(120, 300))
        r = int(rng.integers(5, 40))
        kind = i % 3
        score = rng.normal(size=n)
        y = np.zeros(n, dtype=int)
        y[:r] = 1
        if kind == 0:
            score[:r] += 2.5  # a good ranking
        elif kind == 2:
            score[: max(1, r // 4)] -= 3.0  # a few relevant records the ranking hides at the end
            score[max(1, r // 4):r] += 2.5
        order = np.argsort(-score)
        stop, found = _simulate_sample_rule(y[order], rng, target)
        below += stop is not None and found / r < target
    assert below / runs <= ALPHA


def _simulate_sample_rule(ranked: np.ndarray, rng: np.random.Generator, target: float
                          ) -> tuple[int | None, int]:
    """Ranked screening with the sample rule's random draws, as ``simulate`` does it."""
    from review.screening.rules import Sample

    n = ranked.size
    rule = get_rule("sample", target)
    progress = Progress(n_total=n)
    screened = np.zeros(n, dtype=bool)
    nxt_ranked = 0
    while not screened.all():
        if rule.wants_sample(progress):
            progress.sample = Sample(start=progress.screened,
                                     urn=rng.permutation(np.flatnonzero(~screened)),
                                     relevant_before=progress.found)
        if rule.wants_random(progress):
            pos = int(progress.sample.urn[progress.sample.drawn])
            progress.sample.labels.append(int(ranked[pos]))
        else:
            while screened[nxt_ranked]:
                nxt_ranked += 1
            pos = nxt_ranked
        screened[pos] = True
        progress.labels.append(int(ranked[pos]))
        s = progress.sample
        while s is not None and s.drawn < s.urn.size and screened[s.urn[s.drawn]]:
            s.labels.append(int(ranked[s.urn[s.drawn]]))
        if rule.assess(progress):
            return progress.screened, progress.found
    return None, progress.found


def _direct_tail(y: np.ndarray, n: int, k: int) -> float:
    """P(hidden >= k) by brute force: sum over b and log-theta of the Poisson likelihood."""
    t = np.arange(1, y.size + 1) / n
    t_rest = np.arange(y.size + 1, n + 1) / n
    bound = 2 * math.log(n)
    b = np.linspace(-bound, bound, 241)[:, None]
    u = np.linspace(-12, 4, 321)[None, :]  # u = log theta, flat prior
    screened = np.exp(b * t[None, :]).sum(axis=1)[:, None]  # direct sums, no closed form
    rest = np.exp(b * t_rest[None, :]).sum(axis=1)[:, None]
    loglik = y.sum() * u + b * (y @ t) - np.exp(u) * screened
    weight = np.exp(loglik - loglik.max())
    return float((weight * poisson.sf(k - 1, np.exp(u) * rest)).sum() / weight.sum())


@pytest.mark.parametrize("case", [
    (np.r_[np.ones(8), np.zeros(20), [1], np.zeros(60)], 300),
    (np.r_[[1, 0, 1, 1, 0, 1], np.zeros(40)], 150),
    (np.r_[[1], np.zeros(10), [1, 1], np.zeros(100)], 400),
])
def test_counting_p_value_is_the_brute_force_posterior_predictive(case):
    """The closed form (theta integrated, NB given b) equals summing the Poisson model directly."""
    labels, n = case
    y = labels.astype(int)
    post = rate_posterior(y, n)
    for k in (1, 2, 3):
        assert post.tail(k) == pytest.approx(_direct_tail(y, n, k), abs=0.01)
    seen = int(y.sum())
    assert counting_estimate(y, n).p_value == pytest.approx(
        _direct_tail(y, n, k_tar_by_counting(seen, seen, 0.95)), abs=0.01)


def _model_ranking(rng: np.random.Generator, low: int = 200, high: int = 500
                   ) -> tuple[np.ndarray, int]:
    """A screening order whose relevant records arrive as the counting process assumes."""
    n = int(rng.integers(low, high))
    b = -float(rng.uniform(3, 15))
    a = math.log(rng.uniform(0.2, 0.8))
    y = rng.binomial(1, np.minimum(1.0, np.exp(a + b * np.arange(1, n + 1) / n)))
    y[0] = 1
    return y, int(y.sum())


def test_counting_rule_stops_below_target_in_at_most_alpha_of_model_rankings():
    rng = np.random.default_rng(11)
    runs, below, stopped = 100, 0, 0
    for _ in range(runs):
        y, total = _model_ranking(rng)
        stop = replay_stop(CountingRule(0.95), y)
        if stop is not None:
            stopped += 1
            below += y[:stop].sum() / total < 0.95
    assert stopped > runs / 2  # it does stop: the promise is not kept by never stopping
    # within sampling error of alpha: P(X >= below) under Binomial(runs, alpha) is not tiny
    assert binom.sf(below - 1, runs, ALPHA) > 0.01


def _direct_floor_tail(y: np.ndarray, n: int, k: int, no_floor: float = 0.0) -> float:
    """P(hidden >= k) under the floor model by brute force: Poisson likelihood summed over
    the expected finds Λ (flat in log Λ), the floor's share w (log-uniform, and 0 with prior
    probability ``no_floor``) and the decay b."""
    s = y.size
    t, t_rest = np.arange(1, s + 1) / n, np.arange(s + 1, n + 1) / n
    bound = 2 * math.log(n)
    total = 0.0
    weight_sum = 0.0
    u = np.linspace(-6, 6, 241)  # log Λ
    for b in np.linspace(-bound, bound, 121):
        g = np.exp(b * t)
        screened, rest = g.sum(), np.exp(b * t_rest).sum()
        shares = np.r_[0.0, np.geomspace(1 / n, 1, 31)]
        priors = np.r_[no_floor, np.full(31, (1 - no_floor) / 31)]
        for w, prior in zip(shares, priors, strict=True):
            per_record = (1 - w) * g / screened + w / s  # sums to 1 over the screened records
            ratio = (1 - w) * rest / screened + w * (n - s) / s
            loglik = y.sum() * u + np.log(per_record[y == 1]).sum() - np.exp(u)
            weight = prior * np.exp(loglik - 50)
            total += (weight * poisson.sf(k - 1, np.exp(u) * ratio)).sum()
            weight_sum += weight.sum()
    return total / weight_sum


@pytest.mark.parametrize("case", [
    (np.r_[np.ones(8), np.zeros(20), [1], np.zeros(60)], 300),
    (np.r_[[1, 0, 1, 1, 0, 1], np.zeros(40)], 150),
    (np.r_[[1], np.zeros(10), [1, 1], np.zeros(30), [1], np.zeros(100)], 400),
])
def test_floor_p_value_is_the_brute_force_posterior_predictive(case):
    """The floor model's closed form (Λ integrated, NB given w and b) equals direct summation."""
    labels, n = case
    y = labels.astype(int)
    post = floor_posterior(y, n)
    for k in (1, 2, 3):
        assert post.tail(k) == pytest.approx(_direct_floor_tail(y, n, k), abs=0.02)
    seen = int(y.sum())
    assert counting_evidence(y, n, floor=True)[2] == pytest.approx(
        _direct_floor_tail(y, n, k_tar_by_counting(seen, seen, 0.95)), abs=0.02)


@pytest.mark.parametrize("no_floor", [0.5, 0.9])
def test_a_prior_on_no_floor_averages_the_two_models_as_brute_force_does(no_floor):
    """Spike-and-slab on the floor's share (``no_floor`` on w = 0): the closed form still
    equals direct summation, and the p-value lies between the plain and the floor model's."""
    y, n = np.r_[np.ones(8), np.zeros(20), [1], np.zeros(60)].astype(int), 300
    post = floor_posterior(y, n, no_floor)
    for k in (1, 2, 3):
        assert post.tail(k) == pytest.approx(_direct_floor_tail(y, n, k, no_floor), abs=0.02)
    assert rate_posterior(y, n).tail(2) < post.tail(2) < floor_posterior(y, n).tail(2)


def _tail_ranking(rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """A model ranking in which a tenth of the relevant records (at least one) were moved
    to random later places: records the classifier cannot place, as in titles-only exports."""
    y, total = _model_ranking(rng, 150, 300)
    found = np.flatnonzero(y)[1:]
    moved = rng.choice(found, size=min(found.size, max(1, round(0.1 * total))), replace=False)
    y[moved] = 0
    y[rng.choice(np.flatnonzero(y == 0), size=moved.size, replace=False)] = 1
    return y, total


def test_the_floor_rule_is_the_safer_choice_when_the_ranking_cannot_place_some_records():
    """On rankings with a tail of unplaceable records the plain counting rule is fooled
    (the guarantee rests on its model); the floor rule is fooled far less often, and on
    rankings the plain model describes it stays within its promise."""
    rng = np.random.default_rng(23)
    tails = [_tail_ranking(rng) for _ in range(30)]

    def below(rule: str, rankings) -> int:
        count = 0
        for y, total in rankings:
            stop = replay_stop(get_rule(rule), y)
            count += stop is not None and y[:stop].sum() / total < 0.95
        return count

    plain, floor = below("counting", tails), below("floor", tails)
    assert plain >= 5  # the failure class is real: a third or so of such rankings
    assert floor <= plain / 2
    model = [_model_ranking(rng, 150, 300) for _ in range(30)]
    assert binom.sf(below("floor", model) - 1, 30, ALPHA) > 0.01


def test_counting_estimate_is_advice_and_says_how_to_confirm_it():
    labels = np.r_[np.ones(20), np.zeros(400)].astype(int)
    est = counting_estimate(labels, 900)
    assert est.method == "counting process" and not est.guaranteed
    assert est.stop and est.recall_low >= 0.95
    assert "start random sampling" in est.recommendation
    assert f"screen these {est.draws_needed} randomly drawn records" in est.recommendation
    early = counting_estimate(np.r_[[1, 0, 0]], 900)
    assert not early.stop  # one relevant record and two irrelevant ones prove nothing


def test_recall_low_is_the_scipy_bound_when_sampling():
    labels = [1] * 30 + [0] * 70 + [0] * 250  # 30 found in ranked order, then 250 random draws
    est = recall_estimate(labels, 1000, sampling_start=100)
    ks = np.arange(0, 901)
    k_max = int(ks[hypergeom(900, ks, 250).cdf(0) >= ALPHA].max())
    assert est.recall_low == pytest.approx(30 / (30 + k_max))
    assert est.guaranteed and est.stop == (hypergeom(900, k_tar_by_counting(30, 30, .95),
                                                     250).cdf(0) < ALPHA / 2)


def test_knee_slope_ratio_by_hand():
    # 10 relevant first, then 1 in the next 110: the knee (farthest above the chord) is at 10
    labels = [1] * 10 + [0] * 60 + [1] + [0] * 49
    assert knee_slope_ratio(labels) == pytest.approx((10 / 10) / ((11 - 10 + 1) / (120 - 10)))
    assert knee_threshold(11) == 145 and knee_threshold(400) == 6


def test_complete_screening_and_nothing_found_are_said_plainly():
    assert recall_estimate([1, 0, 1], 3).recommendation.startswith("Every record is screened")
    none = recall_estimate([0] * 10, 50)
    assert none.recall is None and "no relevant record" in none.recommendation


def test_rules_are_registered_and_unknown_names_refused():
    assert {"counting", "floor", "sample", "knee"} <= set(_names())
    with pytest.raises(KeyError, match="unknown stopping rule"):
        get_rule("fifty-in-a-row")


def _names() -> list[str]:
    from review.screening.rules import RULES

    return list(RULES)
