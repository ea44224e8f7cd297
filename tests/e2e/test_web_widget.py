"""The web chat widget in a real browser: Debian's Chromium, driven by Playwright, against the real servers.

The demo page (server/demo_page.py) is served on the port whose origin the Rasa server's socket.io
CORS allows (assistant.web_port). Other instances serve the page against a Rasa URL where nothing
listens (the offline message) and against a fake, hostile bot (tests/browser.py).
Plain `def` tests: the sync Playwright API must not run inside an event loop.
The language tests take their languages from /widget/config.json (English and every translation).
"""

import json
import os
import re
import urllib.error
import urllib.request
from typing import Any, Dict, Iterator, List

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from core.catalogue import load_catalogue
from core.translations import WIDGET_LABELS
from tests.browser import SLOW_MESSAGE, FakeBot, WebServer, chromium
from tests.servers import ROOT, free_port

TIMEOUT_MS = 20_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 320, "height": 640}  # WCAG 1.4.10 (reflow): 320 CSS pixels wide
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
    with chromium() as started:
        yield started


class Tab:
    """A page in its own browser context (its own sessionStorage), recording CSP violations.
    mobile: emulate a phone (its layout viewport grows to fit content wider than the screen)."""

    def __init__(self, browser: Any, viewport: Dict[str, int] = DESKTOP, mobile: bool = False) -> None:
        self.context = browser.new_context(viewport=viewport, is_mobile=mobile, has_touch=mobile)
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

    def make(viewport: Dict[str, int] = DESKTOP, mobile: bool = False) -> Tab:
        made.append(Tab(browser, viewport, mobile))
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
        # All of the greeting: on a busy machine its last message can come after the first ones.
        wait_for_bot_messages_after(page, len(load_catalogue().route("greet").messages) - 1)


def replies_after_last_user_message(page: Page) -> List[str]:
    said = messages(page)
    last_user = max(index for index, message in enumerate(said) if message["from"] == "user")
    return [message["text"] for message in said[last_user + 1 :]]


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


def widget_config(web: WebServer) -> Dict[str, Any]:
    with fetch(web.url + "/widget/config.json") as response:
        return json.load(response)


def a_language(web: WebServer, preferred: str, direction: str) -> Dict[str, Any]:
    """config.json's entry for `preferred`, or else its first other translation written in `direction`."""
    translations = widget_config(web)["languages"][1:]
    for entry in sorted(translations, key=lambda entry: entry["code"] != preferred):
        if entry["code"] == preferred or entry["dir"] == direction:
            return entry
    pytest.skip(f"config.json has no {preferred} and no other {direction} language")


def bot_count(page: Page) -> int:
    return page.locator("#wmp-chat-log .wmp-chat__msg--bot").count()


def choose_language(page: Page, code: str) -> None:
    """Choose a language with the widget's language control (the chat open)."""
    page.locator("#wmp-chat-language").click()
    expect(page.locator("#wmp-chat-languages")).to_be_visible()
    page.locator(f"#wmp-chat-languages button[data-language='{code}']").click()
    expect(page.locator("#wmp-chat-languages")).to_be_hidden()
    expect(page.locator("#wmp-chat-panel")).to_have_attribute("lang", code)


def wait_for_bot_messages_after(page: Page, count: int) -> None:
    page.wait_for_function(
        "([count]) => document.querySelectorAll('#wmp-chat-log .wmp-chat__msg--bot').length > count", arg=[count]
    )


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


