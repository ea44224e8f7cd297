""" "Was this helpful?" (actions/feedback.py, actions/routing.py): when it is asked, and how the answer is recorded."""

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.fallback import ActionFallback
from actions.feedback import ASKED_SLOT, ActionFeedback
from actions.routing import ActionRouteToChannel
from actions.safety import ActionEmergency
from core import hours
from core.catalogue import load_catalogue
from core.replies import render
from tests.conftest import user_event

ROOT = Path(__file__).resolve().parents[2]
OPEN = "2026-11-25T14:00:00+00:00"
QUESTION = "Was this helpful?"
BUTTONS = [{"title": "Yes", "payload": "/feedback_yes"}, {"title": "No", "payload": "/feedback_no"}]
NO_QUESTION = ["greet", "thank", "goodbye", "bot_challenge", "capabilities", "out_of_scope", "something_else",
               "not_police", "ask_hours", "ask_number", "emergency_info"]  # fmt: skip


@pytest.fixture(autouse=True)
def open_hours(monkeypatch):
    monkeypatch.setenv(hours.FIXED_TIME_VARIABLE, OPEN)


def tracker(events: List[Dict[str, Any]], slots: Optional[Dict[str, Any]] = None) -> Tracker:
    """A tracker with these events, the last user event being the latest message."""
    latest = next(event for event in reversed(events) if event["event"] == "user")
    return Tracker("test-user", slots or {}, latest["parse_data"] | {"text": latest["text"]}, events, False, None, {},
                   "action_listen")  # fmt: skip


def routed_turn(intent: str, asked: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    """A turn answered by the routing action, as the store holds it (with "was this helpful?" when `asked`)."""
    events = [user_event(intent), {"event": "action", "name": "action_route_to_channel"},
              {"event": "slot", "name": "last_route", "value": intent}]  # fmt: skip
    if asked is not None:
        events.append({"event": "slot", "name": ASKED_SLOT, "value": asked})
    return events + [{"event": "bot", "text": "..."}, {"event": "bot", "text": QUESTION}, listen()]


def listen() -> Dict[str, Any]:
    return {"event": "action", "name": "action_listen"}


async def run(action, events, slots=None):
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    result = await action.run(dispatcher, tracker(events, slots), {})
    return result, dispatcher.messages


def routing_intents_and_topics() -> List[str]:
    """The intents the rules send to action_route_to_channel in data/rules/routing.yml and topics.yml."""
    found = []
    for name in ("routing.yml", "topics.yml"):
        for rule in yaml.safe_load((ROOT / "data/rules" / name).read_text())["rules"]:
            steps = rule["steps"]
            if steps[-1] == {"action": "action_route_to_channel"}:
                found.append(steps[0]["intent"])
    return found


# ------------------------------------------------------------------ asking


@pytest.mark.parametrize("intent", ["alerts", "non_emergency", "lost_property", "social_media", "accessibility"])
async def test_a_route_to_a_channel_ends_with_the_question_and_its_yes_no_buttons(intent):
    """Yes and No as quick replies (Messenger and Instagram show them so; REST and the widget as buttons)."""
    events, messages = await run(ActionRouteToChannel(), [user_event(intent)])
    assert messages[-1]["text"] == QUESTION and messages[-1]["quick_replies"] == BUTTONS
    assert messages[-1]["buttons"] == [] and all("quick_replies" not in m for m in messages[:-1])
    assert len(messages) >= 2 and QUESTION not in [m["text"] for m in messages[:-1]]
    assert events == [SlotSet("last_route", intent), SlotSet(ASKED_SLOT, [intent])]


def test_it_is_asked_after_exactly_the_routing_intents_and_the_topics():
    """Every intent the rules route, except the conversation and information ones, and no other."""
    from actions.feedback import asks_after

    catalogue = load_catalogue()
    routed = routing_intents_and_topics()
    expected = [intent for intent in routed if intent not in NO_QUESTION]
    assert {"ask_question", "live_chat", "non_emergency", "alerts", "social_media", "contact_us",
            "accessibility", "lost_property", "privacy", "road_incidents"} <= set(expected)  # fmt: skip
    assert len(expected) >= 24
    assert [intent for intent in routed if asks_after(intent, intent, catalogue)] == expected
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())["intents"]
    others = [i for i in domain if i not in routed] + NO_QUESTION + ["emergency", "fallback_final", "feedback"]
    assert not [intent for intent in others if intent in catalogue.routes and asks_after(intent, intent, catalogue)]


