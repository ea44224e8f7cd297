"""The intent classifier of the NLU pipeline (core/intents.py), in place of Rasa's featurizers and
classifier. It needs no tokenizer: its features are its own. A message's sentence embedding, when it
was needed, is kept with the message (not in the output) for the danger-now decision to reuse."""

import logging
from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.encoder import EmbeddingCache, embed
from core.intents import IntentModel

logger = logging.getLogger(__name__)

EMBEDDING = "sentence_embedding"
RANKING_LENGTH = 10


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class IntentClassifier(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"c": 10.0, "confident_at": 0.6}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, model=None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "IntentClassifier":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "IntentClassifier":
        with model_storage.read_from(resource) as directory:
            return cls(config, model_storage, resource, IntentModel.load(directory))

    def train(self, training_data: TrainingData) -> Resource:
        examples = [(m.get(TEXT), m.get(INTENT)) for m in training_data.intent_examples if m.get(TEXT)]
        texts, intents = zip(*examples, strict=True)
        cache = EmbeddingCache()
        self._model = IntentModel.train(
            texts,
            intents,
            cache.embeddings,
            c=float(self._config["c"]),
            confident_at=float(self._config["confident_at"]),
        )
        if cache.added:
            logger.info("Embedded %d training examples not in the cache.", cache.added)
            cache.save_local()
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None:
            raise RuntimeError("IntentClassifier: the intent model is not trained")
        texts = [message.get(TEXT) or "" for message in messages]
        probabilities, used = self._model.probabilities(texts, embed, [message.get(EMBEDDING) for message in messages])
        intents = self._model.intents
        for message, row, vector in zip(messages, probabilities, used, strict=True):
            order = np.argsort(-row)[:RANKING_LENGTH]
            ranking = [{INTENT_NAME_KEY: intents[i], PREDICTED_CONFIDENCE_KEY: float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            if vector is not None:
                message.set(EMBEDDING, vector)
        return messages
