"""Choose the FallbackClassifier's threshold by cross-validation on the training examples (data/nlu/).

    python -m scripts.choose_fallback_threshold

Each fold's intent model (core/intents.py, as `make train` builds it) classifies the examples it
was not trained on. Below the threshold the assistant asks "did you mean"; above it, it answers.
The choice: the highest threshold at which at most MAX_LOST of the answers that would have been
right become "did you mean" (a wrong answer still points to an official channel; a "did you mean"
costs the person a click). Prints the table and the choice.
"""

import sys

import numpy as np
from sklearn.model_selection import StratifiedKFold

from core.encoder import EmbeddingCache
from core.intents import IntentModel
from scripts.choose_danger_thresholds import ROOT

MAX_LOST = 0.05
GRID = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
FOLDS = 4


def intent_examples():
    from rasa.shared.nlu.training_data.loading import load_data

    training = load_data(str(ROOT / "data" / "nlu"))
    return [(m.get("text"), m.get("intent")) for m in training.intent_examples]


def main() -> int:
    import yaml

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    config = next(step for step in pipeline if step["name"].endswith("IntentClassifier"))
    texts, intents = (np.array(column) for column in zip(*intent_examples(), strict=True))
    cache = EmbeddingCache()
    top, right = [], []
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(texts, intents):
        model = IntentModel.train(list(texts[train]), list(intents[train]), cache.embeddings,
                                  c=float(config["c"]), confident_at=float(config["confident_at"]))  # fmt: skip
        probabilities, _ = model.probabilities(list(texts[test]), cache.embeddings)
        top += list(probabilities.max(axis=1))
        right += list(np.array(model.intents)[probabilities.argmax(axis=1)] == intents[test])
    top, right = np.array(top), np.array(right)
    print(f"{len(texts)} examples, {FOLDS}-fold; right on the examples left out: {right.mean():.1%}")
    chosen = GRID[0]
    for threshold in GRID:
        answered = top >= threshold
        lost = float((right & ~answered).sum() / right.sum())
        wrong = float((~right & answered).sum() / max(answered.sum(), 1))
        print(f"  threshold {threshold}: answered {answered.mean():.1%}, wrong among answered {wrong:.1%}, "
              f"right answers lost to 'did you mean' {lost:.1%}")  # fmt: skip
        if lost <= MAX_LOST:
            chosen = threshold
    print(f"chosen: {chosen} (the highest with at most {MAX_LOST:.1%} of right answers lost); set it in config.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
