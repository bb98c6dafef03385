"""GRADE from the pooled data: suggested ratings for the domains the numbers can inform.

:mod:`review.synthesis.grade` builds summary-of-findings tables from the lead author's
ratings; this module proposes the three ratings the analysis itself speaks to, each with
the sentence GRADE asks for, so a SoF table can be drafted straight from ``review grade``
or the Report page. Risk of bias and indirectness are judgements about the studies, not
the numbers: they stay with the lead (default "not serious", and the table says they were
given, not computed). The rules follow the GRADE Handbook (Schünemann et al. 2013, 5.2):

* **Inconsistency** — informed by I² *with its Q-profile CI* and the prediction interval,
  not by I² alone: *very serious* when I² ≥ 75% with its CI above 50% and the prediction
  interval spans both sides of the null; *serious* when I² ≥ 50%, or its CI reaches 75%
  while the prediction interval crosses the null although the CI does not; else not serious.
* **Imprecision** — *serious* when the CI includes the null or the optimal information
  size is not met (fewer than 300 events for binary outcomes, 400 participants for
  continuous ones — the Handbook's rules of thumb); *very serious* when the CI includes the
  null *and* both an appreciable benefit and harm (RR/OR 0.75 and 1.25; SMD ±0.5; for MD
  and RD the null crossing alone).
* **Publication bias** — *strongly suspected* with ten or more studies and Egger's test
  p < 0.10 (trim and fill, when run, is quoted); with fewer than ten the funnel cannot be
  judged and the footnote says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from review.synthesis.grade import GradeAssessment, SofRow, sof_row
from review.synthesis.meta import OutcomeAnalysis

#: Appreciable benefit/harm thresholds (GRADE default for ratios: 25% relative change).
RATIO_THRESHOLDS = (0.75, 1.25)
SMD_THRESHOLD = 0.5
OIS_EVENTS = 300
OIS_PARTICIPANTS = 400
EGGER_ALPHA = 0.10
EGGER_MIN_K = 10


@dataclass(frozen=True)
class Suggestion:
    """One domain's suggested rating and the footnote that explains it."""

    domain: str
    rating: str
    reason: str


def _fmt(x: float) -> str:
    return f"{x:.2f}" if math.isfinite(x) else "n/a"


def _crosses(lo: float, hi: float, null: float = 0.0) -> bool:
    return lo < null < hi or lo == null or hi == null


def inconsistency(a: OutcomeAnalysis) -> Suggestion:
    r = a.result
    if r.k < 2:
        return Suggestion("inconsistency", "not serious", "One study: consistency cannot be "
                          "judged.")
    c = r.heterogeneity_ci
    i2_text = f"I\u00b2 = {r.i2:.0f}%"
    if c is not None:
        i2_text += f" (95% CI {c.i2_low:.0f}% to {c.i2_high:.0f}%)"
    random = r.method not in ("FE", "MH", "PETO") and r.k >= 3
    pi_cross = random and _crosses(r.pi_low, r.pi_high)
    ci_cross = _crosses(r.ci_low, r.ci_high)
    pi_text = (f"; prediction interval {_fmt(r.pi_low)} to {_fmt(r.pi_high)}"
               + (" spans both sides of the null" if pi_cross else " on one side of the null")
               if random else "")
    lo = c.i2_low if c is not None else r.i2
    hi = c.i2_high if c is not None else r.i2
    if r.i2 >= 75 and lo >= 50 and pi_cross:
        rating = "very serious"
    elif r.i2 >= 50 or (hi >= 75 and pi_cross and not ci_cross):
        rating = "serious"
    else:
        rating = "not serious"
    return Suggestion("inconsistency", rating, f"{i2_text}; Q p = {r.q_p:.3g}{pi_text}.")


