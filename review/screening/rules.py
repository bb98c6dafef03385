"""Stopping rules as small components, registered by name (``review simulate --stopping NAME``).

A rule sees the screening so far (:class:`Progress`) and answers two
questions after every record: should the next record be a random draw from
the urn rather than the ranking's top record (:meth:`wants_random`), and is it
safe to stop (:meth:`assess`)? The statistics live in
:mod:`review.screening.stopping`; this module only decides *when* to use them.

* ``counting`` (default): the counting-process estimate of the ranked order;
  never draws at random, so it costs no extra screening. Model-based.
* ``floor``: the same counting process with a constant floor in the rate, for
  relevant records the ranking places no better than at random (exports
  without abstracts). Stops later, and keeps its promise on such rankings
  far more often. Model-based.
* ``sample``: Callaghan & Müller-Hansen's random sample drawn *beside* the
  ranking. Once the counting estimate says the target looks reached (a
  trigger that scales with the review, not a fixed count), the unscreened
  records form the urn and every other record screened is the next draw of a
  fixed random order of it; records of the urn that the ranking reaches first
  are free draws. Stops when the hypergeometric test says so. Distribution-free.
* ``knee``: Cormack & Grossman's knee heuristic; no statistical promise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from review.screening.stopping import (
    DEFAULT_CONFIDENCE,
    DEFAULT_TARGET,
    counting_evidence,
    hypergeometric_p_value,
    knee_slope_ratio,
    knee_threshold,
    sample_level,
)


@dataclass
class Sample:
    """The random sample of the urn formed at ``start`` (records screened then)."""

    start: int
    urn: np.ndarray  # positions of the urn's records, in the fixed random draw order
    relevant_before: int
    labels: list[int] = field(default_factory=list)  # labels of urn[:len(labels)]

    @property
    def drawn(self) -> int:
        return len(self.labels)


@dataclass
class Progress:
    """Screening so far: every record's label in screening order, and the random sample if any."""

    n_total: int
    labels: list[int] = field(default_factory=list)
    sample: Sample | None = None

    @property
    def screened(self) -> int:
        return len(self.labels)

    @property
    def found(self) -> int:
        return int(sum(self.labels))


class StoppingRule:
    """Base class: never samples, never stops. Subclasses override what they need."""

    name = "none"
    description = ""
    guaranteed = False

    def __init__(self, target: float = DEFAULT_TARGET,
                 confidence: float = DEFAULT_CONFIDENCE) -> None:
        self.target = target
        self.confidence = confidence

    def wants_sample(self, progress: Progress) -> bool:
        """True when a random sample of the unscreened records should begin now."""
        return False

    def wants_random(self, progress: Progress) -> bool:
        """True when the next record should be the sample's next draw."""
        return False

    def assess(self, progress: Progress) -> bool:
        """True when it is safe to stop."""
        return False


