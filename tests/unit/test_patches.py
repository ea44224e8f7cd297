"""The fixes server/patches.py applies to Rasa behave exactly like Rasa's own code."""

import inspect

import pytest
import ujson
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    DefinePrevUserUtteredFeaturization,
    Event,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from server import patches

ORIGINAL_RESOLVE = Event.resolve_by_type
ORIGINAL_APPLIED = DialogueStateTracker.applied_events
ORIGINAL_IS_EMPTY = patches._original_is_empty
ORIGINAL_TRACKER_COPY = patches._original_tracker_copy


def turn(text="hi", intent="greet"):
    return [
        UserUttered(text, {"name": intent, "confidence": 1.0}),
        ActionExecuted("action_route_to_channel"),
        BotUttered("hello"),
        ActionExecuted("action_listen"),
    ]


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
        assert patches.applied_events(tracker) == ORIGINAL_APPLIED(tracker)
    assert patches.applied_events(tracker) is not patches.applied_events(tracker)


@pytest.mark.parametrize("name", SEQUENCES)
def test_applied_events_match_rasa_with_max_event_history(name):
    tracker = DialogueStateTracker("u", [], max_event_history=4)
    for event in SEQUENCES[name] * 2:
        tracker.update(event)
        assert patches.applied_events(tracker) == ORIGINAL_APPLIED(tracker)


def test_another_rasa_version_is_refused_with_what_to_recheck():
    with pytest.raises(patches.UncheckedRasaVersion) as refused:
        patches.apply(version="3.7.0", environ={})
    message = str(refused.value)
    assert "Rasa 3.7.0" in message and "ALLOW_UNCHECKED_RASA_PATCHES=1" in message
    assert all(f"fix {number} " in message for number in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15))
    assert patches.unchecked("3.6.21") == []


def test_the_switch_applies_them_on_another_version(monkeypatch):
    applied = []
    monkeypatch.setattr(patches.Patch, "apply", lambda self: applied.append(self.number))
    patches.apply(version="3.7.0", environ={"ALLOW_UNCHECKED_RASA_PATCHES": "1"})
    assert sorted(applied) == [1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15]


@pytest.mark.parametrize("type_name", ["user", "bot", "action", "slot", "restart", "session_started", "active_loop"])
def test_event_types_resolve_as_in_rasa(type_name):
    assert patches.resolve_by_type(type_name) is ORIGINAL_RESOLVE(type_name)


