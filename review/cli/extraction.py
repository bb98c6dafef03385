"""``review forms`` and ``review synthesise``: checking the extraction forms, tabulating mechanisms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from review.cli.app import DbOption, app, console, fail
from review.cli.project import open_review


@app.command()
def forms(
    directory: Annotated[Path | None, typer.Argument(help="Forms folder (default: extraction_forms/).")] = None,
) -> None:
    """Load and validate every extraction form and the codebook; list them with their versions."""
    from review.extraction import FormError, load_forms
    from review.extraction.forms import find_forms_dir

    try:
        folder = directory or find_forms_dir()
        library = load_forms(folder)
    except (FormError, OSError) as exc:
        raise fail(str(exc)) from exc
    t = Table(title=f"Extraction forms in {folder}")
    for col in ("form", "title", "current version", "kept versions", "fields"):
        t.add_column(col)
    for form in library.current():
        versions = ", ".join(str(v) for v in library.versions(form.id))
        t.add_row(form.id, form.title, str(form.version), versions, str(len(form.fields)))
    console.print(t)


@app.command()
def synthesise(
    out: Annotated[Path, typer.Option("--out", help="Folder for the tables and figures.")] = Path("synthesis"),
    db: DbOption = None,
    extractions: Annotated[Path | None, typer.Option(help="Use extractions from a JSON file (e.g. data/demo/extractions.json) instead of a review.")] = None,
) -> None:
    """Mechanism and CMO tables, effect-direction and for-whom tables, SWiM and RoB figures."""
    from review.extraction import load_codebook
    from review.extraction.forms import CODEBOOK_FILE, find_forms_dir
    from review.synthesis.mechanisms import extractions_frame
    from review.synthesis.narrative import write_narrative_synthesis

    if extractions is not None:
        try:
            frame = extractions_frame(json.loads(extractions.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise fail(f"{extractions}: {exc}") from exc
    else:
        from review.report.inputs import extractions_frame as from_store

        frame = from_store(open_review(db))
    if frame.empty:
        raise fail("no final extractions yet: extract the included studies first")
    try:
        codebook = load_codebook(find_forms_dir() / CODEBOOK_FILE)
    except (ValueError, OSError) as exc:
        raise fail(str(exc)) from exc
    paths = write_narrative_synthesis(frame, out, codebook)
    console.print(f"Wrote {len(paths)} files to {out}: " + ", ".join(p.name for p in paths))