class CountingRule(StoppingRule):
    """Stop when the counting-process bound says the target recall is reached."""

    name = "counting"
    description = "counting process on the ranked order (model-based; no extra screening)"
    #: Whether the rate model has a floor for records the ranking cannot place.
    floor = False

    def __init__(self, *args: float, **kw: float) -> None:
        super().__init__(*args, **kw)
        self._next_check = 1

    def assess(self, progress: Progress) -> bool:
        # Fitting costs O(screened); checking after every 1% growth keeps the total linear.
        if progress.found == 0 or progress.screened < self._next_check:
            return False
        self._next_check = progress.screened + max(1, progress.screened // 100)
        p = counting_evidence(progress.labels, progress.n_total, self.target,
                              floor=self.floor)[2]
        return p < 1.0 - self.confidence


class FloorRule(CountingRule):
    """The counting rule with a floor in the rate: for rankings with little to go on.

    Safer where some relevant records are ranked no better than at random
    (exports without abstracts); it stops later everywhere else.
    """

    name = "floor"
    description = ("counting process with a floor for records the ranking cannot place "
                   "(model-based; safer on weak rankings, stops later)")
    floor = True


class SampleRule(StoppingRule):
    """Random sample beside the ranking; stop on the hypergeometric test (distribution-free)."""

    name = "sample"
    description = ("random sample drawn beside the ranking, hypergeometric test "
                   "(Callaghan & Müller-Hansen 2020; distribution-free)")
    guaranteed = True

    def __init__(self, *args: float, **kw: float) -> None:
        super().__init__(*args, **kw)
        self._next_check = 1

    def wants_sample(self, progress: Progress) -> bool:
        if (progress.sample is not None or progress.found == 0
                or progress.screened < self._next_check):
            return False
        self._next_check = progress.screened + max(1, progress.screened // 100)
        recall = counting_evidence(progress.labels, progress.n_total, self.target)[1]
        return recall is not None and recall >= self.target

    def wants_random(self, progress: Progress) -> bool:
        s = progress.sample
        if s is None or s.drawn >= s.urn.size:
            return False
        return s.drawn <= progress.screened - s.start - s.drawn  # one draw per ranked record

    def assess(self, progress: Progress) -> bool:
        s = progress.sample
        if s is None:
            return False
        p = hypergeometric_p_value(int(s.urn.size), s.drawn, int(sum(s.labels)),
                                   s.relevant_before, self.target, relevant_seen=progress.found)
        return p < sample_level(int(sum(s.labels)), self.confidence)


class KneeRule(StoppingRule):
    """Cormack & Grossman's knee: the slope ratio at the knee reaches 156 − min(found, 150)."""

    name = "knee"
    description = "knee of the gain curve (Cormack & Grossman 2016; heuristic)"

    def assess(self, progress: Progress) -> bool:
        return knee_slope_ratio(progress.labels) >= knee_threshold(progress.found)


RULES: dict[str, type[StoppingRule]] = {
    r.name: r for r in (CountingRule, FloorRule, SampleRule, KneeRule)}
DEFAULT_RULE = "counting"

#: The rules whose estimate the screening page shows while records come in ranked order: the
#: lead chooses one (the random sample is started on the Team page; the knee promises nothing).
RANKED_ORDER_RULES: dict[str, type[CountingRule]] = {r.name: r for r in (CountingRule, FloorRule)}


def ranked_order_rule(name: str | None) -> type[CountingRule]:
    """The ranked-order rule a stored choice names; the default for None (or a name that is
    no longer registered: the choice is advice, so the page falls back rather than fail)."""
    return RANKED_ORDER_RULES.get(name or DEFAULT_RULE, CountingRule)


def weak_ranking_note(n_records: int, without_abstract: int, rule: str | None) -> str | None:
    """A warning when most records have no abstract and the chosen rule has no floor.

    Why: without abstracts the ranking has little to go on and places some relevant
    records no better than at random; the plain counting model then reads the early
    cluster of easy finds as "nothing left" and can stop short (titles-only runs of the
    shared sets: below 95% recall in 4 of 15, the ``floor`` rule in none;
    ``benchmarks/stopping_candidates.py``). None when there is nothing to warn about.
    """
    key = rule or DEFAULT_RULE
    if key in RULES and key not in RANKED_ORDER_RULES:
        return None  # the random sample holds on any ranking; the knee promises nothing
    if n_records <= 0 or 2 * without_abstract <= n_records or ranked_order_rule(key).floor:
        return None
    return (f"{without_abstract:,} of {n_records:,} records have no abstract, so the ranking "
            "has little to go on and the counting rule may stop too early. The floor rule "
            "(`floor`) is safer here; it stops later.")


def get_rule(name: str | None, target: float = DEFAULT_TARGET,
             confidence: float = DEFAULT_CONFIDENCE) -> StoppingRule:
    """A fresh rule called ``name`` (the default for None); a clear error otherwise."""
    key = DEFAULT_RULE if name in (None, "", "default") else name
    if key not in RULES:
        raise KeyError(f"unknown stopping rule {name!r}; choose one of {', '.join(sorted(RULES))}")
    return RULES[key](target, confidence)


def replay_stop(rule: StoppingRule, labels_in_order: np.ndarray) -> int | None:
    """Where a rule that never samples would have stopped on a finished screening order."""
    if rule.name == SampleRule.name:
        raise ValueError("the sample rule changes the order; simulate it instead")
    progress = Progress(n_total=len(labels_in_order))
    for label in np.asarray(labels_in_order, dtype=int):
        progress.labels.append(int(label))
        if rule.assess(progress):
            return progress.screened
    return None


def share(position: int | None, n: int) -> float:
    """Share of records screened at a stop (everything when the rule never stopped)."""
    return 1.0 if position is None else position / n


__all__ = ["RULES", "DEFAULT_RULE", "RANKED_ORDER_RULES", "Progress", "Sample", "StoppingRule",
           "get_rule", "ranked_order_rule", "replay_stop", "share", "weak_ranking_note"]
