"""End to end: emergencies, fallbacks and a broken or slow action server, on the real servers."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from core.catalogue import load_catalogue
from core.hours import current_time
from core.replies import render
from tests.servers import Assistant, all_text, answered, free_port

CASES = yaml.safe_load((Path(__file__).parents[1] / "emergency_cases.yml").read_text(encoding="utf-8"))
ALARM = render(load_catalogue(), "emergency", current_time())[0]["text"]
MAX_FALSE_ALARM_RATE = 0.05


def gets_999_first(replies) -> bool:
    return bool(replies) and replies[0].get("text") == ALARM


@pytest.mark.slow
def test_emergency_set_recall_is_100_percent_and_false_alarms_at_most_5_percent(assistant):
    missed = [text for text in CASES["emergencies"] if not gets_999_first(assistant.say(f"em-{hash(text)}", text))]
    alarmed = [text for text in CASES["near_misses"] if gets_999_first(assistant.say(f"nm-{hash(text)}", text))]
    recall = 1 - len(missed) / len(CASES["emergencies"])
    false_alarm_rate = len(alarmed) / len(CASES["near_misses"])
    print(
        f"\nemergency recall {recall:.1%} of {len(CASES['emergencies'])}; "
        f"near-misses given 999 first {false_alarm_rate:.1%} of {len(CASES['near_misses'])}"
    )
    assert len(CASES["emergencies"]) + len(CASES["near_misses"]) >= 80
    assert not missed, f"emergencies not given 999 first: {missed}"
    assert false_alarm_rate <= MAX_FALSE_ALARM_RATE, f"false alarms: {alarmed}"


@pytest.mark.slow
def test_nothing_comes_before_999_even_on_the_first_message_of_a_conversation(assistant, sender):
    replies = assistant.say(sender, "someone is breaking into my house right now")
    assert gets_999_first(replies)
    assert "18000" in all_text(replies) and "55" in all_text(replies)


@pytest.mark.slow
def test_are_you_a_bot_is_answered_truthfully(assistant, sender):
    assert "automated assistant, not a person" in all_text(
        assistant.say(sender, "am i talking to a real person or a bot")
    )


@pytest.mark.slow
def test_out_of_scope_gets_a_polite_answer_not_a_random_channel(assistant, sender):
    text = all_text(assistant.say(sender, "what's the weather like in dudley tomorrow"))
    assert "can't help with that" in text
    assert "wmnow.co.uk" not in text and "facebook.com" not in text


@pytest.mark.slow
def test_misses_in_a_row_ask_then_hand_over_and_never_repeat_three_times(assistant, sender):
    gibberish = ["qwertyuiop asdfgh", "zxcvbnm lkjhg", "plmokn ijbuhv"]
    replies = [assistant.say(sender, text) for text in gibberish]
    firsts = [reply[0]["text"] for reply in replies]
    assert "Did you mean" in firsts[0]
    assert any(button["title"] == "Something else" for button in replies[0][-1]["buttons"])
    assert "101" in firsts[1] and "live-chat" in firsts[1]
    assert len(set(firsts)) == 3
    assert {"title": "Start over", "payload": "/restart"} in replies[1][-1]["buttons"]
    restarted = all_text(assistant.say(sender, "/restart"))
    assert "start again" in restarted and "Did you mean" not in restarted


@pytest.mark.slow
@pytest.mark.parametrize("message", ["😀😀", "Bonjour, je voudrais parler à la police", "?!?!", "ok"])
def test_other_languages_emoji_and_gibberish_always_get_a_reply(assistant, sender, message):
    replies = assistant.say(sender, message)
    assert answered(replies), replies


@pytest.mark.slow
def test_a_dead_action_server_still_gets_a_useful_reply_within_5_seconds(assistant, sender):
    assistant.stop_actions()
    try:
        started = time.time()
        replies = assistant.say(sender, "how do i get crime alerts")
        assert time.time() - started < 5
        text = all_text(replies)
        assert "101" in text and "https://www.west-midlands.police.uk/contact-us" in text
        emergency = assistant.say(sender, "theres a man with a gun outside")
        assert gets_999_first(emergency)
        assert "101" in all_text(emergency)
    finally:
        assistant.start_actions()
    log = (assistant.workdir / "rasa.log").read_text(errors="replace")
    assert "gave no reply" in log
    assert "how do i get crime alerts" not in log, "what the public typed must not be logged"


class SlowActionServer(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def do_POST(self):
        time.sleep(8)
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def assistant_with_slow_actions(tmp_path_factory):
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), SlowActionServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    running = Assistant(
        workdir=tmp_path_factory.mktemp("slow"), env={"ACTION_SERVER_URL": f"http://127.0.0.1:{port}/webhook"}
    )
    try:
        running.start_rasa()
        yield running
    finally:
        running.stop()
        server.shutdown()


@pytest.mark.slow
def test_a_slow_action_server_still_gets_a_useful_reply_within_5_seconds(assistant_with_slow_actions, sender):
    started = time.time()
    replies = assistant_with_slow_actions.say(sender, "someone is attacking my mum right now")
    assert time.time() - started < 5
    assert gets_999_first(replies)
    assert "101" in all_text(replies) and "contact-us" in all_text(replies)
