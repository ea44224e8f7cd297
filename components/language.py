"""The language of every message (core/language.py), first in the NLU pipeline, stored with the
message as `language` for the actions, which reply in the conversation's language."""

from pathlib import Path
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.danger import DATA_DIR
from core.language import LanguageModel, detect, training_examples

LANGUAGE = "language"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class LanguageDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"nlu_dir": str(DATA_DIR.parent / "nlu"), "danger_dir": str(DATA_DIR)}

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
    ) -> "LanguageDetector":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LanguageDetector":
        with model_storage.read_from(resource) as directory:
            return cls(config, model_storage, resource, LanguageModel.load(directory))

    def train(self, training_data: TrainingData) -> Resource:
        examples = training_examples(Path(self._config["nlu_dir"]), Path(self._config["danger_dir"]))
        texts, languages = zip(*examples, strict=True)
        self._model = LanguageModel.train(texts, languages)
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            message.set(LANGUAGE, detect(message.get(TEXT) or "", self._model).as_dict(), add_to_output=True)
        return messages
