"""The danger-now decision inside the NLU pipeline, after the intent classifier, which it overrides.

`DangerDetector` is trained at `make train` (the danger model of core/danger.py, on data/danger/
and the NLU examples) and, for every message, decides with the emergency patterns whether it
describes danger now. Then the intent is `emergency` (the reply opens with "Call 999 now");
otherwise the classifier's `emergency` guess is taken away (it stays in the ranking, so "did you
mean" may still offer it). The verdict is stored with the message (`danger`) for the dialogue
policy, which decides follow-ups with the conversation.
"""

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.intent_classifier import EMBEDDING
from core.danger import DATA_DIR, DangerModel, Thresholds, decide, read_training_data
from core.emergency import load_patterns
from core.encoder import LOCAL_CACHE, EmbeddingCache, embed

EMERGENCY_INTENT = "emergency"
DANGER = "danger"
logger = logging.getLogger(__name__)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class DangerDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "data_dir": str(DATA_DIR),
            "patterns_file": None,  # catalogue/emergency.yml (or in CATALOGUE_DIR)
            "c_quick": 30.0,
            "c_full": 30.0,
            "gate": 0.01,
            "threshold": 0.5,
            "maybe_threshold": 0.2,
            "concern_threshold": 0.2,
            "calm_threshold": 0.99,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[DangerModel] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._patterns_file = Path(config["patterns_file"]) if config.get("patterns_file") else None
        self.thresholds = Thresholds(
            model=float(config["threshold"]),
            maybe=float(config["maybe_threshold"]),
            concern=float(config["concern_threshold"]),
            calm=float(config["calm_threshold"]),
        )

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "DangerDetector":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "DangerDetector":
        with model_storage.read_from(resource) as directory:
            model = DangerModel.load(directory)
        detector = cls(config, model_storage, resource, model)
        detector.warm_up()
        return detector

    def warm_up(self) -> None:
        """Compile the patterns and load the encoder now, at start-up, so the first person to write
        does not wait seconds for them."""
        load_patterns(self._patterns_file)
        embed(["warm up"])

    def train(self, training_data: TrainingData) -> Resource:
        examples = read_training_data(Path(self._config["data_dir"]))
        for message in training_data.intent_examples:
            examples.append((message.get(TEXT), int(message.get(INTENT) == EMERGENCY_INTENT)))
        texts, labels = zip(*examples, strict=True)
        cache = EmbeddingCache()
        self._model = DangerModel.train(
            texts, labels, cache.embeddings,
            c_quick=float(self._config["c_quick"]), c_full=float(self._config["c_full"]), gate=float(self._config["gate"]),
        )  # fmt: skip
        if cache.added:
            logger.info("Embedded %d training examples not in the cache; kept them in %s.", cache.added, LOCAL_CACHE)
            cache.save_local()
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None:
            raise RuntimeError("DangerDetector: the danger model is not trained")
        patterns = load_patterns(self._patterns_file)
        texts = [message.get(TEXT) or "" for message in messages]
        scores = self._model.scores(texts, embed, known=[message.get(EMBEDDING) for message in messages])
        for message, text, score in zip(messages, texts, scores, strict=True):
            verdict = decide(text, float(score), patterns, self.thresholds)
            message.set(DANGER, verdict.as_dict(), add_to_output=True)
            ranking = message.get(INTENT_RANKING_KEY) or []
            others = [item for item in ranking if item.get(INTENT_NAME_KEY) != EMERGENCY_INTENT]
            if verdict.now:
                forced = {INTENT_NAME_KEY: EMERGENCY_INTENT, "confidence": 1.0}
                message.set(INTENT, forced, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [forced] + others, add_to_output=True)
            elif (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == EMERGENCY_INTENT and others:
                guessed = next(item for item in ranking if item.get(INTENT_NAME_KEY) == EMERGENCY_INTENT)
                message.set(INTENT, others[0], add_to_output=True)
                message.set(INTENT_RANKING_KEY, others[:1] + [guessed] + others[1:], add_to_output=True)
        return messages
