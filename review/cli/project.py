"""``review init / import / status / export / reviewer``: creating a review and moving records in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from review.cli.app import DbOption, app, console, fail
from review.store import StoreError, open_store, repo
from review.store.models import ROLES, SOURCE_KINDS


def open_review(db: str | None, create: bool = False):
    """The review at ``--db``, or a clean exit with the reason it cannot be opened."""
    try:
        return open_store(db, create=create)
    except StoreError as exc:
        raise fail(str(exc)) from exc


@app.command()
def init(
    db: DbOption = None,
    title: Annotated[str, typer.Option(help="The review's title, shown in the app.")] = "",
    reviewers_per_record: Annotated[int, typer.Option(min=1, max=2)] = 1,
) -> None:
    """Create a new review (a SQLite file, or the schema in a PostgreSQL database)."""
    store = open_review(db, create=True)
    if title:
        repo.set_setting(store, "review_title", title, actor="cli")
    repo.set_setting(store, "reviewers_per_record", reviewers_per_record, actor="cli")
    console.print(f"Review ready at [bold]{store.url}[/]")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="Search export: RIS, PubMed nbib/txt, BibTeX, CSV or XLSX.")],
    source: Annotated[str, typer.Option("--source", help="Source name, e.g. 'PubMed', 'PsycINFO (Ovid)'.")],
    kind: Annotated[str, typer.Option(help=f"One of: {', '.join(SOURCE_KINDS)}.")] = "database",
    search_date: Annotated[str | None, typer.Option(help="When the search was run (free text).")] = None,
    query: Annotated[str | None, typer.Option(help="The search strategy, for the record.")] = None,
    force: Annotated[bool, typer.Option(help="Import a file even if it was imported before.")] = False,
    fmt: Annotated[str | None, typer.Option("--format", help="Override format detection.")] = None,
    db: DbOption = None,
) -> None:
    """Import one search export as a source; the whole file lands or nothing does.

    The file is streamed (any size, bounded memory): a first read hashes it and
    checks its encoding, so a file imported before is refused before it is
    parsed; the second read parses it a chunk of records at a time straight
    into one database transaction, which a bad record anywhere rolls back.
    """
    from review.io import open_stream
    from review.io.errors import ImportFormatError
    from review.io.stream import PROGRESS_BYTES

    if kind not in SOURCE_KINDS:
        raise fail(f"--kind must be one of {', '.join(SOURCE_KINDS)}, not {kind!r}")
    if not file.is_file():
        raise fail(f"{file}: no such file")
    store = open_review(db)
    size = file.stat().st_size
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                  TextColumn("{task.fields[records]:>10,} records"), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=console, disable=size < PROGRESS_BYTES) as bar:
        task = bar.add_task(f"Checking {file.name}", total=size, records=0)
        try:
            stream = open_stream(file, fmt=fmt, on_bytes=lambda k: bar.advance(task, k))
        except ImportFormatError as exc:
            raise fail(str(exc)) from exc
        bar.reset(task, total=size, description=f"Importing {file.name}", records=0)
        try:
            source_id = repo.add_source_streaming(
                store, name=source, kind=kind, file_name=file.name, file_format=stream.fmt,
                sha256=stream.sha256, chunks=stream, missing=stream.missing,
                search_date=search_date, query=query, actor="cli", force=force,
                on_progress=lambda _: bar.update(task, completed=stream.bytes_read,
                                                 records=stream.n_records))
        except ImportFormatError as exc:  # found while reading: nothing was kept
            raise fail(str(exc)) from exc
        except (repo.DuplicateImportError, repo.RepoError) as exc:
            raise fail(str(exc)) from exc
        bar.update(task, completed=size, records=stream.n_records)
    n = stream.n_records
    console.print(f"Imported [bold]{n}[/] records from {file.name} as source "
                  f"[bold]{source}[/] (#{source_id}, {kind}, {stream.fmt}).")
    missing = {k: v for k, v in stream.missing.items() if v}
    if missing:
        console.print("Records missing a field: " +
                      ", ".join(f"{k} {v}" for k, v in sorted(missing.items())))
    for w in stream.warnings[:20]:
        console.print(f"[yellow]warning:[/] {w}")


@app.command()
def status(db: DbOption = None) -> None:
    """Counts per source and per stage."""
    store = open_review(db)
    stages = repo.record_stages(store)
    sources = repo.sources_frame(store)
    t = Table(title="Sources")
    for col in ("source", "kind", "file", "records", "duplicates", "unique"):
        t.add_column(col, justify="right" if col in ("records", "duplicates", "unique") else "left")
    for src in sources.itertuples():
        mine = stages[stages["source_id"] == src.source_id]
        dups = int((mine["stage"] == "duplicate").sum())
        t.add_row(src.name, src.kind, src.file_name, str(src.records), str(dups),
                  str(len(mine) - dups))
    console.print(t)
    s = Table(title="Stages")
    s.add_column("stage")
    s.add_column("records", justify="right")
    for stage, n in stages["stage"].value_counts().sort_index().items():
        s.add_row(str(stage), str(int(n)))
    console.print(s)


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="Output file: .csv, .xlsx or .ris")],
    db: DbOption = None,
    canonical_only: Annotated[bool, typer.Option(help="Leave out records linked as duplicates.")] = False,
) -> None:
    """Export records with their current stage (CSV/XLSX/RIS by the file's extension)."""
    from review.io import export as exporters
    from review.screening.tags import with_tags

    store = open_review(db)
    df = with_tags(store, repo.records_with_stage(store))
    if canonical_only:
        df = df[df["record_id"] == df["canonical_id"]]
    suffix = out.suffix.lower()
    if suffix == ".csv":
        exporters.write_csv(df, out)
    elif suffix == ".xlsx":
        exporters.write_xlsx(df, out)
    elif suffix == ".ris":
        exporters.write_ris(df.to_dict("records"), out)
    else:
        raise fail(f"{out}: export to .csv, .xlsx or .ris")
    console.print(f"Wrote {len(df)} records to {out}")


@app.command()
def reviewer(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, help="Initial password.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES[:2])}.")] = "reviewer",
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    db: DbOption = None,
) -> None:
    """Add a reviewer (or lead) account to the review."""
    store = open_review(db)
    try:
        rid = repo.add_reviewer(store, username, name, role, password, actor="cli")
    except repo.RepoError as exc:
        raise fail(str(exc)) from exc
    console.print(f"Added {role} [bold]{username}[/] (#{rid}).")


