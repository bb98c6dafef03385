"""Any input table gives one cluster per record and never an exception (property test)."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review.dedup import find_duplicates

_text = st.one_of(st.none(), st.text(max_size=60), st.sampled_from(["", "nan", "  ", "[]", "-"]))
_record = st.fixed_dictionaries(
    {
        "title": _text,
        "author": st.one_of(_text, st.lists(st.text(max_size=20), max_size=4)),
        "year": st.one_of(st.none(), st.integers(-5, 3000), st.text(max_size=6)),
        "journal": _text,
        "volume": _text,
        "number": _text,
        "pages": st.one_of(_text, st.sampled_from(["1-", "-5", "12-3", "e1", "S1-S", "01-Jun"])),
        "doi": st.one_of(_text, st.just("10.1000/x"), st.just("https://doi.org/10.1000/X")),
        "abstract": _text,
        "ENTRYTYPE": _text,
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_record, min_size=0, max_size=12))
def test_random_records_never_crash(records: list[dict]) -> None:
    df = pd.DataFrame(records)
    if records:
        df.insert(0, "ID", [f"r{k}" for k in range(len(records))])
    result = find_duplicates(df)
    assert len(result.clusters) == len(records)
    assert result.clusters["cluster_id"].notna().all()
    assert set(result.pairs["decision"]) <= {"duplicate", "maybe"}
