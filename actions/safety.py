"""The emergency reply: call 999 now, first, with the text relay and the Silent Solution."""

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import feedback
from actions.base import CatalogueAction
from actions.routing import LAST_ROUTE_SLOT
from core.hours import current_time
from core.replies import render

EMERGENCY_ROUTE = "emergency"


class ActionEmergency(CatalogueAction):
    def name(self) -> Text:
        return "action_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        language, events = self.language(tracker)
        self.send(dispatcher, render(self.catalogue, EMERGENCY_ROUTE, current_time(), language=language))
        # and never "was this helpful?" in this conversation after it
        return events + [SlotSet(LAST_ROUTE_SLOT, EMERGENCY_ROUTE)] + feedback.after_emergency(tracker)
