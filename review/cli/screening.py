"""``review simulate`` and ``review rank``: evaluate the ranker, and rank a review's records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from review.cli.app import DbOption, app, console, fail
from review.cli.project import open_review


@app.command()
def simulate(
    dataset: Annotated[Path, typer.Argument(help="Labelled CSV: record_id, title, abstract, keywords, label_included.")],
    seed: Annotated[int, typer.Option(help="Seed for the priors (and exploration).")] = 1,
    prior_included: Annotated[int, typer.Option(min=1)] = 1,
    prior_excluded: Annotated[int, typer.Option(min=1)] = 1,
    output: Annotated[Path | None, typer.Option(help="Write the screening order (record_id) here.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Draw the recall curve (PNG) here.")] = None,
    label: Annotated[str, typer.Option(help="Column holding the 0/1 relevance label.")] = "label_included",
    explore: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of random picks.")] = 0.0,
) -> None:
    """Replay a labelled dataset through the ranker and print WSS@95, Recall@10%, ATD."""
    import numpy as np
    import pandas as pd

    from review.screening.simulate import DatasetError, load_dataset, plot_recall
    from review.screening.simulate import simulate as run

    try:
        df, notes = load_dataset(dataset, label)
    except DatasetError as exc:
        raise fail(str(exc)) from exc
    for note in notes:
        console.print(f"[yellow]note:[/] {note}")
    sim = run(df, seed, prior_included, prior_excluded, label, explore)
    m = sim.metrics
    t = Table(title=f"{dataset.name}, seed {seed}")
    t.add_column("measure")
    t.add_column("value", justify="right")
    times = np.array(sim.update_seconds) if sim.update_seconds else np.array([0.0])
    for name, value in (("records", f"{m.n}"), ("relevant", f"{m.relevant}"),
                        ("WSS@95", f"{m.wss95:.3f}"), ("Recall@10%", f"{m.recall_at_10:.3f}"),
                        ("ATD", f"{m.atd:.3f}"),
                        ("stopping rule stopped after", f"{sim.stop.screened} records"),
                        ("recall reached there", f"{sim.stop.recall:.3f}"),
                        ("model updates", f"{len(sim.update_seconds)}"),
                        ("time per update, mean / max", f"{times.mean() * 1000:.1f} / {times.max() * 1000:.1f} ms")):
        t.add_row(name, value)
    console.print(t)
    if output:
        pd.DataFrame({"record_id": sim.record_ids}).to_csv(output, index=False)
        console.print(f"Wrote the screening order to {output}")
    if plot:
        plot_recall(sim, plot, title=f"{dataset.stem}, seed {seed}")
        console.print(f"Drew the recall curve to {plot}")


@app.command()
def rank(db: DbOption = None) -> None:
    """Fit on the title/abstract decisions so far and store a ranking for the app's queue."""
    from review.screening.store_ops import rank_store

    summary = rank_store(open_review(db))
    console.print(f"Ranked {summary['ranked']} unscreened records "
                  f"({summary.get('labelled', 0)} labelled, {summary.get('relevant', 0)} relevant; "
                  f"{summary['model']}).")
