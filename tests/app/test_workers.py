"""Helper processes: results come back, a dead worker is replaced, and they never hold up exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from review.store import workers


def test_a_job_runs_in_another_process_and_returns_its_result():
    pid = workers.run_in_helper("test-pid", os.getpid)
    try:
        assert pid != os.getpid()
        assert workers.run_in_helper("test-pid", os.getpid) == pid  # the worker is kept
    finally:
        workers.shutdown()


def test_a_worker_that_died_is_replaced():
    first = workers.run_in_helper("test-crash", os.getpid)
    try:
        os.kill(first, 9)
        second = workers.run_in_helper("test-crash", os.getpid)
        assert second not in (first, os.getpid())
    finally:
        workers.shutdown()


def test_the_app_process_exits_while_a_long_job_runs(tmp_path):
    """Ctrl+C on the app must not wait for a refit in progress (it used to, for a minute)."""
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent("""
        import threading, time
        from review.store import workers

        if __name__ == "__main__":
            threading.Thread(target=workers.run_in_helper, args=("slow", time.sleep, 600),
                             daemon=True).start()
            time.sleep(3)  # the worker has started and is sleeping
            print("leaving", flush=True)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "leaving" in done.stdout


def test_a_refit_asked_for_while_the_app_stops_leaves_no_traceback(tmp_path):
    """Stopping the app while the ranking thread keeps asking for refits is quiet.

    A refit asked for after the helpers stopped used to log "background ranking
    refresh failed" with a RuntimeError traceback as the app's last words.
    """
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent("""
        import logging, sys, threading, time
        from review.screening import queue
        from review.store import open_store, workers

        if __name__ == "__main__":
            logging.basicConfig(stream=sys.stderr)
            store = open_store("sqlite:///" + sys.argv[1], create=True)

            def refits():
                while True:
                    queue._run_refresh(store, lambda s: workers.run_in_helper("quick", abs, -1))

            threading.Thread(target=refits, daemon=True).start()
            time.sleep(3)  # refits are running one after another
            print("leaving", flush=True)
    """))
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "review.db")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "leaving" in done.stdout
    assert "Traceback" not in done.stderr and "failed" not in done.stderr, done.stderr
