"""End to end in a real headless Chromium: sign in, screen three records with reasons, see counts.

Runs the real ``streamlit run screening_app.py`` on a free localhost port
against a temporary SQLite review and drives Debian's Chromium with
Playwright. Screenshots of every page the lead can open are written to
``$REVIEW_SCREENSHOTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_helpers import APP, HOSTILE_ABSTRACT, HOSTILE_TITLE, ROOT, build_review
from sqlalchemy import select

from review.store.models import Decision

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _missing(what: str) -> None:
    """A missing browser fails in CI (``$CI`` set, as ``.ci/run`` does) and skips elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must run the browser tests)")
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(db: Path | str, port: int, log: Path) -> subprocess.Popen:
    """``streamlit run screening_app.py -- --db DB``, headless, on 127.0.0.1:port."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           "--", "--db", str(db)]
    env = {k: v for k, v in os.environ.items() if k != "REVIEW_DATABASE_URL"}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            env=env)
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"streamlit did not start in 90 s: {log.read_text()[-2000:]}")


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM}: `apt-get install -y chromium`")
    try:
        from playwright import sync_api
    except ImportError:
        _missing("playwright is not installed: `pip install -e '.[test]'`")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, object]]:
    review = build_review(tmp_path / "e2e.db")
    port = free_port()
    proc = start_app(review.path, port, tmp_path / "streamlit.log")
    try:
        yield f"http://127.0.0.1:{port}", review
    finally:
        stop_app(proc)
        review.store.close()


def shots_dir(tmp_path: Path) -> Path:
    d = Path(os.environ.get("REVIEW_SCREENSHOTS") or tmp_path / "screens")
    d.mkdir(parents=True, exist_ok=True)
    return d


def metric(page, label: str) -> str:
    box = page.locator("[data-testid=stMetric]", has_text=label).first
    return box.locator("[data-testid=stMetricValue]").inner_text().strip()


def wait_metric(page, label: str, value: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if metric(page, label) == value:
                return
        except Exception:  # the element is being redrawn
            pass
        time.sleep(0.1)
    raise AssertionError(f"{label} stayed {metric(page, label)!r}, expected {value!r}")


def sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/")
    try:
        page.get_by_label("User name").wait_for(timeout=90_000)
    except Exception:
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "sign-in-failed.png"))
        raise
    page.get_by_label("User name").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("[data-testid=stMetric]", timeout=60_000)


def record_number(page) -> int:
    text = page.get_by_text(re.compile(r"^Record #\d+")).first.inner_text()
    return int(re.search(r"#(\d+)", text).group(1))


def wait_record_not(page, old: int, timeout: float = 30) -> int:
    """Wait until a record other than ``old`` is on screen (metrics redraw before the card)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            now = record_number(page)
            if now != old:
                return now
        except Exception:  # being redrawn
            pass
        time.sleep(0.05)
    raise AssertionError(f"record #{old} stayed on screen")


def wait_idle(page, timeout: float = 30) -> None:
    """Wait until the script run finished (Streamlit shows its status widget while running)."""
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached",
                           timeout=timeout * 1000)
    page.wait_for_timeout(200)


def choose_reason(page, record_id: int, reason: str) -> None:
    """Pick a reason in *this record's* select (while a run finishes the old one may linger)."""
    wait_idle(page)
    box = page.locator(f".st-key-reason_{record_id}").get_by_role("combobox")
    box.click()
    option = page.get_by_role("option", name=reason, exact=True)
    if not option.is_visible():
        box.press("ArrowDown")  # open the list from the keyboard
    option.click()


