"""The dialogue policy: one action per intent, and danger now decided with the conversation."""

from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from components.intent_policy import IntentActionPolicy

TABLE = {"emergency": "action_emergency", "greet": "action_route_to_channel", "thank": "action_route_to_channel",
         "non_emergency": "action_route_to_channel"}  # fmt: skip


def policy() -> IntentActionPolicy:
    config = {**IntentActionPolicy.get_default_config(), "core_fallback_action_name": "action_fallback"}
    return IntentActionPolicy(config, LocalModelStorage("/nonexistent"), Resource("policy"),
                              ExecutionContext(None), table=TABLE)  # fmt: skip


def said(text: str, intent: str, now=False, concern=False, escalation=False):
    danger = {"now": now, "score": 0.0, "reason": "", "concern": concern, "escalation": escalation}
    return [UserUttered(text, {"name": intent, "confidence": 0.9}, parse_data={"danger": danger}),
            ActionExecuted("action_route_to_channel"), BotUttered("..."), ActionExecuted("action_listen")]  # fmt: skip


def next_action(*turns) -> str:
    events = [ActionExecuted("action_listen")] + [event for turn in turns for event in turn]
    return policy().next_action(DialogueStateTracker.from_events("someone", events[:-3]))


def test_each_intent_gets_its_action_and_an_unknown_one_the_fallback():
    assert next_action(said("hi", "greet")) == "action_route_to_channel"
    assert next_action(said("hmm", "nope")) == "action_fallback"


def test_a_follow_up_that_escalates_an_earlier_worry_gets_the_emergency_action():
    worry = said("my ex keeps messaging me", "non_emergency", concern=True)
    outside = said("he's outside my door now banging on it", "non_emergency", escalation=True)
    assert next_action(worry, outside) == "action_emergency"


def test_an_earlier_emergency_does_not_make_thanks_an_alarm():
    emergency = said("someone is breaking in", "emergency", now=True)
    assert next_action(emergency, said("thanks", "thank")) == "action_route_to_channel"


def test_the_context_is_the_session_only():
    worry = said("my ex keeps messaging me", "non_emergency", concern=True)
    new_session = [SessionStarted(), ActionExecuted("action_listen")]
    outside = said("he's outside", "non_emergency", escalation=True)
    events = [ActionExecuted("action_listen")] + worry + new_session + outside
    assert policy().next_action(DialogueStateTracker.from_events("someone", events[:-3])) == "action_route_to_channel"
