"""The fixes scripts/rasa_server.py applies to Rasa behave exactly like Rasa's own code."""

import os
import subprocess
import sys

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
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
from tests.servers import ROOT

ORIGINAL_RESOLVE = Event.resolve_by_type
ORIGINAL_APPLIED = DialogueStateTracker.applied_events
ORIGINAL_GRAPH_RUN = DaskGraphRunner.run
ORIGINAL_CREATE_X = LogisticRegressionClassifier._create_X


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


async def test_an_endpoint_keeps_one_session_per_event_loop():
    endpoint = EndpointConfig("http://127.0.0.1:5055/webhook", headers={"X-Test": "1"})
    async with endpoint.session() as first:  # Rasa's own: a new session each time
        pass
    assert first.closed
    async with rasa_server.kept_session(endpoint) as kept:
        pass
    async with rasa_server.kept_session(endpoint) as again:
        pass
    assert kept is again and not kept.closed
    assert kept.headers["X-Test"] == "1" and kept.timeout.total == first.timeout.total
    await kept.close()
    async with rasa_server.kept_session(endpoint) as after_close:
        assert after_close is not kept and not after_close.closed
    await after_close.close()


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    from tests.servers import MODEL

    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    return Agent.load(str(MODEL))


MESSAGES = ["hi", "how do i get crime alerts", "someone is breaking into my house right now", "qwzx florp",
            "whats the non emergency number", "are you on instagram", "thanks"]


@pytest.mark.slow
@pytest.mark.parametrize("text", MESSAGES)
def test_the_model_graph_runs_without_dask_exactly_as_with_it(agent, text):
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.core.channels.channel import UserMessage

    runner, metadata = agent.processor.graph_runner, agent.processor.model_metadata
    dask_run = ORIGINAL_GRAPH_RUN

    def understand(run):
        tracker = DialogueStateTracker("u", [])
        message = UserMessage(text, sender_id="u")
        result = run(runner, inputs={"__message__": [message], "__tracker__": tracker}, targets=[metadata.nlu_target])
        parsed = result[metadata.nlu_target][0]
        return parsed.get("intent"), parsed.get("intent_ranking"), parsed.get("entities")

    assert understand(rasa_server.run_graph_in_order) == understand(dask_run)

    intent = understand(dask_run)[0]
    tracker = DialogueStateTracker("u", [])
    for event in [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(text, intent)]:
        tracker.update(event)

    def predict(run):
        prediction = run(runner, inputs={"__tracker__": tracker}, targets=[metadata.core_target])[metadata.core_target]
        return prediction.probabilities, prediction.policy_name, prediction.events

    assert predict(rasa_server.run_graph_in_order) == predict(dask_run)


@pytest.mark.slow
@pytest.mark.parametrize("text", MESSAGES)
def test_the_intent_classifier_gets_the_same_matrix_and_probabilities(agent, text):
    from rasa.core.channels.channel import UserMessage

    runner, metadata = agent.processor.graph_runner, agent.processor.model_metadata
    classifier = next(node._component for node in runner._instantiated_nodes.values()
                      if isinstance(node._component, LogisticRegressionClassifier))
    messages = ORIGINAL_GRAPH_RUN(runner, inputs={"__message__": [UserMessage(text, sender_id="u")],
                                                  "__tracker__": DialogueStateTracker("u", [])},
                                  targets=[metadata.nlu_target])[metadata.nlu_target]
    ours, rasas = rasa_server.classifier_input(classifier, messages), ORIGINAL_CREATE_X(classifier, messages)
    assert ours.dtype == rasas.dtype and ours.shape == rasas.shape
    assert (ours != rasas).nnz == 0
    assert (classifier.clf.predict_proba(ours) == classifier.clf.predict_proba(rasas)).all()


@pytest.mark.slow
def test_the_launcher_keeps_jax_out_of_the_server():
    code = ("import sys, scripts.rasa_server, rasa.core.agent, tensorflow\n"
            "assert sys.modules['jax'] is None, 'jax was imported'\nprint('without jax')")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert run.returncode == 0 and "without jax" in run.stdout, run.stderr[-2000:]
