"""The ranker, the simulation and `review rank`, on small made-up reviews."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import check_random_state
from typer.testing import CliRunner

from review.cli import app
from review.screening.active import Ranker, RankingError
from review.screening.components import MODELS
from review.screening.metrics import wss
from review.screening.simulate import DatasetError, load_dataset, simulate
from review.store import repo

RELEVANT = ("Peer mentoring reduced loneliness in adolescents at school",
            "Mentoring programme for lonely young people improves belonging",
            "Peer support groups lessen loneliness among young carers",
            "School-based mentoring and adolescent loneliness: a trial")
IRRELEVANT = ("Statin therapy in older adults with hypertension",
              "Hip fracture surgery outcomes in elderly women",
              "Insulin pump use in adults with type 2 diabetes",
              "Antibiotic prophylaxis before dental extraction")


def _review(n_each: int = 15) -> pd.DataFrame:
    rows = []
    for i in range(n_each):
        rows.append({"title": RELEVANT[i % 4] + f" ({i})",
                     "abstract": "Young people reported less loneliness and more social support.",
                     "keywords": "loneliness; mentoring", "label_included": 1})
        rows.append({"title": IRRELEVANT[i % 4] + f" ({i})",
                     "abstract": "Adults were followed for cardiovascular and surgical outcomes.",
                     "keywords": "adults; surgery", "label_included": 0})
    df = pd.DataFrame(rows)
    df.insert(0, "record_id", range(1, len(df) + 1))
    return df


def test_ranker_puts_records_like_the_included_ones_first():
    df = _review()
    ranker = Ranker.from_records(df)
    ranking = ranker.rank({1: 1, 2: 0})  # one relevant, one irrelevant prior
    top = ranking.head(10)["record_id"]
    relevant = set(df.loc[df["label_included"] == 1, "record_id"])
    assert set(top) <= relevant
    assert list(ranking["rank"]) == list(range(1, len(df) - 1))
    assert not set(ranking["record_id"]) & {1, 2}  # labelled records are not re-offered


@pytest.mark.parametrize("model", sorted(MODELS))
def test_the_same_labels_give_the_same_ranking_whatever_numpy_global_state(model):
    """A simulation with a seed, or the app's refit in any process, ranks the same records
    the same way: no fit may draw from NumPy's global generator."""
    rng = np.random.default_rng(4)
    words = [f"w{i}" for i in range(300)]
    df = _review(40).assign(abstract=lambda d: [
        a + " " + " ".join(rng.choice(words, 30)) for a in d["abstract"]])
    ranker = Ranker.from_records(df, model=model)
    labels = {int(r): int(v) for r, v in zip(df["record_id"][:50], df["label_included"][:50],
                                              strict=True)}
    runs = []
    for state in (1, 2, 3):
        np.random.seed(state)
        runs.append(ranker.rank(labels)["score"].to_numpy())
    assert all(np.array_equal(runs[0], r) for r in runs[1:])


def test_simulate_reports_every_record_screened_to_the_progress_bar():
    df = _review(20)
    steps: list[tuple[int, int]] = []
    sim = simulate(df, 1, on_step=lambda screened, found: steps.append((screened, found)))
    screened = [s for s, _ in steps]
    assert screened == list(range(3, len(steps) + 3))  # one call per record after the priors
    assert [f for _, f in steps] == np.cumsum(sim.labels_in_order)[2:len(steps) + 2].tolist()
    assert steps[-1][1] == 20  # the run ends when the last relevant record is found


def test_simulate_command_runs_with_its_progress_bar_shown(tmp_path, monkeypatch):
    import review.cli.screening as cli_screening

    monkeypatch.setattr(cli_screening, "SIMULATE_PROGRESS_RECORDS", 0)
    path = tmp_path / "set.csv"
    _review(20).to_csv(path, index=False)
    result = CliRunner().invoke(app, ["simulate", str(path), "--summary",
                                      str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "s.json").read_text())["relevant"] == 20


def test_ranker_refuses_labels_of_one_kind_only():
    ranker = Ranker.from_records(_review())
    with pytest.raises(RankingError, match="one relevant and one irrelevant"):
        ranker.rank({1: 1, 3: 1})