def test_unknown_event_types_behave_as_in_rasa():
    assert patches.resolve_by_type("topic") is None
    assert patches.resolve_by_type("nope", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'nope'"):
        patches.resolve_by_type("nope")


def test_action_replies_are_still_validated():
    action = RemoteAction("action_route_to_channel", None)
    assert patches.validate_action_result(action, {"events": [], "responses": [{"text": "hi"}]})
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        patches.validate_action_result(action, {"events": "not a list"})


EVERY_KIND_OF_EVENT = [
    event.as_dict()
    for event in [
        *turn(),
        SlotSet("language", "pl"),
        SlotSet("last_route", None),
        SessionStarted(),
        Restarted(),
        ActionReverted(),
        UserUtteranceReverted(),
        ActiveLoop(None),
        FollowupAction("action_listen"),
        AllSlotsReset(),
        ConversationPaused(),
        ConversationResumed(),
        UserUttered("hi", {"name": "greet", "confidence": 0.9}, [{"entity": "e", "value": 1, "start": 0, "end": 2}]),
    ]
]
INVALID_EVENTS = [
    {},
    {"event": "topic"},
    {"event": 3},
    {"event": ["slot"]},
    {"event": "slot", "name": "language"},
    {"event": "slot", "name": 1, "value": "pl"},
    {"event": "slot", "name": "language", "value": "pl", "timestamp": "now"},
    {"event": "bot", "metadata": []},
    {"event": "user", "text": 5},
    {"event": "user", "parse_data": {"intent": {"name": 3}}},
    {"event": "user", "parse_data": {"entities": [{"entity": "e"}]}},
    {"event": "entities"},
    {"event": "action", "hide_rule_turn": "yes"},
    "slot",
    None,
]


def rasa_accepts(reply):
    try:
        validate(reply, RemoteAction.action_response_format_spec())  # Rasa's own check
        return True
    except ValidationError:
        return False


def test_the_quick_check_of_action_replies_accepts_only_what_rasa_accepts():
    valid = [{"events": [event], "responses": [{"text": "hi", "buttons": []}]} for event in EVERY_KIND_OF_EVENT]
    valid += [{"events": EVERY_KIND_OF_EVENT, "responses": []}, {}, {"responses": [{"text": "hi"}]}]
    invalid = [{"events": [event]} for event in INVALID_EVENTS]
    invalid += [{"events": EVERY_KIND_OF_EVENT + [event]} for event in INVALID_EVENTS]
    invalid += [[], "text", {"events": None}, {"responses": "hi"}, {"responses": ["hi"]}]
    for reply in valid:
        assert rasa_accepts(reply) and patches._valid_quickly(reply), reply
    for reply in invalid:
        assert not rasa_accepts(reply) and not patches._valid_quickly(reply), reply
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            patches.validate_action_result(RemoteAction("a", None), reply)


def test_whether_a_domain_is_empty_is_rasas_answer():
    domain = Domain.from_yaml("intents: [greet]\nresponses:\n  utter_greet:\n  - text: hi\n")
    assert patches.domain_is_empty_once(Domain.empty()) is ORIGINAL_IS_EMPTY(Domain.empty()) is True
    assert patches.domain_is_empty_once(domain) is ORIGINAL_IS_EMPTY(domain) is False
    assert patches.domain_is_empty_once(domain) is False  # answered from the domain the second time


def test_the_action_call_is_sent_as_the_same_json():
    import json

    endpoint = EndpointConfig("http://127.0.0.1:5055/webhook", enable_selective_domain=True)
    tracker = DialogueStateTracker("u", [])
    for event in turn("zażółć gęślą jaźń / ميرا شوہر") * 3 + [SlotSet("language", "pl")]:
        tracker.update(event)
    call = patches.action_call_with_recent_events(RemoteAction("a", endpoint), tracker, Domain.empty())
    assert json.loads(ujson.dumps(call)) == json.loads(json.dumps(call))


def test_the_action_server_gets_the_latest_events_and_no_domain():
    endpoint = EndpointConfig("http://127.0.0.1:5055/webhook", enable_selective_domain=True)
    action = RemoteAction("action_route_to_channel", endpoint)
    tracker = DialogueStateTracker("u", [])
    for event in turn() * 30:
        tracker.update(event)
    call = patches.action_call_with_recent_events(action, tracker, Domain.empty())
    assert call["tracker"]["events"] == [
        event.as_dict() for event in list(tracker.events)[-patches.ACTION_EVENTS_SENT :]
    ]
    assert call["tracker"]["latest_message"]["text"] == "hi"
    assert call["next_action"] == "action_route_to_channel" and call["sender_id"] == "u"
    assert "domain" not in call


async def test_an_endpoint_keeps_one_session_per_event_loop():
    endpoint = EndpointConfig("http://127.0.0.1:5055/webhook", headers={"X-Test": "1"})
    async with endpoint.session() as first:  # Rasa's own: a new session each time
        pass
    assert first.closed
    async with patches.kept_session(endpoint) as kept:
        pass
    async with patches.kept_session(endpoint) as again:
        pass
    assert kept is again and not kept.closed
    assert kept._json_serialize is ujson.dumps
    assert kept.headers["X-Test"] == "1" and kept.timeout.total == first.timeout.total
    await kept.close()
    async with patches.kept_session(endpoint) as after_close:
        assert after_close is not kept and not after_close.closed
    await after_close.close()


async def test_the_loaded_model_is_kept_out_of_later_collections(monkeypatch):
    import gc
    import weakref

    class Node:
        pass

    agent, garbage = object(), []

    async def load(*args, **kwargs):
        cycle = Node()
        cycle.itself = cycle  # garbage that only a collection frees
        garbage.append(weakref.ref(cycle))
        return agent

    monkeypatch.setattr(patches, "_original_load_agent_on_start", load)
    try:
        gc.unfreeze()
        gc.disable()  # no collection but settle_memory's
        assert await patches.load_agent_on_start_then_settle("model") is agent
        assert garbage[0]() is None
        assert gc.get_freeze_count() > 0
    finally:
        gc.enable()
        gc.unfreeze()


def gzip_level_flag(path):
    """The gzip header's XFL byte: 2 when written at level 9, 0 at the levels between 2 and 8."""
    return path.read_bytes()[8]


def test_the_model_package_is_written_at_gzips_default_level(tmp_path):
    from tarsafe import TarSafe

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.txt").write_text("0.5 " * 1000)
    for opener, name, flag in ((TarSafe, "rasa.tar.gz", 2), (patches.TarSafeAtGzipDefault, "ours.tar.gz", 0)):
        with opener.open(tmp_path / name, "w:gz") as tar:
            tar.add(tmp_path / "model", arcname="")
        assert gzip_level_flag(tmp_path / name) == flag
    with TarSafe.open(tmp_path / "ours.tar.gz", mode="r:gz") as tar:
        assert tar.extractfile("weights.txt").read() == b"0.5 " * 1000


def test_the_processor_copies_only_for_its_debug_log_lines():
    import re

    import rasa.core.processor

    source = inspect.getsource(rasa.core.processor)
    uses = re.findall(r"\bcopy\.(\w+)\(", source)
    assert uses and set(uses) == {"deepcopy"}
    calls = re.findall(r"structlogger\.debug\((?:[^()]|\([^()]*(?:\([^()]*\)[^()]*)*\))*\)", source)
    assert sum(call.count("copy.deepcopy(") for call in calls) == len(uses)


def test_log_values_are_copied_only_when_debug_lines_are_kept():
    import logging

    events, level = [UserUttered("hi", {"name": "greet"})], patches.RASA_LOGGER.level
    try:
        patches.RASA_LOGGER.setLevel(logging.INFO)
        assert patches.COPY_FOR_DEBUG_LOGS.deepcopy(events) is events
        patches.RASA_LOGGER.setLevel(logging.DEBUG)
        copied = patches.COPY_FOR_DEBUG_LOGS.deepcopy(events)
        assert copied == events and copied is not events and copied[0] is not events[0]
    finally:
        patches.RASA_LOGGER.setLevel(level)


def without_timestamp(event):
    """An event's content; a reset tracker's empty latest message is made when it resets, at that time."""
    return {key: value for key, value in event.as_dict().items() if key != "timestamp"}


def tracker_state(tracker):
    """Everything a tracker holds (the events by identity: a copy shares them)."""
    slots = {name: (slot.value, slot.has_been_set) for name, slot in tracker.slots.items()}
    return {
        "events": [id(event) for event in tracker.events],
        "state": tracker.current_state(EventVerbosity.ALL),
        "slots": slots,
        "followup_action": tracker.followup_action,
        "latest_action": tracker.latest_action,
        "latest_message": without_timestamp(tracker.latest_message),
        "latest_bot_utterance": without_timestamp(tracker.latest_bot_utterance),
        "paused": tracker._paused,
        "active_loop": tracker.active_loop,
        "ids": (tracker.model_id, tracker.assistant_id, tracker.sender_id, tracker.is_rule_tracker),
    }


def language_slot():
    from rasa.shared.core.slots import TextSlot

    return TextSlot("language", mappings=[{"type": "custom"}], initial_value="en")


def featurized_turn(text="hi", intent="greet"):
    """A turn as Rasa's processor stores it: the user message's featurization is decided after it."""
    message, *rest = turn(text, intent)
    return [message, DefinePrevUserUtteredFeaturization(False), *rest]


TURNS_WITH_SLOTS = {
    "a turn": [ActionExecuted("action_listen")] + turn(),
    "featurized turns": [ActionExecuted("action_listen")]
    + featurized_turn() * 2
    + [SlotSet("language", "pl")]
    + featurized_turn("thanks", "thank"),
    "slots and sessions": [ActionExecuted("action_session_start"), SessionStarted(), SlotSet("language", "pl")]
    + [ActionExecuted("action_listen")]
    + turn() * 3
    + [SlotSet("language", "ur"), SlotSet("unknown", 1)]
    + [ActionExecuted("action_session_start"), SessionStarted(), SlotSet("language", "en")]
    + turn(),
    "ends with a session start": turn() + [SlotSet("language", "pl"), SessionStarted()],
    "no events": [],
    "user message last": turn() + [SlotSet("language", "pl"), UserUttered("and you", {"name": "chitchat"})],
}


@pytest.mark.parametrize("name", [*SEQUENCES, *TURNS_WITH_SLOTS])
def test_a_tracker_copy_is_rasas_copy(name):
    events = {**SEQUENCES, **TURNS_WITH_SLOTS}[name]
    tracker = DialogueStateTracker.from_events("u", events, [language_slot()])
    tracker.model_id, tracker.assistant_id = "model", "assistant"
    flags = [event.use_text_for_featurization for event in events if isinstance(event, UserUttered)]
    ours, rasas = patches.tracker_copy_from_latest_events(tracker), ORIGINAL_TRACKER_COPY(tracker)
    assert tracker_state(ours) == tracker_state(rasas)
    assert [event.use_text_for_featurization for event in events if isinstance(event, UserUttered)] == flags
    for attribute in ("latest_message", "latest_bot_utterance"):  # the same event, or each a new empty one
        mine, theirs = getattr(ours, attribute), getattr(rasas, attribute)
        assert mine is theirs or not any(event is mine or event is theirs for event in tracker.events)


def test_a_tracker_copy_changes_apart_from_the_original():
    tracker = DialogueStateTracker.from_events("u", TURNS_WITH_SLOTS["a turn"], [language_slot()])
    copied = patches.tracker_copy_from_latest_events(tracker)
    copied.update(SlotSet("language", "pl"))
    assert tracker.get_slot("language") == "en" and copied.get_slot("language") == "pl"
    assert len(copied.events) == len(tracker.events) + 1


def test_a_tracker_with_other_events_or_a_bounded_history_is_copied_by_rasa(monkeypatch):
    calls = []
    monkeypatch.setattr(patches, "_original_tracker_copy", lambda tracker: calls.append(tracker) or "rasa's copy")
    loop = DialogueStateTracker.from_events("u", SEQUENCES["loop"])
    bounded = DialogueStateTracker.from_events("u", TURNS_WITH_SLOTS["a turn"], max_event_history=3)
    assert patches.tracker_copy_from_latest_events(loop) == "rasa's copy"
    assert patches.tracker_copy_from_latest_events(bounded) == "rasa's copy"
    assert calls == [loop, bounded]


@pytest.mark.parametrize("name", TURNS_WITH_SLOTS)
def test_a_conversation_of_turns_is_copied_without_rasas_replay(name, monkeypatch):
    tracker = DialogueStateTracker.from_events("u", TURNS_WITH_SLOTS[name], [language_slot()])
    monkeypatch.setattr(patches, "_original_tracker_copy", None)  # calling it would fail
    assert len(patches.tracker_copy_from_latest_events(tracker).events) == len(tracker.events)