def imprecision(a: OutcomeAnalysis) -> Suggestion:
    r = a.result
    m = r.measure
    lo, hi = r.ci_low, r.ci_high
    crosses_null = _crosses(lo, hi)
    if m in ("OR", "RR"):
        t_lo, t_hi = (math.log(t) for t in RATIO_THRESHOLDS)
        both = lo < t_lo and hi > t_hi
        shown = f"{m} 95% CI {math.exp(lo):.2f} to {math.exp(hi):.2f}"
    elif m == "SMD":
        both = lo < -SMD_THRESHOLD and hi > SMD_THRESHOLD
        shown = f"SMD 95% CI {lo:.2f} to {hi:.2f}"
    else:  # no default threshold of appreciable effect for MD, RD or generic effects
        both = False
        shown = f"95% CI {lo:.3g} to {hi:.3g}"
    e = a.effects
    info = ""
    ois_met = True
    if {"ai", "ci"} <= set(e.columns):
        events = float(pd.to_numeric(e["ai"], errors="coerce").sum()
                       + pd.to_numeric(e["ci"], errors="coerce").sum())
        ois_met = events >= OIS_EVENTS
        info = f"; {events:.0f} events (optimal information size {OIS_EVENTS})"
    elif "n" in e.columns and pd.to_numeric(e["n"], errors="coerce").notna().all():
        n = float(pd.to_numeric(e["n"], errors="coerce").sum())
        ois_met = n >= OIS_PARTICIPANTS
        info = f"; {n:.0f} participants (optimal information size {OIS_PARTICIPANTS})"
    if crosses_null and both:
        rating = "very serious"
        why = " includes no effect and both appreciable benefit and harm"
    elif crosses_null or not ois_met:
        rating = "serious"
        why = " includes no effect" if crosses_null else ""
        if not ois_met:
            why += "; the optimal information size is not met"
    else:
        rating, why = "not serious", ""
    return Suggestion("imprecision", rating, f"{shown}{why}{info}.")


def publication_bias(a: OutcomeAnalysis) -> Suggestion:
    r = a.result
    k = int(np.isfinite(r.yi).sum())
    tf = ""
    if a.trimfill is not None:
        tf = (f" Trim and fill: {a.trimfill.k0} studies filled on the {a.trimfill.side}, "
              f"adjusted estimate {_fmt(a.trimfill.result.estimate)}.")
    if k < EGGER_MIN_K or a.egger is None:
        return Suggestion("publication_bias", "undetected",
                          f"{k} studies: too few to judge the funnel plot or Egger's test "
                          f"(needs {EGGER_MIN_K}).{tf}")
    p = a.egger.p
    if p < EGGER_ALPHA:
        return Suggestion("publication_bias", "strongly suspected",
                          f"Egger's test p = {p:.3g} with {k} studies: small-study effects.{tf}")
    return Suggestion("publication_bias", "undetected",
                      f"Egger's test p = {p:.3g} with {k} studies.{tf}")


def suggest(a: OutcomeAnalysis) -> dict[str, Suggestion]:
    """The data-informed domains for one analysed outcome."""
    return {s.domain: s for s in (inconsistency(a), imprecision(a), publication_bias(a))}


def assessment_from_data(
    a: OutcomeAnalysis,
    *,
    study_design: str = "randomised",
    given: Mapping[str, tuple[str, str]] | None = None,
) -> tuple[GradeAssessment, dict[str, Suggestion]]:
    """A :class:`GradeAssessment` from the data, with ``given`` ratings (domain →
    (rating, reason)) overriding a suggestion or supplying risk of bias / indirectness."""
    sug = suggest(a)
    given = dict(given or {})
    ratings: dict[str, str] = {}
    notes: dict[str, str] = {}
    for domain in ("risk_of_bias", "indirectness", "inconsistency", "imprecision",
                   "publication_bias"):
        if domain in given:
            rating, reason = given[domain]
            ratings[domain] = rating
            if reason:
                notes[domain] = reason
        elif domain in sug:
            ratings[domain] = sug[domain].rating
            notes[domain] = sug[domain].reason
        else:
            ratings[domain] = "not serious"
    assessment = GradeAssessment(study_design=study_design, footnotes=notes, **ratings)
    return assessment, sug


def sof_row_from_data(
    outcome: str,
    a: OutcomeAnalysis,
    *,
    study_design: str = "randomised",
    given: Mapping[str, tuple[str, str]] | None = None,
    assumed_risk: float | None = None,
) -> tuple[SofRow, dict[str, Suggestion]]:
    """One SoF row, numbers and ratings both from the analysis (plus ``given``)."""
    assessment, sug = assessment_from_data(a, study_design=study_design, given=given)
    missing = [d for d in ("risk_of_bias", "indirectness") if d not in (given or {})]
    comments = ""
    if missing:
        comments = ("Rated by the review team, not from the data: "
                    + ", ".join(d.replace("_", " ") for d in missing) + " (not serious).")
    # the effects table carries the uncorrected counts (the continuity correction is only
    # inside yi/vi), so the comparison risk is the observed one
    row = sof_row(outcome, a.result, assessment, effects=a.effects, assumed_risk=assumed_risk,
                  comments=comments)
    return row, sug
