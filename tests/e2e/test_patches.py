"""The patches on the trained model and in a fresh process: the same results as Rasa's own code,
each patch in effect once applied, and jax kept out."""

import os
import subprocess
import sys

import pytest
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from server import patches
from tests.servers import ROOT

ORIGINAL_GRAPH_RUN = DaskGraphRunner.run


def in_a_fresh_process(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


@pytest.mark.slow
def test_every_patch_is_in_effect_after_apply_and_none_before():
    code = (
        "from server import patches\n"
        "before = patches.status()['patches']\n"
        "patches.apply()\n"
        "after = patches.status()['patches']\n"
        "print(sorted(k for k, v in before.items() if v and k != 'fix 8'), sorted(k for k, v in after.items() if not v))"
    )
    run = in_a_fresh_process(code)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split("\n")[-2] == "[] []", run.stdout


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    from tests.servers import MODEL

    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    return Agent.load(str(MODEL))


MESSAGES = [
    "hi",
    "how do i get crime alerts",
    "someone is breaking into my house right now",
    "qwzx florp",
    "whats the non emergency number",
    "are you on instagram",
    "thanks",
]


@pytest.mark.slow
@pytest.mark.parametrize("text", MESSAGES)
def test_the_model_graph_runs_without_dask_exactly_as_with_it(agent, text):
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.constants import ACTION_LISTEN_NAME

    runner, metadata = agent.processor.graph_runner, agent.processor.model_metadata
    dask_run = ORIGINAL_GRAPH_RUN

    def understand(run):
        tracker = DialogueStateTracker("u", [])
        message = UserMessage(text, sender_id="u")
        result = run(runner, inputs={"__message__": [message], "__tracker__": tracker}, targets=[metadata.nlu_target])
        parsed = result[metadata.nlu_target][0]
        return parsed.get("intent"), parsed.get("intent_ranking"), parsed.get("entities")

    assert understand(patches.run_graph_in_order) == understand(dask_run)

    intent = understand(dask_run)[0]
    tracker = DialogueStateTracker("u", [])
    for event in [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(text, intent)]:
        tracker.update(event)

    def predict(run):
        prediction = run(runner, inputs={"__tracker__": tracker}, targets=[metadata.core_target])[metadata.core_target]
        return prediction.probabilities, prediction.policy_name, prediction.events

    assert predict(patches.run_graph_in_order) == predict(dask_run)


@pytest.mark.slow
async def test_the_encoder_runs_in_its_own_thread_and_the_understanding_is_the_same(agent, monkeypatch):
    import threading

    from rasa.core.channels.channel import UserMessage

    from core import encoder

    engine, threads = encoder._load(), []
    original_query = engine.query

    def query(texts):
        threads.append(threading.current_thread().name)
        return original_query(texts)

    monkeypatch.setattr(engine, "query", query)
    monkeypatch.setattr(encoder, "_recent", type(encoder._recent)())
    for text in ["qwzx florp vindle", "ktoś chodzi pod moim oknem", "hi"]:
        message = UserMessage(text, sender_id="u")
        in_thread = await patches.parse_message_encoding_in_thread(agent.processor, message)
        encoder._recent.clear()
        inline = await patches._original_parse_message(agent.processor, message)
        encoder._recent.clear()
        assert in_thread == inline, text
    assert threads and len(threads) % 2 == 0, threads
    assert all(name.startswith("encoder") for name in threads[0::2]), threads
    assert all(name == threading.main_thread().name for name in threads[1::2]), threads


@pytest.mark.slow
def test_the_launcher_keeps_jax_out_of_the_server():
    code = (
        "import sys, server.patches, rasa.core.agent, tensorflow\n"
        "assert sys.modules['jax'] is None, 'jax was imported'\nprint('without jax')"
    )
    run = in_a_fresh_process(code)
    assert run.returncode == 0 and "without jax" in run.stdout, run.stderr[-2000:]


@pytest.mark.slow
def test_loading_and_using_the_model_imports_no_tensorflow_and_training_code_still_finds_it():
    code = (
        "import asyncio, sys\n"
        "from server import patches\n"
        "patches.apply()\n"
        "from rasa.core.agent import Agent\n"
        "agent = Agent.load('models/assistant.tar.gz')\n"
        "for text in ['hi', 'someone is breaking into my house', 'qwzx florp']:\n"
        "    asyncio.run(agent.parse_message(text))\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
        "assert not patches.status()['tensorflow_loaded']\n"
        "schema = agent.processor.model_metadata.train_schema\n"
        "assert 'train_components.danger.DangerDetector2' in schema.nodes, sorted(schema.nodes)\n"
        "import rasa.utils.train_utils as stand_in\n"
        "from rasa.utils.train_utils import init_split_entities\n"
        "assert stand_in.init_split_entities is init_split_entities\n"
        "assert sys.modules['rasa.utils.train_utils'] is not stand_in and 'tensorflow' in sys.modules\n"
        "print('tensorflow only when used')"
    )
    run = in_a_fresh_process(code)
    assert run.returncode == 0 and "tensorflow only when used" in run.stdout, run.stderr[-2000:]


@pytest.mark.slow
def test_the_training_schema_read_later_is_the_one_rasa_builds(agent):
    import copy

    from rasa.engine.graph import GraphSchema

    serialized = agent.processor.model_metadata.as_dict()
    expected = copy.deepcopy(serialized)  # Rasa's from_dict replaces the class names in what it reads
    lazy = patches.metadata_with_train_schema_on_first_use(type(agent.processor.model_metadata), serialized)
    assert lazy.train_schema.nodes == GraphSchema.from_dict(copy.deepcopy(expected["train_schema"])).nodes
    assert lazy.as_dict() == expected


@pytest.mark.slow
def test_every_patch_is_in_effect_in_the_running_server(assistant):
    import json
    import urllib.error
    import urllib.request

    from core.model_integrity import recorded_sha256
    from tests.servers import MODEL, RELOAD_TOKEN

    request = urllib.request.Request(
        assistant.url + "/webhooks/model/status", headers={"Authorization": f"Bearer {RELOAD_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        status = json.loads(reply.read())
    assert status["rasa"] == "3.6.21"
    assert status["patches"] == {
        f"fix {number}": True for number in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15)
    }, status
    assert status["tensorflow_loaded"] is False
    assert status["sha256"] == recorded_sha256(MODEL)
    denied = urllib.request.Request(assistant.url + "/webhooks/model/status")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(denied, timeout=10)
    assert refused.value.code == 403


@pytest.mark.slow
def test_make_train_ran_with_the_training_patch():
    from tests.servers import MODEL

    assert MODEL.read_bytes()[8] == 0, "the gzip header says level 9: the model was not trained through the launcher"
