"""Which reports and studies a review includes, read from a review.

The rule itself is :func:`review.stages.included_reports` (a pure function every
view calls: the app's pages, ``review prisma``, ``review tables``, the synthesis and
``review meta --outcome``); this module adds what the report stage needs around it:
which records are linked as duplicates, and the reports left behind by such a link
(which ``review check`` names).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from review.stages import counted_mask, included_reports, study_key

__all__ = ["counted_mask", "included_reports", "linked_records", "orphan_reports", "study_key"]


def orphan_reports(reports: pd.DataFrame, duplicates: Iterable[int]) -> pd.DataFrame:
    """Reports whose record is linked as a duplicate: they no longer count anywhere."""
    linked = {int(r) for r in duplicates}
    return reports[reports["record_id"].astype(int).isin(linked)]


def linked_records(store) -> set[int]:
    """Record ids linked (live) as a duplicate of another record, read from a review."""
    from review.store import repo

    with store.session() as s:
        return {int(r) for r in repo.live_links(s)["record_id"]}
