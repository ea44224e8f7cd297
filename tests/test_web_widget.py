"""The web chat widget in a real browser: Debian's Chromium, driven by Playwright, against the real servers.

The demo page (scripts/serve_web.py) is served on the port whose origin the Rasa server's socket.io
CORS allows (assistant.web_port). Other instances serve the page against a Rasa URL where nothing
listens (the offline message) and against a fake, hostile bot (tests/browser.py).
Plain `def` tests: the sync Playwright API must not run inside an event loop.
"""

import json
import re
import urllib.error
import urllib.request
from typing import Any, Dict, Iterator, List

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect, sync_playwright

from actions.catalogue import load_catalogue
from tests.browser import SLOW_MESSAGE, FakeBot, WebServer, launch
from tests.servers import ROOT, free_port

pytestmark = pytest.mark.slow

TIMEOUT_MS = 20_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WMNOW = "https://www.wmnow.co.uk"
CONTACT_US = "https://www.west-midlands.police.uk/contact-us"
STORAGE_KEY = "wmpChat.v1"

# The conversation as the widget shows it: who said it and the visible text (without the
# visually hidden "Assistant:" / "(opens in a new tab)").
MESSAGES_JS = """() => Array.from(document.querySelectorAll('#wmp-chat-log .wmp-chat__msg')).map(item => {
  const bubble = item.querySelector('.wmp-chat__bubble');
  let text = '';
  if (bubble) {
    const copy = bubble.cloneNode(true);
    copy.querySelectorAll('.wmp-chat__sr').forEach(hidden => hidden.remove());
    text = copy.textContent;
  }
  return {from: item.classList.contains('wmp-chat__msg--user') ? 'user' : 'bot', text};
})"""


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def web(assistant, tmp_path_factory) -> Iterator[WebServer]:
    """The demo page on the origin the Rasa server allows, talking to the real Rasa server."""
    server = WebServer(rasa_url=assistant.url, workdir=tmp_path_factory.mktemp("web"), port=assistant.web_port)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def offline_web(tmp_path_factory) -> Iterator[WebServer]:
    """The demo page pointed at a Rasa URL where nothing listens."""
    server = WebServer(rasa_url=f"http://127.0.0.1:{free_port()}", workdir=tmp_path_factory.mktemp("offline"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def hostile_web(tmp_path_factory) -> Iterator[WebServer]:
    """The demo page talking to the fake bot that answers with markup and unsafe links."""
    workdir = tmp_path_factory.mktemp("hostile")
    port = free_port()
    bot = FakeBot(origin=f"http://127.0.0.1:{port}", workdir=workdir)
    server = WebServer(rasa_url=bot.url, workdir=workdir, port=port)
    try:
        bot.start()
        yield server.start()
    finally:
        server.stop()
        bot.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright = sync_playwright().start()
    try:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


class Tab:
    """A page in its own browser context (its own sessionStorage), recording CSP violations."""

    def __init__(self, browser: Any, viewport: Dict[str, int] = DESKTOP) -> None:
        self.context = browser.new_context(viewport=viewport)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page: Page = self.context.new_page()
        self.problems: List[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.problems.append(f"CSP: {message.text}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tabs(browser) -> Iterator[Any]:
    """Make tabs with tabs(viewport=...); they are closed after the test, which fails on a CSP violation."""
    made: List[Tab] = []

    def make(viewport: Dict[str, int] = DESKTOP) -> Tab:
        made.append(Tab(browser, viewport))
        return made[-1]

    yield make
    problems = [problem for tab in made for problem in tab.problems]
    for tab in made:
        tab.close()
    assert not problems, problems


@pytest.fixture
def page(tabs) -> Page:
    return tabs().page


# ---------------------------------------------------------------- helpers


def load(page: Page, url: str) -> None:
    page.goto(url + "/")
    page.wait_for_selector("html[data-wmp-chat=ready]", state="attached")


def messages(page: Page) -> List[Dict[str, str]]:
    return page.evaluate(MESSAGES_JS)


def open_chat(page: Page, greeting: bool = True) -> None:
    page.locator("#wmp-chat-launcher").click()
    expect(page.locator("#wmp-chat-panel")).to_be_visible()
    if greeting:
        expect(page.locator("#wmp-chat-log")).to_contain_text("automated assistant")
        expect(page.locator("#wmp-chat-status")).to_have_text("Connected")


def replies_after_last_user_message(page: Page) -> List[str]:
    said = messages(page)
    last_user = max(index for index, message in enumerate(said) if message["from"] == "user")
    return [message["text"] for message in said[last_user + 1:]]


def ask(page: Page, text: str, expected: str) -> List[str]:
    """Type and send a message; wait for a reply containing `expected`; return the replies to it."""
    page.locator("#wmp-chat-input").fill(text)
    page.locator("#wmp-chat-input").press("Enter")
    page.wait_for_function(
        """([expected]) => {
          const items = Array.from(document.querySelectorAll('#wmp-chat-log .wmp-chat__msg'));
          const lastUser = items.map(i => i.classList.contains('wmp-chat__msg--user')).lastIndexOf(true);
          return items.slice(lastUser + 1).some(i => i.textContent.includes(expected));
        }""",
        arg=[expected],
    )
    return replies_after_last_user_message(page)


def stored(page: Page) -> Dict[str, Any]:
    return json.loads(page.evaluate(f"sessionStorage.getItem('{STORAGE_KEY}') || 'null'") or "null")


def tab_until(page: Page, script: str, key: str = "Tab", limit: int = 60) -> None:
    """Press a key until the script (run on document.activeElement as `el`) is true."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!el && ({script}); }})()"):
            return
    raise AssertionError(f"{key} never reached an element where {script}")


# ---------------------------------------------------------------- the static server


def fetch(url: str):
    return urllib.request.urlopen(url, timeout=10)


def test_the_static_server_sends_security_headers_and_the_catalogue_config(web, assistant):
    with fetch(web.url + "/") as response:
        csp = response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    connect = re.search(r"connect-src ([^;]+)", csp).group(1).split()
    assert connect == ["'self'", assistant.url, assistant.url.replace("http://", "ws://")]

    with fetch(web.url + "/widget/config.json") as response:
        config = json.load(response)
    channels = load_catalogue().channels
    assert config["serverUrl"] == assistant.url
    assert [entry["key"] for entry in config["fallbacks"]] == ["emergency_999", "phone_101", "contact_us"]
    assert config["fallbacks"][2]["link"] == channels["contact_us"].link
    assert config["phones"] == ["999", "101", "18000", "18001 101"]

    with fetch(web.url + "/vendor/socket.io.min.js") as response:
        assert response.headers["Content-Type"].startswith("text/javascript")
        assert response.read() == (ROOT / "node_modules/socket.io-client/dist/socket.io.min.js").read_bytes()
    for path in ("/widget/", "/.gitignore", "/../scripts/serve_web.py"):
        with pytest.raises(urllib.error.HTTPError) as error:
            fetch(web.url + path)
        assert error.value.code == 404


# ---------------------------------------------------------------- a conversation


def test_the_widget_is_labelled_and_greets_on_first_open(page, web):
    load(page, web.url)
    launcher = page.locator("#wmp-chat-launcher")
    expect(launcher).to_have_accessible_name(re.compile("chat", re.I))
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("button", name=re.compile("chat", re.I)).first).to_be_visible()

    open_chat(page)
    expect(launcher).to_have_attribute("aria-expanded", "true")
    log = page.locator("#wmp-chat-log")
    expect(log).to_have_attribute("role", "log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("textbox", name="Type your message")).to_be_focused()
    expect(page.locator("#wmp-chat-panel").get_by_role("button", name="Leave this site quickly")).to_be_visible()

    said = messages(page)
    assert [message["from"] for message in said] == ["bot", "bot", "bot"], said  # "/greet" is not shown
    greeting = " ".join(message["text"] for message in said)
    assert "automated assistant" in greeting and "personal details" in greeting
    privacy = page.locator("#wmp-chat-log a", has_text="privacy-notice")
    expect(privacy).to_have_attribute("target", "_blank")
    expect(privacy).to_have_attribute("rel", "noopener noreferrer")
    # 999 in a bot message is a tel: link.
    expect(page.locator("#wmp-chat-log a[href='tel:999']").first).to_be_visible()


def test_alerts_get_the_wmnow_link_buttons_answer_and_an_emergency_gets_999_first(page, web):
    load(page, web.url)
    open_chat(page)

    ask(page, "how do i get crime alerts for my area", WMNOW)
    link = page.locator(f"#wmp-chat-log a[href='{WMNOW}']")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")

    button = page.locator("#wmp-chat-log button.wmp-chat__reply", has_text="Social media")
    expect(button).to_be_visible()
    button.click()
    expect(page.locator("#wmp-chat-log a[href='https://www.facebook.com/westmidlandspolice/']")).to_be_visible()
    said = messages(page)
    assert {"from": "user", "text": "Social media"} in said  # the title, not "/social_media"
    expect(page.locator("#wmp-chat-input")).to_be_focused()

    replies = ask(page, "someone is breaking into my house right now", "Call 999 now")
    assert replies[0].startswith("Call 999 now"), replies


def test_markup_typed_by_the_person_is_shown_as_text_and_never_runs(page, web):
    load(page, web.url)
    open_chat(page)
    attacks = ['<img src=x onerror="window.__pwned=1">', "<script>window.__pwned=1</script>"]
    for attack in attacks:
        page.locator("#wmp-chat-input").fill(attack)
        page.locator("#wmp-chat-input").press("Enter")
        expect(page.locator("#wmp-chat-log .wmp-chat__msg--user").last).to_have_text(re.compile(re.escape(attack)))
    # Let the bot answer both, then reload: the stored conversation is rendered as text too.
    page.wait_for_function("() => document.querySelectorAll('#wmp-chat-log .wmp-chat__msg--bot').length >= 5")
    for _ in range(2):
        user_texts = [message["text"] for message in messages(page) if message["from"] == "user"]
        assert user_texts == attacks
        assert page.locator("#wmp-chat-log img, #wmp-chat-log script").count() == 0
        assert page.evaluate("typeof window.__pwned") == "undefined"
        page.reload()
        page.wait_for_selector("html[data-wmp-chat=ready]", state="attached")


def test_markup_and_unsafe_links_sent_by_the_bot_are_text(page, hostile_web):
    load(page, hostile_web.url)
    open_chat(page, greeting=False)
    expect(page.locator("#wmp-chat-log")).to_contain_text("Pick one")  # the answer to the initial message
    log = page.locator("#wmp-chat-log")
    assert log.locator("img, script, b, iframe").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"
    expect(log).to_contain_text('<img src=x onerror="window.__pwned=1"> and <script>window.__pwned=1</script>')
    expect(log).to_contain_text("javascript:window.__pwned=1")
    hrefs = log.locator("a").evaluate_all("links => links.map(link => link.getAttribute('href'))")
    assert all(href.startswith(("https://", "http://", "tel:")) for href in hrefs), hrefs
    # Brackets and full stops around a link stay text; a quote ends the link.
    assert CONTACT_US in hrefs and "https://example.org/" in hrefs, hrefs
    assert "tel:999" in hrefs and "tel:101" in hrefs, hrefs
    button = log.locator("button.wmp-chat__reply")
    expect(button).to_have_text('<img src=x onerror="window.__pwned=1">Button')
    button.click()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert log.locator("img").count() == 0


def test_the_typing_indicator_shows_while_the_bot_answers(page, hostile_web):
    load(page, hostile_web.url)
    open_chat(page, greeting=False)
    expect(page.locator("#wmp-chat-log")).to_contain_text("Pick one")
    typing = page.locator(".wmp-chat__typing")
    expect(typing).to_be_hidden()
    page.locator("#wmp-chat-input").fill(SLOW_MESSAGE)
    page.locator("#wmp-chat-input").press("Enter")
    expect(typing).to_be_visible()
    expect(typing).to_contain_text("typing")
    expect(page.locator("#wmp-chat-log")).to_contain_text("A slow answer.")
    expect(typing).to_be_hidden()


# ---------------------------------------------------------------- privacy: reload, new tab, quick exit


def test_a_reload_keeps_the_conversation_and_a_new_tab_starts_fresh(tabs, web):
    page = tabs().page
    load(page, web.url)
    open_chat(page)
    ask(page, "how do i get crime alerts for my area", WMNOW)
    before, session = messages(page), stored(page)["sessionId"]
    assert page.evaluate("localStorage.length") == 0

    page.reload()
    page.wait_for_selector("html[data-wmp-chat=ready]", state="attached")
    expect(page.locator("#wmp-chat-panel")).to_be_visible()  # still open
    assert messages(page) == before
    expect(page.locator(f"#wmp-chat-log a[href='{WMNOW}']")).to_be_visible()
    expect(page.locator("#wmp-chat-status")).to_have_text("Connected")
    ask(page, "and are you on facebook", "facebook.com")
    assert stored(page)["sessionId"] == session
    assert messages(page)[: len(before)] == before

    fresh = tabs().page  # a new browser context: sessionStorage is per tab
    load(fresh, web.url)
    expect(fresh.locator("#wmp-chat-panel")).to_be_hidden()
    open_chat(fresh)
    said = messages(fresh)
    assert all(message["from"] == "bot" for message in said), said
    assert "crime alerts" not in json.dumps(said)
    assert stored(fresh)["sessionId"] != session


@pytest.mark.parametrize("exit_button", ["#wmp-chat-panel .wmp-chat__exit", "header [data-wmp-quick-exit]"])
def test_quick_exit_clears_the_chat_and_back_does_not_return_to_it(page, web, exit_button):
    page.goto(web.url + "/?from=search")  # an earlier page of the site, in the history
    load(page, web.url)
    open_chat(page)
    ask(page, "how do i get crime alerts for my area", WMNOW)
    assert page.evaluate("sessionStorage.length") > 0

    page.locator(exit_button).click()
    page.wait_for_url(re.compile(r"/neutral\.html$"))
    expect(page).to_have_title(re.compile("tomato soup", re.I))
    assert page.evaluate("sessionStorage.length") == 0
    assert page.locator("#wmp-chat-log").count() == 0

    page.go_back()  # the chat page was replaced: Back goes to the page before it, with no conversation
    page.wait_for_url(re.compile(r"/\?from=search$"))
    page.wait_for_selector("html[data-wmp-chat=ready]", state="attached")
    expect(page.locator("#wmp-chat-panel")).to_be_hidden()
    assert "crime alerts" not in page.locator("#wmp-chat").text_content()
    assert stored(page) is None


# ---------------------------------------------------------------- keyboard and accessibility


def test_everything_works_with_the_keyboard_alone(page, web):
    load(page, web.url)
    tab_until(page, "el.id === 'wmp-chat-launcher'")
    page.keyboard.press("Enter")
    expect(page.locator("#wmp-chat-panel")).to_be_visible()
    expect(page.locator("#wmp-chat-input")).to_be_focused()
    expect(page.locator("#wmp-chat-log")).to_contain_text("automated assistant")

    page.keyboard.type("how do i get crime alerts for my area")
    page.keyboard.press("Enter")
    expect(page.locator(f"#wmp-chat-log a[href='{WMNOW}']")).to_be_visible()
    expect(page.locator("#wmp-chat-input")).to_be_focused()
    expect(page.locator("#wmp-chat-input")).to_have_value("")

    # Back from the text box to the answer: its button, then its link.
    tab_until(page, "el.classList.contains('wmp-chat__reply')", key="Shift+Tab", limit=5)
    tab_until(page, f"el.getAttribute('href') === '{WMNOW}'", key="Shift+Tab", limit=5)
    # Forward again to the button, and press it with Enter.
    tab_until(page, "el.classList.contains('wmp-chat__reply')", limit=5)
    page.keyboard.press("Enter")
    expect(page.locator("#wmp-chat-log a[href='https://www.facebook.com/westmidlandspolice/']")).to_be_visible()
    expect(page.locator("#wmp-chat-input")).to_be_focused()

    page.keyboard.press("Escape")
    expect(page.locator("#wmp-chat-panel")).to_be_hidden()
    expect(page.locator("#wmp-chat-launcher")).to_be_focused()
    expect(page.locator("#wmp-chat-launcher")).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Enter")  # opens again, conversation kept
    expect(page.locator("#wmp-chat-input")).to_be_focused()
    expect(page.locator(f"#wmp-chat-log a[href='{WMNOW}']")).to_be_visible()
    tab_until(page, "el.classList.contains('wmp-chat__close')", key="Shift+Tab", limit=30)
    page.keyboard.press("Enter")
    expect(page.locator("#wmp-chat-panel")).to_be_hidden()
    expect(page.locator("#wmp-chat-launcher")).to_be_focused()


AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def test_axe_finds_no_wcag_violation_with_the_widget_open_and_a_conversation(page, web):
    load(page, web.url)
    open_chat(page)
    ask(page, "how do i get crime alerts for my area", WMNOW)
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    # The offline notice too (shown, as it would be when the server is down).
    page.evaluate("document.getElementById('wmp-chat-offline').hidden = false")
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


# ---------------------------------------------------------------- server down, phone


def test_when_the_server_is_down_the_widget_says_so_and_offers_101_and_contact_us(page, offline_web):
    load(page, offline_web.url)
    open_chat(page, greeting=False)
    notice = page.locator("#wmp-chat-offline")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("can't connect")
    expect(notice.locator("a[href='tel:101']")).to_have_text("101")
    expect(notice.locator("a[href='tel:999']")).to_have_text("999")
    contact = notice.locator(f"a[href='{CONTACT_US}']")
    expect(contact).to_be_visible()
    expect(contact).to_have_attribute("target", "_blank")
    expect(contact).to_have_attribute("rel", "noopener noreferrer")
    expect(page.locator("#wmp-chat-status")).to_contain_text("Not connected")
    # A message typed meanwhile is shown (and kept for when the connection is back).
    page.locator("#wmp-chat-input").fill("hello")
    page.locator("#wmp-chat-input").press("Enter")
    expect(page.locator("#wmp-chat-log .wmp-chat__msg--user")).to_have_text(re.compile("hello"))
    assert Axe().run(page, options=AXE_OPTIONS).violations_count == 0


def test_on_a_phone_the_panel_fills_the_screen_and_the_text_box_works(tabs, web):
    page = tabs(viewport=PHONE).page
    load(page, web.url)
    open_chat(page)
    box = page.locator("#wmp-chat-panel").bounding_box()
    assert box == {"x": 0, "y": 0, "width": PHONE["width"], "height": PHONE["height"]}, box
    field = page.locator("#wmp-chat-input")
    field_box = field.bounding_box()
    assert field_box["y"] + field_box["height"] <= PHONE["height"] and field_box["width"] >= 200, field_box
    assert page.evaluate("getComputedStyle(document.getElementById('wmp-chat-input')).fontSize") == "16px"
    send = page.locator(".wmp-chat__send").bounding_box()
    assert send["x"] + send["width"] <= PHONE["width"], send
    ask(page, "how do i get crime alerts for my area", WMNOW)
    link = page.locator(f"#wmp-chat-log a[href='{WMNOW}']").bounding_box()
    assert link["x"] + link["width"] <= PHONE["width"], link
    page.locator(".wmp-chat__close").click()
    expect(page.locator("#wmp-chat-panel")).to_be_hidden()
    expect(page.locator("#wmp-chat-launcher")).to_be_focused()
