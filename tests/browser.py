"""Helpers for the browser tests of the web chat widget.

- Debian's Chromium (installed with apt-get when missing; Playwright never downloads a browser),
- the demo page's static server (server/demo_page.py) as a subprocess,
- a fake bot: a socket.io server that answers every message with hostile markup, so the tests can
  check that nothing the bot sends is ever run as HTML. Run it with
  `python -m tests.browser fake-bot --port PORT --origin http://127.0.0.1:WEBPORT`.
"""

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from server import commands
from server.settings import ROOT
from tests.servers import free_port, stop, wait_until_up

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ensure_chromium() -> str:
    """The path of Debian's Chromium, installing the package first if it is missing."""
    if CHROMIUM.exists():
        return str(CHROMIUM)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (as root)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "chromium"], check=True, env=env, stdout=subprocess.DEVNULL)
    if not CHROMIUM.exists():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return str(CHROMIUM)


SOCKET_IO_CLIENT = ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"


def ensure_socket_io_client() -> None:
    """socket.io-client from package-lock.json (`make install` runs `npm ci`; this is the fallback)."""
    if SOCKET_IO_CLIENT.exists():
        return
    if not shutil.which("npm"):
        raise RuntimeError(f"{SOCKET_IO_CLIENT} is missing and npm is not installed: install npm, then run `npm ci`")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def launch(playwright: Any) -> Any:
    """A headless Chromium browser from Debian's package."""
    return playwright.chromium.launch(executable_path=ensure_chromium(), args=CHROMIUM_ARGS, headless=True)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright, stopped when the block ends."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@dataclass(kw_only=True)
class LocalServer:
    """A server in a subprocess on 127.0.0.1:port, logging to workdir, up once health_path answers."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: Optional[subprocess.Popen] = None
    name = "server"
    health_path = "/"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> List[str]:
        raise NotImplementedError

    def start(self) -> "LocalServer":
        with open(self.workdir / f"{self.name}-{self.port}.log", "ab") as log:
            self.process = subprocess.Popen(self.command(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        wait_until_up(self.url + self.health_path, self.process, timeout=30)
        return self

    def stop(self) -> None:
        stop(self.process)


@dataclass(kw_only=True)
class WebServer(LocalServer):
    """server/demo_page.py serving the demo page, talking to rasa_url."""

    rasa_url: str
    name = "web"
    health_path = "/widget/config.json"

    def command(self) -> List[str]:
        return commands.demo_page(self.port, self.rasa_url)

    def start(self) -> "WebServer":
        ensure_socket_io_client()
        return super().start()


@dataclass(kw_only=True)
class FakeBot(LocalServer):
    """The fake socket.io bot of this module."""

    origin: str
    name = "fake-bot"
    health_path = "/health"

    def command(self) -> List[str]:
        return [commands.PYTHON, "-m", "tests.browser", "fake-bot", "--port", str(self.port), "--origin", self.origin]


# What the fake bot says to every message: markup, script, unsafe link schemes, a hostile button.
HOSTILE_MESSAGES: List[Dict[str, Any]] = [
    {"text": '<img src=x onerror="window.__pwned=1"> and <script>window.__pwned=1</script> and <b>bold</b>'},
    {
        "text": "Bad: javascript:window.__pwned=1 and data:text/html,<script>window.__pwned=1</script> "
        "and a real one (https://www.west-midlands.police.uk/contact-us)."
    },
    {"text": 'A trick: https://example.org/"><img src=x onerror="window.__pwned=1"> and call 999 or 101.'},
    {
        "text": "Pick one",
        "quick_replies": [
            {"content_type": "text", "title": '<img src=x onerror="window.__pwned=1">Button', "payload": "/greet"},
        ],
    },
]


# Answered after SLOW_SECONDS with one plain message, to see the typing indicator.
SLOW_MESSAGE = "please answer slowly"
SLOW_SECONDS = 2.0


def run_fake_bot(port: int, origin: str) -> None:
    import socketio
    from aiohttp import web

    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=[origin])
    app = web.Application()
    sio.attach(app, socketio_path="/socket.io")

    async def health(_: Any) -> Any:
        return web.json_response({"status": "ok"})

    app.router.add_get("/health", health)

    @sio.on("session_request")
    async def session_request(sid: str, data: Any) -> None:
        session_id = "fake-session-0001"
        await sio.enter_room(sid, session_id)
        await sio.emit("session_confirm", session_id, room=sid)

    @sio.on("user_uttered")
    async def user_uttered(sid: str, data: Any) -> None:
        if isinstance(data, dict) and data.get("message") == SLOW_MESSAGE:
            await asyncio.sleep(SLOW_SECONDS)
            await sio.emit("bot_uttered", {"text": "A slow answer."}, room=sid)
            return
        for message in HOSTILE_MESSAGES:
            await sio.emit("bot_uttered", message, room=sid)

    web.run_app(app, host="127.0.0.1", port=port, print=None)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    fake = sub.add_parser("fake-bot", help="run the fake, hostile socket.io bot")
    fake.add_argument("--port", type=int, required=True)
    fake.add_argument("--origin", required=True)
    args = parser.parse_args(argv)
    if args.command == "fake-bot":
        run_fake_bot(args.port, args.origin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
