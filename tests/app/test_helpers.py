"""Helper processes: results come back, a dead worker is replaced, and they never hold up exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from review.app import helpers


def test_a_job_runs_in_another_process_and_returns_its_result():
    pid = helpers.run_in_helper("test-pid", os.getpid)
    try:
        assert pid != os.getpid()
        assert helpers.run_in_helper("test-pid", os.getpid) == pid  # the worker is kept
    finally:
        helpers.shutdown()


def test_a_worker_that_died_is_replaced():
    first = helpers.run_in_helper("test-crash", os.getpid)
    try:
        os.kill(first, 9)
        second = helpers.run_in_helper("test-crash", os.getpid)
        assert second not in (first, os.getpid())
    finally:
        helpers.shutdown()


def test_the_app_process_exits_while_a_long_job_runs(tmp_path):
    """Ctrl+C on the app must not wait for a refit in progress (it used to, for a minute)."""
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent("""
        import threading, time
        from review.app import helpers

        if __name__ == "__main__":
            threading.Thread(target=helpers.run_in_helper, args=("slow", time.sleep, 600),
                             daemon=True).start()
            time.sleep(3)  # the worker has started and is sleeping
            print("leaving", flush=True)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "leaving" in done.stdout
