"""Start the real action server and Rasa server for end-to-end tests, on free loopback ports."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "assistant.tar.gz"
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(process: Optional[subprocess.Popen]) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Assistant:
    """A running action server and Rasa server."""

    workdir: Path
    env: Dict[str, str] = field(default_factory=dict)
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    # The demo web page's port (allowed by socket.io CORS) and the fake social platforms' port.
    web_port: int = field(default_factory=free_port)
    fake_api_port: int = field(default_factory=free_port)
    rasa: Optional[subprocess.Popen] = None
    actions: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def _environment(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(
            ACTION_SERVER_URL=f"http://127.0.0.1:{self.action_port}/webhook",
            TRACKER_STORE_DIALECT="sqlite",
            TRACKER_STORE_DB=str(self.workdir / "conversations.db"),
            ASSISTANT_FIXED_TIME=FIXED_TIME,
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="3",
            SANIC_HOST="127.0.0.1",
            SOCKETIO_CORS_ORIGINS=f"http://127.0.0.1:{self.web_port}",
            FACEBOOK_API_URL=f"http://127.0.0.1:{self.fake_api_port}/facebook",
            INSTAGRAM_API_URL=f"http://127.0.0.1:{self.fake_api_port}/instagram",
            TWITTER_API_URL=f"http://127.0.0.1:{self.fake_api_port}/twitter",
            RASA_RELOAD_TOKEN=RELOAD_TOKEN,
            RASA_MODEL=str(MODEL),
            **SOCIAL_SECRETS,
        )
        env.update(self.env)
        return env

    def _log(self, name: str):
        return open(self.workdir / f"{name}.log", "ab")

    def start_actions(self) -> None:
        self.actions = subprocess.Popen(
            [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(self.action_port)],
            cwd=ROOT, env=self._environment(), stdout=self._log("actions"), stderr=subprocess.STDOUT,
        )
        wait_until_up(f"http://127.0.0.1:{self.action_port}/health", self.actions)

    def stop_actions(self) -> None:
        stop(self.actions)

    def start_rasa(self) -> None:
        if not MODEL.exists():
            raise RuntimeError(f"{MODEL} is missing: run `make train` first")
        self.rasa = subprocess.Popen(
            [str(BIN / "python"), "-m", "scripts.rasa_server", "run", "--model", str(MODEL), "--endpoints", "endpoints.yml",
             "--credentials", "credentials.yml", "--interface", "127.0.0.1", "--port", str(self.rasa_port)],
            cwd=ROOT, env=self._environment(), stdout=self._log("rasa"), stderr=subprocess.STDOUT,
        )
        wait_until_up(f"{self.url}/webhooks/rest/", self.rasa)

    def start(self) -> "Assistant":
        self.start_actions()
        self.start_rasa()
        return self

    def stop(self) -> None:
        stop(self.rasa)
        stop(self.actions)

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


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [message.get("text", "") for message in messages]


def all_text(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(texts(messages))
