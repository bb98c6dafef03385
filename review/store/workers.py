"""Helper processes for the app's heavy background work (ranking refits, recall estimates).

Why processes and not threads: a ranking refit or a recall estimate on a
50,000-record review keeps the CPU busy for seconds, mostly in Python code
holding the interpreter lock. In a thread of the app process that stalls
every reviewer's click (the page's messages wait for the lock); measured on
the 50,000-record benchmark, clicks took ~150 ms longer while a refit ran.
A helper process runs on the machine's other core and leaves the app
process free to answer.

One single-worker pool per kind of work and app process, started on first use
with ``spawn`` (safe beside Streamlit's threads, unlike ``fork``). The worker
keeps its own state between jobs (an open store, the review's cached features),
so only the first job pays for loading them. A worker that died is replaced
once; if the replacement fails too, the job runs inline rather than not at all.
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from review.store import Store, open_store

T = TypeVar("T")

_pools: dict[str, ProcessPoolExecutor] = {}
_lock = threading.Lock()
#: Stores opened inside a worker process, one per database URL (reused across jobs).
_worker_stores: dict[str, Store] = {}


class HelperStopped(RuntimeError):
    """The app process is stopping, so its helpers take no new jobs (the job is abandoned)."""


_stopping = threading.Event()


def _pool(kind: str) -> ProcessPoolExecutor:
    with _lock:
        if _stopping.is_set():
            raise HelperStopped(f"the app is stopping; no new {kind} job started")
        pool = _pools.get(kind)
        if pool is None:
            pool = ProcessPoolExecutor(max_workers=1,
                                       mp_context=multiprocessing.get_context("spawn"))
            _pools[kind] = pool
        return pool


def _forget(kind: str, pool: ProcessPoolExecutor) -> None:
    with _lock:
        if _pools.get(kind) is pool:
            del _pools[kind]


def run_in_helper(kind: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in this app process's ``kind`` helper; waits for and returns its result.

    ``fn`` must be a module-level function and ``args`` picklable. The calling
    thread only waits (without holding the interpreter lock), so call this
    from a background thread, never from a reviewer's click.

    Raises :class:`HelperStopped` once the app is stopping: a background thread
    that asks then has nothing worth doing, and its caller drops the job quietly
    instead of printing a traceback over the app's last words.
    """
    for _attempt in range(2):
        pool = _pool(kind)
        try:
            return pool.submit(fn, *args).result()
        # Stopping terminates the worker, cancels the job in flight and refuses new jobs
        # (RuntimeError "... after shutdown"): all mean the same to the caller.
        except BrokenProcessPool as exc:  # a RuntimeError too, so it is caught first
            if _stopping.is_set():
                raise HelperStopped(f"the app is stopping; the {kind} job was dropped") from exc
            _forget(kind, pool)
        except (CancelledError, RuntimeError) as exc:
            if _stopping.is_set() or "shutdown" in str(exc):
                raise HelperStopped(f"the app is stopping; the {kind} job was dropped") from exc
            raise
    return fn(*args)


def worker_store(url: str) -> Store:
    """The store for ``url`` inside a helper process (opened on the first job, then reused)."""
    store = _worker_stores.get(url)
    if store is None:
        store = _worker_stores[url] = open_store(url, create=False)
    return store


def shutdown(wait: bool = True) -> None:
    """Stop every helper process of this app process.

    At exit (``wait=False``) a job in progress is abandoned: a half-done refit is
    worth nothing once the app stops (the previous ranking stands), and waiting
    for it would keep Ctrl+C from stopping the app for up to a minute.
    """
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        if not wait:
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
        pool.shutdown(wait=wait, cancel_futures=True)


def _at_exit() -> None:
    _stopping.set()
    shutdown(wait=False)


# concurrent.futures joins its pools' threads at interpreter exit, before ``atexit``
# handlers run, so the workers must be stopped from the same (earlier) hook.
_register = getattr(threading, "_register_atexit", atexit.register)
_register(_at_exit)
