"""What every action of the assistant shares: the catalogue, the conversation's language and sending its messages."""

import abc
from typing import Any, Dict, List, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from core.catalogue import Catalogue, load_catalogue
from core.language import ENGLISH, conversation_language

LANGUAGE_SLOT = "language"
# The route the person was last given (set by the routing and emergency actions), for follow-ups
# about it ("is it open on sundays?") and for the "was this helpful?" answer about it.
LAST_ROUTE_SLOT = "last_route"


class CatalogueAction(Action, abc.ABC):
    """An action that answers with messages rendered from the catalogue."""

    @abc.abstractmethod
    def name(self) -> Text:
        """The action's name in domain.yml."""

    @property
    def catalogue(self) -> Catalogue:
        return load_catalogue()

    def language(self, tracker: Tracker) -> Tuple[str, List[EventType]]:
        """The language to answer in, and the event that remembers it when this message changed it."""
        current = tracker.get_slot(LANGUAGE_SLOT)
        latest = tracker.latest_message or {}
        available = [ENGLISH, *self.catalogue.translations]
        chosen = conversation_language(current, latest.get("language"), latest.get("text") or "", available)
        return chosen, ([SlotSet(LANGUAGE_SLOT, chosen)] if chosen != (current or ENGLISH) else [])

    @staticmethod
    def send(dispatcher: CollectingDispatcher, messages: List[Dict[str, Any]]) -> None:
        for message in messages:
            extra = {"quick_replies": message["quick_replies"]} if message.get("quick_replies") else {}
            dispatcher.utter_message(
                text=message["text"], buttons=message.get("buttons", []),
                lang=message.get("lang", ENGLISH), dir=message.get("dir", "ltr"), **extra,
            )  # fmt: skip