@pytest.mark.slow
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
    # The languages: English first, then every translation, with the widget's labels in each.
    translations = load_catalogue().translations
    languages = config["languages"]
    assert [entry["code"] for entry in languages] == ["en", *sorted(translations)]
    assert languages[0]["name"] == "English" and languages[0]["dir"] == "ltr"
    assert languages[0]["labels"]["send"] == "Send" and languages[0]["labels"]["language"] == "Language"
    for entry in languages:
        assert set(entry) == {"code", "name", "dir", "labels"}, entry
        assert set(entry["labels"]) == set(WIDGET_LABELS), entry["code"]
        assert all(isinstance(text, str) and text.strip() for text in entry["labels"].values()), entry["code"]
        if entry["code"] != "en":
            translation = translations[entry["code"]]
            assert (entry["name"], entry["dir"]) == (translation.name, translation.direction)
            assert entry["labels"] == {key: translation.widget[key] for key in WIDGET_LABELS}

    with fetch(web.url + "/vendor/socket.io.min.js") as response:
        assert response.headers["Content-Type"].startswith("text/javascript")
        assert response.read() == (ROOT / "node_modules/socket.io-client/dist/socket.io.min.js").read_bytes()
    for path in ("/widget/", "/.gitignore", "/../scripts/serve_web.py"):
        with pytest.raises(urllib.error.HTTPError) as error:
            fetch(web.url + path)
        assert error.value.code == 404


# ---------------------------------------------------------------- a conversation


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_a_reload_keeps_the_conversation_and_a_new_tab_starts_fresh(tabs, web):
    from tests.e2e.test_feedback import QUESTION

    page = tabs().page
    load(page, web.url)
    open_chat(page)
    # The routed answer, then "Was this helpful?": the reload must find both.
    replies = ask(page, "how do i get crime alerts for my area", QUESTION)
    assert WMNOW in " ".join(replies), replies
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


# ---------------------------------------------------------------- languages


def widget_texts(page: Page) -> Dict[str, Any]:
    """The widget's own texts as shown (and as read out), to compare with a language's labels."""
    return page.evaluate(
        """() => ({
          title: document.getElementById('wmp-chat-title').textContent,
          close: document.querySelector('.wmp-chat__close').getAttribute('aria-label'),
          conversation: document.getElementById('wmp-chat-log').getAttribute('aria-label'),
          send: document.querySelector('.wmp-chat__send').textContent,
          placeholder: document.getElementById('wmp-chat-input').placeholder,
          input_label: document.querySelector('label[for=wmp-chat-input]').textContent,
          quick_exit: document.querySelector('#wmp-chat-panel .wmp-chat__exit').textContent,
          launcher: document.querySelector('.wmp-chat__launcher-label').textContent,
          language: document.querySelector('#wmp-chat-language .wmp-chat__lang-label').textContent,
          prefixes: Array.from(document.querySelectorAll('#wmp-chat-log .wmp-chat__who'))
            .map(prefix => prefix.textContent.trim()),
        })"""
    )


