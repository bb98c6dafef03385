"""The ``review`` command's Typer application and the options every command shares.

Stage modules (``review.cli.project``, ``review.cli.dedup`` ...) register their
commands on :data:`app`; keeping one module per stage lets each stage's shell
sit next to the others without one file growing into a knot.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape


class ReviewApp(typer.Typer):
    """The Typer app, which imports every command module the first time its commands are read.

    ``review.cli.main`` switches ``autoload`` off and imports only the module of
    the command it runs, so a run pays for what it uses; anything else that reads
    the commands (tests, ``typer.testing.CliRunner``) sees them all.
    """

    autoload = True

    @property
    def registered_commands(self) -> list:  # type: ignore[override]
        if self.autoload and not self.__dict__.get("_loaded"):
            self.__dict__["_loaded"] = True
            from review.cli import load_all

            load_all()
        return self.__dict__["_registered_commands"]

    @registered_commands.setter
    def registered_commands(self, value: list) -> None:
        self.__dict__["_registered_commands"] = value


app = ReviewApp(
    name="review",
    help="Systematic reviews from search exports to PRISMA 2020: import, dedup, rank, "
    "screen, extract, synthesise, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)

#: ``--db`` for every command that works on a review: a SQLite file path or a SQLAlchemy URL.
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Review database: a SQLite file path or a SQLAlchemy URL "
        "(default: $REVIEW_DATABASE_URL, else ./review.db).",
        show_default=False,
    ),
]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a user-facing error and return the exit to raise (no traceback for users).

    The message is printed as written: square brackets in it (a file called
    ``refs[1].ris``, ``pip install 'review[embed]'``) are text, not console markup."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


@app.callback()
def _review() -> None:
    """Keeps ``review`` a group of commands even when a run has imported only one of them."""
