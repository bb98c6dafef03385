"""The one exception every importer raises for input it cannot read.

A reviewer who imports a 20,000-record export needs to know *where* the file
is broken so they can fix or re-export it; a Python traceback from deep inside
a parser tells them nothing. Every reader in :mod:`review.io` therefore turns
whatever went wrong into an :class:`ImportFormatError` that names the file and,
where it is known, the line and the record.
"""

from __future__ import annotations


class ImportFormatError(Exception):
    """A file could not be imported; the message says where and why.

    ``line`` and ``record`` are 1-based; either may be ``None`` when the
    problem is not tied to one place (an empty file, an unknown format).
    """

    def __init__(
        self,
        file: str,
        message: str,
        *,
        line: int | None = None,
        record: int | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.record = record
        self.reason = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.record is not None:
            where += (
                f" (record {self.record})" if self.line is not None else f", record {self.record}"
            )
        return f"{where}: {self.reason}"

    def __reduce__(self):  # keep the error picklable (multiprocessing, caching)
        return (_rebuild, (self.file, self.reason, self.line, self.record))


def _rebuild(file: str, message: str, line: int | None, record: int | None) -> ImportFormatError:
    return ImportFormatError(file, message, line=line, record=record)
