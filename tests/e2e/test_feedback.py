"""End to end: "was this helpful?" after a routed answer, its buttons and the recorded answer, on every channel.

REST; Messenger and Instagram (quick replies) and X (a numbered choice) through their signed
webhooks and the fake platforms. The web widget's Yes and No are tested in Chromium in
test_web_widget.py. Each answer must end up in the conversation store as a `feedback` SlotSet, and
an open question survive a restart of both servers.
"""

import json
import sqlite3
import time
from typing import Any, Callable, Dict, List

import pytest

from channels.social import NUMBERED_HEADER
from tests.e2e.test_social_channels import fake, has, meta_body, new_id, post, say, user  # noqa: F401 (fixtures)
from tests.servers import all_text, answered

QUESTION = "Was this helpful?"
THANKS = "Thank you for telling us"
LOOKING_FOR = "what were you looking for?"
WMNOW = "https://www.wmnow.co.uk"


def warm_up(assistant) -> None:
    """A fresh server's first turns are slow (things load on first use), past the reply guarantee's
    deadline: typed messages and a button first, until they are really answered."""
    deadline = time.monotonic() + 120
    for message in ("hello", "how do i sign up for crime alerts", "/greet"):
        while not answered(assistant.say(f"warm-up-{time.time_ns()}", message)):
            assert time.monotonic() < deadline, "the assistant never answered"


@pytest.fixture(scope="module", autouse=True)
def warm(assistant) -> None:
    warm_up(assistant)


def stored_events(assistant, sender: str) -> List[Dict[str, Any]]:
    """The conversation's events as the assistant's store holds them, oldest first."""
    with sqlite3.connect(assistant.workdir / "conversations.db") as connection:
        rows = connection.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    return [json.loads(data) for (data,) in rows]


def wait_stored(assistant, sender: str, until: Callable[[List[Dict[str, Any]]], bool], timeout: float = 15):
    """The stored events once `until` holds (the turn is stored just after its replies are sent)."""
    deadline = time.monotonic() + timeout
    while True:
        events = stored_events(assistant, sender)
        if until(events):
            return events
        if time.monotonic() > deadline:
            raise AssertionError(f"{sender}: not stored in time: {[e.get('event') for e in events]}")
        time.sleep(0.2)


def slot_values(events: List[Dict[str, Any]], name: str) -> List[Any]:
    return [event["value"] for event in events if event.get("event") == "slot" and event.get("name") == name]


def verdicts(events: List[Dict[str, Any]]) -> List[Any]:
    return slot_values(events, "feedback")


def has_verdicts(count: int) -> Callable[[List[Dict[str, Any]]], bool]:
    return lambda events: len(verdicts(events)) >= count


# --------------------------------------------------------------------------- REST


@pytest.mark.slow
def test_rest_the_question_follows_a_routed_answer_and_its_buttons_are_answered_and_recorded(assistant, sender):
    replies = assistant.say(sender, "how do i sign up for crime alerts")
    assert WMNOW in all_text(replies[:-1])
    assert replies[-1]["text"] == QUESTION
    assert [(b["title"], b["payload"]) for b in replies[-1]["buttons"]] == [
        ("Yes", "/feedback_yes"),
        ("No", "/feedback_no"),
    ]
    assert THANKS in all_text(assistant.say(sender, "/feedback_yes"))
    # the same topic again: no second question; another topic: asked
    assert QUESTION not in all_text(assistant.say(sender, "how do i sign up for crime alerts"))
    replies = assistant.say(sender, "whats the non emergency number")
    assert "101" in all_text(replies) and replies[-1]["text"] == QUESTION
    assert LOOKING_FOR in all_text(assistant.say(sender, "/feedback_no"))
    # what they were looking for is answered like any message
    replies = assistant.say(sender, "i wanted to know how to join as a police officer")
    assert "https://www.west-midlands.police.uk" in all_text(replies)
    events = wait_stored(assistant, sender, has_verdicts(2))
    assert verdicts(events) == [{"topic": "alerts", "helpful": True}, {"topic": "non_emergency", "helpful": False}]
    assert slot_values(events, "feedback_asked")[:2] == [["alerts"], ["alerts", "non_emergency"]]
    users = [e for e in events if e["event"] == "user"]
    assert users[-1]["text"] == "i wanted to know how to join as a police officer"
    assert all(e["input_channel"] == "rest" for e in users)


@pytest.mark.slow
def test_rest_a_typed_no_counts_and_the_question_never_blocks(assistant, sender):
    assistant.say(sender, "i lost my wallet in town")
    assert LOOKING_FOR in all_text(assistant.say(sender, "no"))  # trained as something_else: a no here
    replies = assistant.say(sender, "whats your facebook page")  # what they were looking for
    assert "facebook.com" in all_text(replies)
    replies = assistant.say(sender, "how do i pay a speeding fine")  # ignores the question: answered
    assert replies[-1]["text"] == QUESTION
    assert "automated assistant" in all_text(assistant.say(sender, "hello"))  # ignores it again
    assert "Tell me in a few words" in all_text(assistant.say(sender, "no"))  # no question just asked
    events = wait_stored(assistant, sender, lambda events: len([e for e in events if e["event"] == "user"]) >= 6)
    assert verdicts(events) == [{"topic": "lost_property", "helpful": False}]