@pytest.mark.parametrize("intent", NO_QUESTION)
async def test_never_after_conversation_information_or_follow_up_answers(intent):
    events, messages = await run(ActionRouteToChannel(), [user_event(intent)])
    assert QUESTION not in [m["text"] for m in messages]
    assert not [event for event in events if event["name"] == ASKED_SLOT]


async def test_never_after_the_emergency_reply_or_a_fallback():
    events, messages = await run(ActionFallback(), [user_event("nlu_fallback", "something")])
    assert QUESTION not in [m["text"] for m in messages]
    assert not [event for event in events if event["name"] == ASKED_SLOT]
    events, messages = await run(
        ActionEmergency(), [user_event("emergency", "he has a knife")], {ASKED_SLOT: ["fraud"]}
    )
    assert QUESTION not in [m["text"] for m in messages] and messages[0]["text"].startswith("Call 999 now")
    assert events == [SlotSet("last_route", "emergency"), SlotSet(ASKED_SLOT, ["fraud", "emergency"])]
    events, _ = await run(ActionEmergency(), [user_event("emergency", "hes back")], {ASKED_SLOT: ["emergency"]})
    assert events == [SlotSet("last_route", "emergency")]  # marked once
    # an intent with no route of its own gets the hand-over route: no question either
    events, messages = await run(ActionRouteToChannel(), [user_event("no_such_intent")])
    assert QUESTION not in [m["text"] for m in messages] and events == [SlotSet("last_route", "fallback_final")]


@pytest.mark.parametrize("asked", [["emergency"], ["alerts", "emergency"]])
async def test_never_again_in_a_conversation_that_had_the_emergency_reply(asked):
    """Whatever they ask after being told to call 999, no "was this helpful?" in that conversation."""
    for intent in ("non_emergency", "fraud", "lost_property"):
        events, messages = await run(ActionRouteToChannel(), [user_event(intent)], {ASKED_SLOT: asked})
        assert QUESTION not in [m["text"] for m in messages] and len(messages) >= 1
        assert events == [SlotSet("last_route", intent)]


async def test_at_most_once_per_topic_per_conversation():
    events, messages = await run(ActionRouteToChannel(), [user_event("alerts")], {ASKED_SLOT: ["alerts"]})
    assert QUESTION not in [m["text"] for m in messages] and events == [SlotSet("last_route", "alerts")]
    events, messages = await run(ActionRouteToChannel(), [user_event("fraud")], {ASKED_SLOT: ["alerts"]})
    assert messages[-1]["text"] == QUESTION
    assert events[-1] == SlotSet(ASKED_SLOT, ["alerts", "fraud"])


def a_translation_with_the_question() -> str:
    catalogue = load_catalogue()
    for code, translation in sorted(catalogue.translations.items()):
        if "feedback" in translation.routes:
            return code
    pytest.skip("no translation of the feedback routes yet")


async def test_the_question_and_the_answers_are_in_the_conversations_language():
    language = a_translation_with_the_question()
    catalogue = load_catalogue()
    now = hours.current_time()
    question = render(catalogue, "feedback", now, language=language)
    _, messages = await run(ActionRouteToChannel(), [user_event("alerts", "")], {"language": language})
    assert [m["text"] for m in messages[-len(question) :]] == [m["text"] for m in question]
    assert messages[-1]["quick_replies"] == [{"title": b["title"], "payload": b["payload"]}
                                             for b in question[-1]["buttons"]]  # fmt: skip
    assert [b["payload"] for b in messages[-1]["quick_replies"]] == ["/feedback_yes", "/feedback_no"]
    assert messages[-1]["lang"] == language
    history = routed_turn("alerts", ["alerts"]) + [user_event("feedback_no", "/feedback_no")]
    events, messages = await run(ActionFeedback(), history, {"language": language, "last_route": "alerts"})
    assert [m["text"] for m in messages] == [
        m["text"] for m in render(catalogue, "feedback_no", now, language=language)
    ]
    assert events == [SlotSet("feedback", {"topic": "alerts", "helpful": False})]


# ------------------------------------------------------------------ answering