def test_simulated_screening_finds_the_relevant_records_first():
    df = _review()
    sim = simulate(df, seed=1, stopping="knee")
    y = sim.labels_in_order
    # the irrelevant prior is the only irrelevant record met before the last relevant one
    assert y[: y.sum() + 1].sum() == y.sum()
    assert len(sim.update_seconds) > 0 and sorted(sim.record_ids) == list(range(1, 31))


@pytest.mark.parametrize("model", ["svm", "svm-words", "logistic", "nb", "svm-explore",
                                   "svm-minilm"])
def test_every_registered_model_ranks_relevant_records_ahead(model):
    df = _review()
    ranker = Ranker.from_records(df, model=model)
    top = ranker.rank({1: 1, 2: 0}).head(8)["record_id"]
    relevant = set(df.loc[df["label_included"] == 1, "record_id"])
    assert len(set(top) & relevant) >= 6


def test_unknown_model_or_rule_is_named_in_the_error(tmp_path):
    path = tmp_path / "set.csv"
    _review().to_csv(path, index=False)
    for flag, name in (("--model", "bert"), ("--stopping", "after-50")):
        result = CliRunner().invoke(app, ["simulate", str(path), flag, name])
        assert result.exit_code != 0 and name in result.output


HEADER = "record_id,title,abstract,label_included\n"


@pytest.mark.parametrize(("content", "message"), [
    (HEADER + "1,a,x,0\n2,b,y,0\n", "no record has label_included = 1"),
    (HEADER + "1,a,x,1\n1,b,y,0\n", "record_id repeated (1) on lines 2, 3"),
    (HEADER + "1,a,x,1\n2,b,y,yes\n", "line 3 (record 2): label_included must be 0 or 1"),
    ("record_id,abstract\n1,x\n", "missing column(s) label_included"),
    ("record_id,keywords,label_included\n1,x,1\n", "missing column(s) title"),
])
def test_bad_datasets_get_a_clear_message(tmp_path, content, message):
    path = tmp_path / "set.csv"
    path.write_text(content)
    with pytest.raises(DatasetError) as err:
        load_dataset(path)
    assert message in str(err.value) and "set.csv" in str(err.value)


@pytest.mark.parametrize(("header", "said"), [
    # SYNERGY's files: no record_id, an OpenAlex id instead
    ("openalex_id,title,abstract,label_included", "numbered by row"),
    # ASReview's other names for the label and the title, in other cases and spacing
    ("record_id,Primary Title,Abstract,included", "'included' as label_included"),
    ("record_id,title,abstract,Final_Included", "'Final_Included' as label_included"),
])
def test_labelled_sets_with_other_column_names_load(tmp_path, header, said):
    path = tmp_path / "other.csv"
    path.write_text(header + "\nW1,Peer mentoring,loneliness in school,1\n"
                    "W2,Bridge design,steel loads,0\nW3,Buddy schemes,belonging,1\n")
    df, notes = load_dataset(path)
    assert list(df["label_included"]) == [1, 0, 1]
    assert list(df["title"]) == ["Peer mentoring", "Bridge design", "Buddy schemes"]
    assert list(df["abstract"]) == ["loneliness in school", "steel loads", "belonging"]
    assert any(said in n and "other.csv" in n for n in notes), notes
    if "record_id" not in header:
        assert list(df["record_id"]) == ["1", "2", "3"]


