"""``review prisma`` and ``review tables``: the review's reporting outputs, derived from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from review.cli.app import DbOption, app, console, err_console
from review.cli.project import open_review


@app.command()
def prisma(
    out: Annotated[Path, typer.Option("--out", help="Folder for the diagram and the counts.")] = Path("prisma"),
    db: DbOption = None,
    strict: Annotated[bool, typer.Option(help="Exit with an error when a consistency check fails.")] = False,
) -> None:
    """PRISMA 2020 flow diagram (SVG, PNG, PDF) and counts (JSON, PRISMA2020-package CSV)."""
    from review.report import flow_diagram, prisma_files
    from review.report.prisma import counts_from_store

    store = open_review(db)
    counts = counts_from_store(store)
    out.mkdir(parents=True, exist_ok=True)
    paths = flow_diagram.save(counts, out)
    paths.append(prisma_files.write_json(counts, out / "prisma_counts.json"))
    paths.append(prisma_files.write_csv(counts, out / "prisma_counts.csv"))
    t = Table(title="PRISMA 2020 counts")
    t.add_column("box")
    t.add_column("n", justify="right")
    for k, v in counts.as_prisma2020().items():
        t.add_row(k, str(v))
    console.print(t)
    for problem in counts.checks:
        err_console.print(f"[yellow]check:[/] {problem}", highlight=False)
    console.print("Wrote " + ", ".join(str(p) for p in paths))
    if strict and counts.checks:
        raise typer.Exit(2)
