"""Take docs/widget-screenshot.png: the demo page with the chat open and a short conversation.

    .venv/bin/python scripts/screenshot_widget.py [--out docs/widget-screenshot.png]

Starts its own action server, Rasa server and demo page on free loopback ports (as the tests do),
drives Debian's Chromium with Playwright, and stops everything afterwards. Needs the trained model,
node_modules (npm ci) and Playwright (see docs/web-widget.md).
"""

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser import WebServer, launch  # noqa: E402
from tests.servers import Assistant  # noqa: E402

QUESTION = "how do i get crime alerts for my area"
ANSWER = "https://www.wmnow.co.uk"


def take(out: Path, workdir: Path) -> None:
    assistant = Assistant(workdir=workdir)
    web = None
    try:
        assistant.start()
        web = WebServer(rasa_url=assistant.url, workdir=workdir, port=assistant.web_port).start()
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            page.set_default_timeout(20_000)
            page.goto(web.url + "/")
            page.wait_for_selector("html[data-wmp-chat=ready]", state="attached")
            page.click("#wmp-chat-launcher")
            page.wait_for_selector("#wmp-chat-log .wmp-chat__msg--bot >> nth=2")
            page.fill("#wmp-chat-input", QUESTION)
            page.press("#wmp-chat-input", "Enter")
            page.wait_for_selector(f"#wmp-chat-log a[href='{ANSWER}']")
            page.wait_for_timeout(300)
            page.evaluate("document.activeElement && document.activeElement.blur()")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            browser.close()
    finally:
        if web is not None:
            web.stop()
        assistant.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "widget-screenshot.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        take(args.out, Path(workdir))
    print(f"Saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
