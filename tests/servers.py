"""Start the real action server and Rasa server for end-to-end tests, on free loopback ports."""

import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

from core.catalogue import load_catalogue
from core.hours import current_time
from core.replies import render
from server import processes
from server.processes import Part, free_port
from server.settings import DEFAULTS, ROOT, environment

MODEL = ROOT / DEFAULTS["RASA_MODEL"]
# A weekday afternoon, when live chat is open.
FIXED_TIME = "2026-11-25T14:00:00+00:00"
RELOAD_TOKEN = "test-reload-token"
# Test-only secrets for the social channels; the platforms' APIs are a local fake (see fake_api_port).
SOCIAL_SECRETS = {
    "FACEBOOK_VERIFY_TOKEN": "test-facebook-verify",
    "FACEBOOK_APP_SECRET": "test-facebook-secret",
    "FACEBOOK_PAGE_ACCESS_TOKEN": "test-facebook-page-token",
    "INSTAGRAM_VERIFY_TOKEN": "test-instagram-verify",
    "INSTAGRAM_APP_SECRET": "test-instagram-secret",
    "INSTAGRAM_ACCESS_TOKEN": "test-instagram-token",
    "TWITTER_CONSUMER_KEY": "test-twitter-key",
    "TWITTER_CONSUMER_SECRET": "test-twitter-secret",
    "TWITTER_ACCESS_TOKEN": "test-twitter-token",
    "TWITTER_ACCESS_TOKEN_SECRET": "test-twitter-token-secret",
}


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    Part("server", [], {}, url, process=process).wait_until_up(timeout)


def stop(process: Optional[subprocess.Popen]) -> None:
    if process is not None:
        Part("server", [], {}, "", process=process).stop()


@dataclass
class Assistant:
    """A running action server and Rasa server, started as `make run` starts them, on free ports."""

    workdir: Path
    env: Dict[str, str] = field(default_factory=dict)
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    # The demo web page's port (allowed by socket.io CORS) and the fake social platforms' port.
    web_port: int = field(default_factory=free_port)
    fake_api_port: int = field(default_factory=free_port)
    rasa_part: Optional[Part] = None
    actions_part: Optional[Part] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def rasa(self) -> Optional[subprocess.Popen]:
        return self.rasa_part.process if self.rasa_part else None

    @property
    def actions(self) -> Optional[subprocess.Popen]:
        return self.actions_part.process if self.actions_part else None

    def _environment(self) -> Dict[str, str]:
        overrides = dict(
            RASA_PORT=str(self.rasa_port),
            ACTION_SERVER_PORT=str(self.action_port),
            ACTION_SERVER_URL=f"http://127.0.0.1:{self.action_port}/webhook",
            TRACKER_STORE_DIALECT="sqlite",
            TRACKER_STORE_DB=str(self.workdir / "conversations.db"),
            ASSISTANT_FIXED_TIME=FIXED_TIME,
            SOCKETIO_CORS_ORIGINS=f"http://127.0.0.1:{self.web_port}",
            FACEBOOK_API_URL=f"http://127.0.0.1:{self.fake_api_port}/facebook",
            INSTAGRAM_API_URL=f"http://127.0.0.1:{self.fake_api_port}/instagram",
            TWITTER_API_URL=f"http://127.0.0.1:{self.fake_api_port}/twitter",
            RASA_RELOAD_TOKEN=RELOAD_TOKEN,
            RASA_MODEL=str(MODEL),
            **SOCIAL_SECRETS,
        )
        overrides.update(self.env)
        return environment(**overrides)

    def start_actions(self) -> None:
        self.actions_part = processes.action_server(self._environment(), self.workdir / "actions.log").start()
        self.actions_part.wait_until_up()

    def stop_actions(self) -> None:
        if self.actions_part:
            self.actions_part.stop()

    def start_rasa(self) -> None:
        if not MODEL.exists():
            raise RuntimeError(f"{MODEL} is missing: run `make train` first")
        self.rasa_part = processes.rasa_server(self._environment(), self.workdir / "rasa.log").start()
        self.rasa_part.wait_until_up()

    def start(self) -> "Assistant":
        self.start_actions()
        self.start_rasa()
        return self

    def stop(self) -> None:
        for part in (self.rasa_part, self.actions_part):
            if part:
                part.stop()

    def post(self, path: str, body: Any, raw: bool = False, timeout: float = 30) -> "Reply":
        data = body if raw else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, headers={"Content-Type": "application/json"})
        started = time.time()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Reply(response.status, response.read().decode(), time.time() - started)
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.read().decode(), time.time() - started)

    def say(self, sender: str, message: str) -> List[Dict[str, Any]]:
        reply = self.post("/webhooks/rest/webhook", {"sender": sender, "message": message})
        assert reply.status == 200, reply
        return reply.json()


@dataclass
class Reply:
    status: int
    body: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def degraded_texts() -> Set[str]:
    """The reply guarantee's service_unavailable texts: what a person gets when the assistant could not answer."""
    catalogue = load_catalogue()
    return {
        message["text"]
        for language in ["en", *catalogue.translations]
        for message in render(catalogue, "service_unavailable", current_time(), language=language)
    }


def answered(messages: Any) -> bool:
    """A real answer: at least one message, every one with text, and not the degraded reply."""
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return False
    bodies = [m.get("text") for m in messages]
    return all(isinstance(text, str) and text.strip() for text in bodies) and not set(bodies) & degraded_texts()


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [message.get("text", "") for message in messages]


def all_text(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(texts(messages))
