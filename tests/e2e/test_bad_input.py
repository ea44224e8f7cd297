"""Malformed and hostile requests against every channel, through nginx, on the production shape.

The module's cluster (cluster/local.py, tests.cluster.running_cluster) has the social channels
on (test secrets, replies to a local fake of the platforms' APIs). Every kind of request below is
sent as raw bytes (so that broken HTTP can be sent too) or over a raw socket.io websocket; each
must get no 5xx and no stack trace, and afterwards a conversation running alongside (the
bystander, over REST through nginx) must still be answered properly, and at the end still have
its context and exactly its own messages in PostgreSQL. Whatever nginx refuses carries the
assistant's own reply (101 and 999) in the shape of a REST reply, never HTML. docs/deployment.md
lists the kinds.
"""

import asyncio
import json
import re
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import aiohttp
import pytest

from channels.social import meta_signature, twitter_signature
from cluster.local import (
    DEFAULT_BURST,
    DEFAULT_RATE,
    DEFAULT_WEBHOOK_BURST,
    DEFAULT_WEBHOOK_RATE,
    REFUSAL_STATUSES,
    refusal_reply,
)
from tests.cluster import has_trace, is_normal, running_cluster, stored_events, user_texts
from tests.fake_platforms import FakePlatforms
from tests.servers import SOCIAL_SECRETS

ORIGIN = "http://allowed.example"  # the cluster's SOCKETIO_CORS_ORIGINS
RAISED = {"rate": "100000r/s", "burst": "10000", "webhook_rate": "100000r/s", "webhook_burst": "10000"}
# What nginx answers instead of an answer: the assistant's reply with 101 and 999 (cluster/local.py).
REFUSAL = refusal_reply()
NGINX_REFUSALS = {int(code) for code in REFUSAL_STATUSES.split()} - {400}  # a 400 may be a channel's own
# The kinds of request that nginx itself answers with a 400.
NGINX_400_KINDS = (
    "invalid chunked encoding",
    "Content-Length and Transfer-Encoding together",
    "two different Content-Lengths",
    "a 16 KB header",
    "no Host header",
    "garbage request line",
    "NUL byte in the path",
    "websocket upgrade with a bad key",
)
PAGE_ID = "1000000000001"
X_ACCOUNT = "2000000000002"
BYSTANDER = f"bystander-{time.time_ns()}"
PROMPTS = ["how do I get crime alerts", "what is the non emergency number", "are you on facebook", "thanks"]


@pytest.fixture(scope="module")
def cluster():
    with running_cluster("bad-input", **RAISED) as running:
        fake = FakePlatforms(running.fake_api_port).start()
        running.fake = fake
        try:
            yield running
        finally:
            fake.stop()


@pytest.fixture(scope="module")
def bystander(cluster):
    """A conversation running alongside: one message before the suite, one after each kind."""
    sent: List[str] = []

    def say(text: Optional[str] = None) -> Any:
        text = text or f"how do I get crime alerts (bystander {len(sent) + 1})"
        response = send(
            cluster, http("POST", "/webhooks/rest/webhook", json.dumps({"sender": BYSTANDER, "message": text}))
        )
        assert response.status == 200, response
        replies = json.loads(response.body)
        sent.append(text)
        return replies

    assert is_normal(say())
    say.sent = sent  # type: ignore[attr-defined]
    return say


# ---------------------------------------------------------------------------------------------
# Raw HTTP


@dataclass
class Response:
    status: int  # 0: the connection closed without an answer
    head: str
    body: str


