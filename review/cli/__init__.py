"""Entry point of the ``review`` command: each command imports only the module that holds it.

Importing every stage module at start-up costs seconds (statsmodels, scipy,
SQLAlchemy, the app code) that ``review dedup`` or ``review --help`` never use.
So :data:`COMMANDS` maps each command to its module and one-line help; a run
imports only the named command's module. ``review`` / ``review --help`` lists
the commands from this table without importing any of them, and a command not
in the table (a new one whose row is missing) falls back to importing every
module, so it still works, only slower.

To add a command: register it with ``@app.command()`` in its stage module as
usual, and add one row here (``tests/dedup/test_cli_start.py`` checks the table
against the real commands). ``from review.cli import app`` (tests, embedding)
gives the app with every command: it imports them all the first time its
commands are read.
"""

from __future__ import annotations

import importlib
import sys

from review.cli.app import app

#: command → (module that registers it, the help line ``review --help`` shows)
COMMANDS: dict[str, tuple[str, str]] = {
    "check": (
        "review.cli.check",
        "Check a review's rows: whole imports, straight duplicate links, decisions landed once.",
    ),
    "dedup": ("review.cli.dedup", "Find duplicate records."),
    "init": (
        "review.cli.project",
        "Create a new review (a SQLite file, or the schema in a PostgreSQL database).",
    ),
    "import": (
        "review.cli.project",
        "Import one search export as a source; the whole file lands or nothing does.",
    ),
    "status": ("review.cli.project", "Counts per source and per stage."),
    "export": (
        "review.cli.project",
        "Export records with their current stage (CSV/XLSX/RIS by the file's extension).",
    ),
    "reviewer": ("review.cli.project", "Add a reviewer (or lead) account to the review."),
    "backup": (
        "review.cli.project",
        "Back up a whole review (every table and its stored PDFs) to one zip file.",
    ),
    "restore": (
        "review.cli.project",
        "Restore a backup into a new, empty review (SQLite or PostgreSQL).",
    ),
    "demo": (
        "review.cli.project",
        "Build the bundled demo review (synthetic records) and optionally open the app on it.",
    ),
    "app": (
        "review.cli.project",
        "Open the screening app on a review (the same database rule as every command).",
    ),
    "forms": (
        "review.cli.extraction",
        "Load and validate every extraction form and the codebook; list them with their versions.",
    ),
    "synthesise": (
        "review.cli.extraction",
        "Mechanism and CMO tables, effect-direction and for-whom tables, SWiM and RoB figures.",
    ),
    "meta": (
        "review.cli.meta",
        "Meta-analysis of a spreadsheet of per-study outcome data or effect sizes, or of an "
        "outcome extracted in a review (--outcome NAME --db ...).",
    ),
    "grade": (
        "review.cli.grade",
        "Draft a GRADE summary-of-findings table (DOCX and XLSX) from pooled data.",
    ),
    "prisma": (
        "review.cli.report",
        "PRISMA 2020 flow diagram (SVG, PNG, PDF) and counts (JSON, PRISMA2020-package CSV).",
    ),
    "tables": (
        "review.cli.report",
        "Evidence tables (CSV, XLSX, landscape DOCX) and the included studies' references "
        "(RIS, DOCX, Markdown, text).",
    ),
    "simulate": (
        "review.cli.screening",
        "Replay a labelled dataset through the ranker and the stopping rule; print the metrics.",
    ),
    "models": (
        "review.cli.screening",
        "List the registered ranking models and stopping rules.",
    ),
    "rank": (
        "review.cli.screening",
        "Fit on the title/abstract decisions so far and store a ranking for the app's queue.",
    ),
    "embed": (
        "review.cli.screening",
        "Embed every record to screen now (sentence vectors for the default ranking model).",
    ),
}

#: Every stage module with commands, in the order ``review --help`` lists them.
MODULES = tuple(dict.fromkeys(module for module, _ in COMMANDS.values()))


def load_all() -> None:
    """Import every command module (tests, and commands missing from :data:`COMMANDS`)."""
    for module in MODULES:
        importlib.import_module(module)


def _command_name(argv: list[str]) -> str | None:
    """The command named on the command line ('review dedup -i x' → 'dedup'), if any."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def _help_group():  # noqa: ANN202 - a click group, typed by typer
    """The top-level group with every command listed from the table, none imported."""
    import click
    import typer.main

    group = typer.main.get_group(app)
    for name, (_module, help_line) in COMMANDS.items():
        if name not in group.commands:
            group.add_command(click.Command(name, help=help_line, short_help=help_line))
    return group


def main(argv: list[str] | None = None) -> None:
    """Run the ``review`` command line."""
    args = sys.argv[1:] if argv is None else argv
    app.autoload = False  # import only what this command needs (below)
    name = _command_name(args)
    if name in COMMANDS:
        importlib.import_module(COMMANDS[name][0])
    elif name is not None:
        load_all()  # not in the table: every module, so the command is found (or reported)
    else:
        # 'review', 'review --help': list the commands without importing them
        _help_group().main(args=args, prog_name="review")
        return
    app(args=args, prog_name="review")