@pytest.mark.parametrize(
    "intent, text, helpful, reply",
    [
        ("feedback_yes", "/feedback_yes", True, "Thank you for telling us"),
        ("feedback_yes", "yes thanks", True, "Thank you for telling us"),
        ("feedback_no", "/feedback_no", False, "what were you looking for?"),
        ("feedback_no", "not really", False, "what were you looking for?"),
    ],
)
async def test_the_answer_is_thanked_or_asked_what_they_were_looking_for_and_recorded(intent, text, helpful, reply):
    history = routed_turn("alerts", ["alerts"]) + [user_event(intent, text)]
    events, messages = await run(ActionFeedback(), history, {"last_route": "alerts", ASKED_SLOT: ["alerts"]})
    assert reply in messages[0]["text"]
    assert events == [SlotSet("feedback", {"topic": "alerts", "helpful": helpful})]


@pytest.mark.parametrize("text", ["no", "nope", "not quite"])
async def test_a_no_trained_as_something_else_is_a_no_right_after_the_question(text):
    history = routed_turn("fraud", ["fraud"]) + [user_event("something_else", text)]
    events, messages = await run(ActionRouteToChannel(), history, {"last_route": "fraud", ASKED_SLOT: ["fraud"]})
    assert "what were you looking for?" in messages[0]["text"]
    assert events == [SlotSet("feedback", {"topic": "fraud", "helpful": False})]


async def test_something_else_elsewhere_is_answered_as_before():
    history = routed_turn("fraud") + [user_event("something_else", "no")]  # the question was not asked
    events, messages = await run(ActionRouteToChannel(), history, {"last_route": "fraud"})
    assert messages[0]["text"].startswith("No problem. Tell me in a few words what you need")
    assert events == [SlotSet("last_route", "something_else")]


@pytest.mark.parametrize(
    "history",
    [
        [user_event("greet", "hi")],  # never asked
        routed_turn("fraud"),  # asked about fraud earlier in the conversation, not in the turn just before
        routed_turn("alerts", ["alerts"]) + [user_event("thank", "thanks"), {"event": "bot", "text": "..."}, listen()],
        routed_turn("alerts", ["alerts"]) + [{"event": "session_started"}, listen()],
        routed_turn("alerts", ["alerts"])
        + [
            user_event("feedback_yes", "yes"),
            {"event": "slot", "name": "feedback", "value": {"topic": "alerts", "helpful": True}},
            listen(),
        ],  # fmt: skip
    ],
)
async def test_a_yes_or_no_that_answers_no_question_is_not_recorded_and_gets_tell_me_what_you_need(history):
    for intent in ("feedback_yes", "feedback_no"):
        events, messages = await run(
            ActionFeedback(), history + [user_event(intent, intent[9:])], {"last_route": "alerts"}
        )
        assert messages[0]["text"].startswith("No problem. Tell me in a few words what you need")
        assert events == []


async def test_the_question_never_blocks_anything_typed_next_is_answered_as_usual():
    history = routed_turn("alerts", ["alerts"]) + [user_event("non_emergency", "whats the 101 number")]
    events, messages = await run(ActionRouteToChannel(), history, {"last_route": "alerts", ASKED_SLOT: ["alerts"]})
    assert "101" in messages[0]["text"] and messages[-1]["text"] == QUESTION
    assert events == [SlotSet("last_route", "non_emergency"), SlotSet(ASKED_SLOT, ["alerts", "non_emergency"])]


def test_feedback_training_examples_and_rules_are_in_place():
    nlu = yaml.safe_load((ROOT / "data/nlu/en/feedback.yml").read_text())["nlu"]
    examples = {block["intent"]: [line[2:] for line in block["examples"].splitlines() if line.startswith("- ")]
                for block in nlu}  # fmt: skip
    assert len(examples["feedback_yes"]) >= 20 and len(examples["feedback_no"]) >= 20
    assert {"yes", "yes thanks", "that helped"} <= set(examples["feedback_yes"])
    assert {"not really", "that didnt help"} <= set(examples["feedback_no"])
    rules = yaml.safe_load((ROOT / "data/rules/feedback.yml").read_text())["rules"]
    assert sorted(rule["steps"][0]["intent"] for rule in rules) == ["feedback_no", "feedback_yes"]
    assert all(rule["steps"][1] == {"action": "action_feedback"} for rule in rules)
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    assert {"feedback_yes", "feedback_no"} <= set(domain["intents"]) and "action_feedback" in domain["actions"]
    for slot in ("feedback_asked", "feedback"):
        assert domain["slots"][slot] == {"type": "any", "influence_conversation": False,
                                         "mappings": [{"type": "custom"}]}  # fmt: skip