def http(
    method: str,
    path: str,
    body: Any = b"",
    headers: Optional[Dict[str, str]] = None,
    content_length: bool = True,
    content_type: Optional[str] = "application/json",
    version: str = "HTTP/1.1",
    host: Optional[str] = "assistant.example",
) -> bytes:
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    lines = [f"{method} {path} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    if content_type and data:
        lines.append(f"Content-Type: {content_type}")
    if content_length and (data or method in ("POST", "PUT", "PATCH")):
        lines.append(f"Content-Length: {len(data)}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


def send(cluster, request: bytes, timeout: float = 15.0, source: str = "127.0.0.1", hang_up: bool = False) -> Response:
    with socket.create_connection(("127.0.0.1", cluster.port), timeout=timeout, source_address=(source, 0)) as sock:
        try:
            sock.sendall(request)
        except OSError:
            pass
        if hang_up:
            return Response(0, "", "")
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (socket.timeout, ConnectionResetError):
            pass
    raw = b"".join(chunks).decode("utf-8", "replace")
    head, _, body = raw.partition("\r\n\r\n")
    match = re.match(r"HTTP/1\.[01] (\d{3})", head)
    if match and "transfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    return Response(int(match.group(1)) if match else 0, head, body)


def dechunk(body: str) -> str:
    out, rest = [], body
    while rest:
        size_line, _, rest = rest.partition("\r\n")
        try:
            size = int(size_line.split(";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2 :]
    return "".join(out)


def signed(platform: str, body: bytes, headers: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    if platform == "twitter":
        signature = {"x-twitter-webhooks-signature": twitter_signature(SOCIAL_SECRETS["TWITTER_CONSUMER_SECRET"], body)}
    else:
        signature = {"X-Hub-Signature-256": meta_signature(SOCIAL_SECRETS[f"{platform.upper()}_APP_SECRET"], body)}
    return {**signature, **(headers or {})}


def meta_event(platform: str, messaging: Any) -> Dict[str, Any]:
    return {
        "object": "page" if platform == "facebook" else "instagram",
        "entry": [{"id": PAGE_ID, "time": 1, "messaging": messaging}],
    }


def x_event(events: Any) -> Dict[str, Any]:
    return {"for_user_id": X_ACCOUNT, "direct_message_events": events}


# ---------------------------------------------------------------------------------------------
# The kinds of request. Each: name -> (what is sent, what the answer must be, besides no 5xx and no trace).

REST = "/webhooks/rest/webhook"
POST_CHANNELS = {
    "rest": REST,
    "facebook": "/webhooks/facebook/webhook",
    "instagram": "/webhooks/instagram/webhook",
    "twitter": "/webhooks/twitter/webhook",
    "socket.io": "/socket.io/?EIO=4&transport=polling&sid=not-a-session",
}
DEEP = "[" * 30000 + "]" * 30000


def rest(body: Any, **kwargs: Any) -> bytes:
    return http("POST", REST, body if isinstance(body, (bytes, str)) else json.dumps(body), **kwargs)


def rest_json(message: Any, sender: Any = "hostile-{n}", **extra: Any) -> bytes:
    body: Dict[str, Any] = {"message": message, **extra}
    if sender is not None:
        body["sender"] = sender.format(n=time.time_ns()) if isinstance(sender, str) else sender
    return rest(body)


# Sent to each of the five POST endpoints (REST, the three webhooks, socket.io polling).
HTTP_KINDS: Dict[str, Callable[[str], bytes]] = {
    "empty body": lambda path: http("POST", path, b""),
    "not JSON": lambda path: http("POST", path, "hello there", content_type="text/plain"),
    "truncated JSON": lambda path: http("POST", path, '{"sender": "a", "message": "hel'),
    "a JSON array": lambda path: http("POST", path, '[{"sender": "a", "message": "hi"}]'),
    "a JSON string": lambda path: http("POST", path, '"just a string"'),
    "JSON null": lambda path: http("POST", path, "null"),
    "JSON nested 30,000 deep": lambda path: http("POST", path, DEEP),
    "invalid UTF-8": lambda path: http("POST", path, b'{"sender": "\xff\xfe", "message": "\xc3\x28"}'),
    "UTF-16 body": lambda path: http("POST", path, json.dumps({"sender": "a", "message": "hi"}).encode("utf-16")),
    "body over the size limit (100 KB; 1.1 MB to the webhooks)": lambda path: http(
        "POST",
        path,
        '{"message": "' + "a" * (1_100_000 if "/webhooks/" in path and "rest" not in path else 100_000) + '"}',
    ),
    "form-encoded body": lambda path: http(
        "POST", path, "sender=a&message=hi", content_type="application/x-www-form-urlencoded"
    ),
    "multipart body": lambda path: http(
        "POST",
        path,
        '--x\r\nContent-Disposition: form-data; name="message"\r\n\r\nhi\r\n--x--\r\n',
        content_type="multipart/form-data; boundary=x",
    ),
    "invalid chunked encoding": lambda path: http(
        "POST", path, b"zz\r\nhello\r\n0\r\n\r\n", content_length=False, headers={"Transfer-Encoding": "chunked"}
    ),
    "Content-Length and Transfer-Encoding together (smuggling)": lambda path: http(
        "POST",
        path,
        b"0\r\n\r\nPOST /webhooks/model/reload HTTP/1.1\r\nHost: x\r\n\r\n",
        headers={"Transfer-Encoding": "chunked"},
    ),
    "two different Content-Lengths": lambda path: http("POST", path, b'{"a": 1}', headers={"Content-Length": "3"}),
    "wrong method (PUT)": lambda path: http("PUT", path, '{"sender": "a", "message": "hi"}'),
    "wrong method (DELETE)": lambda path: http("DELETE", path),
    "URL of 10,000 characters": lambda path: http(
        "POST", path + ("&" if "?" in path else "?") + "x=" + "a" * 10_000, "{}"
    ),
    "a 16 KB header": lambda path: http("POST", path, "{}", headers={"X-Big": "a" * 16_000}),
    "200 headers": lambda path: http("POST", path, "{}", headers={f"X-H{i}": "v" for i in range(200)}),
    "no Host header": lambda path: http("POST", path, "{}", host=None),
    "Expect: 100-continue with a huge Content-Length": lambda path: http(
        "POST", path, b"", content_length=False, headers={"Expect": "100-continue", "Content-Length": "10000000"}
    ),
}

# Whole requests, not tied to one endpoint.
RAW_KINDS: Dict[str, bytes] = {
    "garbage request line": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello\r\n\r\n",
    "HTTP/0.9 request": b"GET /webhooks/rest/\r\n",
    "NUL byte in the path": b"GET /webhooks/rest/\x00/../model HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "path traversal to the reload endpoint": http("POST", "/webhooks/rest/../model/reload", "{}"),
    "encoded path traversal to the reload endpoint": http("POST", "/webhooks/rest/%2e%2e/model/reload", "{}"),
    "doubled slashes to the reload endpoint": http("POST", "//webhooks//model//reload", "{}"),
    "Rasa's HTTP API (model replace)": http("PUT", "/model", '{"model_file": "/etc/passwd"}'),
    "Rasa's HTTP API (tracker of another conversation)": http("GET", f"/conversations/{BYSTANDER}/tracker"),
    "unknown HTTP method": http("BREW", REST, "{}"),
    "TRACE method": http("TRACE", REST),
}

# The REST channel's JSON.
REST_KINDS: Dict[str, bytes] = {
    "no sender": rest({"message": "hi"}),
    "no message": rest({"sender": "a"}),
    "sender a number": rest_json("hi", sender=12345),
    "sender a list": rest_json("hi", sender=["a"]),
    "sender an object": rest_json("hi", sender={"$ne": None}),
    "sender null": rest({"sender": None, "message": "hi"}),
    "empty sender": rest_json("hi", sender="   "),
    "sender of 10,000 characters": rest_json("hi", sender="s" * 10_000),
    "sender with path traversal and SQL": rest_json("hi", sender="../../etc/passwd'; DROP TABLE events; --{n}"),
    "message a number": rest_json(42),
    "message an object": rest_json({"text": "hi"}),
    "message null": rest_json(None),
    "metadata a string": rest_json("hi", metadata="x"),
    "metadata nested 500 deep": rest(
        '{"sender": "m-' + str(time.time_ns()) + '", "message": "hi", "metadata": ' + '{"a":' * 500 + "1" + "}" * 501
    ),
    "control characters and NUL in the message": rest_json("hi\x00\x01\x1b[31m\r\nthere\u0007"),
    "lone surrogate in the message": rest(
        '{"sender": "sur-' + str(time.time_ns()) + '", "message": "hi \\ud800 there"}'
    ),
    "right-to-left override and zero-width characters": rest_json("\u202eslaicifo\u200b\u200d\ufeff alerts"),
    "2,000 emoji": rest_json("\U0001f6a8" * 2000),
    "HTML and script in the message": rest_json("<script>alert(1)</script><img src=x onerror=alert(2)>"),
    "SQL injection in the message": rest_json("'; DROP TABLE events; -- OR 1=1"),
    "template and format strings in the message": rest_json(
        "{live_chat} {{7*7}} ${jndi:ldap://x/a} %s%s%n {0.__class__}"
    ),
    "intent injection: /restart": rest_json("/restart"),
    "intent injection: /session_start": rest_json("/session_start"),
    "intent injection: unknown intent": rest_json("/nope_not_an_intent"),
    "intent injection: malformed entities": rest_json('/greet{"name": "x'),
    "intent injection: huge entities": rest_json('/greet{"x": "' + "a" * 50_000 + '"}'),
    "intent injection: action name": rest_json("/action_restart"),
    "message of 60,000 characters": rest_json("crime alerts " * 4600),
    "duplicate keys": rest(
        '{"sender": "dup-' + str(time.time_ns()) + '", "sender": 5, "message": "hi", "message": "alerts"}'
    ),
    "NaN, Infinity and huge numbers": rest(
        '{"sender": "nan-'
        + str(time.time_ns())
        + '", "message": "hi", "metadata": {"a": NaN, "b": Infinity, "c": 1e999999}}'
    ),
}


def social_kinds(platform: str) -> Dict[str, Tuple[bytes, Callable[[Response], bool]]]:
    path = POST_CHANNELS[platform]
    user = str(3000000000000 + time.time_ns() % 1_000_000)

    def event(body: Any, headers: Optional[Dict[str, str]] = None, sign: bool = True) -> bytes:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return http("POST", path, raw, headers=signed(platform, raw, headers) if sign else headers)

    def message(text: Any) -> Any:
        if platform == "twitter":
            return x_event(
                [
                    {
                        "type": "message_create",
                        "id": str(time.time_ns()),
                        "message_create": {"sender_id": user, "message_data": {"text": text}},
                    }
                ]
            )
        return meta_event(
            platform,
            [
                {
                    "sender": {"id": user},
                    "recipient": {"id": PAGE_ID},
                    "message": {"mid": f"m.{time.time_ns()}", "text": text},
                }
            ],
        )

    good = json.dumps(message("hi")).encode()
    forbidden = lambda r: r.status == 403  # noqa: E731
    accepted = lambda r: r.status == 200  # noqa: E731 (read, found nothing to answer, or answered in the background)
    refused = lambda r: 400 <= r.status < 500  # noqa: E731
    kinds: Dict[str, Tuple[bytes, Callable[[Response], bool]]] = {
        "no signature": (event(good, sign=False), forbidden),
        "wrong signature": (http("POST", path, good, headers=signed(platform, b"something else")), forbidden),
        "signature of another body": (http("POST", path, good + b" ", headers=signed(platform, good)), forbidden),
        "signature with the wrong algorithm": (
            http(
                "POST",
                path,
                good,
                headers={
                    ("x-twitter-webhooks-signature" if platform == "twitter" else "X-Hub-Signature-256"): "sha1="
                    + "0" * 40
                },
            ),
            forbidden,
        ),
        "signature header of 6,000 characters": (
            http(
                "POST",
                path,
                good,
                headers={
                    ("x-twitter-webhooks-signature" if platform == "twitter" else "X-Hub-Signature-256"): "sha256="
                    + "a" * 6000
                },
            ),
            forbidden,
        ),
        "signed, not JSON": (event(b"not json at all"), refused),
        "signed, a JSON array": (event(b"[1, 2, 3]"), refused),
        "signed, wrong object": (event({"object": "user", "entry": "x"}), accepted),
        "signed, events not a list": (
            event(x_event("nope") if platform == "twitter" else meta_event(platform, "nope")),
            accepted,
        ),
        "signed, sender id with slashes and 500 characters": (
            event(
                x_event(
                    [
                        {
                            "type": "message_create",
                            "id": "1",
                            "message_create": {"sender_id": "../" * 170, "message_data": {"text": "hi"}},
                        }
                    ]
                )
                if platform == "twitter"
                else meta_event(platform, [{"sender": {"id": "../" * 170}, "message": {"text": "hi"}}])
            ),
            accepted,
        ),
        "signed, message text an object": (event(message({"evil": True})), accepted),
        "signed, 500 (X) or 5,000 (Meta) events in one call": (
            event(
                x_event(
                    [
                        {
                            "type": "message_create",
                            "id": str(i),
                            "message_create": {"sender_id": "bad id", "message_data": {}},
                        }
                        for i in range(500)
                    ]
                )
                if platform == "twitter"
                else meta_event(platform, [{"sender": {}} for _ in range(5000)])
            ),
            accepted,
        ),
    }
    if platform == "twitter":
        kinds["handshake without crc_token"] = (http("GET", path), refused)
        kinds["handshake with a 6,000 character crc_token"] = (http("GET", path + "?crc_token=" + "a" * 6000), accepted)
    else:
        kinds["handshake with a wrong verify token"] = (
            http("GET", path + "?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=123"),
            forbidden,
        )
        kinds["handshake reflecting script as the challenge"] = (
            http(
                "GET",
                path + "?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=%3Cscript%3Ealert(1)%3C/script%3E",
            ),
            forbidden,
        )
    return kinds


SOCKETIO_HTTP_KINDS: Dict[str, bytes] = {
    "polling without EIO": http("GET", "/socket.io/?transport=polling", headers={"Origin": ORIGIN}),
    "polling with an old protocol (EIO=3)": http(
        "GET", "/socket.io/?EIO=3&transport=polling", headers={"Origin": ORIGIN}
    ),
    "unknown transport": http("GET", "/socket.io/?EIO=4&transport=carrier-pigeon", headers={"Origin": ORIGIN}),
    "unknown session id": http(
        "GET", "/socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA", headers={"Origin": ORIGIN}
    ),
    "origin not allowed": http(
        "GET", "/socket.io/?EIO=4&transport=polling", headers={"Origin": "https://evil.example"}
    ),
    "websocket upgrade with a bad key": http(
        "GET",
        "/socket.io/?EIO=4&transport=websocket",
        headers={
            "Origin": ORIGIN,
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "!!",
            "Sec-WebSocket-Version": "99",
        },
    ),
}

# Raw socket.io packets over a websocket (engine.io "4" + socket.io "2" = "42": an event).
WEBSOCKET_KINDS: Dict[str, List[Any]] = {
    "garbage text frames": ["hello", "9999", "4", "42", "42[", "42[]", '42["user_uttered"'],
    "binary frames": [b"\x00\x01\x02\xff" * 100],
    "user_uttered with a string, a list, a number, null": [
        '42["user_uttered","hi"]',
        '42["user_uttered",[1,2]]',
        '42["user_uttered",5]',
        '42["user_uttered",null]',
    ],
    "user_uttered without a session id, or a bad one": [
        '42["user_uttered",{"message":"hi"}]',
        '42["user_uttered",{"message":"hi","session_id":"../../etc/passwd"}]',
        '42["user_uttered",{"message":"hi","session_id":"' + "a" * 1000 + '"}]',
    ],
    "user_uttered with a message that is not text": [
        '42["user_uttered",{"message":{"a":1},"session_id":"hostilesession1"}]',
        '42["user_uttered",{"message":' + "[" * 200 + "]" * 200 + ',"session_id":"hostilesession1"}]',
    ],
    "unknown events and namespaces": [
        '42["restart",{}]',
        '42["bot_uttered",{"text":"spoof"}]',
        "40/admin,",
        '42/admin,["user_uttered",{}]',
    ],
    "session_request with garbage": ['42["session_request","x"]', '42["session_request",{"session_id":{"$gt":""}}]'],
    "an event nested 5,000 deep": ['42["user_uttered",' + "[" * 5000 + "]" * 5000 + "]"],
    "a flood of 300 events": ['42["user_uttered",{"message":"hi","session_id":"floodsession01"}]'] * 300,
}


# ---------------------------------------------------------------------------------------------
# The checks


def assert_no_5xx_no_trace(response: Response, what: str) -> None:
    assert response.status < 500, f"{what}: {response.status} {response.body[:300]}"
    assert not has_trace(response.head + response.body), f"{what}: a stack trace in the response"
    assert_never_html_or_empty(response, what)


def is_refusal(body: str) -> bool:
    """nginx's answer instead of an answer: exactly the assistant's reply, with 101 and 999."""
    try:
        messages = json.loads(body)
    except ValueError:
        return False
    text = " ".join(m.get("text", "") for m in messages if isinstance(m, dict)) if isinstance(messages, list) else ""
    return messages == REFUSAL and "101" in text and "999" in text


def assert_never_html_or_empty(response: Response, what: str) -> None:
    """An error answer always has a body and never an HTML page; nginx's own refusals (413, 429, 405,
    414, 5xx ..., and its 400s) are the assistant's reply with 101 and 999, in the shape of a REST reply.
    (A replica's own answers are its channels': JSON errors, socket.io's, the platforms' handshakes.)"""
    if response.status == 0:  # no HTTP answer at all (HTTP/0.9, or the connection cut)
        return
    assert "<html" not in response.body.lower() and "<!doctype" not in response.body.lower(), (what, response.body)
    if response.status >= 400:
        assert response.body.strip(), f"{what}: {response.status} with an empty body"
    if response.status in NGINX_REFUSALS or any(kind in what for kind in NGINX_400_KINDS):
        assert is_refusal(response.body), (what, response.status, response.body[:300])


def check_bystander(bystander) -> None:
    assert is_normal(bystander()), "the conversation running alongside was not answered properly"


@pytest.mark.slow
@pytest.mark.parametrize("channel", list(POST_CHANNELS))
@pytest.mark.parametrize("kind", list(HTTP_KINDS))
def test_malformed_http_to_each_channel(cluster, bystander, channel, kind):
    response = send(cluster, HTTP_KINDS[kind](POST_CHANNELS[channel]))
    assert_no_5xx_no_trace(response, f"{kind} to {channel}")
    if kind.startswith("body over the size limit") or kind.startswith("Expect: 100-continue"):
        assert response.status == 413 and is_refusal(response.body), (response.status, response.body[:300])
    check_bystander(bystander)


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(RAW_KINDS))
def test_hostile_raw_requests(cluster, bystander, kind):
    response = send(cluster, RAW_KINDS[kind])
    assert_no_5xx_no_trace(response, kind)
    assert response.status != 200 or "reload" not in kind
    check_bystander(bystander)


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(REST_KINDS))
def test_hostile_rest_messages(cluster, bystander, kind):
    response = send(cluster, REST_KINDS[kind])
    assert_no_5xx_no_trace(response, kind)
    assert response.status in (200, 400), (kind, response.status, response.body[:200])
    if response.status == 200:
        replies = json.loads(response.body)
        assert is_normal(replies), (kind, replies)  # never silence, an empty text or the degraded reply
        assert "<script>" not in response.body and "onerror=" not in response.body
    check_bystander(bystander)


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["facebook", "instagram", "twitter"])
def test_hostile_social_webhook_calls(cluster, bystander, platform):
    for kind, (request, expected) in social_kinds(platform).items():
        response = send(cluster, request)
        assert_no_5xx_no_trace(response, f"{kind} to {platform}")
        assert expected(response), (platform, kind, response.status, response.body[:200])
        assert "<script>" not in response.body
    check_bystander(bystander)
    # The platform still gets a real person's message answered.
    user = str(4000000000000 + time.time_ns() % 1_000_000)
    if platform == "twitter":
        body = x_event(
            [
                {
                    "type": "message_create",
                    "id": str(time.time_ns()),
                    "message_create": {"sender_id": user, "message_data": {"text": "how do i get crime alerts"}},
                }
            ]
        )
    else:
        body = meta_event(
            platform,
            [
                {
                    "sender": {"id": user},
                    "recipient": {"id": PAGE_ID},
                    "message": {"mid": f"m.{time.time_ns()}", "text": "how do i get crime alerts"},
                }
            ],
        )
    raw = json.dumps(body).encode()
    assert send(cluster, http("POST", POST_CHANNELS[platform], raw, headers=signed(platform, raw))).status == 200
    sent = cluster.fake.wait_for(platform, user, until=lambda s: any("wmnow" in x.text.lower() for x in s), timeout=15)
    assert sent


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(SOCKETIO_HTTP_KINDS))
def test_hostile_socketio_handshakes(cluster, bystander, kind):
    response = send(cluster, SOCKETIO_HTTP_KINDS[kind])
    assert_no_5xx_no_trace(response, kind)
    assert response.status >= 400 or kind == "websocket upgrade with a bad key"
    check_bystander(bystander)


async def socketio_session(url: str, frames: List[Any]) -> List[str]:
    """Connect over a websocket, send the frames, then a real message; what came back (text frames)."""
    received: List[str] = []
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(ws_url, headers={"Origin": ORIGIN}, timeout=10) as ws:
            opened = await ws.receive(timeout=10)
            assert opened.type == aiohttp.WSMsgType.TEXT and opened.data.startswith("0"), opened
            await ws.send_str("40")
            for frame in frames:
                if ws.closed:
                    break
                try:
                    await (ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_str(frame))
                except (ConnectionResetError, aiohttp.ClientError):
                    break  # the server hung up on a misbehaving client: fine
            deadline = time.time() + 3
            while time.time() < deadline and not ws.closed:
                try:
                    message = await ws.receive(timeout=0.5)
                except asyncio.TimeoutError:
                    continue
                if message.type == aiohttp.WSMsgType.TEXT:
                    received.append(message.data)
                    if message.data == "2":
                        await ws.send_str("3")
                elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
    return received


async def socketio_conversation(url: str, session_id: str, texts: List[str]) -> List[List[Dict[str, Any]]]:
    """A well-behaved widget: session_request, then each message and its replies."""
    replies: List[List[Dict[str, Any]]] = []
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(ws_url, headers={"Origin": ORIGIN}, timeout=10) as ws:
            await ws.receive(timeout=10)
            await ws.send_str("40")
            await ws.send_str("42" + json.dumps(["session_request", {"session_id": session_id}]))
            for text in texts:
                await ws.send_str("42" + json.dumps(["user_uttered", {"message": text, "session_id": session_id}]))
                got: List[Dict[str, Any]] = []
                deadline = time.time() + 10
                while time.time() < deadline:
                    try:
                        message = await ws.receive(timeout=0.7 if got else 10)
                    except asyncio.TimeoutError:
                        break
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    if message.data == "2":
                        await ws.send_str("3")
                    elif message.data.startswith('42["bot_uttered"'):
                        got.append(json.loads(message.data[2:])[1])
                replies.append(got)
    return replies


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(WEBSOCKET_KINDS))
def test_hostile_socketio_events(cluster, bystander, kind):
    asyncio.run(socketio_session(cluster.url, WEBSOCKET_KINDS[kind]))  # may be cut off by the server: fine
    check_bystander(bystander)
    session_id = f"wsbystander{time.time_ns()}"
    replies = asyncio.run(socketio_conversation(cluster.url, session_id, ["how do i get crime alerts"]))
    assert replies and replies[0] and "wmnow" in json.dumps(replies[0]).lower(), replies


