"""Which reports and studies a review includes: the one rule every view counts with.

The app's full-text and synthesis pages, ``review prisma``, ``review tables`` and
``review meta --outcome`` all ask the same question — *which reports of which
studies are included?* — and a review that answers it twice publishes two sets of
numbers. So the answer is this pure function over plain tables, and every shell
calls it:

* a **report counts** when its record is still a canonical record (a record
  linked as someone's duplicate has left the flow: PRISMA counts clusters), it
  was retrieved, and its final full-text label (agreed, resolved or automated,
  see :mod:`review.stages`) is *include*;
* its **study** is the study it is grouped into; a report not grouped yet is a
  study of its own (``report:<id>``), as PRISMA 2020 counts it;
* a **study is included** when one of its counted reports is.

:func:`orphan_reports` names the reports that break the first condition (a
report whose record became a duplicate), which ``review check`` reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

#: Columns :func:`included_reports` needs.
NEEDED = ("report_id", "record_id", "study_id", "retrieval")


def study_key(study_id: Any, report_id: Any) -> str:
    """``study:<id>`` for a grouped report, ``report:<id>`` for one that is its own study."""
    if study_id is not None and not pd.isna(study_id):
        return f"study:{int(study_id)}"
    return f"report:{int(report_id)}"


def counted_mask(reports: pd.DataFrame, ft_label: Mapping[int, Any], duplicates: Iterable[int],
                 label: str = "include") -> pd.Series:
    """Reports (rows of ``reports``) that count with this final full-text ``label``."""
    linked = {int(r) for r in duplicates}
    rec = reports["record_id"].astype(int)
    return (~rec.isin(linked) & (reports["retrieval"] != "not_retrieved")
            & rec.map(lambda r: ft_label.get(int(r)) == label))


def included_reports(reports: pd.DataFrame, ft_label: Mapping[int, Any],
                     duplicates: Iterable[int]) -> pd.DataFrame:
    """The included reports, each with its ``study_key``; see the module's rule.

    ``reports`` has at least :data:`NEEDED`; ``ft_label`` maps a record id to its
    final full-text label; ``duplicates`` holds the record ids linked (live) as a
    duplicate of another record.
    """
    if reports.empty:
        return reports.assign(study_key=pd.Series(dtype=object))
    inc = reports[counted_mask(reports, ft_label, duplicates)].copy()
    inc["study_key"] = [study_key(s, r) for s, r in
                        zip(inc["study_id"], inc["report_id"], strict=True)]
    return inc


def included_study_ids(included: pd.DataFrame) -> set[int]:
    """Ids of the grouped studies among :func:`included_reports` (ungrouped ones have none)."""
    return {int(s) for s in included["study_id"] if s is not None and not pd.isna(s)}


def orphan_reports(reports: pd.DataFrame, duplicates: Iterable[int]) -> pd.DataFrame:
    """Reports whose record is linked as a duplicate: they no longer count anywhere."""
    linked = {int(r) for r in duplicates}
    return reports[reports["record_id"].astype(int).isin(linked)]


def linked_records(store) -> set[int]:
    """Record ids linked (live) as a duplicate of another record, read from a review."""
    from review.store import repo

    with store.session() as s:
        return {int(r) for r in repo.live_links(s)["record_id"]}
