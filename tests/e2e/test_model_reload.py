"""`make reload`: a new model goes into the running assistant without dropping conversations."""

import shutil
import threading

import pytest

from core import model_integrity
from tests.servers import MODEL, RELOAD_TOKEN, Assistant, all_text

RELOAD = "/webhooks/model/reload"


def reload(assistant, token=RELOAD_TOKEN):
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        assistant.url + RELOAD, data=b"{}", method="POST", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def reloadable(tmp_path_factory):
    """An assistant of its own, serving a copy of the model that the tests may replace."""
    workdir = tmp_path_factory.mktemp("reload")
    model = workdir / "assistant.tar.gz"
    shutil.copy(MODEL, model)
    model_integrity.record(model)
    running = Assistant(workdir=workdir, env={"RASA_MODEL": str(model)})
    try:
        running.start()
        yield running, model
    finally:
        running.stop()


@pytest.mark.slow
def test_reload_needs_the_token(reloadable):
    assistant, _ = reloadable
    status, body = reload(assistant, token="wrong")
    assert status == 403 and "error" in body


@pytest.mark.slow
def test_a_conversation_keeps_its_context_across_a_reload_and_the_server_keeps_answering(reloadable):
    assistant, model = reloadable
    sender = "reload-conversation"
    assert "Did you mean" in all_text(assistant.say(sender, "qwertyuiop asdfgh"))

    answers, errors, stop = [], [], threading.Event()

    def chat():
        count = 0
        while not stop.is_set():
            try:
                answers.append(all_text(assistant.say(f"busy-{count}", "how do i get crime alerts")))
            except Exception as error:  # noqa: BLE001 - recorded and asserted on below
                errors.append(error)
            count += 1

    talker = threading.Thread(target=chat)
    talker.start()
    try:
        status, body = reload(assistant)
    finally:
        stop.set()
        talker.join()
    assert status == 200 and body["sha256"] == model_integrity.sha256(model)
    assert not errors and answers and all("wmnow.co.uk" in answer for answer in answers)
    second_miss = all_text(assistant.say(sender, "zxcvbnm lkjhg"))
    assert "Did you mean" not in second_miss and "101" in second_miss, "the conversation lost its context"


@pytest.mark.slow
def test_a_model_whose_sha256_does_not_match_is_refused_and_the_old_one_keeps_answering(reloadable):
    assistant, model = reloadable
    original = model.read_bytes()
    try:
        model.write_bytes(original + b"tampered")
        status, body = reload(assistant)
        assert status == 409 and "does not match" in body["error"]
        assert "wmnow.co.uk" in all_text(assistant.say("after-refusal", "how do i get crime alerts"))
    finally:
        model.write_bytes(original)
