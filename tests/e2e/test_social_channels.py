"""End to end: Messenger, Instagram and X webhooks on the real Rasa server, replies through a fake send API.

The session's Rasa server has the test secrets (tests.servers.SOCIAL_SECRETS) and sends to
http://127.0.0.1:<fake_api_port>/<platform>, where tests.fake_platforms records every call.
Webhook calls are shaped like the platforms' documented events and signed like they sign them.
"""

import itertools
import json
import time
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional
from urllib.parse import urlencode

import pytest

from channels.facebook import FacebookChannel
from channels.instagram import InstagramChannel
from channels.social import NUMBERED_HEADER, crc_response_token, meta_signature, twitter_signature
from channels.twitter import TwitterChannel
from tests.fake_platforms import FakePlatforms, Sent
from tests.servers import SOCIAL_SECRETS, Reply

META = ["facebook", "instagram"]
ALL = META + ["twitter"]
LIMITS = {"facebook": FacebookChannel.limits, "instagram": InstagramChannel.limits, "twitter": TwitterChannel.limits}
PAGE_ID = "1000000000001"
X_ACCOUNT = "2000000000002"
CAPABILITY_TITLES = [
    "Ask a question",
    "Live chat",
    "Non-emergency (101)",
    "WMNow alerts",
    "Social media",
    "Contact us",
]
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def fake(assistant):
    platforms = FakePlatforms(assistant.fake_api_port).start()
    try:
        yield platforms
    finally:
        platforms.stop()


@pytest.fixture
def user() -> str:
    """A platform user id nobody else uses (digits, like PSIDs, IGSIDs and X user ids)."""
    return f"{int(time.time())}{next(_numbers):05d}"


def new_id(prefix: str = "m") -> str:
    return f"{prefix}.{time.time_ns()}{next(_numbers)}"


def now_ms() -> int:
    return int(time.time() * 1000)


# --- webhook events, as the platforms document them


def meta_body(platform: str, user: str, **event: Any) -> Dict[str, Any]:
    messaging = {"sender": {"id": user}, "recipient": {"id": PAGE_ID}, "timestamp": now_ms(), **event}
    return {
        "object": "page" if platform == "facebook" else "instagram",
        "entry": [{"id": PAGE_ID, "time": now_ms(), "messaging": [messaging]}],
    }


def x_body(user: str, text: str, event_id: Optional[str] = None, sender: Optional[str] = None) -> Dict[str, Any]:
    sender = sender or user
    recipient = X_ACCOUNT if sender == user else user
    return {
        "for_user_id": X_ACCOUNT,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": event_id or str(time.time_ns()),
                "created_timestamp": str(now_ms()),
                "message_create": {
                    "target": {"recipient_id": recipient},
                    "sender_id": sender,
                    "message_data": {"text": text, "entities": {}},
                },
            }
        ],
        "users": {
            user: {"id": user, "created_timestamp": "1", "name": "Test person", "screen_name": "testperson"},
            X_ACCOUNT: {
                "id": X_ACCOUNT,
                "created_timestamp": "1",
                "name": "West Midlands Police",
                "screen_name": "WMPolice",
            },
        },
    }


def text_body(platform: str, user: str, text: str, message_id: Optional[str] = None) -> Dict[str, Any]:
    if platform == "twitter":
        return x_body(user, text, event_id=message_id)
    return meta_body(platform, user, message={"mid": message_id or new_id(), "text": text})


# --- calling the webhooks


def call(assistant, method: str, path: str, body: bytes = b"", headers: Optional[Dict[str, str]] = None) -> Reply:
    request = urllib.request.Request(
        assistant.url + path, data=body if method == "POST" else None, method=method, headers=headers or {}
    )
    started = time.time()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, response.read().decode(), time.time() - started)
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read().decode(), time.time() - started)


def signature_header(platform: str, raw: bytes, secret: Optional[str] = None) -> Dict[str, str]:
    if platform == "twitter":
        return {
            "x-twitter-webhooks-signature": twitter_signature(secret or SOCIAL_SECRETS["TWITTER_CONSUMER_SECRET"], raw)
        }
    return {"X-Hub-Signature-256": meta_signature(secret or SOCIAL_SECRETS[f"{platform.upper()}_APP_SECRET"], raw)}


