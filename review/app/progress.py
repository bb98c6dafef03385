"""Screening progress for the page: counts from the store, and the stopping rule's recall estimate.

Counts are derived (one source of truth): a reviewer's own counts come from
their own decisions in SQL (:func:`review.screening.decisions.my_progress`), team
counts from :func:`review.store.repo.outcomes`. The recall estimate comes from
the ranking stage's stopping rule (:mod:`review.screening.stopping`) when it is
installed; the page says so plainly when it is not.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from review.stages import Stage
from review.store.workers import HelperStopped

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TeamSummary:
    """Where the whole review stands at one stage (no record-level labels)."""

    to_screen: int
    finished: int  # records with a final label (agreed or resolved)
    included: int
    excluded: int
    maybe: int
    conflicts: int
    pending: int  # decided by fewer reviewers than the review asks for


def team_summary_from_counts(counts: pd.DataFrame, to_screen: int) -> TeamSummary:
    """A :class:`TeamSummary` from (status, label, n) rows (see ``decisions.outcome_counts``)."""
    def total(mask: pd.Series) -> int:
        return int(counts.loc[mask, "n"].sum()) if not counts.empty else 0

    label = counts["label"] if not counts.empty else pd.Series(dtype=object)
    status = counts["status"] if not counts.empty else pd.Series(dtype=object)
    return TeamSummary(
        to_screen=int(to_screen), finished=total(label.notna()),
        included=total(label == "include"), excluded=total(label == "exclude"),
        maybe=total(label == "maybe"), conflicts=total(status == "conflict"),
        pending=total(status == "pending"),
    )


def team_summary(outcomes: pd.DataFrame, to_screen: int) -> TeamSummary:
    """Count outcomes (as from :func:`review.stages.stage_outcomes`) into a :class:`TeamSummary`."""
    label = outcomes["label"] if not outcomes.empty else pd.Series(dtype=object)
    status = outcomes["status"] if not outcomes.empty else pd.Series(dtype=object)
    return TeamSummary(
        to_screen=int(to_screen),
        finished=int(label.notna().sum()),
        included=int((label == "include").sum()),
        excluded=int((label == "exclude").sum()),
        maybe=int((label == "maybe").sum()),
        conflicts=int((status == "conflict").sum()),
        pending=int((status == "pending").sum()),
    )


@dataclass(frozen=True)
class RecallEstimate:
    """The stopping rule's view for the page: estimated recall, its lower bound, the advice."""

    recall: float | None
    advice: str
    method: str = ""
    recall_low: float | None = None
    stop: bool = False
    guaranteed: bool = False


def labels_in_screening_order(decisions: pd.DataFrame) -> np.ndarray:
    """1/0 per record in the order records first got a standing decision (maybe counts as 1).

    ``maybe`` counts as relevant because a maybe goes on to full text: the
    stopping rule must not stop while maybes are still coming. Vectorised: it
    runs over every decision of the review.
    """
    from review.stages import current_decisions

    cur = current_decisions(decisions)
    if cur.empty:
        return np.zeros(0, dtype=int)
    by_record = cur.assign(relevant=(cur["label"] != "exclude")).groupby("record_id")
    first = pd.DataFrame({"first_id": by_record["id"].min(),
                          "relevant": by_record["relevant"].any()})
    return first.sort_values("first_id")["relevant"].to_numpy(dtype=int)


def recall_estimate(labels: np.ndarray, n_records: int, target: float,
                    sampling_start: int | None = None, rule: str | None = None
                    ) -> RecallEstimate | None:
    """Ask the stopping rule (:func:`review.screening.stopping.recall_estimate`), if installed.

    ``rule``: the ranked-order rule the lead chose (the setting ``stopping_rule``; None:
    the default), so the page's estimate is the one that rule would stop on.

    Returns None when the ranking stage is not installed or the rule cannot
    answer (e.g. more records screened than the review holds after a merge):
    the estimate is advice, so it must never break screening.
    """
    try:
        from review.screening import stopping
        from review.screening.rules import ranked_order_rule
    except ImportError:
        return None
    try:
        start = None if sampling_start is None else min(int(sampling_start), len(labels))
        est = stopping.recall_estimate(labels, max(int(n_records), int(len(labels))),
                                       target=min(max(float(target), 0.5), 0.999),
                                       sampling_start=start, floor=ranked_order_rule(rule).floor)
    except (ValueError, ZeroDivisionError):
        log.exception("stopping rule could not estimate recall")
        return None
    return RecallEstimate(recall=est.recall, advice=est.recommendation, method=est.method,
                          recall_low=est.recall_low, stop=bool(est.stop),
                          guaranteed=bool(est.guaranteed))