def test_sign_in_screen_three_records_with_reasons_and_see_counts(served, browser, tmp_path
                                                                  ) -> None:
    base, review = served
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, base, "ana", "ana-demo")
    shots = shots_dir(tmp_path)
    assert metric(page, "Screened by you") == "0"
    assert metric(page, "Records decided by the team") == "0 / 12"

    # The first record is the hostile one: it must read as the characters it holds.
    card = page.locator("[data-testid=stVerticalBlock]",
                        has=page.get_by_text(re.compile(r"^Record #"))).last
    text = card.inner_text()
    assert HOSTILE_TITLE in text
    for line in HOSTILE_ABSTRACT.splitlines():
        assert line in text
    assert card.locator("script, img, b, a[href^='javascript'], h1, li, code, .katex").count() == 0
    page.screenshot(path=str(shots / "screening.png"), full_page=True)

    reasons = ["Wrong population", "Wrong study design", "Not primary research"]
    seen = []
    for i, reason in enumerate(reasons):
        rid = record_number(page)
        seen.append(rid)
        choose_reason(page, rid, reason)
        if i == 1:  # the keyboard shortcut: E excludes (focus off the text fields)
            page.locator("[data-testid=stCaptionContainer]", has_text="Keys:").last.click()
            page.keyboard.press("e")
        else:
            page.locator(f".st-key-exclude_{rid} button").click()
        wait_metric(page, "Screened by you", str(i + 1))
        wait_record_not(page, rid)
    wait_metric(page, "You excluded", "3")
    wait_metric(page, "Records decided by the team", "3 / 12")
    assert len(set(seen)) == 3
    with review.store.session() as s:
        got = s.execute(select(Decision.record_id, Decision.label, Decision.reason)
                        .where(Decision.reviewer_id == review.ids["ana"])
                        .order_by(Decision.id)).all()
    assert [tuple(g) for g in got] == [(r, "exclude", why) for r, why in zip(seen, reasons,
                                                                             strict=True)]
    # Typing an "e" into the note must not exclude the record.
    rid = record_number(page)
    note = page.locator(f".st-key-note_{rid}").get_by_label("Note (optional)")
    note.fill("peer support; see methods")
    note.press("e")
    time.sleep(1.0)
    assert record_number(page) == rid and metric(page, "Screened by you") == "3"
    # Undo brings the last record back and the count down.
    page.locator(".st-key-undo button").last.click()
    wait_metric(page, "Screened by you", "2")
    wait_record_not(page, rid)
    assert record_number(page) == seen[-1]
    page.screenshot(path=str(shots / "screening-after-undo.png"), full_page=True)
    assert dialogs == []


def test_every_page_the_lead_can_open_renders(served, browser, tmp_path) -> None:
    base, review = served
    from review.store import repo

    repo.set_setting(review.store, "reviewers_per_record", 2)
    for rec, (a, b) in zip(review.records[2:6], [("include", "exclude"), ("exclude", "exclude"),
                                                 ("include", "include"), ("maybe", "exclude")],
                           strict=True):
        repo.add_decision(review.store, record_id=rec, reviewer_id=review.ids["ana"],
                          stage="title_abstract", label=a)
        repo.add_decision(review.store, record_id=rec, reviewer_id=review.ids["ben"],
                          stage="title_abstract", label=b, reason="Wrong outcome")
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    sign_in(page, base, "lead", "lead-demo")
    shots = shots_dir(tmp_path)
    links = page.locator("[data-testid=stSidebarNav] a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert any(h.endswith("/conflicts") for h in hrefs) and any(h.endswith("/team") for h in hrefs)
    for href in hrefs:
        page.goto(href if href.startswith("http") else base + href)
        page.wait_for_selector("h1", timeout=60_000)
        wait_idle(page, 60)
        time.sleep(1.0)
        assert page.locator("[data-testid=stException]").count() == 0, href
        from urllib.parse import urlparse

        name = urlparse(href).path.strip("/") or "screening"
        page.screenshot(path=str(shots / f"lead-{name}.png"), full_page=True)
    page.goto(base + "/conflicts")  # a new page load: the session cookie keeps the lead in
    page.wait_for_selector("text=Open conflicts", timeout=60_000)
    wait_idle(page)
    assert metric(page, "Open conflicts") == "2"
    page.get_by_text("Cohen's κ over the records").wait_for(timeout=30_000)


def test_a_reviewer_sees_no_lead_pages(served, browser, tmp_path) -> None:
    base, _review = served
    page = browser.new_page()
    sign_in(page, base, "ben", "ben-demo")
    links = page.locator("[data-testid=stSidebarNav] a")
    names = {links.nth(i).inner_text().strip() for i in range(links.count())}
    assert "Conflicts" not in names and "Team & settings" not in names
    page.goto(base + "/team")
    page.wait_for_selector("[data-testid=stMetric]", timeout=60_000)
    assert page.locator("h1").first.inner_text() == "Title/abstract screening"

