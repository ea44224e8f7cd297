"""The intent model: what a message asks for, in every language at once.

Its quick stage (character and word n-grams) decides when it is sure (top probability at least
`confident_at`); otherwise its probabilities are averaged with those of a classifier of the
message's sentence embedding (multilingual-e5-small, core/encoder.py), which recognises wording and
languages the training examples did not use. (One classifier of both together is a little more
accurate but takes three times as long to train: `make train` must stay under a minute.)
"""

from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np
from sklearn.linear_model import LogisticRegression

from core.text_models import (
    classifier,
    fit_side_by_side,
    load_parts,
    make_features,
    normalise,
    probabilities,
    save_parts,
)

Embed = Callable[[Sequence[str]], np.ndarray]


class IntentModel:
    PARTS = ("features", "quick", "full")

    def __init__(self, features: Any, quick: Any, full: Any, confident_at: float) -> None:
        self.features = features
        self.quick = quick
        self.full = full
        self.confident_at = confident_at

    @property
    def intents(self) -> List[str]:
        return list(self.quick.classes_)

    @classmethod
    def train(
        cls, texts: Sequence[str], intents: Sequence[str], embeddings: Embed, c: float = 10.0, confident_at: float = 0.6
    ) -> "IntentModel":
        normalised = [normalise(text) for text in texts]
        features = make_features()
        sparse, y = features.fit_transform(normalised), np.asarray(intents)
        dense = embeddings(normalised)
        quick, full = fit_side_by_side(
            lambda: classifier(c).fit(sparse, y),
            lambda: LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000).fit(dense, y),
        )
        return cls(features, quick, full, confident_at)

    def probabilities(
        self, texts: Sequence[str], embeddings: Embed, known: Optional[Sequence[Optional[np.ndarray]]] = None
    ) -> Tuple[np.ndarray, List[Optional[np.ndarray]]]:
        """One row of probabilities per text (columns: `intents`), and each text's embedding if it was used."""
        normalised = [normalise(text) for text in texts]
        used = list(known) if known is not None else [None] * len(texts)
        result = np.array([probabilities(self.quick, *self.features.vector(text)) for text in normalised])
        rows = [row for row in range(len(texts)) if result[row].max() < self.confident_at or used[row] is not None]
        missing = [row for row in rows if used[row] is None]
        if missing:
            for row, vector in zip(missing, embeddings([normalised[r] for r in missing]), strict=True):
                used[row] = vector
        for row in rows:
            result[row] = (
                result[row] + probabilities(self.full, np.zeros(0, dtype=np.int64), np.zeros(0), used[row])
            ) / 2
        return result.reshape(len(texts), len(self.intents)), used

    def save(self, directory: Path) -> None:
        save_parts(directory, {name: getattr(self, name) for name in self.PARTS})
        (directory / "confident_at.txt").write_text(repr(self.confident_at), encoding="ascii")

    @classmethod
    def load(cls, directory: Path) -> "IntentModel":
        parts = load_parts(directory, cls.PARTS)
        return cls(**parts, confident_at=float((directory / "confident_at.txt").read_text(encoding="ascii")))
