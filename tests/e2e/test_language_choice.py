"""Which language the assistant answers in, through the real servers: detected from a message in
several words, remembered for the conversation, never switched by one word or a button press,
chosen with "change language" (its buttons set it), and the same on the social channels."""

import pytest

from core.catalogue import load_catalogue
from core.hours import current_time
from core.replies import render
from tests.e2e.test_social_channels import fake, say, user  # noqa: F401 (fixtures)
from tests.servers import answered

POLISH_QUESTION = "jak mogę zgłosić kradzież roweru, to było wczoraj"


def languages(reply: list) -> set:
    return {message.get("lang") for message in reply}


@pytest.mark.slow
def test_a_message_in_polish_is_answered_in_polish_and_the_language_is_remembered(assistant, sender):
    first = assistant.say(sender, POLISH_QUESTION)
    assert answered(first) and languages(first) == {"pl"}, first
    assert languages(assistant.say(sender, "ok")) == {"pl"}  # one word: kept
    assert languages(assistant.say(sender, "/greet")) == {"pl"}  # a button press: kept
    back = assistant.say(sender, "how do i get crime alerts please")
    assert languages(back) == {"en"} and "https://www.wmnow.co.uk" in back[0]["text"] + back[-1]["text"]


@pytest.mark.slow
def test_an_urdu_emergency_opens_with_999_in_urdu_then_english_then_the_interpreter(assistant, sender):
    reply = assistant.say(sender, "میرا شوہر مجھے مار رہا ہے")
    assert reply[0]["lang"] == "ur" and reply[0]["dir"] == "rtl" and "999" in reply[0]["text"]
    assert reply[1]["lang"] == "en" and reply[1]["text"].startswith("Call 999 now")
    assert "Urdu" in reply[2]["text"] and "interpreter" in reply[2]["text"]


@pytest.mark.slow
def test_change_language_offers_the_languages_and_a_button_sets_one(assistant, sender):
    offered = assistant.say(sender, "can i change the language")
    payloads = [button["payload"] for message in offered for button in message.get("buttons", [])]
    assert '/change_language{"language": "ur"}' in payloads or '/change_language{"language":"ur"}' in payloads
    chosen = assistant.say(sender, '/change_language{"language": "ro"}')
    assert languages(chosen) == {"ro"}, chosen
    routed = assistant.say(sender, "/alerts")
    assert languages(routed) == {"ro"} and any("https://www.wmnow.co.uk" in m["text"] for m in routed)


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["facebook", "instagram", "twitter"])
def test_the_social_channels_answer_in_the_persons_language(assistant, fake, platform, user):  # noqa: F811
    polish = render(load_catalogue(), "alerts", current_time(), language="pl")[0]["text"]
    say(assistant, platform, user, "jak mogę się zapisać na alerty o przestępstwach w mojej okolicy")
    sent = fake.wait_for(platform, user, lambda sent: any("https://www.wmnow.co.uk" in s.text for s in sent))
    assert any(polish[:40] in s.text for s in sent), [s.text for s in sent]