# The loads from one address (time.time() at their start and end): nginx may answer some of their
# requests 502/503/504 when this machine's 2 cores cannot keep up (a replica too slow for nginx's
# 20 s), always with the assistant's reply; test_nothing_got_a_5xx checks the rest of the suite.
LOAD_WINDOWS: List[Tuple[float, float]] = []
OVERLOAD = {502, 503, 504}


@contextmanager
def default_limits(cluster) -> Iterator[None]:
    """nginx with the cluster's own rate limits (the module runs with raised ones), then raised again."""
    cluster.reload_nginx(
        rate=DEFAULT_RATE,
        burst=str(DEFAULT_BURST),
        webhook_rate=DEFAULT_WEBHOOK_RATE,
        webhook_burst=str(DEFAULT_WEBHOOK_BURST),
    )
    started = time.time()
    try:
        yield
        time.sleep(2.5)  # the bucket refills
    finally:
        LOAD_WINDOWS.append((started, time.time()))
        cluster.reload_nginx(**RAISED)
    wait_until_calm(cluster)


def wait_until_calm(cluster, timeout: float = 300) -> None:
    """After a load: until each replica answers a message normally within 3 s again. The turns a
    load left behind go on in the background (the reply guarantee keeps them), and on this
    machine's 2 cores they can keep a replica busy for a while; the tests after must not meet them."""
    import urllib.request

    started = time.time()
    for port in cluster.rasa_ports:
        while True:
            body = json.dumps({"sender": f"calm-{time.time_ns()}", "message": "how do i get crime alerts"}).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{REST}", data=body, headers={"Content-Type": "application/json"}
            )
            asked = time.time()
            try:
                with urllib.request.urlopen(request, timeout=30) as reply:
                    if is_normal(json.loads(reply.read())) and time.time() - asked < 3:
                        break
            except OSError:
                pass
            assert time.time() < started + timeout, f"replica on port {port} still busy {timeout:.0f} s after the load"
            time.sleep(1)
    print(f"\n(the replicas were answering normally again {time.time() - started:.1f} s after the load)")


