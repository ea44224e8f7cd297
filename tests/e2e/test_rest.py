"""End to end: the real action server and Rasa server, real messages on the REST webhook."""

import pytest

from tests.servers import all_text, answered

WEBHOOK = "/webhooks/rest/webhook"


@pytest.mark.slow
@pytest.mark.parametrize(
    "message, expected",
    [
        ("can i ask you a question about a firearms licence", "https://www.west-midlands.police.uk"),
        ("i want to talk to a real person on webchat", "https://www.west-midlands.police.uk/contact-us/live-chat"),
        ("someone keeps parking across my drive, who do i ring", "101"),
        ("how do i get crime alerts for my area", "https://www.wmnow.co.uk"),
        ("are you lot on insta", "https://www.instagram.com/westmidlandspolice/"),
        ("how can i contact you", "https://www.west-midlands.police.uk/contact-us"),
        ("i am deaf how do i contact the police", "18001 101"),
    ],
)
def test_a_request_gets_its_official_link(assistant, sender, message, expected):
    assert expected in all_text(assistant.say(sender, message))


@pytest.mark.slow
def test_danger_now_gets_999_in_the_very_first_reply(assistant, sender):
    replies = assistant.say(sender, "theres a man with a knife outside my house")
    assert replies[0]["text"].startswith("Call 999 now")
    assert "18000" in all_text(replies) and "55" in all_text(replies)


@pytest.mark.slow
def test_the_past_gets_101_not_an_alarm(assistant, sender):
    replies = assistant.say(sender, "my shed was broken into last week")
    assert "999" not in replies[0]["text"]
    assert "101" in all_text(replies)


@pytest.mark.slow
def test_asking_about_the_emergency_number_is_information_not_an_alarm(assistant, sender):
    replies = assistant.say(sender, "what is the number for emergencies?")
    assert not replies[0]["text"].startswith("Call 999 now")
    assert "999" in all_text(replies)


@pytest.mark.slow
def test_a_conversation_keeps_going_over_several_turns(assistant, sender):
    assert "automated assistant" in all_text(assistant.say(sender, "hiya"))
    assert "https://www.wmnow.co.uk" in all_text(assistant.say(sender, "/alerts"))
    assert "facebook.com" in all_text(assistant.say(sender, "and are you on facebook"))
    assert "welcome" in all_text(assistant.say(sender, "thanks"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'"hello"',
        b'{"message": "hi"}',
        b'{"sender": "", "message": "hi"}',
        b'{"sender": "   ", "message": "hi"}',
        b'{"sender": 42, "message": "hi"}',
        b'{"sender": null, "message": "hi"}',
        b'{"sender": "abc"}',
        b'{"sender": "abc", "message": 5}',
        b'{"sender": "abc", "message": ["hi"]}',
        b'{"sender": "abc", "message": null}',
        b'{"sender": "abc", "message": "hi", "metadata": "x"}',
        b'{"sender": "' + b"a" * 200 + b'", "message": "hi"}',
    ],
)
def test_a_malformed_request_gets_a_4xx_with_a_json_error(assistant, body):
    reply = assistant.post(WEBHOOK, body, raw=True)
    assert 400 <= reply.status < 500, reply
    assert "error" in reply.json()


@pytest.mark.slow
@pytest.mark.parametrize("message", ["", "   ", "\n\t"])
def test_an_empty_message_gets_a_friendly_prompt(assistant, sender, message):
    replies = assistant.say(sender, message)
    assert "didn't get a message" in replies[0]["text"]
    assert replies[-1]["buttons"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "message",
    [
        "🙂🙂🙂",
        "asdkjh qwpeoi zxmcn",
        "¿Dónde está la comisaría más cercana?",
        "x" * 50_000,
        "<script>alert(1)</script>",
        "{}",
        "/nonexistent_intent",
    ],
)
def test_odd_messages_always_get_a_reply_never_a_5xx(assistant, sender, message):
    reply = assistant.post(WEBHOOK, {"sender": sender, "message": message})
    assert reply.status == 200
    assert answered(reply.json()), reply.json()


@pytest.mark.slow
def test_a_very_long_message_is_cut_before_nlu_and_still_answered(assistant, sender):
    replies = assistant.say(sender, "how do i sign up to wmnow alerts for my area. " * 2000)
    assert "https://www.wmnow.co.uk" in all_text(replies)
