"""``review extraction`` commands (filled in by that stage)."""

from review.cli.app import app  # noqa: F401