def helps(status: int, content_type: str, body: str) -> bool:
    """A normal answer, or the assistant's reply with 999 and 101; JSON, never empty, never HTML."""
    if not body.strip() or "<html" in body.lower() or not content_type.startswith("application/json"):
        return False
    messages = json.loads(body)
    if status == 200 and is_normal(messages):
        return True
    text = " ".join(m.get("text", "") for m in messages if isinstance(m, dict)) if isinstance(messages, list) else ""
    return "999" in text and "101" in text


async def from_one_address(cluster, requests: List[Tuple[float, Dict[str, str]]]) -> List[Tuple[Any, str, str, float]]:
    """(status, Content-Type, body, seconds) of each (when to send, REST body); the status is the
    exception's name when there was no HTTP answer. No client-side queue: every request is sent at its time."""
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=90)) as session:

        async def one(at: float, body: Dict[str, str]) -> Tuple[Any, str, str, float]:
            await asyncio.sleep(max(0.0, begin + at - loop.time()))
            started = loop.time()
            try:
                async with session.post(cluster.url + REST, json=body) as reply:
                    text = await reply.text()
                    return reply.status, reply.headers.get("Content-Type", ""), text, loop.time() - started
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                return type(error).__name__, "", "", loop.time() - started

        begin = loop.time()
        return await asyncio.gather(*(one(at, body) for at, body in requests))


