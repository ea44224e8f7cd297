"""Unit tests of the custom actions: no servers, no network."""

from datetime import datetime, timezone

import pytest
from rasa_sdk.events import Restarted, SlotSet

from actions.fallback import ActionFallback
from actions.routing import ActionRouteToChannel, ActionStartOver
from actions.safety import ActionEmergency
from core import hours
from tests.conftest import user_event

OPEN = "2026-11-25T14:00:00+00:00"  # Wednesday 2pm UK
CLOSED = "2026-11-26T01:30:00+00:00"  # Thursday 1:30am UK
SUMMER_CLOSED = "2026-07-01T07:30:00+00:00"  # 8:30am BST is open, 7:30 UTC is 8:30 BST
SUMMER_EARLY = "2026-07-01T06:30:00+00:00"  # 7:30am BST: closed
WEBSITE = "https://www.west-midlands.police.uk"
CONTACT_US = "https://www.west-midlands.police.uk/contact-us"
LIVE_CHAT = "https://www.west-midlands.police.uk/contact-us/live-chat"


@pytest.fixture(autouse=True)
def open_hours(monkeypatch):
    monkeypatch.setenv(hours.FIXED_TIME_VARIABLE, OPEN)


async def run(action, dispatcher, tracker, domain):
    events = await action.run(dispatcher, tracker, domain)
    return events, "\n".join(message["text"] for message in dispatcher.messages)


@pytest.mark.parametrize(
    "intent, expected",
    [
        ("ask_question", "https://www.west-midlands.police.uk"),
        ("live_chat", "https://www.west-midlands.police.uk/contact-us/live-chat"),
        ("non_emergency", "101"),
        ("alerts", "https://www.wmnow.co.uk"),
        ("contact_us", "https://www.west-midlands.police.uk/contact-us"),
        ("accessibility", "18001 101"),
        ("emergency_info", "999"),
        ("greet", "https://www.west-midlands.police.uk/about-us/privacy-notice/general"),
        ("bot_challenge", "automated assistant"),
        ("capabilities", "automated assistant"),
        ("lost_property", WEBSITE),
        ("fines_and_tickets", WEBSITE),
        ("officer_feedback", CONTACT_US),
        ("careers", WEBSITE),
        ("licensing", WEBSITE),
        ("request_information", WEBSITE),
        ("crime_update", "101"),
        ("road_collision", WEBSITE),
        ("fraud", WEBSITE),
        ("domestic_abuse", LIVE_CHAT),
        ("antisocial_behaviour", WEBSITE),
        ("drugs", WEBSITE),
        ("hate_crime", WEBSITE),
        ("missing_person_update", "101"),
        ("local_policing", "https://www.wmnow.co.uk"),
        ("road_incidents", "https://twitter.com/WMPolice"),
        ("privacy", "https://www.west-midlands.police.uk/about-us/privacy-notice/general"),
        ("not_police", "local council"),
    ],
)
async def test_each_intent_gets_its_channel(intent, expected, dispatcher, make_tracker, domain):
    events, text = await run(ActionRouteToChannel(), dispatcher, make_tracker(user_event(intent)), domain)
    assert events[:1] == [SlotSet("last_route", intent)]  # then "was this helpful?" (tests/unit/test_feedback.py)
    assert expected in text


@pytest.mark.parametrize(
    "previous, intent, expected, not_expected",
    [
        ("live_chat", "ask_hours", "Live chat: 8am to midnight", None),
        ("non_emergency", "ask_number", "Non-emergency number: 101", None),
        ("emergency", "ask_number", "Emergency number: 999", None),
        (None, "ask_hours", "Live chat is open 8am to midnight", None),
        ("alerts", "ask_number", "call 101", "WMNow"),  # no number in the alerts route: the general answer
    ],
)
async def test_a_follow_up_is_about_the_route_just_given(
    previous, intent, expected, not_expected, dispatcher, make_tracker, domain
):
    tracker = make_tracker(user_event(intent), slots={"last_route": previous})
    events, text = await run(ActionRouteToChannel(), dispatcher, tracker, domain)
    assert expected in text and (not_expected is None or not_expected not in text)
    assert events == []  # the route followed up stays the one to follow up


@pytest.mark.parametrize(
    "message, expected, not_expected",
    [
        (
            "how do i follow you on insta",
            ["https://www.instagram.com/westmidlandspolice/"],
            ["facebook.com", "twitter.com"],
        ),
        ("are you on fb", ["https://www.facebook.com/westmidlandspolice/"], ["instagram.com", "twitter.com"]),
        ("whats your X account", ["https://twitter.com/WMPolice"], ["facebook.com", "instagram.com"]),
        ("facebook or twitter?", ["facebook.com", "twitter.com"], ["instagram.com"]),
        ("what social media are you on", ["facebook.com", "instagram.com", "twitter.com"], []),
    ],
)
async def test_social_media_gives_the_network_asked_for_or_all_three(
    message, expected, not_expected, dispatcher, make_tracker, domain
):
    _, text = await run(ActionRouteToChannel(), dispatcher, make_tracker(user_event("social_media", message)), domain)
    assert all(link in text for link in expected)
    assert not any(link in text for link in not_expected)


