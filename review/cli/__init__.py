"""Entry point of the ``review`` command: importing the stage modules registers their commands."""

from review.cli import check, dedup, extraction, meta, project, report, screening  # noqa: F401
from review.cli.app import app


def main() -> None:
    """Run the ``review`` command line."""
    app()
