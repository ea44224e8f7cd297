"""The danger-now decision: does a message describe danger that is happening now?

Decided from two signals, both changeable by staff without Python:
- the emergency patterns (core/emergency.py, catalogue/emergency.yml), read again when edited;
- the danger model (DangerModel): a classifier of danger now against everything else, trained at
  `make train` on its own data (data/danger/: danger now, near-misses and everyday chat, every
  language) and on the NLU examples (`emergency` against every other intent). Its thresholds are
  chosen on validation/danger/ (scripts/choose_danger_thresholds.py) and set in config.yml.
The intent classifier's guess is never enough on its own. A follow-up that turns an earlier
worrying message into danger now is decided with the conversation (`escalates`).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import yaml

from core import emergency, yaml_data
from core.text_models import (
    classifier,
    fit_side_by_side,
    join,
    load_parts,
    make_features,
    normalise,
    probabilities,
    save_parts,
)

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data" / "danger"
LABELS = {"danger_now": 1, "near_misses": 0, "everyday_chat": 0}


class DangerDataError(ValueError):
    """A mistake in a danger training file, naming the file and what is wrong."""


def read_file(path: Path) -> List[Tuple[str, int]]:
    try:
        raw = yaml_data.load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise DangerDataError(f"{path}: cannot read it: {error}") from None
    if not isinstance(raw, dict) or not raw or not set(raw) <= set(LABELS):
        raise DangerDataError(f"{path}: expected one or more of the lists {', '.join(LABELS)}")
    examples = []
    for section, texts in raw.items():
        if not isinstance(texts, list) or not all(isinstance(text, str) and text.strip() for text in texts):
            raise DangerDataError(f"{path}: '{section}' must be a list of non-empty texts")
        examples += [(text, LABELS[section]) for text in texts]
    return examples


def read_training_data(directory: Path = DATA_DIR) -> List[Tuple[str, int]]:
    """(text, 1 for danger now / 0 for anything else) from every .yml file under the folder."""
    files = sorted(directory.rglob("*.yml"))
    if not files:
        raise DangerDataError(f"{directory}: no danger training files (*.yml)")
    return [example for path in files for example in read_file(path)]


@dataclass(frozen=True)
class Thresholds:
    """Scores of the danger model (0 to 1) at which it decides, chosen on the validation split."""

    model: float  # danger now on the model alone (unless the patterns say past or hypothetical)
    maybe: float  # a `maybe_danger` pattern counts when the model gives at least this
    concern: float  # an earlier message this worrying makes an escalating follow-up danger now
    calm: float = 0.99  # danger now on the model alone though the patterns say past (never "never")


@dataclass(frozen=True)
class Verdict:
    now: bool
    score: float
    reason: str  # "patterns", "model", or "" when not danger now
    concern: bool  # worrying, though not danger now: a follow-up that escalates it is (see `escalates`)
    escalation: bool  # says someone is arriving, present or getting worse

    def as_dict(self) -> Dict[str, Any]:
        return {
            "now": self.now,
            "score": round(self.score, 4),
            "reason": self.reason,
            "concern": self.concern,
            "escalation": self.escalation,
        }


def decide(text: str, score: float, patterns: emergency.EmergencyPatterns, thresholds: Thresholds) -> Verdict:
    return decide_from(emergency.matches(text, patterns), score, thresholds)


def decide_from(found: emergency.Found, score: float, thresholds: Thresholds) -> Verdict:
    """The decision from what the patterns found and the model's score."""
    calm = found.not_now and not found.urgent
    if found.danger and (found.urgent or not found.not_now):
        reason = "patterns"
    elif found.maybe_danger and score >= thresholds.maybe and not calm:
        reason = "patterns"
    elif score >= (thresholds.calm if calm else thresholds.model):
        reason = "model"
    else:
        reason = ""
    concern = score >= thresholds.concern or found.danger or found.maybe_danger
    return Verdict(bool(reason), score, reason, concern, found.escalation and not calm)


def escalates(latest: Optional[Dict[str, Any]], earlier: Iterable[Optional[Dict[str, Any]]]) -> bool:
    """A follow-up that says someone is arriving or present ("he's outside my door now"), after a
    worrying message in the same conversation ("my ex keeps messaging me"), is danger now. A message
    without that ("thanks", "ok") never is, however alarming the earlier ones were."""
    if not latest or latest.get("now") or not latest.get("escalation"):
        return False
    return any(verdict and (verdict.get("now") or verdict.get("concern")) for verdict in earlier)


class DangerModel:
    """Two stages, trained on every language at once (core/text_models.py). The quick stage scores
    every message in about a millisecond; a message it does not rule out (quick score at least
    `gate`) is scored again with its sentence embedding added, which tells danger from everyday chat
    far better on text unlike the training data."""

    PARTS = ("features", "quick", "full")

    def __init__(self, features: Any, quick: Any, full: Any, gate: float) -> None:
        self.features = features
        self.quick = quick
        self.full = full
        self.gate = gate

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[int],
        embeddings: Callable[[Sequence[str]], np.ndarray],
        c_quick: float = 30.0,
        c_full: float = 30.0,
        gate: float = 0.01,
    ) -> "DangerModel":
        normalised = [normalise(text) for text in texts]
        features = make_features()
        sparse, y = features.fit_transform(normalised), np.asarray(labels)
        dense = embeddings(normalised)
        quick, full = fit_side_by_side(
            lambda: classifier(c_quick).fit(sparse, y), lambda: classifier(c_full).fit(join(sparse, dense), y)
        )
        return cls(features, quick, full, gate)

    def quick_scores(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([probabilities(self.quick, *self.features.vector(normalise(text)))[1] for text in texts])

    def scores(
        self,
        texts: Sequence[str],
        embeddings: Optional[Callable[[Sequence[str]], np.ndarray]] = None,
        known: Optional[Sequence[Optional[np.ndarray]]] = None,
    ) -> np.ndarray:
        """The probability of danger now, per text: the full model's where the quick one passes the
        gate (or the text's embedding is `known` already), the quick one's elsewhere."""
        from core.encoder import embed

        normalised = [normalise(text) for text in texts]
        known = list(known) if known is not None else [None] * len(texts)
        vectors = [self.features.vector(text) for text in normalised]
        result = np.array([probabilities(self.quick, *vector)[1] for vector in vectors])
        rows = [row for row in range(len(texts)) if result[row] >= self.gate or known[row] is not None]
        missing = [row for row in rows if known[row] is None]
        if missing:
            for row, vector in zip(missing, (embeddings or embed)([normalised[r] for r in missing]), strict=True):
                known[row] = vector
        for row in rows:
            result[row] = probabilities(self.full, *vectors[row], known[row])[1]
        return result

    def save(self, directory: Path) -> None:
        save_parts(directory, {name: getattr(self, name) for name in self.PARTS})
        (directory / "gate.txt").write_text(repr(self.gate), encoding="ascii")

    @classmethod
    def load(cls, directory: Path) -> "DangerModel":
        parts = load_parts(directory, cls.PARTS)
        return cls(**parts, gate=float((directory / "gate.txt").read_text(encoding="ascii")))
