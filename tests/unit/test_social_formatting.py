"""Unit tests (no network) of what the social channels share: formatting, signatures, memories, configuration."""

import base64
import hashlib
import hmac
import logging
import random
import re

import pytest

from channels.facebook import FacebookChannel
from channels.instagram import InstagramChannel
from channels.social import (
    LINK,
    NUMBERED_HEADER,
    Button,
    Offers,
    RecentIds,
    crc_response_token,
    meta_signature,
    oauth1_header,
    pick,
    plan,
    split_text,
    twitter_signature,
    valid_meta_signature,
    valid_twitter_signature,
)
from channels.twitter import TwitterChannel

MESSENGER = FacebookChannel.limits
INSTAGRAM = InstagramChannel.limits
X = TwitterChannel.limits

SIX = [
    {"title": "Ask a question online", "payload": "/ask_question"},
    {"title": "Live chat", "payload": "/live_chat"},
    {"title": "Report something non-urgent (101)", "payload": "/non_emergency"},
    {"title": "Sign up to WMNow alerts", "payload": "/alerts"},
    {"title": "Follow us on social media", "payload": "/social_media"},
    {"title": "All the ways to contact us", "payload": "/contact_us"},
]
SHORT = [{"title": "Live chat", "payload": "/live_chat"}, {"title": "Start over", "payload": "/restart"}]


# --- splitting


def words(text):
    return text.split()


@pytest.mark.parametrize("limit", [60, 80, 100, 640, 1000, 2000])  # >= the longest link
def test_splitting_keeps_every_link_whole_and_every_word(limit):
    rng = random.Random(limit)
    vocabulary = ["police", "report", "101.", "help?", "the", "a", "WMNow!", "chat,", "line\n", "para\n\n"]
    links = [
        "https://www.west-midlands.police.uk/contact-us/live-chat",
        "https://www.wmnow.co.uk",
        "www.example.org/a/b?c=d",
    ]
    for _ in range(50):
        text = " ".join(rng.choice(vocabulary + links) for _ in range(rng.randint(1, 400)))
        chunks = split_text(text, limit)
        assert all(0 < len(chunk) <= limit for chunk in chunks)
        assert words(" ".join(chunks)) == words(text)
        for link in LINK.findall(text):
            assert any(link in chunk for chunk in chunks), link


def test_splitting_never_breaks_a_url_even_when_it_sits_on_the_limit():
    url = "https://www.west-midlands.police.uk/contact-us/live-chat"
    text = "x" * 30 + " " + url + " and more words after it"
    for limit in range(len(url), len(text) + 1):
        chunks = split_text(text, limit)
        assert any(url in chunk for chunk in chunks), (limit, chunks)


def test_a_link_glued_to_a_long_word_is_cut_before_the_link_not_through_it():
    url = "https://www.wmnow.co.uk/alerts"
    chunks = split_text("y" * 30 + url, 40)
    assert chunks == ["y" * 30, url]


def test_splitting_prefers_sentence_and_paragraph_boundaries():
    text = "First sentence is here. Second sentence is a bit longer than that. Third one."
    assert split_text(text, 70) == ["First sentence is here. Second sentence is a bit longer than that.", "Third one."]
    assert split_text("Para one is short.\n\nPara two is also short.", 30) == [
        "Para one is short.",
        "Para two is also short.",
    ]


def test_a_short_text_is_one_message_and_an_empty_one_none():
    assert split_text("  hello  ", 2000) == ["hello"]
    assert split_text("   ", 2000) == []


