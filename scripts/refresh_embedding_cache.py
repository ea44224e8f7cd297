"""Rebuild data/embedding_cache.npz: the sentence embeddings of every training example (data/danger/
and data/nlu/), so that `make train` on a fresh clone does not spend minutes embedding them.

    python -m scripts.refresh_embedding_cache

Run it after adding many examples, then commit the file. Held-out and validation messages are never
put in it (they are embedded when evaluated).
"""

import sys

from core.danger import normalise, read_training_data
from core.encoder import COMMITTED_CACHE, EmbeddingCache, key
from scripts.choose_danger_thresholds import nlu_texts


def main() -> int:
    texts = sorted({normalise(text) for text, _ in read_training_data()} | {normalise(t) for t in nlu_texts()})
    cache = EmbeddingCache()
    cache.embeddings(texts)
    cache.save(COMMITTED_CACHE, {key(text) for text in texts})
    print(f"{COMMITTED_CACHE}: {len(texts)} embeddings ({cache.added} computed now)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