def post(assistant, platform: str, body: Any, signed: bool = True, headers: Optional[Dict[str, str]] = None) -> Reply:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = {
        "Content-Type": "application/json",
        **(signature_header(platform, raw) if signed else {}),
        **(headers or {}),
    }
    return call(assistant, "POST", f"/webhooks/{platform}/webhook", raw, all_headers)


def say(assistant, platform: str, user: str, text: str, message_id: Optional[str] = None) -> Reply:
    reply = post(assistant, platform, text_body(platform, user, text, message_id))
    assert reply.status == 200, reply
    return reply


def has(fragment: str):
    return lambda sent: any(fragment in s.text for s in sent)


def assert_within_limits(platform: str, sent: List[Sent]) -> None:
    limits = LIMITS[platform]
    for s in sent:
        message = s.message
        assert 0 < len(s.text) <= limits.text, s.body
        if platform == "twitter":
            assert set(message) == {"text"}
            continue
        quick_replies = message.get("quick_replies", [])
        assert len(quick_replies) <= limits.quick_replies
        assert all(
            0 < len(q["title"]) <= limits.quick_reply_title and q["content_type"] == "text" for q in quick_replies
        )
        if "attachment" in message:
            assert platform == "facebook"
            template = message["attachment"]["payload"]
            assert template["template_type"] == "button" and len(template["text"]) <= limits.template_text
            assert 0 < len(template["buttons"]) <= limits.template_buttons
            assert all(
                len(b["title"]) <= limits.template_title and b["type"] == "postback" for b in template["buttons"]
            )


# --- subscription handshakes


@pytest.mark.slow
@pytest.mark.parametrize("platform", META)
def test_meta_handshake_returns_the_challenge_for_the_right_token(assistant, platform):
    query = urlencode(
        {
            "hub.mode": "subscribe",
            "hub.verify_token": SOCIAL_SECRETS[f"{platform.upper()}_VERIFY_TOKEN"],
            "hub.challenge": "1158201444",
        }
    )
    reply = call(assistant, "GET", f"/webhooks/{platform}/webhook?{query}")
    assert (reply.status, reply.body) == (200, "1158201444")


@pytest.mark.slow
@pytest.mark.parametrize("platform", META)
@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "RIGHT", "hub.challenge": "1"},
        {},
    ],
)
def test_meta_handshake_with_a_wrong_or_missing_token_is_forbidden(assistant, platform, params):
    params = {k: SOCIAL_SECRETS[f"{platform.upper()}_VERIFY_TOKEN"] if v == "RIGHT" else v for k, v in params.items()}
    reply = call(assistant, "GET", f"/webhooks/{platform}/webhook?{urlencode(params)}")
    assert reply.status == 403 and "1" != reply.body


@pytest.mark.slow
def test_x_crc_challenge_gets_the_response_token(assistant):
    reply = call(assistant, "GET", "/webhooks/twitter/webhook?" + urlencode({"crc_token": "crc-token-from-x"}))
    assert reply.status == 200
    assert reply.json() == {
        "response_token": crc_response_token(SOCIAL_SECRETS["TWITTER_CONSUMER_SECRET"], "crc-token-from-x")
    }
    assert call(assistant, "GET", "/webhooks/twitter/webhook").status == 400


# --- signatures and malformed bodies


@pytest.mark.slow
@pytest.mark.parametrize("platform", ALL)
def test_a_bad_or_missing_signature_is_refused_and_nothing_is_sent(assistant, fake, platform, user):
    body = text_body(platform, user, "how do i sign up for crime alerts")
    raw = json.dumps(body).encode()
    name = next(iter(signature_header(platform, raw)))
    for headers in (
        signature_header(platform, raw, secret="not-the-secret"),  # signed with another secret
        {},  # no signature
        {name: ""},
        {name: "sha256=ü"},  # not even ASCII
        {name: signature_header(platform, raw)[name].replace("sha256=", "")},  # no "sha256=" prefix
        signature_header(platform, raw + b" "),  # signed another body
        signature_header("twitter" if platform != "twitter" else "facebook", raw),  # another platform's scheme
    ):
        assert post(assistant, platform, raw, signed=False, headers=headers).status == 403, headers
    time.sleep(1.5)  # a real message is answered well within this
    assert fake.sent(platform, user) == []


