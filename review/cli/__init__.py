"""Entry point of the ``review`` command: importing the stage modules registers their commands."""

from review.cli import (  # noqa: F401
    check,
    dedup,
    extraction,
    grade,
    meta,
    project,
    report,
    screening,
)
from review.cli.app import app


def main() -> None:
    """Run the ``review`` command line."""
    app()