def summary(answers: List[Tuple[Any, str, str, float]]) -> str:
    statuses = [status for status, *_ in answers]
    times = sorted(seconds for *_, seconds in answers)
    counts = ", ".join(f"{statuses.count(s)} x {s}" for s in sorted(set(statuses), key=str))
    return (
        f"{counts}; p50 {times[len(times) // 2] * 1000:.0f} ms, p95 {times[int(0.95 * (len(times) - 1))] * 1000:.0f} ms"
    )


@pytest.mark.slow
def test_rate_limit_per_address_with_a_burst(cluster, bystander):
    """The default limit (20 a second per address, burst 40): a flood from one address gets 429s; another is unaffected."""
    with default_limits(cluster):
        answers = asyncio.run(
            from_one_address(cluster, [(0.0, {"sender": f"flood-{n}", "message": "hi"}) for n in range(150)])
        )
        statuses = [status for status, *_ in answers]
        passed = [a for a in answers if a[0] != 429]  # what nginx let through to the replicas
        assert statuses.count(429) >= 50 and len(passed) >= 40, summary(answers)
        assert all(status in (200, 429) or status in OVERLOAD for status in statuses), summary(answers)
        assert all(is_refusal(body) for status, _, body, _ in answers if status == 429 or status in OVERLOAD)
        assert all(helps(*answer[:3]) for answer in answers), summary(answers)
        assert not has_trace("".join(body for _, _, body, _ in answers))
        other = send(cluster, rest_json("how do i get crime alerts"), source="127.0.0.2")  # another address
        assert other.status == 200 and is_normal(json.loads(other.body))
    print(f"\n150 at once from one address: {summary(answers)}")
    check_bystander(bystander)