@pytest.mark.slow
@pytest.mark.parametrize("platform", ALL)
@pytest.mark.parametrize("raw", [b"", b"not json", b'{"object": ', b"[1, 2]", b'"page"', b"\xff\xfe"])
def test_malformed_json_with_a_good_signature_is_a_400(assistant, platform, raw):
    assert post(assistant, platform, raw).status == 400


@pytest.mark.slow
@pytest.mark.parametrize("platform", ALL)
def test_odd_but_valid_json_is_acknowledged_not_a_5xx(assistant, platform):
    for body in (
        {},
        {"object": "page", "entry": "x"},
        {"entry": [{"messaging": [{"sender": 5}]}]},
        {"direct_message_events": {"a": 1}},
    ):
        assert post(assistant, platform, body).status == 200


# --- answers


@pytest.mark.slow
@pytest.mark.parametrize("platform", ALL)
def test_a_signed_message_is_acknowledged_at_once_and_answered_with_the_official_link(assistant, fake, platform, user):
    reply = say(assistant, platform, user, "how do i sign up for crime alerts")
    assert reply.seconds < 1.0, "the webhook must not wait for the assistant"
    sent = fake.wait_for(platform, user, has("https://www.wmnow.co.uk"))
    assert_within_limits(platform, sent)
    for s in sent:
        if platform == "twitter":
            assert s.headers["authorization"].startswith("OAuth ")
            assert f'oauth_consumer_key="{SOCIAL_SECRETS["TWITTER_CONSUMER_KEY"]}"' in s.headers["authorization"]
            assert 'oauth_signature_method="HMAC-SHA1"' in s.headers["authorization"]
            assert s.path == f"/2/dm_conversations/with/{user}/messages"
        else:
            token = SOCIAL_SECRETS["FACEBOOK_PAGE_ACCESS_TOKEN" if platform == "facebook" else "INSTAGRAM_ACCESS_TOKEN"]
            assert s.path == "/me/messages" and s.query["access_token"] == token
            assert (s.body.get("messaging_type") == "RESPONSE") == (platform == "facebook")


@pytest.mark.slow
@pytest.mark.parametrize("platform", ALL)
def test_a_send_api_hiccup_is_retried_once(assistant, fake, platform, user):
    fake.fail_next(platform, user, 503)
    say(assistant, platform, user, "how do i sign up for crime alerts")
    fake.wait_for(platform, user, has("https://www.wmnow.co.uk"))
    attempts = fake.sent(platform, user, failed=True)
    assert attempts[0].status == 503 and attempts[1].status < 300 and attempts[0].body == attempts[1].body


@pytest.mark.slow
@pytest.mark.parametrize("platform", ALL)
def test_danger_now_gets_call_999_in_the_very_first_message(assistant, fake, platform, user):
    say(assistant, platform, user, "theres a man with a knife outside my house")
    sent = fake.wait_for(platform, user, lambda sent: len(sent) >= 2)
    assert sent[0].text.startswith("Call 999 now"), sent[0].body
    assert_within_limits(platform, sent)


@pytest.mark.slow
@pytest.mark.parametrize("platform", META)
def test_more_buttons_than_a_template_holds_become_quick_replies_on_meta(assistant, fake, platform, user):
    say(assistant, platform, user, "what can you do")
    sent = fake.wait_for(platform, user, lambda sent: any("quick_replies" in s.message for s in sent))
    assert_within_limits(platform, sent)
    quick_replies = sent[-1].message["quick_replies"]
    assert [q["title"] for q in quick_replies] == CAPABILITY_TITLES
    assert [q["payload"] for q in quick_replies] == [
        "/ask_question",
        "/live_chat",
        "/non_emergency",
        "/alerts",
        "/social_media",
        "/contact_us",
    ]
    assert not any("attachment" in s.message for s in sent)  # 6 buttons: never a 3-button template


@pytest.mark.slow
def test_on_x_every_button_is_a_numbered_list_and_a_number_picks_one(assistant, fake, user):
    say(assistant, "twitter", user, "what can you do")
    sent = fake.wait_for("twitter", user, has(NUMBERED_HEADER))
    assert_within_limits("twitter", sent)
    assert sent[-1].text.endswith(
        NUMBERED_HEADER + "\n" + "\n".join(f"{n}. {t}" for n, t in enumerate(CAPABILITY_TITLES, 1))
    )
    say(assistant, "twitter", user, "2")
    fake.wait_for("twitter", user, has("https://www.west-midlands.police.uk/contact-us/live-chat"))


