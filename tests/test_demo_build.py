"""`review demo` builds a review that reaches every stage, from the bundled search exports."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from review.cli import app
from review.report.prisma import counts_from_store
from review.store import open_store, repo
from review.store.models import DedupCandidate, Extraction, Ranking, Reviewer


@pytest.mark.slow
def test_demo_review_reaches_every_stage(tmp_path):
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(app, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "demo.db.building").exists()
    store = open_store(db, create=False)
    sources = repo.sources_frame(store).set_index("file_name")["records"].to_dict()
    assert sources == {"pubmed.nbib": 197, "psycinfo.ris": 162, "scopus.csv": 229,
                       "citation_searching.ris": 10}
    counts = counts_from_store(store)
    v = counts.values
    assert v["database_results"] == 588 and v["citations_results"] == 10
    assert v["duplicates"] > 250  # most records are copies across the three databases
    assert v["records_excluded"] > 100 and v["dbr_notretrieved_reports"] > 0
    assert v["new_studies"] >= 15 and v["new_reports"] > v["new_studies"] - 1
    assert counts.awaiting_screening > 0  # records left for the demo's reviewers
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Extraction)) > 50
        assert s.scalar(select(func.count()).select_from(Ranking)) > 0  # queue order ready
        assert s.scalar(select(func.count()).select_from(DedupCandidate)) > 0
        assert {r.username for r in s.scalars(select(Reviewer))} == {"lead", "ana", "ben"}
    ta = repo.outcomes(store, "title_abstract")
    assert (ta["status"] == "conflict").any()  # the conflicts page has work
    assert repo.authenticate(store, "ana", "ana-demo") is not None
    again = CliRunner().invoke(app, ["demo", "--db", str(db)])  # reuses, never overwrites
    assert again.exit_code == 0 and "already at" in again.output

    # the extracted outcome data pool straight from the review: `review meta --outcome`
    out = tmp_path / "meta"
    # two time points were extracted: pooling them together is refused, the choice is explicit
    mixed = CliRunner().invoke(app, ["meta", "--outcome", "loneliness", "--measure", "SMD",
                                     "--db", str(db), "--output", str(tmp_path / "m0")])
    assert mixed.exit_code == 1 and "choose one" in mixed.output
    pooled = CliRunner().invoke(app, ["meta", "--outcome", "loneliness", "--measure", "SMD",
                                      "--time-point", "post-intervention",
                                      "--db", str(db), "--output", str(out)])
    assert pooled.exit_code == 0, pooled.output
    assert "Left out of the pooling" in " ".join(pooled.output.split())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k"] >= 10 and summary["measure"] == "SMD" and summary["tau2"] >= 0
    assert summary["ci_low"] < summary["estimate"] < summary["ci_high"]
    assert (out / "forest.png").stat().st_size > 0
    missing = CliRunner().invoke(app, ["meta", "--outcome", "happiness", "--measure", "SMD",
                                       "--db", str(db), "--output", str(tmp_path / "m2")])
    assert missing.exit_code == 1 and "no extracted results for outcome 'happiness'" in \
        missing.output