def files_dir_for(url: str) -> Path | None:
    """Where a review keeps its PDFs: beside a SQLite file, or $REVIEW_FILES_DIR for a server."""
    from review.store.files import files_location

    return files_location(url)


@app.command("backup")
def backup_cmd(
    out: Annotated[Path, typer.Argument(help="Backup file to write (.zip).")],
    db: DbOption = None,
) -> None:
    """Back up a whole review (every table and its stored PDFs) to one zip file."""
    from review.store.backup import backup

    store = open_review(db)
    counts = backup(store, out, files_dir_for(store.url))
    console.print(f"Backed up {sum(counts.values())} rows in {len(counts)} tables to {out}")


@app.command("restore")
def restore_cmd(
    archive: Annotated[Path, typer.Argument(help="A backup made by `review backup`.")],
    db: DbOption = None,
) -> None:
    """Restore a backup into a new, empty review (SQLite or PostgreSQL)."""
    from review.store.backup import BackupError, restore

    if not archive.is_file():
        raise fail(f"{archive}: no such file")
    store = open_review(db, create=True)
    try:
        counts = restore(store, archive, files_dir_for(store.url))
    except BackupError as exc:
        raise fail(str(exc)) from exc
    console.print(f"Restored {sum(counts.values())} rows into {store.url}")


def _serve(url: str, port: int) -> int:
    """Run the Streamlit app (shipped inside the package) on the review at ``url``."""
    import os
    import subprocess
    import sys

    from review.resources import app_script

    # postScriptGC: see .streamlit/config.toml (a full collection after every script run
    # held up the next record by 100-300 ms on a big review). The URL goes through the
    # environment, not the command line, so a PostgreSQL password never shows in `ps`.
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_script()), "--server.port",
           str(port), "--browser.gatherUsageStats", "false", "--runner.postScriptGC", "false",
           # No "Deploy" button or developer menu for anyone (as in .streamlit/config.toml).
           "--client.toolbarMode", "minimal"]
    console.print(f"Opening the app at http://localhost:{port} (Ctrl+C to stop)")
    return subprocess.call(cmd, env={**os.environ, "REVIEW_DATABASE_URL": url})


@app.command("app")
def app_cmd(
    db: DbOption = None,
    port: Annotated[int, typer.Option(help="Port the app listens on.")] = 8501,
) -> None:
    """Open the screening app on a review (the same database rule as every command)."""
    store = open_review(db)
    url = store.url
    store.close()
    raise typer.Exit(_serve(url, port))


@app.command()
def demo(
    db: DbOption = None,
    serve: Annotated[bool, typer.Option(help="Open the screening app on the demo review afterwards.")] = False,
    rebuild: Annotated[bool, typer.Option(help="Replace an existing demo review at --db.")] = False,
    port: Annotated[int, typer.Option(help="Port for the app with --serve.")] = 8501,
) -> None:
    """Build the bundled demo review (synthetic records) and optionally open the app on it.

    Like every command it works on ``--db``, else $REVIEW_DATABASE_URL, else ./review.db;
    a review there that is not the demo is left alone.
    """
    from review.demo import DEMO_DIR, build_demo, is_demo
    from review.store import resolve_url

    url = resolve_url(db)
    path = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    exists = path is not None and path.exists()
    if exists and not is_demo(url):
        raise fail(f"{path} holds a review that is not the demo; leaving it alone "
                   "(pass --db to build the demo elsewhere)")
    if exists and rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        exists = False
    if exists:
        console.print(f"Using the demo review already at {path} (--rebuild to start afresh).")
    else:
        # Build beside the target and move it into place at the end, so an interrupted
        # build never leaves a half-made demo that the next run would mistake for a review.
        target = f"{path}.building" if path is not None else url
        if path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
        try:
            store = build_demo(target, data_dir=DEMO_DIR, say=lambda m: console.print(f"  {m}"))
        except ValueError as exc:
            raise fail(str(exc)) from exc
        store.close()
        if path is not None:
            Path(target).replace(path)
        console.print(f"Demo review ready at [bold]{path or 'the database'}[/]. Accounts: lead/lead-demo, "
                      "ana/ana-demo, ben/ben-demo.")
    if serve:
        raise typer.Exit(_serve(url, port))