def test_a_label_column_named_by_the_user_is_not_guessed(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text("record_id,title,included\n1,a,1\n2,b,0\n")
    with pytest.raises(DatasetError, match="missing column"):
        load_dataset(path, label="final_label")


def test_all_missing_abstracts_is_said_not_fatal(tmp_path):
    path = tmp_path / "titles.csv"
    _review().assign(abstract="").to_csv(path, index=False)
    _, notes = load_dataset(path)
    assert any("no record has an abstract" in n for n in notes)


@pytest.mark.parametrize(("stopping", "warns"), [("default", True), ("counting", True),
                                                 ("floor", False), ("sample", False)])
def test_simulate_warns_that_the_counting_rule_is_risky_without_abstracts(tmp_path, stopping,
                                                                          warns):
    path = tmp_path / "titles.csv"
    _review().assign(abstract="").to_csv(path, index=False)
    result = CliRunner().invoke(app, ["simulate", str(path), "--stopping", stopping])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert ("30 of 30 records have no abstract" in text) == warns
    if warns:
        assert "`floor`" in text


@pytest.mark.parametrize("stopping", ["counting", "sample", "knee"])
def test_simulate_command_writes_order_and_summary(tmp_path, stopping):
    path = tmp_path / "set.csv"
    _review(40).to_csv(path, index=False)
    out, summary = tmp_path / "order.csv", tmp_path / "summary.json"
    result = CliRunner().invoke(app, [
        "simulate", str(path), "--seed", "2", "--prior-included", "1", "--prior-excluded", "1",
        "--output", str(out), "--summary", str(summary), "--stopping", stopping,
        "--plot", str(tmp_path / "recall.png")])
    assert result.exit_code == 0, result.output
    assert "WSS@95" in result.output and "stopping rule stopped" in result.output
    order = pd.read_csv(out)
    assert sorted(order["record_id"]) == list(range(1, 81))  # every record, once
    truth = _review(40).set_index("record_id")["label_included"]
    assert truth.loc[order["record_id"][:2]].tolist() == [1, 0]  # the priors, first
    # the same prior records ASReview LAB picks with --prior-seed 2: each class drawn with
    # its own scikit-learn random state of the seed, over the rows in file order
    y = truth.to_numpy()
    asreview_rows = [check_random_state(2).choice(np.flatnonzero(y == k), 1, replace=False)[0]
                     for k in (1, 0)]
    assert order["record_id"][:2].tolist() == truth.index[asreview_rows].tolist()
    assert (order["label_included"].to_numpy() == truth.loc[order["record_id"]].to_numpy()).all()
    info = json.loads(summary.read_text())
    for key in ("stop_position", "target_recall", "wss95", "recall10", "atd",
                "update_ms_median"):
        assert key in info
    assert info["target_recall"] == 0.95
    y = order["label_included"].to_numpy()
    assert info["wss95"] == pytest.approx(wss(y, 0.95))
    assert info["random_draws"] == int(order["random_draw"].sum())
    if stopping != "sample":
        assert info["random_draws"] == 0
    if info["stop_position"] is not None:  # recall at stop is the share found by then
        assert info["recall_at_stop"] == pytest.approx(y[:info["stop_position"]].sum() / 40)
    assert (tmp_path / "recall.png").stat().st_size > 0


def test_sample_rule_draws_records_at_random_and_counts_them_as_screened():
    # a review whose ranking has an easy half and a hidden half: the sample must be drawn
    df = _review(60)
    sim = simulate(df, seed=4, stopping="sample")
    assert sim.random_draw.sum() > 0
    assert sim.stop_position is not None
    # random draws happen before the stop and are part of the screened count
    assert sim.random_draw[:sim.stop_position].sum() == sim.random_draw.sum()
    assert sim.recall_at_stop >= 0.95


def test_rank_stores_a_ranking_of_unscreened_canonical_records(store):
    df = _review(6)
    repo.add_source(store, name="PsycInfo", kind="database", file_name="p.ris",
                    file_format="ris", sha256="c" * 64,
                    records=[{"title": t, "abstract": a, "keywords": [k]}
                             for t, a, k in zip(df["title"], df["abstract"], df["keywords"],
                                                strict=True)])
    ids = repo.records_frame(store)["record_id"].astype(int).tolist()
    repo.link_duplicate(store, ids[5], ids[3])  # a duplicate is never ranked
    ana = repo.add_reviewer(store, "ana", password="x")
    repo.add_decision(store, record_id=ids[0], reviewer_id=ana, stage="title_abstract",
                      label="include")
    repo.add_decision(store, record_id=ids[1], reviewer_id=ana, stage="title_abstract",
                      label="exclude", reason="Wrong population")
    from review.screening import store_rank
    from review.store.models import Ranking

    summary = store_rank(store)
    assert summary["ranked"] == len(ids) - 3 and summary["relevant"] == 1
    with store.session() as s:
        from sqlalchemy import select

        ranked = s.execute(select(Ranking.record_id).where(Ranking.run_id == summary["run_id"])
                           .order_by(Ranking.rank)).scalars().all()
    assert ids[5] not in ranked and ids[0] not in ranked
    relevant_ids = {ids[i] for i in range(0, len(ids), 2)}
    assert ranked[0] in relevant_ids


def test_random_sampling_phase_hands_out_a_fixed_random_order(sqlite_store):
    from review.screening import store_rank
    from review.screening.store_ops import RANDOM_SAMPLING

    df = _review(20)
    repo.add_source(sqlite_store, name="Scopus", kind="database", file_name="s.csv",
                    file_format="csv", sha256="d" * 64,
                    records=[{"title": t, "abstract": a} for t, a in
                             zip(df["title"], df["abstract"], strict=True)])
    ids = repo.records_frame(sqlite_store)["record_id"].astype(int).tolist()
    ana = repo.add_reviewer(sqlite_store, "ana", password="x")
    for rid, label in ((ids[0], "include"), (ids[1], "exclude")):
        repo.add_decision(sqlite_store, record_id=rid, reviewer_id=ana,
                          stage="title_abstract", label=label)
    ranked = store_rank(sqlite_store)
    repo.set_setting(sqlite_store, "sampling_start", 2)
    first, second = store_rank(sqlite_store), store_rank(sqlite_store)
    assert ranked["model"] != RANDOM_SAMPLING and first["model"] == RANDOM_SAMPLING

    def order(run_id):
        from sqlalchemy import select

        from review.store.models import Ranking

        with sqlite_store.session() as s:
            return s.scalars(select(Ranking.record_id).where(Ranking.run_id == run_id)
                             .order_by(Ranking.rank)).all()

    assert order(first["run_id"]) == order(second["run_id"])  # the same random sequence
    labels = [int(r % 2 == 1) for r in order(first["run_id"])]  # odd ids are relevant here
    assert labels[:10] != sorted(labels, reverse=True)[:10]  # not the model's relevant-first


def test_the_leads_model_choice_is_used_for_the_ranking(sqlite_store):
    from review.screening import store_rank
    from review.screening.components import MODELS, available_models

    names = [name for name, _ in available_models()]
    # the default first: the sentence-vector model, whose extra the tests install
    assert names[0] == "svm-minilm" and set(names) == set(MODELS)
    df = _review(8)
    repo.add_source(sqlite_store, name="Scopus", kind="database", file_name="s.csv",
                    file_format="csv", sha256="e" * 64,
                    records=[{"title": t, "abstract": a} for t, a in
                             zip(df["title"], df["abstract"], strict=True)])
    ids = repo.records_frame(sqlite_store)["record_id"].astype(int).tolist()
    ana = repo.add_reviewer(sqlite_store, "ana", password="x")
    for rid, label in ((ids[0], "include"), (ids[1], "exclude")):
        repo.add_decision(sqlite_store, record_id=rid, reviewer_id=ana,
                          stage="title_abstract", label=label)
    repo.set_setting(sqlite_store, "ranking_model", "nb")
    assert store_rank(sqlite_store)["model"] == MODELS["nb"].description


def test_error_messages_print_square_brackets_as_written(tmp_path):
    """A file called "refs[old].csv" is named as it is, not read as console markup."""
    path = tmp_path / "refs[old].csv"
    path.write_text("title,abstract\nA,B\n")
    result = CliRunner().invoke(app, ["simulate", str(path)])
    assert result.exit_code != 0 and "refs[old].csv" in result.output


def test_every_models_description_fits_the_column_a_ranking_run_stores_it_in():
    """PostgreSQL refuses a longer value (SQLite would keep it): a refit would fail there."""
    from review.screening.store_ops import RANDOM_SAMPLING
    from review.store.models import RankingRun

    limit = RankingRun.__table__.c.model.type.length
    assert all(len(m.description) <= limit for m in MODELS.values())
    assert len(RANDOM_SAMPLING) <= limit
