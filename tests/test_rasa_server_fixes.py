"""The fixes scripts/rasa_server.py applies to Rasa behave exactly like Rasa's own code."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from scripts import rasa_server

ORIGINAL_RESOLVE = Event.resolve_by_type
ORIGINAL_APPLIED = DialogueStateTracker.applied_events


def turn(text="hi", intent="greet"):
    return [UserUttered(text, {"name": intent, "confidence": 1.0}), ActionExecuted("action_route_to_channel"),
            BotUttered("hello"), ActionExecuted("action_listen")]


SEQUENCES = {
    "plain": [ActionExecuted("action_listen")] + turn() * 5,
    "restart": turn() + [Restarted(), ActionExecuted("action_listen")] + turn(),
    "session": [SessionStarted(), ActionExecuted("action_listen")] + turn() * 2 + [SessionStarted()] + turn(),
    "user reverted": turn() + [UserUtteranceReverted()] + turn(),
    "action reverted": turn() + [ActionReverted()] + turn(),
    "loop": turn() + [ActiveLoop("form"), ActionExecuted("form"), ActiveLoop(None)] + turn(),
}


@pytest.mark.parametrize("name", SEQUENCES)
def test_applied_events_match_rasa_at_every_step(name):
    tracker = DialogueStateTracker("u", [])
    for event in SEQUENCES[name]:
        tracker.update(event)
        assert rasa_server.applied_events(tracker) == ORIGINAL_APPLIED(tracker)
    assert rasa_server.applied_events(tracker) is not rasa_server.applied_events(tracker)


@pytest.mark.parametrize("type_name", ["user", "bot", "action", "slot", "restart", "session_started", "active_loop"])
def test_event_types_resolve_as_in_rasa(type_name):
    assert rasa_server.resolve_by_type(type_name) is ORIGINAL_RESOLVE(type_name)


def test_unknown_event_types_behave_as_in_rasa():
    assert rasa_server.resolve_by_type("topic") is None
    assert rasa_server.resolve_by_type("nope", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'nope'"):
        rasa_server.resolve_by_type("nope")


def test_action_replies_are_still_validated():
    action = RemoteAction("action_route_to_channel", None)
    assert rasa_server.validate_action_result(action, {"events": [], "responses": [{"text": "hi"}]})
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        rasa_server.validate_action_result(action, {"events": "not a list"})


def test_the_action_server_gets_the_latest_events_and_no_domain():
    endpoint = EndpointConfig("http://127.0.0.1:5055/webhook", enable_selective_domain=True)
    action = RemoteAction("action_route_to_channel", endpoint)
    tracker = DialogueStateTracker("u", [])
    for event in turn() * 30:
        tracker.update(event)
    call = rasa_server.action_call_with_recent_events(action, tracker, Domain.empty())
    assert call["tracker"]["events"] == [event.as_dict() for event in list(tracker.events)[-rasa_server.ACTION_EVENTS_SENT:]]
    assert call["tracker"]["latest_message"]["text"] == "hi"
    assert call["next_action"] == "action_route_to_channel" and call["sender_id"] == "u"
    assert "domain" not in call
