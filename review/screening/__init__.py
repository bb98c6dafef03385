"""Title/abstract prioritisation: features, the active-learning ranker, the stopping rule.

``store_rank(store)`` is what the app's background refresh and ``review rank``
call: fit on the review's decisions so far and store a new ranking run.
"""

from review.screening.store_ops import rank_store as store_rank

__all__ = ["store_rank"]
