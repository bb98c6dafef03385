"""``review simulate`` and ``review rank``: evaluate the ranker, and rank a review's records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
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
from review.cli.project import open_review

#: Reviews at least this big show a progress bar while simulating (smaller ones finish in seconds).
SIMULATE_PROGRESS_RECORDS = 2_000


@app.command()
def simulate(
    dataset: Annotated[Path, typer.Argument(help="Labelled CSV: record_id, title, abstract, keywords, label_included.")],
    seed: Annotated[int, typer.Option(help="Seed for the priors and the stopping rule's random draws.")] = 1,
    prior_included: Annotated[int, typer.Option(min=1)] = 1,
    prior_excluded: Annotated[int, typer.Option(min=1)] = 1,
    output: Annotated[Path | None, typer.Option(help="Write every record in screening order here (CSV; random draws marked).")] = None,
    summary: Annotated[Path | None, typer.Option(help="Write the metrics and the stop (JSON) here.")] = None,
    model: Annotated[str, typer.Option(help="Registered model (see `review models`; the default is svm-minilm where the embed extra is installed, svm elsewhere).")] = "default",
    stopping: Annotated[str, typer.Option(help="Stopping rule: counting (default), floor, sample or knee (`review models` says what each does).")] = "default",
    target_recall: Annotated[float, typer.Option(min=0.5, max=0.999)] = 0.95,
    keywords: Annotated[bool, typer.Option(help="Use the keywords column (--no-keywords: title and abstract only).")] = True,
    plot: Annotated[Path | None, typer.Option(help="Draw the recall curve (PNG) here.")] = None,
    label: Annotated[str, typer.Option(help="Column holding the 0/1 relevance label.")] = "label_included",
) -> None:
    """Replay a labelled dataset through the ranker and the stopping rule; print the metrics."""
    from review.screening.components import MODELS, get_model, missing_requirement
    from review.screening.rules import RULES, weak_ranking_note
    from review.screening.simulate import DatasetError, load_dataset, plot_recall
    from review.screening.simulate import simulate as run

    if model not in ("default", *MODELS):
        raise fail(f"unknown model {model!r}; choose one of {', '.join(sorted(MODELS))}")
    if model != "default" and (reason := missing_requirement(model)):
        raise fail(f"model {model!r}: {reason}")
    if stopping not in ("default", *RULES):
        raise fail(f"unknown stopping rule {stopping!r}; choose one of {', '.join(sorted(RULES))}")
    try:
        df, notes = load_dataset(dataset, label)
    except DatasetError as exc:
        raise fail(str(exc)) from exc
    if not keywords:
        df = df.assign(keywords="")
    weak = weak_ranking_note(len(df), int((df["abstract"].astype(str).str.strip() == "").sum()),
                             None if stopping == "default" else stopping)
    for note in [*notes, *([weak] if weak else [])]:
        console.print(f"[yellow]note:[/] {escape(note)}")
    relevant = int(df[label].sum())
    embeds = get_model(model).feature_config().embedding_weight > 0
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                  TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
                  console=console, transient=True,
                  disable=len(df) < SIMULATE_PROGRESS_RECORDS and not embeds) as bar:
        # a model with sentence vectors embeds every record first (once: they are cached)
        embedding = bar.add_task("Embedding records", total=None, visible=False, detail="")
        # the run ends when every relevant record is found: the bar shows how close that is
        task = bar.add_task("Simulating", total=max(relevant, 1), detail="",
                            visible=len(df) >= SIMULATE_PROGRESS_RECORDS)

        def embedded(done: int, total: int) -> None:
            bar.update(embedding, completed=done, total=total, visible=True,
                       detail=f"{done:,} of {total:,} not yet cached")

        def stepped(screened: int, found: int) -> None:
            bar.update(task, completed=found,
                       detail=f"{screened:>8,} records screened, {found:,} of {relevant:,} "
                              "relevant found")

        sim = run(df, seed, prior_included, prior_excluded, label, model=model,
                  stopping=stopping, target=target_recall, on_step=stepped, on_embed=embedded)
    info = sim.summary()
    t = Table(title=f"{dataset.name}, seed {seed}, model {sim.model}, stopping rule {sim.stopping}")
    t.add_column("measure")
    t.add_column("value", justify="right")
    stop = ("never (screened everything)" if sim.stop_position is None
            else f"after {sim.stop_position} of {info['records']} records "
                 f"({info['random_draws']} random draws), recall {sim.recall_at_stop:.3f}")
    median = info["update_ms_median"]
    for name, value in (("records", f"{info['records']}"), ("relevant", f"{info['relevant']}"),
                        ("WSS@95", f"{info['wss95']:.3f}"), ("Recall@10%", f"{info['recall10']:.3f}"),
                        ("ATD", f"{info['atd']:.3f}"), ("stopping rule stopped", stop),
                        ("model updates", f"{info['model_updates']}"),
                        ("time per update, median", "-" if median is None else f"{median:.1f} ms")):
        t.add_row(name, value)
    console.print(t)
    sim.write(output, summary)
    if output:
        console.print(f"Wrote the screening order to {output}")
    if summary:
        console.print(f"Wrote the summary to {summary}")
    if plot:
        plot_recall(sim, plot, title=f"{dataset.stem}, seed {seed}")
        console.print(f"Drew the recall curve to {plot}")


@app.command()
def models() -> None:
    """List the registered ranking models and stopping rules."""
    from review.screening.components import MODELS, available_models, missing_requirement
    from review.screening.rules import DEFAULT_RULE, RULES

    t = Table(title="Models (--model)")
    t.add_column("name")
    t.add_column("what it is")
    first = available_models()[0][0]
    for name in [first, *sorted(n for n in MODELS if n != first)]:
        reason = missing_requirement(name)
        t.add_row(name + (" (default)" if name == first else ""),
                  escape(MODELS[name].description + (f" — not here: {reason}" if reason else "")))
    console.print(t)
    r = Table(title="Stopping rules (--stopping)")
    r.add_column("name")
    r.add_column("what it is")
    for name, rule in RULES.items():
        r.add_row(name + (" (default)" if name == DEFAULT_RULE else ""), rule.description)
    console.print(r)


@app.command()
def rank(db: DbOption = None) -> None:
    """Fit on the title/abstract decisions so far and store a ranking for the app's queue."""
    from review.screening.store_ops import rank_store

    summary = rank_store(open_review(db))
    console.print(f"Ranked {summary['ranked']} unscreened records "
                  f"({summary.get('labelled', 0)} labelled, {summary.get('relevant', 0)} relevant; "
                  f"{summary['model']}).")


@app.command()
def embed(db: DbOption = None) -> None:
    """Embed every record to screen now (sentence vectors for the default ranking model).

    With a progress bar, on every core, instead of 2,000 per refit while reviewers screen."""
    from review.screening.components import DEFAULT_MODEL, missing_requirement
    from review.screening.store_ops import embed_review

    reason = missing_requirement(DEFAULT_MODEL)
    if reason:
        raise fail(reason)
    store = open_review(db)
    with Progress(TextColumn("Embedding records"), BarColumn(), TaskProgressColumn(),
                  TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task("embed", total=None)
        done, total = embed_review(
            store, on_progress=lambda n, of: bar.update(task, completed=n, total=of))
    console.print(f"{total:,} records have their sentence vectors ({done:,} embedded now, "
                  "the rest were cached).")
