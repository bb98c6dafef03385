"""The ranker, the simulation and `review rank`, on small made-up reviews."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from review.cli import app
from review.screening.active import Ranker, RankingError, query_order
from review.screening.simulate import DatasetError, load_dataset, stopping_point
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


def test_ranker_refuses_labels_of_one_kind_only():
    ranker = Ranker.from_records(_review())
    with pytest.raises(RankingError, match="one relevant and one irrelevant"):
        ranker.rank({1: 1, 3: 1})


def test_simulated_screening_finds_the_relevant_records_first():
    df = _review()
    y = df["label_included"].to_numpy()
    order, times = query_order(Ranker.from_records(df), y, [0, 1])
    # the irrelevant prior is the only irrelevant record met before the last relevant one
    assert y[order[: y.sum() + 1]].sum() == y.sum()
    assert len(times) > 0


def test_stopping_rule_stops_only_when_recall_target_is_reached():
    ranked = np.array([1] * 10 + [0] * 300 + [1] + [0] * 300)  # one late relevant record
    stop = stopping_point(ranked, seed=3)
    assert stop.recall >= 10 / 11 and stop.screened > 60  # not at the heuristic alone


HEADER = "record_id,title,abstract,label_included\n"


@pytest.mark.parametrize(("content", "message"), [
    (HEADER + "1,a,x,0\n2,b,y,0\n", "no record has label_included = 1"),
    (HEADER + "1,a,x,1\n1,b,y,0\n", "record_id repeated (1) on lines 2, 3"),
    (HEADER + "1,a,x,1\n2,b,y,yes\n", "line 3 (record 2): label_included must be 0 or 1"),
    ("record_id,abstract\n1,x\n", "missing column(s) title, label_included"),
])
def test_bad_datasets_get_a_clear_message(tmp_path, content, message):
    path = tmp_path / "set.csv"
    path.write_text(content)
    with pytest.raises(DatasetError) as err:
        load_dataset(path)
    assert message in str(err.value) and "set.csv" in str(err.value)


def test_all_missing_abstracts_is_said_not_fatal(tmp_path):
    path = tmp_path / "titles.csv"
    _review().assign(abstract="").to_csv(path, index=False)
    _, notes = load_dataset(path)
    assert any("no record has an abstract" in n for n in notes)


def test_simulate_command_writes_the_order_priors_first(tmp_path):
    path = tmp_path / "set.csv"
    _review().to_csv(path, index=False)
    out = tmp_path / "order.csv"
    result = CliRunner().invoke(app, ["simulate", str(path), "--seed", "2", "--output", str(out),
                                      "--plot", str(tmp_path / "recall.png")])
    assert result.exit_code == 0, result.output
    assert "WSS@95" in result.output and "stopping rule stopped after" in result.output
    order = pd.read_csv(out)["record_id"].tolist()
    assert sorted(order) == list(range(1, 31))
    labels = _review().set_index("record_id").loc[order[:2], "label_included"].tolist()
    assert labels == [1, 0]  # one relevant and one irrelevant prior, first
    assert (tmp_path / "recall.png").stat().st_size > 0


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
