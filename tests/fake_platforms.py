"""A local fake of the platforms' send APIs (Messenger, Instagram, X), for end-to-end tests.

It listens on 127.0.0.1:<port>, where the test Rasa server's FACEBOOK_API_URL, INSTAGRAM_API_URL
and TWITTER_API_URL point (http://127.0.0.1:<port>/facebook, /instagram, /twitter), answers
every call like the real API does when it succeeds, and records each request per platform.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qs, urlsplit

PLATFORMS = ("facebook", "instagram", "twitter")


@dataclass
class Sent:
    """One call to a fake send API."""

    platform: str
    method: str
    path: str  # without the /<platform> prefix, e.g. /me/messages
    query: Dict[str, str]
    headers: Dict[str, str]  # lower-case names
    body: Any
    status: int = 200  # what the fake answered

    @property
    def recipient(self) -> Optional[str]:
        if self.platform == "twitter":
            parts = self.path.strip("/").split("/")  # 2/dm_conversations/with/<id>/messages
            return parts[3] if len(parts) == 5 and parts[2] == "with" else None
        recipient = self.body.get("recipient") if isinstance(self.body, dict) else None
        return recipient.get("id") if isinstance(recipient, dict) else None

    @property
    def message(self) -> Dict[str, Any]:
        """Meta: the `message` object; X: the body ({"text": ...})."""
        if not isinstance(self.body, dict):
            return {}
        return self.body if self.platform == "twitter" else self.body.get("message") or {}

    @property
    def text(self) -> str:
        message = self.message
        if "attachment" in message:
            return message["attachment"].get("payload", {}).get("text", "")
        return message.get("text", "")


class FakePlatforms:
    def __init__(self, port: int) -> None:
        self.port = port
        self._sent: List[Sent] = []
        self._failures: Dict[tuple, List[int]] = {}
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    def start(self) -> "FakePlatforms":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                platform, _, rest = parts.path.lstrip("/").partition("/")
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                if platform not in PLATFORMS:
                    return self._reply(404, {"error": "unknown platform"})
                sent = Sent(
                    platform=platform,
                    method="POST",
                    path="/" + rest,
                    query={key: values[-1] for key, values in parse_qs(parts.query).items()},
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=body,
                )
                with fake._lock:
                    failures = fake._failures.get((platform, sent.recipient))
                    sent.status = failures.pop(0) if failures else 200
                    fake._sent.append(sent)
                if sent.status >= 300:
                    self._reply(sent.status, {"error": {"message": "fake failure", "code": 2}})
                elif platform == "twitter":
                    self._reply(
                        201,
                        {"data": {"dm_conversation_id": f"1-{sent.recipient}", "dm_event_id": str(len(fake._sent))}},
                    )
                else:
                    self._reply(200, {"recipient_id": sent.recipient, "message_id": f"m_{len(fake._sent)}"})

            def _reply(self, status: int, body: Dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-platforms", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def fail_next(self, platform: str, recipient: str, *statuses: int) -> None:
        """Answer the next calls for this recipient with these HTTP statuses (e.g. 500, 429)."""
        with self._lock:
            self._failures[(platform, recipient)] = list(statuses)

    def sent(self, platform: str, recipient: Optional[str] = None, failed: bool = False) -> List[Sent]:
        """What was delivered on a platform so far (to one recipient, if given), in order; `failed` adds the refused calls."""
        with self._lock:
            return [
                s
                for s in self._sent
                if s.platform == platform
                and (recipient is None or s.recipient == recipient)
                and (failed or s.status < 300)
            ]

    def wait_for(
        self,
        platform: str,
        recipient: str,
        until: Callable[[List[Sent]], bool] = bool,
        timeout: float = 10.0,
    ) -> List[Sent]:
        """Poll until what was sent to the recipient satisfies `until` (default: anything); fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            sent = self.sent(platform, recipient)
            if until(sent):
                return sent
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{platform}: nothing suitable sent to {recipient} within {timeout} s; got {[s.body for s in sent]}"
                )
            time.sleep(0.1)
