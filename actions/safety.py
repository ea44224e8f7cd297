"""The emergency reply: call 999 now, first, with the text relay and the Silent Solution."""

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.base import CatalogueAction
from actions.hours import current_time
from actions.replies import render

EMERGENCY_ROUTE = "emergency"


class ActionEmergency(CatalogueAction):
    def name(self) -> Text:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        self.send(dispatcher, render(self.catalogue, EMERGENCY_ROUTE, current_time()))
        return []
