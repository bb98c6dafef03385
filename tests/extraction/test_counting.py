"""Which extraction counts: the extraction page and the synthesis read one rule."""

from __future__ import annotations

import pandas as pd
import pytest

from review.extraction import store_ops
from review.extraction.counting import EXTRACTION_COLUMNS, choose_extractions


def _rows() -> pd.DataFrame:
    # Study 7, one form: reviewer 10 saved first (row 1) but edited last; reviewer 11's
    # row 2 is newer by id and older by edit. Study 8: a draft only.
    return pd.DataFrame([
        (1, 7, "outcomes", 1, 10, "submitted", {"effect": "edited last"},
         "2025-03-02T09:00:00+00:00"),
        (2, 7, "outcomes", 1, 11, "submitted", {"effect": "edited first"},
         "2025-03-01T09:00:00+00:00"),
        (3, 8, "outcomes", 1, 10, "draft", {"effect": "unfinished"},
         "2025-03-03T09:00:00+00:00"),
    ], columns=list(EXTRACTION_COLUMNS))


def test_the_extraction_page_counts_the_row_the_synthesis_counts() -> None:
    """Under single extraction the latest edit counts, on the page and in the tables alike.

    Before the rule had one home, the page's progress picked the newest row by id
    (reviewer 11's) while the synthesis picked the latest edit (reviewer 10's).
    """
    rows = _rows()
    synthesis = choose_extractions(rows, {7: "Seven 2020", 8: "Eight 2021"}).frame
    page = store_ops.final_rows(rows, per_study=1)
    assert list(synthesis["values"]) == [{"effect": "edited last"}]
    assert list(page["extraction_id"]) == list(synthesis["extraction_id"]) == [1]


@pytest.mark.parametrize("per_study", [1, 2])
def test_drafts_never_count_and_dual_extraction_waits_for_consensus(per_study: int) -> None:
    rows = _rows()
    page = store_ops.final_rows(rows, per_study=per_study)
    assert 8 not in set(page["study_id"])
    assert (7 in set(page["study_id"])) is (per_study == 1)
    consensus = pd.concat([rows, pd.DataFrame(
        [(4, 7, "outcomes", 1, None, "consensus", {"effect": "agreed"},
          "2025-03-01T08:00:00+00:00")], columns=list(EXTRACTION_COLUMNS))])
    page = store_ops.final_rows(consensus, per_study=per_study)
    assert list(page["values"]) == [{"effect": "agreed"}]


@pytest.mark.parametrize("per_study", [1, 2])
def test_a_consensus_outranks_a_final_row_and_a_final_row_a_submitted_one(per_study: int) -> None:
    rows = pd.DataFrame([
        (1, 7, "outcomes", 1, 10, "submitted", {"effect": "reviewer"},
         "2025-03-05T09:00:00+00:00"),
        (2, 7, "outcomes", 1, None, "final", {"effect": "imported"},
         "2025-03-04T09:00:00+00:00"),
        (3, 9, "outcomes", 1, None, "final", {"effect": "imported"},
         "2025-03-04T09:00:00+00:00"),
        (4, 9, "outcomes", 1, None, "consensus", {"effect": "agreed"},
         "2025-03-01T09:00:00+00:00"),
    ], columns=list(EXTRACTION_COLUMNS))
    chosen = choose_extractions(rows, {7: "Seven 2020", 9: "Nine 2022"},
                                single_extraction=per_study == 1).frame
    got = {r.study_id: r.values["effect"] for r in chosen.itertuples()}
    assert got == {7: "imported", 9: "agreed"}
    page = store_ops.final_rows(rows, per_study=per_study)
    assert sorted(page["extraction_id"]) == sorted(chosen["extraction_id"]) == [2, 4]
