"""The extraction page on a review with no included study yet says so instead of failing."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _page(db: str) -> None:
    from review.app.context import AppContext, SignedIn
    from review.app.pages import extraction
    from review.store import open_store, repo

    store = open_store(db)
    lead = int(repo.reviewers_frame(store).query("role == 'lead'")["reviewer_id"].iloc[0])
    extraction.render(AppContext(store=store, user=SignedIn(lead, "lead", "Lead", "lead"),
                                 settings=repo.get_settings(store)))


def test_extraction_page_without_studies_renders(tmp_path):
    from review.store import open_store, repo

    db = str(tmp_path / "empty.db")
    repo.add_reviewer(open_store(db), "lead", role="lead", password="pw")
    at = AppTest.from_function(_page, args=(db,), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    said = [i.value for i in at.info]
    assert any(s.startswith("No studies to extract yet") for s in said), said
    assert not at.dataframe and not at.selectbox  # no study picker over an empty list
