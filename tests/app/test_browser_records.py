# ruff: noqa: F811 - the browser fixtures are imported from test_browser
"""The Records and Lead tools pages in a real headless Chromium (Playwright), one test per feature.

Screenshots go to ``$REVIEW_SCREENSHOTS`` (the README's come from
``REVIEW_SCREENSHOTS=docs/images``).
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import select
from test_browser import (  # noqa: F401 - fixtures
    CHROMIUM,
    browser,
    served,
    shots_dir,
    sign_in,
    wait_idle,
)

from review.screening import tags
from review.store.models import Decision

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def goto(page, base: str, path: str, title: str) -> None:
    page.goto(f"{base}/{path}")
    page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
    wait_idle(page, 60)


def match_count(page, timeout: float = 30) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            text = page.get_by_text(re.compile(r"records match")).first.inner_text(timeout=2000)
            return int(re.search(r"([\d,]+) records match", text).group(1).replace(",", ""))
        except Exception:
            time.sleep(0.2)
    raise AssertionError("no 'records match' line")


def wait_count(page, n: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if match_count(page) == n:
            return
        time.sleep(0.2)
    raise AssertionError(f"the list shows {match_count(page)} records, expected {n}")


def search(page, text: str) -> None:
    box = page.locator(".st-key-rec_text input")
    box.fill(text)
    box.press("Enter")
    wait_idle(page)


def open_record(page, rid: int) -> None:
    box = page.locator(".st-key-rec_open_number input")
    box.fill(str(rid))
    box.press("Enter")
    page.get_by_text(f"Record #{rid}", exact=False).first.wait_for(timeout=30_000)
    wait_idle(page)


def test_records_list_search_open_and_change_a_decision(served, browser, tmp_path) -> None:
    base, review = served
    page = browser.new_page(viewport={"width": 1500, "height": 1400})
    sign_in(page, base, "ana", "ana-demo")
    goto(page, base, "records", "Records")
    assert match_count(page) == 12
    # Blind review: no final-decision or conflict filter for a reviewer.
    assert page.get_by_label("Final decision").count() == 0
    assert page.get_by_label("Conflict").count() == 0
    search(page, "mentoring")
    wait_count(page, 2)
    shots = shots_dir(tmp_path)
    page.screenshot(path=str(shots / "records-list.png"), full_page=True)
    rid = review.records[6]
    open_record(page, rid)
    page.locator(f".st-key-rec_inc_{rid} button").click()
    page.get_by_text("your decision is now include").wait_for(timeout=30_000)
    wait_idle(page)
    # Number keys pick the exclusion reason (focus off the text fields).
    page.get_by_text("Exclude, with the reason").click()
    page.keyboard.press("2")
    page.get_by_text("your decision is now exclude").wait_for(timeout=30_000)
    wait_idle(page)
    page.screenshot(path=str(shots / "records-open.png"), full_page=True)
    with review.store.session() as s:
        got = s.execute(select(Decision.label, Decision.reason).where(
            Decision.record_id == rid).order_by(Decision.id)).all()
    assert [tuple(g) for g in got] == [("include", None), ("exclude", "Wrong intervention")]
    # Highlights: a mark, with no space added around it ("peer support" is an include term).
    mark = page.locator("mark.rv-include").first
    assert mark.count() == 1
    assert page.get_by_role("button", name="Deploy").count() == 0
    assert page.locator("[data-testid=stMainMenu]").count() == 0


def test_tags_defined_by_the_lead_applied_by_a_reviewer(served, browser, tmp_path) -> None:
    base, review = served
    page = browser.new_page(viewport={"width": 1500, "height": 1400})
    sign_in(page, base, "lead", "lead-demo")
    goto(page, base, "lead", "Lead tools")
    page.locator(".st-key-lead_tag_name input").fill("RCT")
    page.get_by_role("button", name="Add tag").click()
    page.get_by_text("Added the tag").wait_for(timeout=30_000)
    wait_idle(page)
    page.screenshot(path=str(shots_dir(tmp_path) / "lead-tools.png"), full_page=True)
    assert list(tags.tags_frame(review.store)["name"]) == ["RCT"]
    other = browser.new_page(viewport={"width": 1500, "height": 1400})
    sign_in(other, base, "ben", "ben-demo")
    goto(other, base, "records", "Records")
    rid = review.records[4]
    open_record(other, rid)
    option = other.get_by_role("option", name="RCT")
    for _ in range(6):  # a script run that ends as the box opens closes it again: reopen
        wait_idle(other)
        other.locator(f".st-key-rec_tags_{rid}").get_by_role("combobox").click()
        try:
            option.wait_for(timeout=10_000)
            break
        except Exception:
            other.keyboard.press("Escape")
    option.click()
    deadline = time.time() + 30
    while time.time() < deadline and not tags.tags_by_record(review.store):
        time.sleep(0.2)
    assert tags.tags_by_record(review.store) == {rid: ["RCT"]}


def test_lead_bulk_exclude_with_preview_confirm_and_undo(served, browser, tmp_path) -> None:
    base, review = served
    page = browser.new_page(viewport={"width": 1500, "height": 1600})
    sign_in(page, base, "lead", "lead-demo")
    goto(page, base, "records", "Records")
    search(page, "mentoring")
    wait_count(page, 2)
    page.get_by_text("Bulk action on every record").click()
    page.get_by_text("Exclude", exact=True).click()
    wait_idle(page)
    page.get_by_role("button", name="Preview").click()
    page.get_by_text("The filter matches 2 records").wait_for(timeout=30_000)
    page.screenshot(path=str(shots_dir(tmp_path) / "records-bulk.png"), full_page=True)
    page.get_by_role("button", name=re.compile(r"^Confirm: exclude 2 records")).click()
    page.get_by_text("Done: 2 records changed").wait_for(timeout=30_000)
    with review.store.session() as s:
        assert len(s.scalars(select(Decision.id).where(Decision.label == "exclude")).all()) == 2
    undo = page.get_by_role("button", name=re.compile(r"^Undo bulk action"))
    for _attempt in range(6):
        # The expander can close on a rerun, even between looking and clicking: open it
        # again and retry rather than wait out a click on a hidden button.
        wait_idle(page)
        if not undo.is_visible():
            page.get_by_text("Bulk action on every record").click()
        try:
            undo.click(timeout=5_000)
            break
        except PlaywrightTimeoutError:
            continue
    else:
        raise AssertionError("the Undo bulk action button never became clickable")
    # The confirmation is shown once, inside the expander a rerun may close; what the lead
    # must get is both decisions taken back, so that is what is waited for.
    deadline = time.monotonic() + 30
    while True:
        with review.store.session() as s:
            retracted = len(s.scalars(select(Decision.id)
                                      .where(Decision.label == "retracted")).all())
        if retracted == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert retracted == 2


def test_lead_tools_show_progress_and_release_records(served, browser, tmp_path) -> None:
    base, review = served
    from review.store import repo
    from review.store.models import Assignment

    with review.store.session() as s:
        for rid in review.records[:4]:
            s.add(Assignment(record_id=rid, reviewer_id=review.ids["ana"],
                             stage="title_abstract"))
    repo.add_decision(review.store, record_id=review.records[0], reviewer_id=review.ids["ana"],
                      stage="title_abstract", label="include")
    page = browser.new_page(viewport={"width": 1500, "height": 1400})
    sign_in(page, base, "lead", "lead-demo")
    goto(page, base, "lead", "Lead tools")
    table = page.locator("[data-testid=stDataFrame]").first
    table.wait_for(timeout=30_000)
    page.get_by_role("button", name="Move records").click()
    try:
        page.get_by_text("Moved 3 of Ana Reviewer's undecided records back to the pool"
                         ).wait_for(timeout=60_000)
    except Exception:
        raise AssertionError(page.locator("[data-testid=stMain]").inner_text()[:3000]) from None
    with review.store.session() as s:
        left = s.scalars(select(Assignment.record_id).where(
            Assignment.reviewer_id == review.ids["ana"])).all()
    assert left == [review.records[0]]
    assert CHROMIUM


def test_bulk_pdf_import_then_the_pdf_beside_the_full_text_decision(served, browser, tmp_path,
                                                                    make_pdf) -> None:
    import zipfile

    from review.store.models import Record, Report

    base, review = served
    rid = review.records[3]
    with review.store.session() as s:
        for r in review.records[2:5]:
            s.add(Report(record_id=r))
        title = s.get(Record, rid).title
    archive = tmp_path / "pdfs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("full-text.pdf", make_pdf(title, "Methods: a randomised trial"))
        zf.writestr("stray.pdf", make_pdf("Nothing this review holds"))
    page = browser.new_page(viewport={"width": 1600, "height": 1400})
    sign_in(page, base, "lead", "lead-demo")
    goto(page, base, "lead", "Lead tools")
    # The uploader states the limit the page enforces.
    box = page.locator(".st-key-lead_pdfs_0")
    box.scroll_into_view_if_needed(timeout=30_000)
    limit = box.get_by_text(re.compile(r"MB"))
    limit.first.wait_for(timeout=30_000)
    assert re.search(r"\b500\s?MB", limit.first.inner_text()), limit.first.inner_text()
    page.locator(".st-key-lead_pdfs_0 input[type=file]").set_input_files(str(archive))
    wait_idle(page)
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Attached 1 PDFs; 1 not matched.").wait_for(timeout=60_000)
    wait_idle(page)
    page.screenshot(path=str(shots_dir(tmp_path) / "lead-pdf-import.png"), full_page=True)
    with review.store.session() as s:
        assert s.query(Report).filter(Report.pdf_path.isnot(None)).one().record_id == rid
    goto(page, base, "records", "Records")
    page.locator(".st-key-rec_stage").get_by_role("combobox").click()
    page.get_by_role("option", name="Full text").click()
    wait_idle(page)
    wait_count(page, 3)
    open_record(page, rid)
    page.locator(f".st-key-rec_pdf_{rid}").wait_for(timeout=60_000)
    time.sleep(3)  # let the viewer draw the page for the screenshot
    page.screenshot(path=str(shots_dir(tmp_path) / "records-full-text-pdf.png"), full_page=True)
    assert page.locator(f".st-key-rec_maybe_{rid}").count() == 0  # no "maybe" at full text
    page.get_by_text("Exclude, with the reason").click()
    page.keyboard.press("1")
    page.get_by_text("your decision is now exclude").wait_for(timeout=30_000)
    with review.store.session() as s:
        got = s.execute(select(Decision.stage, Decision.label, Decision.reason)
                        .where(Decision.record_id == rid)).all()
    assert [tuple(g) for g in got] == [("full_text", "exclude", "Wrong population")]


def test_lead_seeds_the_model_from_an_ris_of_key_papers(served, browser, tmp_path) -> None:
    from review.store.models import Record

    base, review = served
    known = review.records[4:6]
    with review.store.session() as s:
        titles = [s.get(Record, r).title for r in known]
    ris = tmp_path / "key-papers.ris"
    ris.write_text("".join(f"TY  - JOUR\nTI  - {t.upper()}\nER  -\n\n" for t in titles)
                   + "TY  - JOUR\nTI  - A paper the searches never found\n"
                     "DO  - 10.9999/nowhere\nER  -\n")
    page = browser.new_page(viewport={"width": 1500, "height": 1600})
    sign_in(page, base, "lead", "lead-demo")
    goto(page, base, "lead", "Lead tools")
    box = page.locator(".st-key-lead_seed_0")
    box.scroll_into_view_if_needed(timeout=30_000)
    assert re.search(r"\b50\s?MB", box.get_by_text(re.compile(r"MB")).first.inner_text())
    page.locator(".st-key-lead_seed_0 input[type=file]").set_input_files(str(ris))
    page.get_by_text("papers matched a record").wait_for(timeout=60_000)
    wait_idle(page)
    said = page.get_by_text("papers matched a record").first.inner_text()
    assert "2 of 3 papers matched a record; 2 will be recorded as your includes" in said, said
    page.get_by_text("Not matched").first.wait_for(timeout=30_000)
    page.locator(".st-key-lead_seed_go").scroll_into_view_if_needed()
    page.screenshot(path=str(shots_dir(tmp_path) / "lead-seed.png"), full_page=True)
    with review.store.session() as s:  # the preview wrote nothing
        assert s.scalars(select(Decision.id)).all() == []
    page.get_by_role("button", name="Confirm: include 2 records and refit").click()
    page.get_by_text(re.compile("Recorded 2 known relevant papers")).wait_for(timeout=60_000)
    with review.store.session() as s:
        got = s.execute(select(Decision.record_id, Decision.label, Decision.reviewer_id)
                        .order_by(Decision.id)).all()
    assert [tuple(g) for g in got] == [(r, "include", review.ids["lead"]) for r in known]


def test_the_pdf_is_shown_beside_the_extraction_form(served, browser, tmp_path,
                                                     make_pdf) -> None:
    from review.screening import fulltext
    from review.store import repo

    base, review = served
    store, rid = review.store, review.records[2]
    repo.add_decision(store, record_id=rid, reviewer_id=review.ids["lead"],
                      stage="title_abstract", label="include")
    repo.ensure_reports(store)
    rep = fulltext.reports_frame(store)
    report = int(rep.loc[rep["record_id"] == rid, "report_id"].iloc[0])
    fulltext.decide(store, report_id=report, reviewer_id=review.ids["lead"], label="include")
    fulltext.create_study(store, "Author2 2012", [report])
    fulltext.attach_pdf(store, report, make_pdf("Effect of family support on loneliness",
                                                "Methods: a randomised trial, n = 212"),
                        "trial.pdf", "lead")
    page = browser.new_page(viewport={"width": 1600, "height": 1400})
    sign_in(page, base, "ana", "ana-demo")
    goto(page, base, "extraction", "Extraction")
    viewer = page.locator(f".st-key-ex_pdf_{report}")
    viewer.wait_for(timeout=60_000)
    page.get_by_text(f"Full text of record #{rid}").wait_for(timeout=30_000)
    save = page.get_by_role("button", name="Save draft")
    save.first.wait_for(timeout=30_000)
    # Beside, not below: the viewer's left edge is left of the form's, and they overlap in height.
    v, f = viewer.bounding_box(), save.first.bounding_box()
    assert v is not None and f is not None and v["x"] + v["width"] <= f["x"] + 1
    time.sleep(3)  # let the viewer draw the page for the screenshot
    page.screenshot(path=str(shots_dir(tmp_path) / "extraction-pdf.png"), full_page=False)


def test_screening_highlights_leave_words_whole_and_differ_beyond_colour(served, browser,
                                                                         tmp_path) -> None:
    from sqlalchemy import update

    from review.store import repo
    from review.store.models import Record

    base, review = served
    title = "A placebo-controlled trial of peer support in Children's homes"
    with review.store.session() as s:
        s.execute(update(Record).where(Record.id == review.records[0]).values(title=title))
    repo.set_setting(review.store, "highlight_include", ["placebo", "peer support"])
    repo.set_setting(review.store, "highlight_exclude", ["children"])
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    sign_in(page, base, "ana", "ana-demo")
    heading = page.locator("h4.rv-text").first
    heading.wait_for(timeout=60_000)
    assert heading.inner_text() == title  # as drawn: no gap inside a word or before "'s"
    marks = heading.locator("mark")
    styles = [marks.nth(i).evaluate(
        "m => [m.textContent, m.title, getComputedStyle(m).textDecorationLine,"
        " getComputedStyle(m).textDecorationStyle]") for i in range(marks.count())]
    # Told apart by line style and a spoken name, not by the background colour alone.
    assert styles == [["placebo", "include keyword", "underline", "solid"],
                      ["peer support", "include keyword", "underline", "solid"],
                      ["Children", "exclude keyword", "underline", "wavy"]]
    page.screenshot(path=str(shots_dir(tmp_path) / "screening-highlights.png"), full_page=False)
