"""The project database of a review (SQLite file by default, PostgreSQL for a team)."""

from review.store.db import Store, StoreBusyError, StoreError, open_store, resolve_url

__all__ = ["Store", "StoreBusyError", "StoreError", "open_store", "resolve_url"]
