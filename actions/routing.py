"""Send each request to its official channel, as the routes of the catalogue say."""

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import feedback
from actions.base import LANGUAGE_SLOT, LAST_ROUTE_SLOT, CatalogueAction
from core.hours import current_time
from core.replies import render

UNKNOWN_ROUTE = "fallback_final"
__all__ = ["LAST_ROUTE_SLOT", "ActionRouteToChannel", "ActionStartOver"]


class ActionRouteToChannel(CatalogueAction):
    """Answers the latest intent with its route: the channel's purpose, link or number, and buttons;
    then, after a route that sends the person to a channel, "was this helpful?" (actions/feedback.py)."""

    def name(self) -> Text:
        return "action_route_to_channel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        catalogue, now = self.catalogue, current_time()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        language, events = self.language(tracker)
        if intent == feedback.SOMETHING_ELSE and feedback.just_asked(tracker):
            # "no", "nope", "not quite" said to "was this helpful?"
            messages, recorded = feedback.answer(catalogue, tracker, False, now, language)
            self.send(dispatcher, messages)
            return events + recorded
        route_key = intent if intent in catalogue.routes else UNKNOWN_ROUTE
        user_text = tracker.latest_message.get("text") or ""
        previous = tracker.get_slot(LAST_ROUTE_SLOT)
        self.send(dispatcher, render(catalogue, route_key, now, user_text, previous_route=previous,
                                     language=language))  # fmt: skip
        if catalogue.routes[route_key].about_previous:
            return events  # a follow-up: the route it was about stays the one to follow up
        events = events + [SlotSet(LAST_ROUTE_SLOT, route_key)]
        if feedback.asks_after(route_key, intent, catalogue):
            messages, asked = feedback.question(catalogue, route_key, tracker, now, language)
            self.send(dispatcher, messages)
            events += asked
        return events


class ActionStartOver(CatalogueAction):
    """Replaces Rasa's action_restart: forgets the conversation so far and offers a fresh start."""

    def name(self) -> Text:
        return "action_restart"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        language, _ = self.language(tracker)
        self.send(dispatcher, render(self.catalogue, "restart", current_time(), language=language))
        return [Restarted(), SlotSet(LANGUAGE_SLOT, language)]
