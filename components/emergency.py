"""The emergency safety net: a deterministic check of every message, which the classifier cannot override.

`is_emergency` is the check; `EmergencyDetector` runs it inside the NLU pipeline, after the intent
classifier, and forces the intent `emergency` when it fires. The patterns live in
catalogue/emergency.yml so that staff can extend them.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Pattern, Text, Tuple

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

DEFAULT_PATTERNS_FILE = Path(__file__).resolve().parent.parent / "catalogue" / "emergency.yml"
EMERGENCY_INTENT = "emergency"
SECTIONS = ("danger", "urgent", "not_now")


class PatternsError(ValueError):
    """A mistake in the emergency patterns file, naming the file, the section and the pattern."""


@dataclass(frozen=True)
class EmergencyPatterns:
    danger: Tuple[Pattern[str], ...]
    urgent: Tuple[Pattern[str], ...]
    not_now: Tuple[Pattern[str], ...]


def parse_patterns(path: Path) -> EmergencyPatterns:
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as error:
        raise PatternsError(f"{path}: cannot read emergency patterns: {error}") from None
    if not isinstance(raw, dict) or set(raw) != set(SECTIONS):
        raise PatternsError(f"{path}: expected exactly the sections {', '.join(SECTIONS)}")
    compiled: Dict[str, Tuple[Pattern[str], ...]] = {}
    for section in SECTIONS:
        entries = raw[section]
        if not isinstance(entries, list) or not entries:
            raise PatternsError(f"{path}: '{section}' must be a list of at least one pattern")
        patterns = []
        for entry in entries:
            if not isinstance(entry, str) or not entry.strip():
                raise PatternsError(f"{path}: '{section}' has an empty or non-text pattern: {entry!r}")
            try:
                patterns.append(re.compile(entry, re.IGNORECASE))
            except re.error as error:
                raise PatternsError(f"{path}: '{section}' pattern {entry!r} is not a valid regular expression: {error}") from None
        compiled[section] = tuple(patterns)
    return EmergencyPatterns(**compiled)


@lru_cache(maxsize=4)
def load_patterns(path: Path = DEFAULT_PATTERNS_FILE) -> EmergencyPatterns:
    return parse_patterns(path)


def _normalise(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").split())


DANGER, CALM, UNSURE = "danger", "calm", "unsure"


def assess(text: str, patterns: EmergencyPatterns) -> str:
    """DANGER: danger described and not said to be past or hypothetical (or said to be now).
    CALM: said to be past, hypothetical or a question, and nothing says now. UNSURE: neither."""
    text = _normalise(text)

    def found(section: Tuple[Pattern[str], ...]) -> bool:
        return any(pattern.search(text) for pattern in section)

    urgent, not_now = found(patterns.urgent), found(patterns.not_now)
    if found(patterns.danger) and (urgent or not not_now):
        return DANGER
    if not_now and not urgent:
        return CALM
    return UNSURE


def is_emergency(text: str, patterns: EmergencyPatterns) -> bool:
    return assess(text, patterns) == DANGER


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EmergencyDetector(GraphComponent):
    """Forces the intent `emergency` when the safety net sees danger now, and takes it away
    from the classifier's guess when the message says the matter is past or hypothetical."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"patterns_file": str(DEFAULT_PATTERNS_FILE)}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._patterns = load_patterns(Path(config["patterns_file"]))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmergencyDetector":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            verdict = assess(message.get(TEXT) or "", self._patterns)
            intent = (message.get(INTENT) or {}).get("name")
            others = [item for item in message.get(INTENT_RANKING_KEY) or [] if item.get("name") != EMERGENCY_INTENT]
            if verdict == DANGER:
                forced = {"name": EMERGENCY_INTENT, "confidence": 1.0}
                message.set(INTENT, forced, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [forced] + others, add_to_output=True)
            elif verdict == CALM and intent == EMERGENCY_INTENT and others:
                message.set(INTENT, others[0], add_to_output=True)
                message.set(INTENT_RANKING_KEY, others, add_to_output=True)
        return messages
