"""rasa-webchat, the most used third-party Rasa web client (botfront's widget), against our socket.io channel.

At test time rasa-webchat is installed from npm into a temporary folder (nothing from npm is kept
in the repository) and its UMD bundle is served, with a small page that starts it, on the port
whose origin the Rasa server's socket.io CORS allows (assistant.web_port). Debian's Chromium,
driven by Playwright, then talks to the real servers through it. What the site sets as
`customData` must reach the conversation store with each message (channels/socketio.py).
Plain `def` browser tests: the sync Playwright API must not run inside an event loop.
The channel's own part (metadata merging, message shapes) is tested without a browser in
tests/unit/test_socketio_channel.py.
"""

import contextlib
import functools
import json
import shutil
import sqlite3
import subprocess
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from playwright.sync_api import Page, expect

from channels.reply_guarantee import MAX_METADATA_CHARS
from core.catalogue import load_catalogue
from core.hours import current_time
from core.replies import render
from tests.browser import chromium
from tests.servers import Assistant

RASA_WEBCHAT = "rasa-webchat@1.0.1"  # the latest release (npm view rasa-webchat version)
CUSTOM_DATA = {"language": "en", "page": "/contact"}
TIMEOUT_MS = 20_000
WMNOW = "https://www.wmnow.co.uk"
STORAGE_KEY = "chat_session"  # where rasa-webchat keeps the session id and the conversation (localStorage)

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>A site with rasa-webchat</title></head>
<body>
<h1>A site with rasa-webchat</h1>
<script src="/node_modules/rasa-webchat/lib/index.js"></script>
<script>
  // As rasa-webchat's README embeds it. A short delay between bot messages keeps the test quick.
  WebChat.default({
    socketUrl: SOCKET_URL,
    socketPath: "/socket.io/",
    initPayload: "/greet",
    customData: CUSTOM_DATA,
    title: "West Midlands Police",
    embedded: true,
    customMessageDelay: function () { return 100; }
  }, null);