@pytest.mark.slow
def test_50_requests_a_second_from_one_address_each_get_an_answer_or_999_and_101(cluster, bystander):
    """An address shared by many people (a school, a hospital, a mobile network's NAT) sending 50
    messages a second for 10 s, with the cluster's normal limit (20 a second, burst 40): every
    response is JSON and is either a normal answer or, refused, the assistant's reply with 999 and 101."""
    rate, seconds = 50, 10
    stamp = time.time_ns()
    plan = [
        (n / rate, {"sender": f"shared-{n % 25}-{stamp}", "message": f"{PROMPTS[n % len(PROMPTS)]} ({n})"})
        for n in range(rate * seconds)  # 25 people behind one address
    ]
    with default_limits(cluster):
        answers = asyncio.run(from_one_address(cluster, plan))
    print(f"\n{len(answers)} requests at {rate}/s from one address for {seconds} s: {summary(answers)}")
    unanswered = [a for a in answers if not isinstance(a[0], int)]
    assert not unanswered, f"{len(unanswered)} requests got no HTTP answer: {summary(answers)}"
    problems = [
        (status, content_type, body[:100])
        for status, content_type, body, _ in answers
        if not helps(status, content_type, body)
    ]
    assert not problems, problems[:5]
    statuses = [status for status, *_ in answers]
    assert all(status in (200, 429) or status in OVERLOAD for status in statuses), summary(answers)
    refused = [a for a in answers if a[0] != 200]
    assert refused and all(is_refusal(body) for _, _, body, _ in refused)
    assert statuses.count(429) >= rate * seconds // 3, summary(answers)  # the limit holds
    check_bystander(bystander)