@pytest.mark.slow
def test_choosing_a_language_relabels_the_widget_and_the_replies_come_in_it(page, web):
    language = a_language(web, "ur", "rtl")
    code, labels = language["code"], language["labels"]
    load(page, web.url)
    open_chat(page)
    toggle = page.locator("#wmp-chat-language")
    expect(toggle).to_have_accessible_name(re.compile("^Language"))
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    option = page.locator(f"#wmp-chat-languages button[data-language='{code}']")
    expect(option).to_have_text(language["name"])  # named in itself
    expect(option).to_have_attribute("lang", code)
    users, bots = page.locator("#wmp-chat-log .wmp-chat__msg--user").count(), bot_count(page)
    option.click()

    panel = page.locator("#wmp-chat-panel")
    expect(panel).to_have_attribute("lang", code)
    expect(panel).to_have_attribute("dir", language["dir"])
    expect(page.locator(".wmp-chat__send")).to_have_text(labels["send"])
    expect(page.locator("#wmp-chat-status")).to_have_text(labels["online"])
    expect(toggle).to_have_accessible_name(re.compile("^" + re.escape(labels["language"])))
    expect(page.get_by_role("textbox", name=labels["input_label"])).to_be_focused()
    texts = widget_texts(page)
    for key in ("title", "close", "conversation", "send", "placeholder", "input_label", "quick_exit", "launcher"):
        assert texts[key] == labels[key], (key, texts[key])
    assert texts["prefixes"] and set(texts["prefixes"]) == {labels["assistant"]}, texts["prefixes"]
    assert page.locator("#wmp-chat-log .wmp-chat__msg--user").count() == users  # the payload is not shown

    wait_for_bot_messages_after(page, bots)
    reply = page.locator("#wmp-chat-log .wmp-chat__msg--bot").nth(bots)
    expect(reply).to_have_attribute("lang", code)
    expect(reply).to_have_attribute("dir", language["dir"])
    assert stored(page)["language"] == code and stored(page)["chosen"] is True

    # What the person types: dir="auto" and the current language; a chosen language stays chosen.
    ask(page, "how do i get crime alerts for my area", WMNOW)
    said = page.locator("#wmp-chat-log .wmp-chat__msg--user").last
    expect(said).to_have_attribute("dir", "auto")
    expect(said).to_have_attribute("lang", code)
    expect(page.locator(".wmp-chat__send")).to_have_text(labels["send"])
    for item in page.locator("#wmp-chat-log .wmp-chat__msg").all():
        assert item.get_attribute("lang") and item.get_attribute("dir") in ("ltr", "rtl", "auto")

    # A right-to-left language: the assistant's bubbles at the right, the person's at the left.
    if language["dir"] == "rtl":
        log_box = page.locator("#wmp-chat-log").bounding_box()
        bot_box = reply.locator(".wmp-chat__bubble").bounding_box()
        user_box = said.locator(".wmp-chat__bubble").bounding_box()
        assert bot_box["x"] + bot_box["width"] > log_box["x"] + log_box["width"] - 20, (bot_box, log_box)
        assert user_box["x"] < log_box["x"] + 20, (user_box, log_box)
        assert reply.locator(".wmp-chat__bubble").evaluate("el => getComputedStyle(el).direction") == "rtl"

    # The choice survives a reload in the tab; the offline notice is in the language too.
    page.reload()
    page.wait_for_selector("html[data-wmp-chat=ready]", state="attached")
    expect(page.locator(".wmp-chat__send")).to_have_text(labels["send"])
    expect(page.locator("#wmp-chat-panel")).to_have_attribute("dir", language["dir"])
    expect(page.locator("#wmp-chat-offline .wmp-chat__offline-title")).to_have_text(labels["offline_title"])


@pytest.mark.slow
def test_a_message_in_polish_gets_999_in_polish_and_the_widget_follows(page, web):
    polish = next((entry for entry in widget_config(web)["languages"] if entry["code"] == "pl"), None)
    if polish is None:
        pytest.skip("config.json has no Polish yet (catalogue/translations/pl.yml)")
    load(page, web.url)
    open_chat(page)
    bots = bot_count(page)
    replies = ask(page, "Ktoś włamuje się do mojego domu, pomocy!", "999")
    assert "999" in replies[0], replies
    first = page.locator("#wmp-chat-log .wmp-chat__msg--bot").nth(bots)
    expect(first).to_have_attribute("lang", "pl")
    expect(first).to_have_attribute("dir", "ltr")
    # Nobody chose a language in this tab: the widget switches its labels to the reply's language.
    expect(page.locator("#wmp-chat-panel")).to_have_attribute("lang", "pl")
    expect(page.locator(".wmp-chat__send")).to_have_text(polish["labels"]["send"])
    assert stored(page)["language"] == "pl" and stored(page)["chosen"] is False