</script>
</body>
</html>
"""

# The conversation as rasa-webchat shows it: who said it and the visible text.
MESSAGES_JS = """() => Array.from(document.querySelectorAll('.rw-messages-container .rw-message')).map(item => ({
  from: item.querySelector('.rw-client') ? 'user' : 'bot',
  text: (item.querySelector('.rw-message-text') || item).innerText.trim(),
}))"""


# ---------------------------------------------------------------- rasa-webchat from npm, in Chromium


@pytest.fixture(scope="module")
def webchat_dir(tmp_path_factory) -> Path:
    """A temporary folder with rasa-webchat installed from npm (its own package.json, so npm stays in it)."""
    folder = tmp_path_factory.mktemp("rasa-webchat")
    (folder / "package.json").write_text(json.dumps({"name": "webchat-test-page", "private": True}))
    npm = shutil.which("npm")
    assert npm, "npm is needed to install rasa-webchat: install Node.js and npm (apt-get install nodejs npm)"
    installed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", RASA_WEBCHAT],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, f"npm install {RASA_WEBCHAT} failed:\n{installed.stdout}\n{installed.stderr}"
    assert (folder / "node_modules" / "rasa-webchat" / "lib" / "index.js").is_file()
    return folder


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(assistant: Assistant, webchat_dir: Path) -> Iterator[str]:
    """The page with rasa-webchat, on the origin the Rasa server's socket.io CORS allows."""
    page = PAGE.replace("SOCKET_URL", json.dumps(assistant.url)).replace("CUSTOM_DATA", json.dumps(CUSTOM_DATA))
    (webchat_dir / "index.html").write_text(page)
    handler = functools.partial(QuietHandler, directory=str(webchat_dir))
    server = ThreadingHTTPServer(("127.0.0.1", assistant.web_port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # A fresh server's first turn is slow (seconds: things load on first use), past the reply
    # guarantee's deadline; one turn first, so that the greeting checked is the real one.
    assistant.say("webchat-warm-up", "/greet")
    try:
        yield f"http://127.0.0.1:{assistant.web_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as started:
        yield started


@pytest.fixture
def page(browser, site) -> Iterator[Page]:
    """A fresh browser context (its own localStorage) that only reaches this machine; the test fails on a page error."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    # rasa-webchat asks Google Fonts for its font: nothing leaves the machine in a test.
    context.route(lambda url: not url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:")), lambda route: route.abort())
    tab = context.new_page()
    errors: List[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(site)
    try:
        yield tab
    finally:
        context.close()
    assert not errors, errors


# ---------------------------------------------------------------- helpers


def messages(page: Page) -> List[Dict[str, str]]:
    return page.evaluate(MESSAGES_JS)


def bot_texts(page: Page) -> List[str]:
    return [message["text"] for message in messages(page) if message["from"] == "bot"]


def wait_for(
    condition: Callable[[], Any],
    what: str,
    timeout: float = TIMEOUT_MS / 1000,
    shown: Optional[Callable[[], Any]] = None,
) -> Any:
    """condition()'s value once it is true; on a time-out, fail saying what was awaited and what shown() gives."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + (f"; got {shown()!r}" if shown else ""))


def settled(page: Page, quiet: float = 1.0) -> List[Dict[str, str]]:
    """The conversation shown, once nothing has changed in it for `quiet` seconds."""
    shown, since = messages(page), time.time()
    deadline = since + TIMEOUT_MS / 1000
    while time.time() - since < quiet:
        assert time.time() < deadline, "the conversation kept changing"
        time.sleep(0.1)
        now = messages(page)
        if now != shown:
            shown, since = now, time.time()
    return shown


def greeting() -> List[Dict[str, Any]]:
    return render(load_catalogue(), "greet", current_time())


def greeted(page: Page) -> None:
    expected = [message["text"] for message in greeting()]
    wait_for(
        lambda: bot_texts(page)[: len(expected)] == expected, f"the greeting {expected!r}", shown=lambda: messages(page)
    )


def say(page: Page, text: str) -> None:
    box = page.locator(".rw-new-message")
    box.fill(text)
    box.press("Enter")


def session_id(page: Page) -> str:
    stored = page.evaluate(f"() => localStorage.getItem({json.dumps(STORAGE_KEY)})")
    assert stored, "rasa-webchat stored no session"
    return json.loads(stored)["session_id"]


def stored_user_events(assistant: Assistant, sender_id: str) -> List[Dict[str, Any]]:
    """The user events of a conversation in the assistant's SQLite conversation store."""
    database = assistant.workdir / "conversations.db"
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender_id,)
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


def stored_texts(assistant: Assistant, sender_id: str) -> List[str]:
    return [event.get("text") for event in stored_user_events(assistant, sender_id)]


# ---------------------------------------------------------------- the tests


@pytest.mark.slow
def test_rasa_webchat_greets_with_quick_replies(page):
    greeted(page)
    titles = [button["title"] for button in greeting()[-1]["buttons"]]
    replies = page.locator(".rw-replies .rw-reply")
    expect(replies).to_have_count(len(titles))
    assert replies.all_inner_texts() == titles
    replies.filter(has_text="WMNow").click()
    wait_for(lambda: any(WMNOW in text for text in bot_texts(page)), "the WMNow reply to the quick reply")


@pytest.mark.slow
def test_rasa_webchat_answers_a_typed_question_with_the_official_link(page):
    greeted(page)
    say(page, "how do i get crime alerts")
    wait_for(lambda: any(WMNOW in text for text in bot_texts(page)), "the WMNow reply")
    assert {"from": "user", "text": "how do i get crime alerts"} in messages(page)
    expect(page.locator(f'.rw-messages-container a[href="{WMNOW}"]')).to_have_count(1)


@pytest.mark.slow
def test_rasa_webchat_keeps_the_conversation_over_a_reload(page, assistant):
    greeted(page)
    say(page, "how do i get crime alerts")
    wait_for(lambda: any(WMNOW in text for text in bot_texts(page)), "the WMNow reply")
    before, session = settled(page), session_id(page)
    page.reload()
    wait_for(
        lambda: messages(page) == before, f"the conversation {before!r} after the reload", shown=lambda: messages(page)
    )
    # The session was asked for again and confirmed: the greeting is not sent a second time, and the
    # next message goes on in the same conversation on the server.
    say(page, "what is the non-emergency number")
    wait_for(lambda: len(bot_texts(page)) > len([m for m in before if m["from"] == "bot"]), "a reply after the reload")
    assert session_id(page) == session
    texts = wait_for(
        lambda: (found := stored_texts(assistant, session))[-1:] == ["what is the non-emergency number"] and found,
        "the message after the reload in the conversation store",
    )
    assert texts == ["/greet", "how do i get crime alerts", "what is the non-emergency number"]


@pytest.mark.slow
def test_rasa_webchat_custom_data_is_stored_with_each_message(page, assistant):
    greeted(page)
    say(page, "how do i get crime alerts")
    wait_for(lambda: any(WMNOW in text for text in bot_texts(page)), "the WMNow reply")
    session = session_id(page)
    events = wait_for(
        lambda: (found := stored_user_events(assistant, session)) and len(found) == 2 and found,
        "both messages in the conversation store",
    )
    assert [event["text"] for event in events] == ["/greet", "how do i get crime alerts"]
    for event in events:
        assert event["metadata"].items() >= CUSTOM_DATA.items(), event["metadata"]
        assert event["input_channel"] == "socketio"


# ---------------------------------------------------------------- the same socket.io events, from Python


@pytest.mark.slow
def test_invalid_custom_data_is_dropped_and_the_message_still_answered(assistant):
    """What rasa-webchat sends, with a customData over the limits, then one with both customData and metadata."""
    import socketio

    client = socketio.Client(reconnection=False)
    confirmed, replies = threading.Event(), []
    session: Dict[str, str] = {}

    @client.on("session_confirm")
    def on_confirm(data: Any) -> None:
        session["id"] = data
        confirmed.set()

    @client.on("bot_uttered")
    def on_bot(data: Any) -> None:
        replies.append(data)

    client.connect(assistant.url, socketio_path="/socket.io/", transports=["polling"], wait_timeout=20)
    try:
        client.emit("session_request", {"session_id": None})
        assert confirmed.wait(20)
        too_long = {"language": "en", "page": "x" * MAX_METADATA_CHARS}
        client.emit(
            "user_uttered", {"message": "how do i get crime alerts", "customData": too_long, **session_of(session)}
        )
        wait_for(lambda: any(WMNOW in reply.get("text", "") for reply in replies), "the reply despite the customData")
        # A standard client gets Rasa's message shapes, exactly.
        assert all(set(reply) in ({"text"}, {"text", "quick_replies"}) for reply in replies), replies
        client.emit(
            "user_uttered",
            {
                "message": "thanks",
                "customData": {"language": "en", "page": "/contact"},
                "metadata": {"page": "/alerts"},
                **session_of(session),
            },
        )
        events = wait_for(
            lambda: (found := stored_user_events(assistant, session["id"])) and len(found) == 2 and found,
            "both messages in the conversation store",
        )
    finally:
        client.disconnect()
    assert not {"language", "page"} & set(events[0].get("metadata") or {})
    assert events[1]["metadata"].items() >= {"language": "en", "page": "/alerts"}.items()


def session_of(session: Dict[str, str]) -> Dict[str, str]:
    return {"session_id": session["id"]}