async def test_greeting_says_it_is_automated_cannot_take_reports_and_asks_for_no_personal_details(
    dispatcher, make_tracker, domain
):
    _, text = await run(ActionRouteToChannel(), dispatcher, make_tracker(user_event("greet", "hi")), domain)
    assert "automated assistant" in text
    assert "can't take crime reports" in text
    assert "don't share personal details" in text


async def test_routes_offer_buttons_with_readable_titles(dispatcher, make_tracker, domain):
    await run(ActionRouteToChannel(), dispatcher, make_tracker(user_event("alerts")), domain)
    answer = dispatcher.messages[-2]  # the last message is "was this helpful?" (tests/unit/test_feedback.py)
    assert answer["buttons"] == [{"title": "Social media", "payload": "/social_media"}]


@pytest.mark.parametrize("now, is_open", [(OPEN, True), (CLOSED, False), (SUMMER_CLOSED, True), (SUMMER_EARLY, False)])
async def test_live_chat_is_offered_only_when_open(now, is_open, monkeypatch, dispatcher, make_tracker, domain):
    monkeypatch.setenv(hours.FIXED_TIME_VARIABLE, now)
    _, text = await run(ActionRouteToChannel(), dispatcher, make_tracker(user_event("live_chat")), domain)
    assert ("contact-us/live-chat" in text) == is_open
    if not is_open:
        assert "closed" in text and "8am to midnight" in text and "101" in text


def test_hours_are_described_from_the_catalogue(catalogue):
    assert hours.describe(catalogue.channels["live_chat"].hours) == "8am to midnight"


def test_the_clock_is_real_when_not_pinned(monkeypatch):
    monkeypatch.delenv(hours.FIXED_TIME_VARIABLE)
    assert abs((hours.current_time() - datetime.now(timezone.utc)).total_seconds()) < 5


async def test_emergency_says_999_first_with_text_relay_and_silent_solution(dispatcher, make_tracker, domain):
    _, text = await run(ActionEmergency(), dispatcher, make_tracker(user_event("emergency", "he has a knife")), domain)
    first = dispatcher.messages[0]["text"]
    assert first.startswith("Call 999 now")
    assert "18000" in text and "55" in text


async def test_an_unknown_intent_never_gets_silence(dispatcher, make_tracker, domain):
    await run(ActionRouteToChannel(), dispatcher, make_tracker(user_event("something_new")), domain)
    assert "101" in dispatcher.messages[0]["text"]


def miss(text="blah", ranking=None):
    return user_event(
        "nlu_fallback",
        text,
        ranking
        or [
            {"name": "nlu_fallback", "confidence": 0.3},
            {"name": "alerts", "confidence": 0.25},
            {"name": "greet", "confidence": 0.2},
            {"name": "live_chat", "confidence": 0.1},
        ],
    )


async def test_first_miss_asks_did_you_mean_with_readable_buttons(dispatcher, make_tracker, domain):
    await run(ActionFallback(), dispatcher, make_tracker(miss()), domain)
    assert dispatcher.messages[0]["text"].startswith("Sorry, I'm not sure I understood. Did you mean")
    titles = [button["title"] for button in dispatcher.messages[-1]["buttons"]]
    assert titles == ["WMNow alerts", "Live chat", "Something else"]


async def test_second_miss_offers_people_and_a_fresh_start(dispatcher, make_tracker, domain):
    await run(ActionFallback(), dispatcher, make_tracker(miss(), user_event("something_else"), miss()), domain)
    text = dispatcher.messages[0]["text"]
    assert "https://www.west-midlands.police.uk" in text and "live-chat" in text and "101" in text
    assert {"title": "Start over", "payload": "/restart"} in dispatcher.messages[-1]["buttons"]


async def test_misses_in_a_row_never_say_the_same_thing_three_times(domain):
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    events, replies = [], []
    for _ in range(6):
        turn = miss()
        events += [turn]
        latest = turn["parse_data"] | {"text": turn["text"]}
        dispatcher = CollectingDispatcher()
        await ActionFallback().run(
            dispatcher, Tracker("u", {}, latest, list(events), False, None, {}, "action_listen"), domain
        )
        replies.append(dispatcher.messages[0]["text"])
        events += [{"event": "action", "name": "action_fallback"}]
        events += [{"event": "bot", "text": message["text"]} for message in dispatcher.messages]
        events += [{"event": "action", "name": "action_listen"}]
    assert "Did you mean" in replies[0]
    assert all(len({a, b, c}) > 1 for a, b, c in zip(replies, replies[1:], replies[2:], strict=False))
    assert replies[1] != replies[2] and replies[2] != replies[3]


async def test_a_miss_after_an_understood_message_starts_again_at_did_you_mean(dispatcher, make_tracker, domain):
    await run(ActionFallback(), dispatcher, make_tracker(miss(), user_event("alerts"), miss()), domain)
    assert "Did you mean" in dispatcher.messages[0]["text"]


async def test_start_over_restarts_and_says_so(dispatcher, make_tracker, domain):
    events, text = await run(ActionStartOver(), dispatcher, make_tracker(user_event("restart")), domain)
    assert events == [Restarted(), SlotSet("language", "en")]  # the language outlives a restart
    assert "start again" in text
