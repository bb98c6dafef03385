"""Title/abstract prioritisation: features, the active-learning ranker, the stopping rule.

Entry points (imported on first use, see :mod:`review.exports`):

* :class:`Ranker` -- fit on labelled records, rank the rest (``review.screening.active``);
* :func:`simulate` -- replay a labelled data set in the ranker's order and measure it
  (``load_dataset`` reads one), :func:`order_metrics` -- WSS@95, recall@10%, ATD;
* :func:`store_rank` -- what the app's background refresh and ``review rank`` call: fit on
  the review's decisions so far and store a new ranking run.
"""

from review.exports import export_lazily

__all__ = export_lazily(__name__, {
    "Ranker": "review.screening.active",
    "RankingError": "review.screening.active",
    "available_models": "review.screening.components",
    "get_model": "review.screening.components",
    "get_rule": "review.screening.rules",
    "recall_estimate": "review.screening.stopping",
    "stopping_advice": "review.screening.stopping",
    "simulate": "review.screening.simulate",
    "Simulation": "review.screening.simulate",
    "load_dataset": "review.screening.simulate",
    "DatasetError": "review.screening.simulate",
    "order_metrics": "review.screening.metrics",
    "OrderMetrics": "review.screening.metrics",
    "wss": "review.screening.metrics",
    "recall_at": "review.screening.metrics",
    "store_rank": "review.screening.store_ops:rank_store",
})
