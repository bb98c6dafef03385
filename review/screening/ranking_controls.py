"""What the lead sees and does about the ranking model: its fits, a refit now, the recall curve.

* :func:`models` / :func:`choose_model` and :func:`stopping_rules` /
  :func:`choose_stopping_rule`: the registered choices and the review's own (lead only),
  with :func:`weak_ranking_warning` when most records lack an abstract.

* :func:`ranking_runs` lists the model's fits (which model, on how many labels).
* :func:`refit_now` asks the queue's background refresh for a fit at once (it
  runs in the helper process; the reviewers' queue follows the new ranking as
  soon as it is stored).
* :func:`recall_curve` is the review so far as ASReview draws it: records
  screened (in the order they were first decided) against relevant records
  found (a standing include at title/abstract), beside the line a random
  order would give. Lead only, since it is built from every reviewer's labels.
"""

from __future__ import annotations

import threading

import pandas as pd
from sqlalchemy import case, func, select

from review.screening import decisions, queue
from review.screening.components import available_models
from review.screening.record_list import RecordListError, Viewer, _current
from review.screening.rules import RANKED_ORDER_RULES, ranked_order_rule, weak_ranking_note
from review.store import Store, repo
from review.store.models import Decision, RankingRun, Record


def _lead(viewer: Viewer) -> None:
    if viewer.role != "lead":
        raise RecordListError(f"only the lead may do this ({viewer.username} is a "
                              f"{viewer.role})")


def ranking_runs(store: Store, viewer: Viewer, limit: int = 20) -> pd.DataFrame:
    """The latest fits of the title/abstract model, newest first."""
    _lead(viewer)
    with store.session() as s:
        rows = s.execute(select(RankingRun.id, RankingRun.model, RankingRun.n_labelled,
                                RankingRun.n_relevant, RankingRun.created_at)
                         .where(RankingRun.stage == "title_abstract")
                         .order_by(RankingRun.id.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=["run_id", "model", "labelled", "relevant", "fitted_at"])


def refit_now(store: Store, viewer: Viewer) -> threading.Thread | None:
    """Start a refit in the background now (None if one is already running)."""
    _lead(viewer)
    return queue.maybe_refresh(store, "title_abstract", every=0, min_interval=0.0)


def models(store: Store) -> tuple[list[tuple[str, str]], str]:
    """(name, description) of every registered ranking model, and the one the review uses."""
    available = available_models()
    chosen = repo.get_settings(store).get("ranking_model") or available[0][0]
    return available, chosen


def choose_model(store: Store, viewer: Viewer, name: str) -> None:
    """Rank this review with the registered model ``name`` from the next refit on (lead only).

    The name is checked against the registry here, on the server, whatever a page sent;
    the change is audited by :func:`review.store.repo.set_setting`.
    """
    _lead(viewer)
    if name not in {n for n, _ in available_models()}:
        raise RecordListError(f"{name!r} is not a ranking model; choose one of "
                              + ", ".join(n for n, _ in available_models()))
    repo.set_setting(store, "ranking_model", name, actor=viewer.username)


def stopping_rules(store: Store) -> tuple[list[tuple[str, str]], str]:
    """(name, description) of every rule the screening page can estimate with, and the one
    the review uses."""
    available = [(name, rule.description) for name, rule in RANKED_ORDER_RULES.items()]
    return available, ranked_order_rule(repo.get_settings(store).get("stopping_rule")).name


def choose_stopping_rule(store: Store, viewer: Viewer, name: str) -> None:
    """Estimate recall with the registered rule ``name`` from now on (lead only).

    Checked against the registry here, on the server, whatever a page sent; audited by
    :func:`review.store.repo.set_setting`.
    """
    _lead(viewer)
    if name not in RANKED_ORDER_RULES:
        raise RecordListError(f"{name!r} is not a stopping rule the page can estimate with; "
                              "choose one of " + ", ".join(RANKED_ORDER_RULES))
    repo.set_setting(store, "stopping_rule", name, actor=viewer.username)


def weak_ranking_warning(store: Store) -> str | None:
    """:func:`review.screening.rules.weak_ranking_note` for the records this review screens
    (:func:`review.screening.decisions.to_screen`) and the rule it uses."""
    no_abstract = func.coalesce(func.length(func.trim(Record.abstract)), 0) == 0
    with store.session() as s:
        n, without = s.execute(
            select(func.count(), func.sum(case((no_abstract, 1), else_=0)))
            .select_from(Record).where(decisions.to_screen())).one()
    return weak_ranking_note(int(n or 0), int(without or 0), stopping_rules(store)[1])


def recall_curve(store: Store, viewer: Viewer) -> pd.DataFrame:
    """screened, found, random: one row per record in the order it was first decided."""
    _lead(viewer)
    cur = _current("title_abstract")
    with store.session() as s:
        first = dict(s.execute(select(Decision.record_id, func.min(Decision.id))
                               .where(Decision.stage == "title_abstract")
                               .group_by(Decision.record_id)).all())
        included = set(s.scalars(select(cur.c.record_id).where(cur.c.label == "include")))
    order = sorted(first, key=first.get)
    found, out = 0, []
    total = len(included)
    for i, rid in enumerate(order, start=1):
        found += rid in included
        out.append((i, found, total * i / len(order)))
    return pd.DataFrame(out, columns=["screened", "found", "random"])