@pytest.mark.slow
def test_a_numbered_list_belongs_to_one_platform_user(assistant, fake, user):
    say(assistant, "twitter", user, "what can you do")
    fake.wait_for("twitter", user, has(NUMBERED_HEADER))
    say(assistant, "facebook", user, "4")  # the same id on another platform is another person
    fake.wait_for("facebook", user)
    time.sleep(1)
    assert not any("wmnow" in s.text for s in fake.sent("facebook", user))


@pytest.mark.slow
def test_a_messenger_postback_is_handled(assistant, fake, user):
    body = meta_body("facebook", user, postback={"mid": new_id(), "title": "WMNow alerts", "payload": "/alerts"})
    assert post(assistant, "facebook", body).status == 200
    fake.wait_for("facebook", user, has("https://www.wmnow.co.uk"))


@pytest.mark.slow
@pytest.mark.parametrize("platform", META)
def test_a_quick_reply_payload_is_handled(assistant, fake, platform, user):
    message = {"mid": new_id(), "text": "Live chat", "quick_reply": {"payload": "/alerts"}}
    assert post(assistant, platform, meta_body(platform, user, message=message)).status == 200
    fake.wait_for(platform, user, has("https://www.wmnow.co.uk"))


@pytest.mark.slow
@pytest.mark.parametrize("platform", ALL)
def test_the_same_message_twice_is_answered_once(assistant, fake, platform, user):
    message_id = new_id()
    say(assistant, platform, user, "how do i sign up for crime alerts", message_id)
    say(assistant, platform, user, "how do i sign up for crime alerts", message_id)
    say(assistant, platform, user, "thanks")
    fake.wait_for(platform, user, has("welcome"), timeout=15)
    time.sleep(0.5)
    assert len([s for s in fake.sent(platform, user) if "https://www.wmnow.co.uk" in s.text]) == 1


@pytest.mark.slow
@pytest.mark.parametrize("platform", META)
def test_echoes_and_receipts_are_ignored(assistant, fake, platform, user):
    echo = {
        "object": "page" if platform == "facebook" else "instagram",
        "entry": [
            {
                "id": PAGE_ID,
                "time": now_ms(),
                "messaging": [
                    {
                        "sender": {"id": PAGE_ID},
                        "recipient": {"id": user},
                        "timestamp": now_ms(),
                        "message": {
                            "mid": new_id(),
                            "text": "how do i sign up for crime alerts",
                            "is_echo": True,
                            "app_id": 1,
                        },
                    },
                ],
            }
        ],
    }
    delivery = meta_body(platform, user, delivery={"mids": [new_id()], "watermark": now_ms()})
    read = meta_body(platform, user, read={"watermark": now_ms()} if platform == "facebook" else {"mid": new_id()})
    for body in (echo, delivery, read):
        assert post(assistant, platform, body).status == 200
    say(assistant, platform, user, "thanks")
    sent = fake.wait_for(platform, user, has("welcome"))
    time.sleep(0.5)
    assert fake.sent(platform, PAGE_ID) == []
    assert [s.text for s in fake.sent(platform, user)] == [s.text for s in sent]
    assert not any("wmnow" in s.text for s in fake.sent(platform, user))


@pytest.mark.slow
def test_x_ignores_the_accounts_own_dms(assistant, fake, user):
    own = x_body(user, "how do i sign up for crime alerts", sender=X_ACCOUNT)
    assert post(assistant, "twitter", own).status == 200
    say(assistant, "twitter", user, "thanks")
    fake.wait_for("twitter", user, has("welcome"))
    time.sleep(0.5)
    assert fake.sent("twitter", X_ACCOUNT) == []
    assert not any("wmnow" in s.text for s in fake.sent("twitter", user))


@pytest.mark.slow
@pytest.mark.parametrize("platform", META)
def test_a_photo_without_text_gets_the_empty_message_prompt(assistant, fake, platform, user):
    message = {"mid": new_id(), "attachments": [{"type": "image", "payload": {"url": "https://example.org/p.jpg"}}]}
    assert post(assistant, platform, meta_body(platform, user, message=message)).status == 200
    sent = fake.wait_for(platform, user, has("didn't get a message"))
    assert_within_limits(platform, sent)