# --- the recall estimate, off the app's process --------------------------------------------

def _estimate_in_worker(url: str, stage: str, n_records: int, target: float
                        ) -> RecallEstimate | None:
    """Runs in the helper process: read the labels and ask the stopping rule."""
    from review.store import repo
    from review.store.workers import worker_store

    store = worker_store(url)
    labels = labels_in_screening_order(repo.decisions_frame(store, stage))
    settings = repo.get_settings(store)
    # set by the lead's "start random sampling": from there on the guarantee applies
    start = settings.get("sampling_start") if stage == Stage.TITLE_ABSTRACT else None
    return recall_estimate(labels, n_records, target, start, settings.get("stopping_rule"))


def estimate_for_review(url: str, stage: str, n_records: int, target: float
                        ) -> RecallEstimate | None:
    """The recall estimate of a stored review, computed in a helper process.

    The stopping rule takes seconds on a big review and holds Python's
    interpreter lock while it does; in the app's own process that would slow
    every reviewer's click (:mod:`review.store.workers`).
    """
    from review.store.workers import run_in_helper

    return run_in_helper("summaries", _estimate_in_worker, url, stage, n_records, target)


class BackgroundValue:
    """A summary of the whole review that is recomputed beside the reviewer, not in their click.

    Team counts and the recall estimate read every decision of the review. On
    a small review that takes milliseconds and is done inline, so the page is
    always exact. Once a computation has taken longer than ``inline_ms``, the
    page is handed the last value at once (at most a few decisions old) while a
    thread computes the new one; the page's progress fragment redraws itself
    every few seconds to pick it up. One instance per app process.
    """

    def __init__(self, inline_ms: float = 60.0, pause: float = 5.0) -> None:
        self.inline_ms = inline_ms
        #: A slow summary is refreshed at most once per ``pause`` × its own cost, so a
        #: 5-second estimate does not keep a core busy while reviewers click.
        self.pause = pause
        self._lock = threading.Lock()
        self._latest: dict[str, tuple[Any, Any]] = {}
        self._cost: dict[str, float] = {}
        self._done_at: dict[str, float] = {}
        self._running: dict[str, threading.Thread] = {}

    def get(self, key: str, version: Any, compute: Callable[[], Any], *,
            first_wait: float | None = None) -> Any:
        """The value for ``key`` at ``version`` if cheap or ready, else the previous one.

        ``first_wait``: with no value yet, compute in the background and wait at
        most this long (None: compute inline). For summaries that may be slow.
        """
        now = time.monotonic()
        with self._lock:
            have = self._latest.get(key)
            if have is not None and have[0] == version:
                return have[1]
            cost = self._cost.get(key, 0.0)
            inline = (have is None and first_wait is None) or (
                have is not None and cost <= self.inline_ms)
            started = None
            if not inline:
                running = self._running.get(key)
                rested = now - self._done_at.get(key, 0.0) >= self.pause * cost / 1000
                if (running is None or not running.is_alive()) and (have is None or rested):
                    started = threading.Thread(target=self._compute,
                                               args=(key, version, compute), daemon=True,
                                               name="review-summary")
                    self._running[key] = started
                    started.start()
        if inline:
            return self._compute(key, version, compute)
        if have is None:
            if started is not None:  # only the call that started the first computation waits
                started.join(first_wait)
            with self._lock:
                have = self._latest.get(key)
        return None if have is None else have[1]

    def join(self, key: str, timeout: float = 30.0) -> None:
        """Wait for a running refresh of ``key`` (tests and benchmarks)."""
        with self._lock:
            t = self._running.get(key)
        if t is not None:
            t.join(timeout)

    def _compute(self, key: str, version: Any, compute: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        try:
            value = compute()
        except HelperStopped:  # the app is stopping: nothing to report
            return None
        except Exception:  # a summary is advice: keep the previous one
            log.exception("review summary %s failed", key)
            with self._lock:
                have = self._latest.get(key)
            return None if have is None else have[1]
        with self._lock:
            self._cost[key] = (time.perf_counter() - t0) * 1000
            self._done_at[key] = time.monotonic()
            old = self._latest.get(key)
            if old is None or old[0] != version:
                self._latest[key] = (version, value)
        return value


#: Shared by all sessions of this app process.
SUMMARIES = BackgroundValue()