@pytest.mark.slow
def test_the_bystander_kept_its_context_and_only_its_own_messages(cluster, bystander):
    first = bystander("qwertyuiop asdfgh")
    second = bystander("zxcvbnm lkjhg")  # a second miss in a row: handed over to people, so the context is there
    assert "Did you mean" in first[0]["text"]
    assert "101" in second[0]["text"] and "live-chat" in second[0]["text"]
    events = stored_events(cluster, BYSTANDER)[BYSTANDER]
    assert user_texts(events) == bystander.sent
    assert sum(1 for e in events if e.get("event") == "session_started") == 1


@pytest.mark.slow
def test_nothing_got_a_5xx(cluster):
    """Whatever was sent, nginx's access log has no 5xx (all requests, also those whose answer was not
    read). During the loads from one address only, a 502/503/504 of nginx's (a replica too slow on
    this machine) is allowed, if its body was the assistant's reply (refused.json's size)."""
    refused_size = len((cluster.nginx_dir / "static" / "_errors" / "refused.json").read_bytes())
    line_format = re.compile(r'^\S+ \[([^\]]+)\] "[^"]*" (\d{3}) (\d+) ')
    statuses, wrong, during_loads = [], [], 0
    for line in (cluster.nginx_dir / "access.log").read_text().splitlines():
        found = line_format.match(line)
        if not found:
            continue
        when = datetime.strptime(found.group(1), "%d/%b/%Y:%H:%M:%S %z").timestamp()
        status, size = int(found.group(2)), int(found.group(3))
        statuses.append(status)
        if status >= 500:
            in_a_load = any(start - 1 <= when <= end + 1 for start, end in LOAD_WINDOWS)
            if in_a_load and status in OVERLOAD and size == refused_size:
                during_loads += 1
            else:
                wrong.append(line)
    assert statuses and not wrong, wrong[:5]
    print(f"\n{len(statuses)} requests in nginx's log, no 5xx but {during_loads} during the loads, each with the reply")


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["facebook", "instagram", "twitter"])
def test_signed_json_nested_30000_deep_to_the_social_webhooks(cluster, bystander, platform):
    body = DEEP.encode()
    response = send(cluster, http("POST", POST_CHANNELS[platform], body, headers=signed(platform, body)))
    check_bystander(bystander)
    assert_no_5xx_no_trace(response, f"signed deep JSON to {platform}")
    assert response.status == 400
