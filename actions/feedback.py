"""Feedback: "was this helpful?", asked after an answer that sends the person to a channel, at most once per
topic per conversation, and the answer recorded.

Everything is recorded as events of the conversation, so it survives restarts and is the same in
every replica (nothing is kept in the action server):

- SlotSet `feedback_asked`: the topics asked about so far in this conversation, newest last (set
  by action_route_to_channel when it asks); "emergency" at the end once the emergency reply was
  given (set by action_emergency): after that the question is never asked in the conversation.
- SlotSet `feedback`: {"topic": <route>, "helpful": true | false}, one for each answer (set by
  action_feedback; the topic is the slot `last_route`).
- After "no" ("what were you looking for?"), the person's next message is the text that says what
  they were looking for. It is answered like any other message, and `make review` and
  `make report` take it as the message that follows a `feedback` event whose helpful is false.

The question never blocks: its buttons are a suggestion and whatever the person types next is
answered as usual. A "yes" or "no" counts only as the answer to the question asked in the turn
just before it; otherwise it is answered like "something else".
"""

from datetime import datetime
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import LAST_ROUTE_SLOT, CatalogueAction
from core.catalogue import Catalogue
from core.hours import current_time
from core.replies import Message, render

QUESTION_ROUTE = "feedback"
YES_INTENT = "feedback_yes"
NO_INTENT = "feedback_no"
ASKED_SLOT = "feedback_asked"
FEEDBACK_SLOT = "feedback"
# A "no", "nope" or "not quite" is trained as `something_else` (the answer to "did you mean"):
# said to "was this helpful?", it is a no.
SOMETHING_ELSE = "something_else"
# In `feedback_asked` once the emergency reply was given: never asked again in that conversation.
EMERGENCY_MARKER = "emergency"
# Routes that must not be followed by the question: conversation, information and follow-up
# answers, the emergency reply, and what the fallback and the channels say.
NO_QUESTION_AFTER = frozenset(
    {
        "greet", "thank", "goodbye", "bot_challenge", "capabilities", "out_of_scope", "something_else",
        "not_police", "ask_hours", "ask_number", "emergency", "emergency_info", "change_language",
        QUESTION_ROUTE, YES_INTENT, NO_INTENT, "restart", "fallback_did_you_mean", "fallback_final",
        "fallback_final_again", "service_unavailable", "in_danger", "empty_message",
    }
)  # fmt: skip


def asks_after(route_key: str, intent: Optional[str], catalogue: Catalogue) -> bool:
    """Whether the answer to this intent, given as this route, is followed by "was this helpful?":
    a route of its own (never the fallback's) that names at least one channel."""
    route = catalogue.routes.get(route_key)
    return (
        route is not None
        and route_key == intent
        and route_key not in NO_QUESTION_AFTER
        and bool(route.channels)
        and route.about_previous is None
    )


def after_emergency(tracker: Tracker) -> List[EventType]:
    """Said by the emergency reply: no "was this helpful?" for the rest of the conversation (the
    marker stays in `feedback_asked`, which the action server gets with every call)."""
    asked = asked_topics(tracker)
    return [] if EMERGENCY_MARKER in asked else [SlotSet(ASKED_SLOT, asked + [EMERGENCY_MARKER])]


def asked_topics(tracker: Tracker) -> List[str]:
    asked = tracker.get_slot(ASKED_SLOT)
    return [topic for topic in asked if isinstance(topic, str)] if isinstance(asked, list) else []


def question(
    catalogue: Catalogue, route_key: str, tracker: Tracker, now: datetime, language: str
) -> Tuple[List[Message], List[EventType]]:
    """The question's messages and the event that remembers it was asked, or nothing if this topic was
    asked about already in this conversation."""
    asked = asked_topics(tracker)
    if route_key in asked or EMERGENCY_MARKER in asked:
        return [], []  # asked about this topic already, or this conversation had the emergency reply
    messages = render(catalogue, QUESTION_ROUTE, now, language=language)
    # Yes / No as quick replies, not buttons: Messenger and Instagram show them as quick replies (gone
    # once answered or ignored, never in the way), X as a numbered choice, REST as buttons, the web
    # widget as its suggested replies (channels/social.py, Rasa's output channels).
    messages[-1]["quick_replies"] = messages[-1].pop("buttons", [])
    return messages, [SlotSet(ASKED_SLOT, asked + [route_key])]


def just_asked(tracker: Tracker) -> bool:
    """Whether the assistant's turn just before the latest message asked "was this helpful?"."""
    user_messages = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            user_messages += 1
            if user_messages == 2:
                return False
        elif kind in ("restart", "session_started"):
            return False
        elif user_messages == 1 and kind == "slot" and event.get("name") == ASKED_SLOT:
            return True
    return False


def answer(
    catalogue: Catalogue, tracker: Tracker, helpful: bool, now: datetime, language: str
) -> Tuple[List[Message], List[EventType]]:
    """The reply to "yes" or "no" and the event recording the verdict, when the question was just
    asked; otherwise the "something else" reply (tell me what you need) and nothing recorded."""
    topic = tracker.get_slot(LAST_ROUTE_SLOT)
    if not just_asked(tracker) or not isinstance(topic, str):
        return render(catalogue, SOMETHING_ELSE, now, language=language), []
    verdict = SlotSet(FEEDBACK_SLOT, {"topic": topic, "helpful": helpful})
    return render(catalogue, YES_INTENT if helpful else NO_INTENT, now, language=language), [verdict]


class ActionFeedback(CatalogueAction):
    """The answer to "was this helpful?": thanks, or "what were you looking for?"; the verdict recorded."""

    def name(self) -> Text:
        return "action_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        language, events = self.language(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        messages, recorded = answer(self.catalogue, tracker, intent == YES_INTENT, current_time(), language)
        self.send(dispatcher, messages)
        return events + recorded
