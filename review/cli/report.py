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


@app.command()
def tables(
    out: Annotated[Path, typer.Option("--out", help="Folder for the tables and reference lists.")] = Path("tables"),
    db: DbOption = None,
) -> None:
    """Evidence tables (CSV, XLSX, landscape DOCX) and the included studies' references (RIS, DOCX, Markdown, text)."""
    from review.cli.app import fail
    from review.report import inputs, references
    from review.report import tables as evidence

    store = open_review(db)
    result = evidence.tables_from_store(store)
    included = inputs.included_studies(store)
    try:
        paths = evidence.write_evidence_tables(result, out)
        paths += references.write_references(included, out)
    except OSError as exc:
        raise fail(f"cannot write to {out}: {exc}") from exc
    rows = {spec.key: len(df) for _, spec, df in result.numbered()}
    n_studies = included["study_key"].nunique() if len(included) else 0
    t = Table(title=f"Written to {out}")
    t.add_column("file")
    t.add_column("holds")
    for path in paths:
        if path.stem in rows:
            what = f"{rows[path.stem]} rows"
        elif path.suffix in (".xlsx", ".docx") and path.stem == "evidence_tables":
            what = f"{len(rows)} tables (" + ", ".join(str(n) for n in rows.values()) + " rows)"
        else:
            what = f"{len(included)} reports of {n_studies} included studies"
        t.add_row(path.name, what)
    console.print(t)
    for note in result.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)
