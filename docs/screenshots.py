"""Screenshots of every app page on the demo review, for the README and issue notes.

Usage: ``python docs/screenshots.py DEMO_DB OUT_DIR`` (needs Debian's chromium and
Playwright). It starts the app on a free port, signs in as the demo lead and saves one
PNG per page.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

PAGES = ("screening", "records", "lead", "conflicts", "team", "full-text", "duplicates", "data",
         "extraction", "synthesis", "report")


def main(db: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = Path(__file__).resolve().parents[1] / "screening_app.py"
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app),
                             "--server.headless", "true", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false", "--", "--db", db])
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for _ in range(60):
                try:
                    page.goto(base + "/")
                    break
                except Exception:
                    time.sleep(1)
            page.get_by_label("User name").wait_for(timeout=90_000)
            page.get_by_label("User name").fill("lead")
            page.get_by_role("textbox", name="Password").fill("lead-demo")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_selector("[data-testid=stMetric]", timeout=60_000)
            for name in PAGES:
                page.goto(f"{base}/" if name == "screening" else f"{base}/{name}")
                page.wait_for_timeout(15_000 if name in ("synthesis", "report") else 8000)
                page.screenshot(path=str(out / f"app-{name}.png"), full_page=True)
                print(f"saved app-{name}.png", flush=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