@pytest.mark.slow
def test_no_question_after_greetings_the_emergency_reply_or_a_fallback(assistant, sender):
    for message in ("hello", "what can you do", "zzkq vorbl jxxt", "thanks"):
        assert QUESTION not in all_text(assistant.say(sender, message)), message
    assert assistant.say(sender, "how do i report fraud")[-1]["text"] == QUESTION  # asked in this conversation
    replies = assistant.say(sender, "theres a man with a knife outside my house")
    assert replies[0]["text"].startswith("Call 999 now") and QUESTION not in all_text(replies)
    # after the emergency reply, never again in this conversation, whatever is asked
    for message in ("whats the non emergency number", "how do i sign up for crime alerts", "i lost my wallet"):
        replies = assistant.say(sender, message)
        assert answered(replies) and QUESTION not in all_text(replies), message
    events = wait_stored(assistant, sender, lambda events: sum(e["event"] == "user" for e in events) >= 9)
    assert slot_values(events, "feedback_asked")[-1] == ["fraud", "emergency"]


@pytest.mark.slow
def test_an_open_question_survives_a_restart_of_both_servers(assistant, sender):
    assert assistant.say(sender, "how do i report fraud")[-1]["text"] == QUESTION
    assistant.stop()
    assistant.start()
    warm_up(assistant)
    assert LOOKING_FOR in all_text(assistant.say(sender, "/feedback_no"))
    events = wait_stored(assistant, sender, has_verdicts(1))
    assert verdicts(events) == [{"topic": "fraud", "helpful": False}]


# --------------------------------------------------------------------------- Messenger, Instagram, X


def last_with_buttons(sent):
    for s in reversed(sent):
        if s.message.get("quick_replies") or "attachment" in s.message:
            return s
    raise AssertionError(f"no buttons in {[s.body for s in sent]}")


@pytest.mark.slow
def test_messenger_gets_yes_and_no_as_quick_replies_and_a_tap_is_recorded(assistant, fake, user):  # noqa: F811
    say(assistant, "facebook", user, "how do i sign up for crime alerts")
    sent = fake.wait_for("facebook", user, has(QUESTION))
    assert any(WMNOW in s.text for s in sent)
    question = last_with_buttons(sent)
    assert question.text == QUESTION
    # quick replies (gone once the person answers or writes anything), never a button template
    assert "attachment" not in question.message
    assert [(q["title"], q["payload"], q["content_type"]) for q in question.message["quick_replies"]] == [
        ("Yes", "/feedback_yes", "text"),
        ("No", "/feedback_no", "text"),
    ]
    # the answer's own buttons came before it, on the answer, and stay usable
    assert any("attachment" in s.message or s.message.get("quick_replies") for s in sent if s is not question)
    message = {"mid": new_id(), "text": "Yes", "quick_reply": {"payload": "/feedback_yes"}}
    assert post(assistant, "facebook", meta_body("facebook", user, message=message)).status == 200
    fake.wait_for("facebook", user, has(THANKS))
    # a postback with the payload (an older client) works as well
    say(assistant, "facebook", user, "how do i report fraud")
    fake.wait_for("facebook", user, lambda sent: sum(QUESTION in s.text for s in sent) == 2)
    body = meta_body("facebook", user, postback={"mid": new_id(), "title": "No", "payload": "/feedback_no"})
    assert post(assistant, "facebook", body).status == 200
    fake.wait_for("facebook", user, has(LOOKING_FOR))
    events = wait_stored(assistant, f"facebook:{user}", has_verdicts(2))
    assert verdicts(events) == [{"topic": "alerts", "helpful": True}, {"topic": "fraud", "helpful": False}]


@pytest.mark.slow
def test_instagram_gets_yes_and_no_as_quick_replies(assistant, fake, user):  # noqa: F811
    say(assistant, "instagram", user, "how do i sign up for crime alerts")
    question = last_with_buttons(fake.wait_for("instagram", user, has(QUESTION)))
    assert question.text == QUESTION
    assert [(q["title"], q["payload"], q["content_type"]) for q in question.message["quick_replies"]] == [
        ("Yes", "/feedback_yes", "text"),
        ("No", "/feedback_no", "text"),
    ]
    message = {"mid": new_id(), "text": "No", "quick_reply": {"payload": "/feedback_no"}}
    assert post(assistant, "instagram", meta_body("instagram", user, message=message)).status == 200
    fake.wait_for("instagram", user, has(LOOKING_FOR))
    say(assistant, "instagram", user, "i wanted the number for my local officer")
    events = wait_stored(assistant, f"instagram:{user}", lambda ev: len([e for e in ev if e["event"] == "user"]) >= 3)
    assert verdicts(events) == [{"topic": "alerts", "helpful": False}]


@pytest.mark.slow
def test_on_x_yes_and_no_are_a_numbered_choice(assistant, fake, user):  # noqa: F811
    say(assistant, "twitter", user, "how do i sign up for crime alerts")
    sent = fake.wait_for("twitter", user, has(QUESTION))
    assert sent[-1].text == f"{QUESTION}\n\n{NUMBERED_HEADER}\n1. Yes\n2. No"
    say(assistant, "twitter", user, "1")
    fake.wait_for("twitter", user, has(THANKS))
    say(assistant, "twitter", user, "how do i report fraud")
    fake.wait_for("twitter", user, lambda sent: sum(QUESTION in s.text for s in sent) == 2)
    say(assistant, "twitter", user, "2")
    fake.wait_for("twitter", user, has(LOOKING_FOR))
    events = wait_stored(assistant, f"twitter:{user}", has_verdicts(2))
    assert verdicts(events) == [{"topic": "alerts", "helpful": True}, {"topic": "fraud", "helpful": False}]
    assert [e["text"] for e in events if e["event"] == "user"][1] == "/feedback_yes"  # "1" picked the first button
