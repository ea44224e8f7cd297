"""When the assistant is not sure: ask "did you mean", then hand over to people, never the same words three times."""

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.base import CatalogueAction
from core.hours import current_time
from core.replies import buttons, render

FALLBACK_INTENT = "nlu_fallback"
# A "Something else" click between two misses does not break the run of misses.
NEUTRAL_INTENTS = {"something_else"}
# Conversation intents are not worth offering as "did you mean" guesses.
NOT_GUESSES = {FALLBACK_INTENT, "greet", "thank", "goodbye", "something_else", "out_of_scope"}
MAX_GUESSES = 3


def misses_in_a_row(tracker: Tracker) -> int:
    misses = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent == FALLBACK_INTENT:
            misses += 1
        elif intent not in NEUTRAL_INTENTS:
            break
    return misses


def last_bot_text(tracker: Tracker) -> str:
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            return event.get("text") or ""
    return ""


def guesses(tracker: Tracker, route_keys: List[str]) -> List[str]:
    ranking = tracker.latest_message.get("intent_ranking") or []
    names = [item.get("name") for item in ranking]
    picked = [name for name in names if name in route_keys and name not in NOT_GUESSES]
    return picked[:MAX_GUESSES]


class ActionFallback(CatalogueAction):
    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        catalogue, now = self.catalogue, current_time()
        language, events = self.language(tracker)
        misses = misses_in_a_row(tracker)
        if misses <= 1:
            options = buttons(guesses(tracker, list(catalogue.routes)) + ["something_else"], catalogue, language)
            messages = render(catalogue, "fallback_did_you_mean", now, extra_buttons=options, language=language)
        else:
            final = render(catalogue, "fallback_final", now, language=language)
            said_final_last = last_bot_text(tracker) == final[-1]["text"]
            messages = render(catalogue, "fallback_final_again", now, language=language) if said_final_last else final
        self.send(dispatcher, messages)
        return events