def assert_fits(page: Page, opened: bool) -> None:
    """Nothing scrolls sideways at 320px; the launcher (closed) or the panel (open) is on the screen."""
    width, height = SMALL_PHONE["width"], SMALL_PHONE["height"]
    lang = page.locator("#wmp-chat-panel").get_attribute("lang")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, (lang, opened)

    def inside(selector: str) -> Dict[str, float]:
        box = page.locator(selector).bounding_box()
        assert box is not None, (lang, selector)
        assert box["x"] >= 0 and box["y"] >= 0, (lang, selector, box)
        assert box["x"] + box["width"] <= width + 0.5 and box["y"] + box["height"] <= height + 0.5, (
            lang,
            selector,
            box,
        )
        return box

    if not opened:
        inside("#wmp-chat-launcher")
        return
    inside("#wmp-chat-panel")
    for selector in (".wmp-chat__exit", ".wmp-chat__close", "#wmp-chat-language", ".wmp-chat__send"):
        inside(selector)
    assert inside("#wmp-chat-input")["width"] >= 150, lang
    # No part of the widget (the conversation included) is wider than the screen.
    outside = page.evaluate(
        """([width]) => Array.from(document.querySelectorAll('#wmp-chat-panel *'))
          .filter(el => !el.closest('.wmp-chat__sr') && el.getClientRects().length)
          .map(el => [el.className.baseVal === undefined ? el.className : '', el.getBoundingClientRect()])
          .filter(([, box]) => box.left < -0.5 || box.right > width + 0.5)
          .map(([name, box]) => `${name}: ${box.left}..${box.right}`)""",
        [width],
    )
    assert not outside, (lang, outside)


@pytest.mark.slow
def test_at_320px_nothing_scrolls_sideways_in_any_language(tabs, web):
    page = tabs(viewport=SMALL_PHONE, mobile=True).page
    languages = widget_config(web)["languages"]
    load(page, web.url)
    assert_fits(page, opened=False)
    open_chat(page)
    assert_fits(page, opened=True)
    page.locator("#wmp-chat-language").click()  # the list of languages open, too
    expect(page.locator("#wmp-chat-languages")).to_be_visible()
    assert_fits(page, opened=True)
    page.keyboard.press("Escape")
    expect(page.locator("#wmp-chat-languages")).to_be_hidden()
    expect(page.locator("#wmp-chat-language")).to_be_focused()
    page.locator(".wmp-chat__close").click()
    for language in languages[1:] + languages[:1]:  # every translation, then back to English
        page.locator("#wmp-chat-launcher").click()
        expect(page.locator("#wmp-chat-panel")).to_be_visible()
        bots = bot_count(page)
        choose_language(page, language["code"])
        wait_for_bot_messages_after(page, bots)  # its answer is in, with the language's longer texts
        expect(page.locator(".wmp-chat__send")).to_have_text(language["labels"]["send"])
        assert_fits(page, opened=True)
        page.locator(".wmp-chat__close").click()
        expect(page.locator("#wmp-chat-panel")).to_be_hidden()
        expect(page.locator(".wmp-chat__launcher-label")).to_have_text(language["labels"]["launcher"])
        assert_fits(page, opened=False)


@pytest.mark.slow
@pytest.mark.parametrize("preferred, direction", [("ur", "rtl"), ("pl", "ltr")])
def test_axe_finds_no_wcag_violation_in_another_language(page, web, preferred, direction):
    language = a_language(web, preferred, direction)
    load(page, web.url)
    open_chat(page)
    bots = bot_count(page)
    choose_language(page, language["code"])
    wait_for_bot_messages_after(page, bots)
    expect(page.locator("#wmp-chat-status")).to_have_text(language["labels"]["online"])
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    page.locator("#wmp-chat-language").click()  # with the list of languages open
    page.evaluate("document.getElementById('wmp-chat-offline').hidden = false")  # and the offline notice
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


# ---------------------------------------------------------------- server down, phone


@pytest.mark.slow
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


@pytest.mark.slow
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


# ---------------------------------------------------------------- "was this helpful?" (issue 17)


