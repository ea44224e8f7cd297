"""The Rasa server's own refusals on the REST webhook carry the assistant's reply (channels/refusal.py).

Against the real servers (the session's `assistant`, started as `make run` starts them, with no
nginx in front): a body over the server's size limit gets 413 whose body is, in the shape of a
normal REST reply, the catalogue's service_unavailable reply (101, contact us) and in_danger (999);
a body just under the limit is answered as usual; the server goes on answering afterwards. nginx's
own refusals (429, 413, 502 ...) are tested through the cluster in tests/e2e/test_bad_input.py.
The Kubernetes Ingress's refusal server (server/refusals.py) is run as the image runs it and asked
as ingress-nginx asks it (no Kubernetes here: the Ingress's own part is checked in
tests/unit/test_deploy_files.py).
"""

import http.client
import json
import subprocess
import sys
from typing import Any, Dict, Iterator, Optional, Tuple

import pytest

from channels.refusal import REQUEST_MAX_BYTES, refusal_reply
from core.catalogue import load_catalogue
from server.settings import ROOT
from tests.servers import Assistant, answered, free_port, wait_until_up

REST = "/webhooks/rest/webhook"


def post_raw(assistant: Assistant, body: Any, chunked: bool = False) -> Tuple[int, str, str]:
    """(status, Content-Type, body) of a POST whose body is bytes, or an iterator of bytes sent chunked."""
    connection = http.client.HTTPConnection("127.0.0.1", assistant.rasa_port, timeout=60)
    try:
        headers = {"Content-Type": "application/json"}
        connection.request("POST", REST, body=body, headers=headers, encode_chunked=chunked)
        reply = connection.getresponse()
        return reply.status, reply.getheader("Content-Type", ""), reply.read().decode(errors="replace")
    finally:
        connection.close()


def json_of_size(size: int) -> bytes:
    """A well-formed REST body of exactly `size` bytes (a long message)."""
    head, tail = b'{"sender": "refusal-test", "message": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def assert_is_the_reply(status: int, content_type: str, body: str) -> None:
    assert content_type.startswith("application/json"), content_type
    messages = json.loads(body)
    assert messages == refusal_reply(), messages
    text = " ".join(message["text"] for message in messages)
    channels = load_catalogue().channels
    for fact in ("999", "101", channels["contact_us"].contact):
        assert fact in text, (fact, text)
    assert all(set(message) >= {"recipient_id", "text"} for message in messages)


@pytest.mark.slow
def test_a_body_over_the_size_limit_gets_413_with_the_reply_and_999_and_101(assistant):
    status, content_type, body = post_raw(assistant, json_of_size(REQUEST_MAX_BYTES + 1))
    assert status == 413, (status, body[:300])
    assert_is_the_reply(status, content_type, body)
    assert answered(assistant.say("after-too-large", "how do i get crime alerts"))


@pytest.mark.slow
def test_a_chunked_body_growing_over_the_limit_gets_413_with_the_reply(assistant):
    """No Content-Length to refuse it up front: the limit is found while the body arrives."""

    def chunks() -> Iterator[bytes]:
        yield b'{"sender": "refusal-chunked", "message": "'
        for _ in range(REQUEST_MAX_BYTES // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    status, content_type, body = post_raw(assistant, chunks(), chunked=True)
    assert status == 413, (status, body[:300])
    assert_is_the_reply(status, content_type, body)


@pytest.mark.slow
def test_a_body_just_under_the_limit_is_answered_as_usual(assistant):
    """The server's limit is not below what nginx lets through (1 MiB on the webhooks, 64 KB on REST)."""
    status, _, body = post_raw(assistant, json_of_size(REQUEST_MAX_BYTES - 1024))
    assert status == 200, (status, body[:300])
    messages = json.loads(body)
    assert isinstance(messages, list) and messages and messages != refusal_reply()


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what a browser sends


@pytest.mark.slow
@pytest.mark.parametrize("accept", [None, BROWSER_ACCEPT, "*/*"], ids=["no Accept", "a browser's Accept", "*/*"])
def test_other_server_errors_are_json_never_html(assistant, accept):
    """Sanic's own answers, on a path that is no endpoint and for a method the REST webhook does not take
    (SANIC_FALLBACK_ERROR_FORMAT=json; only a client that accepts nothing but HTML would get HTML)."""
    connection = http.client.HTTPConnection("127.0.0.1", assistant.rasa_port, timeout=30)
    try:
        for method, path, expected in (("GET", "/no/such/path", 404), ("PUT", REST, 405)):
            connection.request(method, path, headers={"Accept": accept} if accept else {})
            reply = connection.getresponse()
            body = reply.read().decode(errors="replace")
            assert reply.status == expected, (method, path, reply.status)
            assert reply.getheader("Content-Type", "").startswith("application/json"), (method, path, body[:200])
            assert json.loads(body)["status"] == expected
    finally:
        connection.close()


# ---------------------------------------------------------------- the Kubernetes Ingress's refusals


@pytest.fixture(scope="module")
def refusal_server() -> Iterator[int]:
    """`python -m server.refusals` (the image's `assistant refusals`) on a free port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "server.refusals", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process, timeout=60)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def ask(port: int, method: str, path: str, headers: Optional[Dict[str, str]] = None, body: bytes = b"") -> Tuple:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        reply = connection.getresponse()
        return reply.status, reply.getheader("Content-Type", ""), reply.read().decode(errors="replace")
    finally:
        connection.close()


@pytest.mark.slow
@pytest.mark.parametrize("code", ["429", "413", "502", "503", "504"])
def test_the_ingress_refusal_server_answers_with_the_status_and_the_reply(refusal_server, code):
    """As ingress-nginx asks it (custom-http-errors: the refused request, with its status in X-Code)."""
    headers = {"X-Code": code, "X-Format": "application/json", "X-Original-URI": "/webhooks/rest/webhook"}
    status, content_type, body = ask(refusal_server, "POST", "/webhooks/rest/webhook", headers, b'{"sender": "a"}')
    assert status == int(code)
    assert_is_the_reply(status, content_type, body)


@pytest.mark.slow
@pytest.mark.parametrize(
    "method, path, headers, expected",
    [
        ("GET", "/socket.io/?EIO=4&transport=polling", {"X-Code": "429"}, 429),
        ("GET", "/anything", {}, 503),
        ("POST", "/webhooks/rest/webhook", {"X-Code": "200"}, 503),
        ("POST", "/webhooks/rest/webhook", {"X-Code": "not a number"}, 503),
        ("GET", "/healthz", {"X-Code": "503"}, 503),
        ("BREW", "/webhooks/rest/webhook", {}, 501),
    ],
    ids=[
        "socket.io polling",
        "no X-Code",
        "X-Code not a refusal",
        "X-Code garbage",
        "healthz refused",
        "unknown method",
    ],
)
def test_the_ingress_refusal_server_answers_every_request_with_the_reply(
    refusal_server, method, path, headers, expected
):
    status, content_type, body = ask(refusal_server, method, path, headers)
    assert status == expected
    assert_is_the_reply(status, content_type, body)


@pytest.mark.slow
def test_the_ingress_refusal_server_health(refusal_server):
    status, content_type, body = ask(refusal_server, "GET", "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"}) and content_type == "application/json"
    status, _, body = ask(refusal_server, "HEAD", "/webhooks/rest/webhook", {"X-Code": "429"})
    assert status == 429 and body == ""
