"""Issue 16's main path in a real Chromium on the demo review: after every step the app's
counts, ``review prisma``, ``review tables`` and ``review meta`` name the same included
reports and studies, and ``review check`` finds no disagreement.

Steps, as the lead: screen a record (after joining the screening pool), resolve a
full-text conflict, try to confirm the flagged duplicate pair #66/#258 after full text
(the page names every record it would move, refuses, and offers "Same study, another
report"), group the reports into a study, extract, look at the synthesis, open the
report. The full-text study grouping and the extraction are done with the stage
functions the Full text and Extraction pages call (their forms are exercised by their
own AppTests); every other step is a click in the browser. Each page is opened by its
address (a bookmark), which also checks that reloading ``/screening`` works.
Screenshots go to ``$REVIEW_SCREENSHOTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from app_helpers import ROOT
from test_browser import (
    CHROMIUM,
    browser,  # noqa: F401  (fixture)
    free_port,
    shots_dir,
    sign_in,
    start_app,
    stop_app,
    wait_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no Chromium")]

TIME_POINT = "post-intervention"


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys; from review.cli import main; sys.argv[0] = 'review'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def cli_numbers(db: Path, out: Path) -> dict[str, int]:
    """Included reports/studies as ``review prisma``, ``review tables`` and ``review meta``
    report them, plus ``review check``'s verdict."""
    p = cli("prisma", "--db", str(db), "--out", str(out / "prisma"))
    assert p.returncode == 0, p.stderr
    counts = json.loads((out / "prisma" / "prisma_counts.json").read_text())
    assert isinstance(counts["records_awaiting_decision"], int)
    assert isinstance(counts["reports_awaiting_decision"], int)
    t = cli("tables", "--db", str(db), "--out", str(out / "tables"))
    assert t.returncode == 0, t.stderr
    said = re.search(r"(\d+) reports of (\d+) included studies", " ".join(t.stdout.split()))
    m = cli("meta", "--db", str(db), "--outcome", "loneliness", "--measure", "SMD",
            "--time-point", TIME_POINT, "--output", str(out / "meta"))
    assert m.returncode == 0, m.stderr + m.stdout
    k = json.loads((out / "meta" / "summary.json").read_text())["k"]
    check = cli("check", "--db", str(db))
    return {"prisma_reports": counts["new_reports"], "prisma_studies": counts["new_studies"],
            "tables_reports": int(said.group(1)), "tables_studies": int(said.group(2)),
            "meta_k": int(k), "check_rc": check.returncode, "check": check.stdout}


def app_numbers(page, base: str) -> dict[str, int]:
    """Included reports/studies as the Full text, Synthesis and Report pages show them."""
    page.goto(base + "/full-text")
    cap = page.get_by_text(re.compile(r"Included: \d+ reports of \d+ studies")).first
    cap.wait_for(timeout=60_000)
    r, s = map(int, re.search(r"Included: (\d+) reports of (\d+) studies",
                              cap.inner_text()).groups())
    page.goto(base + "/synthesis")
    syn = page.get_by_text(re.compile(r"studies' final extractions")).first
    syn.wait_for(timeout=60_000)
    extracted, included = map(int, re.search(
        r"From (\d+) studies' final extractions \((\d+) included studies",
        syn.inner_text()).groups())
    page.goto(base + "/report")
    page.locator(".st-key-rep_view").get_by_text(re.compile("^References")).click()
    ref = page.get_by_text(re.compile(r"\d+ studies, \d+ reports \(APA 7\)")).first
    ref.wait_for(timeout=90_000)
    rs, rr = map(int, re.search(r"(\d+) studies, (\d+) reports", ref.inner_text()).groups())
    return {"fulltext_reports": r, "fulltext_studies": s, "synthesis_studies": included,
            "synthesis_extracted": extracted, "report_studies": rs, "report_reports": rr}


def assert_agree(page, base: str, db: Path, out: Path, step: str, log: list) -> dict:
    app = app_numbers(page, base)
    c = cli_numbers(db, out / step)
    log.append((step, app, {k: v for k, v in c.items() if k != "check"}))
    reports = {app["fulltext_reports"], app["report_reports"], c["prisma_reports"],
               c["tables_reports"]}
    studies = {app["fulltext_studies"], app["synthesis_studies"], app["report_studies"],
               c["prisma_studies"], c["tables_studies"]}
    assert len(reports) == 1 and len(studies) == 1, (step, app, c)
    assert app["synthesis_extracted"] <= studies.pop(), (step, app, c)
    assert c["meta_k"] > 0, (step, c)
    assert c["check_rc"] == 0, (step, c["check"])
    return app


@pytest.fixture
def demo(tmp_path: Path):
    from review.demo import build_demo

    db = tmp_path / "demo.db"
    build_demo(db, say=lambda _m: None).close()
    port = free_port()
    proc = start_app(db, port, tmp_path / "streamlit.log")
    try:
        yield f"http://127.0.0.1:{port}", db
    finally:
        stop_app(proc)


