"""What every action of the assistant shares: the catalogue and sending its messages."""

import abc
from typing import Any, Dict, List, Text

from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher

from actions.catalogue import Catalogue, load_catalogue


class CatalogueAction(Action, abc.ABC):
    """An action that answers with messages rendered from the catalogue."""

    @abc.abstractmethod
    def name(self) -> Text:
        """The action's name in domain.yml."""

    @property
    def catalogue(self) -> Catalogue:
        return load_catalogue()

    @staticmethod
    def send(dispatcher: CollectingDispatcher, messages: List[Dict[str, Any]]) -> None:
        for message in messages:
            dispatcher.utter_message(text=message["text"], buttons=message.get("buttons", []))
