"""Fixtures for the app tests: a fresh small review per test (see ``app_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_helpers import Review, build_review


@pytest.fixture
def review(tmp_path: Path) -> Iterator[Review]:
    r = build_review(tmp_path / "review.db")
    try:
        yield r
    finally:
        r.store.close()


@pytest.fixture
def dual_review(tmp_path: Path) -> Iterator[Review]:
    r = build_review(tmp_path / "dual.db", per_record=2, hostile=False)
    try:
        yield r
    finally:
        r.store.close()