@pytest.mark.slow
def test_was_this_helpful_shows_yes_and_no_each_is_answered_and_stored_and_nothing_is_blocked(page, web, assistant):
    """After a routed answer the widget shows "Was this helpful?" with Yes and No; each tap is answered
    and ends up in the conversation store as a `feedback` event; the answer's own buttons keep working;
    no question after the emergency reply; after "No", what the person types is answered as usual."""
    from tests.e2e.test_feedback import LOOKING_FOR, QUESTION, THANKS, has_verdicts, slot_values, verdicts, wait_stored

    log = page.locator("#wmp-chat-log")
    load(page, web.url)
    open_chat(page)
    replies = ask(page, "how do i get crime alerts for my area", QUESTION)
    assert WMNOW in " ".join(replies[:-1]) and replies[-1] == QUESTION, replies
    question = page.locator("#wmp-chat-log .wmp-chat__msg--bot").last
    yes = question.locator("button.wmp-chat__reply", has_text="Yes")
    no = question.locator("button.wmp-chat__reply", has_text="No")
    expect(yes).to_be_visible()
    expect(no).to_be_visible()
    assert question.locator("button.wmp-chat__reply").all_inner_texts() == ["Yes", "No"]
    expect(log.locator("button.wmp-chat__reply", has_text="Social media")).to_be_visible()  # still there
    yes.click()
    expect(log).to_contain_text(THANKS)
    assert {"from": "user", "text": "Yes"} in messages(page)  # the title, not "/feedback_yes"
    expect(log.locator("button.wmp-chat__reply", has_text="Yes")).to_have_count(0)  # used, then gone

    # the same topic again: not asked again (waiting a moment: the question would come after the answer)
    ask(page, "how do i sign up to wmnow", WMNOW)
    page.wait_for_timeout(1500)
    assert QUESTION not in replies_after_last_user_message(page)

    # another topic, "No", then what they were looking for, answered like any message
    ask(page, "whats the non emergency number", QUESTION)
    page.locator("#wmp-chat-log .wmp-chat__msg--bot").last.locator("button.wmp-chat__reply", has_text="No").click()
    expect(log).to_contain_text(LOOKING_FOR)
    ask(page, "how do i become a special constable", "https://www.west-midlands.police.uk")

    # the question ignored: the next message is answered, the buttons go
    ask(page, "how do i report fraud", QUESTION)
    replies = ask(page, "are you on facebook", QUESTION)  # a new topic: asked about it
    assert "facebook.com" in " ".join(replies) and replies[-1] == QUESTION, replies

    # the emergency reply: no question, and none for the rest of the conversation
    replies = ask(page, "someone is breaking into my house right now", "Call 999 now")
    assert replies[0].startswith("Call 999 now"), replies
    page.wait_for_timeout(1500)
    assert QUESTION not in replies_after_last_user_message(page)
    ask(page, "how do i find lost property", "https://")
    page.wait_for_timeout(1500)
    assert QUESTION not in replies_after_last_user_message(page)
    expect(log.locator("button.wmp-chat__reply", has_text="Yes")).to_have_count(0)

    sender = stored(page)["sessionId"]
    events = wait_stored(assistant, sender, has_verdicts(2))
    assert verdicts(events) == [{"topic": "alerts", "helpful": True}, {"topic": "non_emergency", "helpful": False}]
    asked = slot_values(events, "feedback_asked")[-1]
    assert asked[:2] == ["alerts", "non_emergency"] and asked[-3:] == ["fraud", "social_media", "emergency"], asked
    assert len(asked) == len(set(asked))
    users = [e for e in events if e["event"] == "user"]
    assert {e["input_channel"] for e in users} == {"socketio"}
    assert [e["text"] for e in users if e["text"].startswith("/feedback")] == ["/feedback_yes", "/feedback_no"]


# Set to 1 to write docs/widget-screenshot.png (the README's picture) from this test.
WRITE_DOC_SCREENSHOTS = "WRITE_DOC_SCREENSHOTS"


@pytest.mark.slow
def test_the_readme_screenshot_shows_a_conversation_with_the_official_link(tabs, web, tmp_path):
    page = tabs().page
    load(page, web.url)
    open_chat(page)
    ask(page, "how do i get crime alerts for my area", WMNOW)
    page.wait_for_timeout(300)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    out = (
        ROOT / "docs" / "widget-screenshot.png" if os.environ.get(WRITE_DOC_SCREENSHOTS) == "1" else tmp_path / "w.png"
    )
    page.screenshot(path=str(out))
    assert out.stat().st_size > 10_000
