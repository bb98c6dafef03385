"""A progress bar that appears only for imports big enough to make people wait.

Readers call ``advance(n)`` as records are parsed; for small files (or when the
caller asked for no progress) that is a no-op, so readers need not care.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

#: Files with more records than this get a bar ("more than a few thousand").
PROGRESS_THRESHOLD = 5_000

Advance = Callable[[float], None]
#: Readers report progress in batches; a call per record would cost more than
#: the bar is worth at 100,000 records.
STEP = 1000


def _noop(_: float) -> None:
    return None


def counted(items: Iterable[T], advance: Advance) -> Iterator[T]:
    """Yield ``items`` (a stream of unknown length), advancing the bar once per batch."""
    if advance is _noop:
        yield from items
        return
    pending = 0
    for item in items:
        yield item
        pending += 1
        if pending == STEP:
            advance(pending)
            pending = 0
    advance(pending)


@contextmanager
def record_progress(
    total: int, description: str, enabled: bool, console: Console | None = None
) -> Iterator[Advance]:
    """Yield an ``advance(n)`` callback, drawing a rich bar when it is worth it."""
    if not enabled or total <= PROGRESS_THRESHOLD:
        yield _noop
        return
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("records"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        transient=False,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(n: float) -> None:
            bar.advance(task, n)

        yield advance
        bar.update(task, completed=total)
