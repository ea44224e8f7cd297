"""Send each request to its official channel, as the routes of the catalogue say."""

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, Restarted
from rasa_sdk.executor import CollectingDispatcher

from actions.base import CatalogueAction
from actions.hours import current_time
from actions.replies import render

UNKNOWN_ROUTE = "fallback_final"


class ActionRouteToChannel(CatalogueAction):
    """Answers the latest intent with its route: the channel's purpose, link or number, and buttons."""

    def name(self) -> Text:
        return "action_route_to_channel"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        route_key = intent if intent in self.catalogue.routes else UNKNOWN_ROUTE
        user_text = tracker.latest_message.get("text") or ""
        self.send(dispatcher, render(self.catalogue, route_key, current_time(), user_text))
        return []


class ActionStartOver(CatalogueAction):
    """Replaces Rasa's action_restart: forgets the conversation so far and offers a fresh start."""

    def name(self) -> Text:
        return "action_restart"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        self.send(dispatcher, render(self.catalogue, "restart", current_time()))
        return [Restarted()]