def test_every_view_agrees_along_the_main_path(demo, browser, tmp_path) -> None:  # noqa: F811
    from review.dedup import store_ops
    from review.screening import fulltext
    from review.store import open_store, repo
    from review.store.models import Extraction

    base, db = demo
    shots = shots_dir(tmp_path)
    out = tmp_path / "cli"
    log: list = []
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    sign_in(page, base, "lead", "lead-demo")
    wait_idle(page, 60)
    page.wait_for_timeout(1500)  # the session cookie is written by the page's script
    start = assert_agree(page, base, db, out, "0-start", log)

    # 1. screen one record (a lead joins the pool first); reload /screening as a bookmark
    page.goto(base + "/screening")
    page.get_by_role("button", name="Join the screening pool").click()
    page.get_by_text(re.compile(r"^Record #\d+")).first.wait_for(timeout=60_000)
    page.reload()
    page.get_by_text(re.compile(r"^Record #\d+")).first.wait_for(timeout=60_000)
    assert "Page not found" not in page.content()
    rid = int(re.search(r"#(\d+)", page.get_by_text(re.compile(r"^Record #\d+")).first
                        .inner_text()).group(1))
    page.locator(f".st-key-include_{rid} button").click()
    wait_idle(page)
    assert_agree(page, base, db, out, "1-screened", log)

    # 2. resolve a full-text conflict as include
    store = open_store(str(db))
    ft = repo.outcomes(store, "full_text")
    conflicted = ft.loc[ft["status"] == "conflict", "record_id"].astype(int).tolist()
    assert conflicted, "the demo has full-text conflicts"
    page.goto(base + "/conflicts")
    page.locator(".st-key-conf_stage").get_by_text("Full text", exact=True).click()
    wait_idle(page)
    radio = page.locator("[class*='st-key-res_label_full_text_']").first
    radio.wait_for(timeout=60_000)
    chosen = int(re.search(r"st-key-res_label_full_text_(\d+)",
                           radio.get_attribute("class") or "").group(1))
    assert chosen in conflicted
    radio.get_by_text("include", exact=True).click()
    page.get_by_role("button", name="Resolve").click()
    wait_idle(page)
    after_conflict = assert_agree(page, base, db, out, "2-conflict", log)
    assert after_conflict["fulltext_reports"] >= start["fulltext_reports"]

    # 3. the flagged pair #66/#258 after full text: named, refused, same study instead
    pairs = store_ops.pending_candidates(store)
    row = pairs[(pairs["record_a"] == 66) & (pairs["record_b"] == 258)].iloc[0]
    cid = int(row["candidate_id"])
    plan = store_ops.plan_confirm(store, cid)
    page.goto(base + "/duplicates")
    combo = page.locator(".st-key-dup_candidate").get_by_role("combobox")
    combo.click()
    page.get_by_role("option", name=re.compile(rf"^#{cid} ")).click()
    wait_idle(page)
    warning = page.get_by_text(re.compile("Cannot confirm as duplicates")).first
    warning.wait_for(timeout=30_000)
    assert page.locator(".st-key-dup_confirm button").is_disabled()
    for r in plan.moves:  # every record it would move is named before anything runs
        assert f"#{r}" in page.content()
    page.screenshot(path=str(shots / "duplicates_confirmation_blocked.png"), full_page=True)
    page.get_by_role("button", name="Same study, another report").click()
    wait_idle(page)
    assert_agree(page, base, db, out, "3-duplicate", log)
    # a pair that may be confirmed lists every record before the click
    ok = next((int(c) for c in store_ops.pending_candidates(store)["candidate_id"]
               if not store_ops.plan_confirm(store, int(c)).blocked), None)
    if ok is not None:
        page.goto(base + "/duplicates")
        combo = page.locator(".st-key-dup_candidate").get_by_role("combobox")
        combo.wait_for(timeout=60_000)
        combo.click()
        page.get_by_role("option", name=re.compile(rf"^#{ok} ")).click()
        wait_idle(page)
        page.get_by_text(re.compile(r"links these \d+ record\(s\) to it")).first.wait_for()
        page.screenshot(path=str(shots / "duplicates_confirmation.png"), full_page=True)
        page.get_by_role("button", name="Confirm: same work").click()
        wait_idle(page)
        assert_agree(page, base, db, out, "3b-duplicate-confirmed", log)

    # 4. study grouping: two included reports into one study (the Full text page's call)
    inc = fulltext.included_reports(fulltext.reports_frame(store))
    two = inc["report_id"].astype(int).tolist()[:2]
    fulltext.create_study(store, "Grouped 2099", two, actor="lead")
    grouped = assert_agree(page, base, db, out, "4-grouped", log)

    # 5. extraction: a final outcome extraction for the new study (the Extraction page's call)
    sid = int(fulltext.reports_frame(store).set_index("report_id").loc[two[0], "study_id"])
    with store.session() as s:
        s.add(Extraction(study_id=sid, form_id="outcome_data", form_version="1",
                         reviewer_id=None, status="final", values={"outcomes": [{
                             "outcome": "loneliness", "time_point": TIME_POINT,
                             "measure": "UCLA", "effect": {
                                 "kind": "effect_size", "measure": "SMD", "estimate": -0.2,
                                 "se": 0.1, "n": 90}}]}))
    extracted = assert_agree(page, base, db, out, "5-extracted", log)
    assert extracted["synthesis_extracted"] >= grouped["synthesis_extracted"]

    # 6. synthesis and report pages were read in every step above; keep their pictures
    page.goto(base + "/synthesis")
    page.get_by_text(re.compile(r"studies' final extractions")).first.wait_for()
    page.screenshot(path=str(shots / "synthesis.png"), full_page=True)
    store.close()
    (shots / "one_truth_steps.json").write_text(json.dumps(log, indent=1))
