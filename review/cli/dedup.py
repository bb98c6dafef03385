"""``review dedup``: find duplicate records, stand-alone on a file or inside a review's store."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated

import typer

from review.cli.app import DbOption, app, console, err_console, fail

#: Above this many records the run shows a progress bar.
PROGRESS_THRESHOLD = 5000


@app.command()
def dedup(
    input: Annotated[
        Path | None,
        typer.Option(
            "--input",
            "-i",
            help="Records file (CSV, RIS, nbib/txt, BibTeX): stand-alone mode, no review needed.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write ID,cluster_id (stand-alone mode)."),
    ] = None,
    pairs: Annotated[
        Path | None,
        typer.Option(
            "--pairs",
            help="Also write the duplicate and 'maybe' pairs with score, "
            "decision and reason (stand-alone mode).",
        ),
    ] = None,
    undo: Annotated[
        int | None,
        typer.Option("--undo", help="Undo one duplicate link (its id) in the review."),
    ] = None,
    undo_run: Annotated[
        str | None,
        typer.Option("--undo-run", help="Undo every link one earlier run made (its run id)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Find duplicate records.

    With --input and --output: write ID,cluster_id, one row per record of the file.

    With --db: link the review's duplicates to their most complete record.

    Uncertain pairs go on a list for a person; any link can be undone.
    """
    if input is not None or output is not None:
        if db is not None or undo is not None or undo_run is not None:
            raise fail("use either --input/--output (a file) or --db (a review), not both")
        _standalone(input, output, pairs)
        return
    _in_review(db, undo, undo_run)


def _standalone(input: Path | None, output: Path | None, pairs: Path | None) -> None:
    # plain lists from file to file: no pandas or numpy import on this path (see engine)
    from review.dedup.engine import PAIR_COLUMNS, deduplicate
    from review.dedup.read import RecordsFileError, read_records_file

    if input is None or output is None:
        raise fail("stand-alone mode needs both --input RECORDS and --output CLUSTERS.csv")
    started = time.perf_counter()
    try:
        table = read_records_file(input)
    except RecordsFileError as exc:
        raise fail(str(exc)) from exc
    try:
        result = deduplicate(table, progress=table.n >= PROGRESS_THRESHOLD)
    except ValueError as exc:
        raise fail(f"{input.name}: {exc}") from exc
    # write to a temporary name first: a half-written file is never left behind
    _write_csv(["ID", "cluster_id"], zip(result.ids, result.cluster_ids, strict=True), output)
    if pairs is not None:
        _write_csv(PAIR_COLUMNS, result.pairs, pairs)
    n_dup = sum(1 for p in result.pairs if p.decision == "duplicate")
    n_maybe = sum(1 for p in result.pairs if p.decision == "maybe")
    groups = result.duplicate_groups
    console.print(
        f"{table.n:,} records → {len(set(result.cluster_ids)):,} clusters "
        f"({len(groups):,} with duplicates, {sum(len(g) - 1 for g in groups):,} records "
        f"linked); {n_dup:,} duplicate pairs, {n_maybe:,} 'maybe' pairs for a person; "
        f"{result.pairs_compared:,} pairs compared in {time.perf_counter() - started:.1f} s."
    )
    console.print(f"Clusters written to [bold]{output}[/]")
    if pairs is not None:
        console.print(f"Pairs written to [bold]{pairs}[/]")


def _write_csv(header: list[str], rows: Iterable[Sequence[object]], path: Path) -> None:
    tmp = path.with_name(f".{path.name}.part")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise fail(f"{path}: cannot write ({exc.strerror or exc})") from exc


def _in_review(db: str | None, undo: int | None, undo_run: str | None) -> None:
    from review.dedup import store_ops
    from review.store import StoreError, open_store

    try:
        store = open_store(db, create=False)
    except StoreError as exc:
        raise fail(str(exc)) from exc
    if undo is not None:
        try:
            store_ops.undo_link(store, undo, actor="cli")
        except store_ops.DedupStoreError as exc:
            raise fail(str(exc)) from exc
        console.print(f"Duplicate link #{undo} undone; the record is its own again.")
        return
    if undo_run is not None:
        try:
            n = store_ops.undo_run(store, undo_run, actor="cli")
        except store_ops.DedupStoreError as exc:
            raise fail(str(exc)) from exc
        console.print(f"{n:,} duplicate links of run {undo_run} undone.")
        return
    try:
        summary = store_ops.deduplicate_review(store, actor="cli", progress=True)
    except store_ops.DedupStoreError as exc:
        raise fail(str(exc)) from exc
    console.print(
        f"{summary.records:,} records checked, {summary.pairs_compared:,} pairs compared: "
        f"[bold]{summary.links_added:,}[/] new duplicate links "
        f"({summary.links_kept:,} kept from before), "
        f"[bold]{summary.candidates_added:,}[/] uncertain pairs added to the list for a person. "
        f"Run id {summary.run_id} (undo all of it with --undo-run {summary.run_id})."
    )
    if summary.left_apart:
        err_console.print(
            f"{summary.left_apart:,} record pairs were left apart (a person had kept them apart, or the record is linked elsewhere)."
        )