def test_a_long_reply_becomes_several_messages_within_each_platform_limit():
    text = (
        "Call 101 if it is not an emergency, or see https://www.west-midlands.police.uk/contact-us for more. " * 60
    ).strip()
    for limits in (MESSENGER, INSTAGRAM, X):
        outgoing, _ = plan({"text": text}, limits)
        assert len(outgoing) >= -(-len(text) // limits.text)
        assert all(len(item.text) <= limits.text for item in outgoing)
        assert words(" ".join(item.text for item in outgoing)) == words(text)


# --- buttons


def test_up_to_three_short_buttons_become_a_messenger_button_template():
    outgoing, offered = plan({"text": "Anything else?", "buttons": SHORT}, MESSENGER)
    assert offered == ()
    assert [b.title for b in outgoing[-1].template_buttons] == ["Live chat", "Start over"]
    assert outgoing[-1].quick_replies == []


def test_a_text_too_long_for_a_button_template_gets_quick_replies_instead():
    outgoing, offered = plan({"text": "word " * 200, "buttons": SHORT}, MESSENGER)
    assert outgoing[-1].template_buttons == [] and [b.payload for b in outgoing[-1].quick_replies] == [
        "/live_chat",
        "/restart",
    ]
    assert offered == ()


@pytest.mark.parametrize("limits", [MESSENGER, INSTAGRAM])
def test_a_message_sent_with_quick_replies_gets_quick_replies_on_meta_and_a_numbered_list_on_x(limits):
    """ "Was this helpful?" (actions/feedback.py) comes as quick replies: on Messenger too, never a template."""
    yes_no = [{"title": "Yes", "payload": "/feedback_yes"}, {"title": "No", "payload": "/feedback_no"}]
    outgoing, offered = plan({"text": "Was this helpful?", "quick_replies": yes_no, "buttons": None}, limits)
    assert [(b.title, b.payload) for b in outgoing[-1].quick_replies] == [
        ("Yes", "/feedback_yes"),
        ("No", "/feedback_no"),
    ]
    assert outgoing[-1].template_buttons == [] and offered == () and outgoing[-1].text == "Was this helpful?"
    outgoing, offered = plan({"text": "Was this helpful?", "quick_replies": yes_no}, X)
    assert outgoing[-1].text == f"Was this helpful?\n\n{NUMBERED_HEADER}\n1. Yes\n2. No"
    assert [b.payload for b in offered] == ["/feedback_yes", "/feedback_no"]


def test_more_buttons_than_a_template_takes_become_quick_replies_when_the_titles_fit():
    buttons = [{"title": f"Option {n}", "payload": f"/o{n}"} for n in range(1, 8)]
    outgoing, offered = plan({"text": "Pick", "buttons": buttons}, MESSENGER)
    assert len(outgoing[-1].quick_replies) == 7 and not outgoing[-1].template_buttons and offered == ()


@pytest.mark.parametrize("limits", [MESSENGER, INSTAGRAM])
def test_more_buttons_than_the_platform_allows_become_a_numbered_list(limits):
    buttons = [{"title": f"Option {n}", "payload": f"/o{n}"} for n in range(1, 16)]  # 15 > 13 quick replies
    outgoing, offered = plan({"text": "Pick one", "buttons": buttons}, limits)
    text = outgoing[-1].text
    assert NUMBERED_HEADER in text
    assert all(f"{n}. Option {n}" in text for n in range(1, 16))
    assert [b.payload for b in offered] == [f"/o{n}" for n in range(1, 16)]
    assert outgoing[-1].quick_replies == [] and outgoing[-1].template_buttons == []  # 15 numbers do not fit either


@pytest.mark.parametrize("limits", [MESSENGER, INSTAGRAM])
def test_a_title_too_long_makes_a_numbered_list_with_numbered_quick_replies(limits):
    outgoing, offered = plan({"text": "I can help with:", "buttons": SIX}, limits)
    last = outgoing[-1]
    assert last.text.startswith("I can help with:\n\nReply with a number:\n1. Ask a question online\n2. Live chat")
    assert "6. All the ways to contact us" in last.text
    assert [(b.title, b.payload) for b in last.quick_replies] == [(str(n), b["payload"]) for n, b in enumerate(SIX, 1)]
    assert all(len(b.title) <= limits.quick_reply_title for b in last.quick_replies)
    assert not last.template_buttons
    assert [b.payload for b in offered] == [b["payload"] for b in SIX]


def test_on_x_every_button_is_a_numbered_list():
    for buttons in (SHORT, SIX):
        outgoing, offered = plan({"text": "Choose", "buttons": buttons}, X)
        assert len(outgoing) == 1
        assert outgoing[0].text == "Choose\n\n" + NUMBERED_HEADER + "\n" + "\n".join(
            f"{n}. {b['title']}" for n, b in enumerate(buttons, 1)
        )
        assert [b.payload for b in offered] == [b["payload"] for b in buttons]


def test_no_button_is_ever_dropped_whatever_the_platform():
    buttons = [{"title": "T" * n, "payload": f"/p{n}"} for n in range(1, 40, 3)] + [
        {"payload": "/no_title"},
        {"title": "No payload"},
    ]
    for limits in (MESSENGER, INSTAGRAM, X):
        outgoing, offered = plan({"text": "x", "buttons": buttons}, limits)
        shown = {b.payload for item in outgoing for b in item.quick_replies + item.template_buttons} | {
            b.payload for b in offered
        }
        assert shown >= {f"/p{n}" for n in range(1, 40, 3)} | {"/no_title", "No payload"}


def test_a_numbered_list_that_does_not_fit_with_the_text_gets_its_own_message():
    outgoing, offered = plan({"text": "z " * 495, "buttons": SIX}, INSTAGRAM)
    assert len(outgoing) == 2 and outgoing[1].text.startswith(NUMBERED_HEADER)
    assert len(outgoing[1].quick_replies) == 6 and len(offered) == 6


def test_buttons_without_text_still_get_a_message():
    outgoing, _ = plan({"buttons": SHORT}, MESSENGER)
    assert outgoing[0].text and outgoing[0].template_buttons
    outgoing, offered = plan({"buttons": SIX}, X)
    assert outgoing[0].text.startswith(NUMBERED_HEADER) and len(offered) == 6


def test_quick_replies_from_rasa_are_treated_like_buttons_and_images_become_links():
    outgoing, _ = plan({"text": "hi", "quick_replies": SHORT, "image": "https://example.org/a.png"}, INSTAGRAM)
    assert [b.title for b in outgoing[0].quick_replies] == ["Live chat", "Start over"]
    assert outgoing[-1].text == "https://example.org/a.png"


# --- numbered replies


def test_a_numbered_reply_maps_back_to_the_payload():
    offers = Offers()
    offered = tuple(Button(b["title"], b["payload"]) for b in SIX)
    offers.offer("twitter:42", offered)
    assert pick(offers.take("twitter:42"), "4") == "/alerts"
    assert offers.take("twitter:42") == ()  # only the very next message can answer with a number
    for reply, expected in [
        ("1", "/ask_question"),
        (" 6 ", "/contact_us"),
        ("2.", "/live_chat"),
        ("3)", "/non_emergency"),
    ]:
        assert pick(offered, reply) == expected
    for reply in ["0", "7", "101", "4 please", "", "four"]:
        assert pick(offered, reply) is None
    assert pick((), "1") is None


def test_offers_are_per_person_and_bounded():
    offers = Offers(size=3)
    for n in range(5):
        offers.offer(f"facebook:{n}", [Button("A", f"/a{n}")])
    assert len(offers) == 3
    assert offers.take("facebook:0") == ()
    assert pick(offers.take("facebook:4"), "1") == "/a4"


def test_recent_ids_answer_each_message_once_and_stay_bounded():
    recent = RecentIds(size=3)
    assert not recent.seen_before("m1")
    assert recent.seen_before("m1")
    for mid in ("m2", "m3", "m4"):
        assert not recent.seen_before(mid)
    assert len(recent) == 3
    assert not recent.seen_before("m1")  # evicted: the oldest is forgotten first
    assert not recent.seen_before(None) and not recent.seen_before(None)


# --- signatures


def test_meta_signature_is_hex_hmac_sha256_of_the_raw_body():
    body = b'{"object":"page"}'
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert meta_signature("s3cret", body) == expected
    assert valid_meta_signature("s3cret", body, expected)
    assert valid_meta_signature("s3cret", body, expected.upper().replace("SHA256=", "sha256="))
    for wrong in [
        None,
        "",
        "sha256=",
        expected[:-1] + "0",
        meta_signature("other", body),
        "sha256=é",
        expected.replace("sha256=", "sha1="),
    ]:
        assert not valid_meta_signature("s3cret", body, wrong)
    assert not valid_meta_signature("s3cret", body + b" ", expected)


def test_twitter_signature_is_base64_hmac_sha256_of_the_raw_body():
    body = b'{"for_user_id":"1"}'
    expected = "sha256=" + base64.b64encode(hmac.new(b"cs", body, hashlib.sha256).digest()).decode()
    assert twitter_signature("cs", body) == expected
    assert valid_twitter_signature("cs", body, expected)
    for wrong in [None, "", twitter_signature("other", body), "sha256=ü"]:
        assert not valid_twitter_signature("cs", body, wrong)


def test_crc_response_token_for_a_known_input():
    # printf 'challenge-123' | openssl dgst -sha256 -hmac test-twitter-secret -binary | base64
    assert (
        crc_response_token("test-twitter-secret", "challenge-123")
        == "sha256=Hkq8Eo2K3WFlb5Cz1+eMEqwehhFQquWC2LL5/7xPaoQ="
    )


def test_oauth1_signature_matches_xs_documented_example():
    # The worked example of X's "Creating a signature" guide.
    header = oauth1_header(
        "POST",
        "https://api.twitter.com/1.1/statuses/update.json",
        "xvz1evFS4wEEPTGEFPHBog",
        "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
        "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        params={"include_entities": "true", "status": "Hello Ladies + Gentlemen, a signed OAuth request!"},
        nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
        timestamp=1318622958,
    )
    assert header.startswith("OAuth ")
    assert 'oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"' in header
    assert 'oauth_signature_method="HMAC-SHA1"' in header and 'oauth_version="1.0"' in header


def test_the_x_send_request_is_oauth_signed_and_has_the_text():
    channel = TwitterChannel(
        {"consumer_key": "k", "consumer_secret": "s", "access_token": "t", "access_token_secret": "ts"},
        "https://api.twitter.com",
    )
    from channels.social import Outgoing

    url, body, headers, query = channel.request_for("12345", Outgoing("hello https://www.wmnow.co.uk"))
    assert url == "https://api.twitter.com/2/dm_conversations/with/12345/messages"
    assert body == {"text": "hello https://www.wmnow.co.uk"} and query == {}
    assert re.match(
        r'^OAuth oauth_consumer_key="k", oauth_nonce="\w+", oauth_signature="[^"]+", ', headers["Authorization"]
    )


# --- configuration

ALL = {
    FacebookChannel: ["FACEBOOK_VERIFY_TOKEN", "FACEBOOK_APP_SECRET", "FACEBOOK_PAGE_ACCESS_TOKEN"],
    InstagramChannel: ["INSTAGRAM_VERIFY_TOKEN", "INSTAGRAM_APP_SECRET", "INSTAGRAM_ACCESS_TOKEN"],
    TwitterChannel: [
        "TWITTER_CONSUMER_KEY",
        "TWITTER_CONSUMER_SECRET",
        "TWITTER_ACCESS_TOKEN",
        "TWITTER_ACCESS_TOKEN_SECRET",
    ],
}


async def no_handler(_message):
    return None


@pytest.mark.parametrize("channel_class", list(ALL))
def test_a_channel_without_its_secrets_is_not_served(channel_class, monkeypatch, caplog):
    names = ALL[channel_class]
    for name in names:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(names[0], "a-value-that-must-never-be-logged")
    with caplog.at_level(logging.INFO, logger="channels.social"):
        channel = channel_class.from_credentials(None)
    assert not channel.enabled
    assert channel.blueprint(no_handler)._future_routes == set()
    lines = [record.getMessage() for record in caplog.records if "is off" in record.getMessage()]
    assert len(lines) == 1 and all(name in lines[0] for name in names[1:])
    assert "a-value-that-must-never-be-logged" not in caplog.text


@pytest.mark.parametrize("channel_class", list(ALL))
def test_a_channel_with_its_secrets_serves_the_webhook(channel_class, monkeypatch):
    for name in ALL[channel_class]:
        monkeypatch.setenv(name, f"value-of-{name}")
    monkeypatch.delenv(channel_class.api_url_name, raising=False)
    channel = channel_class.from_credentials({})
    assert channel.enabled and channel.api_url == channel_class.default_api_url
    routes = {(route.uri, tuple(sorted(route.methods))) for route in channel.blueprint(no_handler)._future_routes}
    assert ("/webhook", ("GET",)) in routes and ("/webhook", ("POST",)) in routes


def test_credentials_yml_can_rename_the_variables(monkeypatch):
    monkeypatch.delenv("FACEBOOK_APP_SECRET", raising=False)
    monkeypatch.setenv("FACEBOOK_VERIFY_TOKEN", "v")
    monkeypatch.setenv("FACEBOOK_PAGE_ACCESS_TOKEN", "p")
    monkeypatch.setenv("WMP_FB_SECRET", "s")
    monkeypatch.setenv("WMP_FB_URL", "http://127.0.0.1:9/fb/")
    channel = FacebookChannel.from_credentials({"app_secret_env": "WMP_FB_SECRET", "api_url_env": "WMP_FB_URL"})
    assert channel.enabled and channel.secret("app_secret") == "s" and channel.api_url == "http://127.0.0.1:9/fb"


def test_the_credentials_file_names_variables_not_secrets():
    import yaml

    from tests.servers import ROOT

    with open(ROOT / "credentials.yml") as handle:
        text = handle.read()
    credentials = yaml.safe_load(text)
    for channel_class, names in ALL.items():
        entry = credentials[f"{channel_class.__module__}.{channel_class.__name__}"]
        assert sorted(value for key, value in entry.items() if key != "api_url_env") == sorted(names)
        assert entry["api_url_env"] == channel_class.api_url_name
    assert "${FACEBOOK" not in text and "${INSTAGRAM" not in text and "${TWITTER" not in text


# --- reading events


def test_messenger_events_echoes_receipts_and_payloads():
    channel = FacebookChannel({"verify_token": "v", "app_secret": "s", "page_access_token": "p"}, "http://x")
    payload = {
        "object": "page",
        "entry": [
            {
                "id": "PAGE",
                "time": 1,
                "messaging": [
                    {
                        "sender": {"id": "111"},
                        "recipient": {"id": "PAGE"},
                        "timestamp": 1,
                        "message": {"mid": "m.1", "text": "hello"},
                    },
                    {
                        "sender": {"id": "PAGE"},
                        "recipient": {"id": "111"},
                        "timestamp": 2,
                        "message": {"mid": "m.2", "text": "hi", "is_echo": True},
                    },
                    {
                        "sender": {"id": "111"},
                        "recipient": {"id": "PAGE"},
                        "timestamp": 3,
                        "delivery": {"mids": ["m.2"], "watermark": 2},
                    },
                    {"sender": {"id": "111"}, "recipient": {"id": "PAGE"}, "timestamp": 4, "read": {"watermark": 2}},
                    {
                        "sender": {"id": "111"},
                        "recipient": {"id": "PAGE"},
                        "timestamp": 5,
                        "message": {"mid": "m.3", "text": "4", "quick_reply": {"payload": "/alerts"}},
                    },
                    {
                        "sender": {"id": "111"},
                        "recipient": {"id": "PAGE"},
                        "timestamp": 6,
                        "postback": {"mid": "m.4", "title": "Live chat", "payload": "/live_chat"},
                    },
                    {
                        "sender": {"id": "111"},
                        "recipient": {"id": "PAGE"},
                        "timestamp": 7,
                        "message": {"mid": "m.5", "attachments": [{"type": "image"}]},
                    },
                    {"sender": {"id": "../etc"}, "recipient": {"id": "PAGE"}, "message": {"mid": "m.6", "text": "x"}},
                    "junk",
                ],
            },
            "junk",
        ],
    }
    found = channel.messages(payload)
    assert [(m.user_id, m.message_id, m.text, m.is_payload) for m in found] == [
        ("111", "m.1", "hello", False),
        ("111", "m.3", "/alerts", True),
        ("111", "postback:m.4", "/live_chat", True),
        ("111", "m.5", "", False),
    ]
    assert channel.messages({"object": "instagram", "entry": payload["entry"]}) == []


def test_x_events_ignore_our_own_dms_and_other_activity():
    channel = TwitterChannel(
        {"consumer_key": "k", "consumer_secret": "s", "access_token": "t", "access_token_secret": "ts"}, "http://x"
    )

    def dm(event_id, sender, text):
        return {
            "type": "message_create",
            "id": event_id,
            "created_timestamp": "1",
            "message_create": {"target": {"recipient_id": "1"}, "sender_id": sender, "message_data": {"text": text}},
        }

    payload = {
        "for_user_id": "999",
        "direct_message_events": [
            dm("e1", "555", "hello"),
            dm("e2", "999", "our own reply"),
            {"type": "other"},
            "junk",
        ],
        "direct_message_indicate_typing_events": [{"sender_id": "555"}],
    }
    assert [(m.user_id, m.message_id, m.text) for m in channel.messages(payload)] == [("555", "e1", "hello")]
    assert channel.messages({"tweet_create_events": []}) == []
