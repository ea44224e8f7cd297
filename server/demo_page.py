"""Serve the demo page of the web chat widget: web/ at /, socket.io-client, and the widget's config.

    python -m server.demo_page [--port 8080] [--rasa-url http://localhost:5005]
    python -m server.demo_page --print-config > config.json   # for the web team to publish

- web/ is served at / (the demo page is web/index.html, the quick-exit page web/neutral.html);
- /vendor/socket.io.min.js comes from node_modules/socket.io-client (run `npm ci` first);
- /widget/config.json is made from the catalogue (catalogue/channels.yml), so the widget's
  fallback contacts are never written twice: the Rasa server URL (--rasa-url), the contacts to
  show when the chat cannot connect, the phone numbers the widget may turn into tel: links, and
  the languages it offers with their labels (English, then catalogue/translations/<code>.yml).

Standard library only; binds 127.0.0.1 unless told otherwise; never logs request bodies (it only
answers GET and HEAD).
"""

import argparse
import io
import json
import sys
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional
from urllib.parse import unquote, urlsplit

from core.catalogue import Catalogue, Channel, load_catalogue
from server.settings import ROOT

WEB_ROOT = ROOT / "web"
SOCKET_IO_DIST = ROOT / "node_modules" / "socket.io-client" / "dist"
VENDOR_FILES = {
    "/vendor/socket.io.min.js": SOCKET_IO_DIST / "socket.io.min.js",
    "/vendor/socket.io.min.js.map": SOCKET_IO_DIST / "socket.io.min.js.map",
}
CONFIG_PATH = "/widget/config.json"
SOCKET_PATH = "/socket.io"

# Shown by the widget when it cannot reach the assistant: the emergency number, then the
# channels of the catalogue's own "service unavailable" reply (101 and the contact us page).
EMERGENCY_KEY = "emergency_999"
UNAVAILABLE_ROUTE = "service_unavailable"
# The numbers the widget may make into tel: links when they appear in a bot message
# (not "press 55", which is keyed during a 999 call, not dialled).
CALLABLE_KEYS = ("emergency_999", "phone_101", "text_relay_emergency", "relay_101")

# English, the language of the catalogue: no translation file; these are the widget's own English
# labels (the same keys as a translation's `widget:` labels, core.translations.WIDGET_LABELS).
ENGLISH = "en"
ENGLISH_NAME = "English"
ENGLISH_LABELS: Dict[str, str] = {
    "title": "Ask West Midlands Police",
    "launcher": "Chat with us",
    "close": "Close chat",
    "conversation": "Conversation",
    "suggested": "Suggested replies",
    "you_said": "You said:",
    "assistant": "Assistant:",
    "typing": "The assistant is typing",
    "connecting": "Connecting\u2026",
    "online": "Connected",
    "offline": "Not connected, trying again\u2026",
    "offline_title": "The chat can't connect right now.",
    "offline_text": "It will keep trying, and send what you type when it is back. You can also contact us:",
    "input_label": "Type your message",
    "placeholder": "Type your question",
    "send": "Send",
    "quick_exit": "Leave this site quickly",
    "language": "Language",
}


def _contact(channel: Channel) -> Dict[str, str]:
    entry = {"key": channel.key, "name": channel.name, "description": channel.description}
    if channel.link:
        entry["link"] = channel.link
    if channel.phone:
        entry["phone"] = channel.phone
    return entry


def _languages(catalogue: Catalogue) -> List[Dict[str, Any]]:
    """English first, then every translation (by code): its code, its name in itself, its direction
    and the widget's labels in it. The widget offers these and relabels itself from them."""
    languages: List[Dict[str, Any]] = [{"code": ENGLISH, "name": ENGLISH_NAME, "dir": "ltr", "labels": ENGLISH_LABELS}]
    for code, translation in sorted(catalogue.translations.items()):
        labels = {key: translation.widget.get(key) or ENGLISH_LABELS[key] for key in ENGLISH_LABELS}
        languages.append({"code": code, "name": translation.name, "dir": translation.direction, "labels": labels})
    return languages


def widget_config(rasa_url: str, catalogue: Optional[Catalogue] = None) -> Dict[str, Any]:
    """What /widget/config.json says, from the catalogue."""
    catalogue = catalogue or load_catalogue()
    fallback_keys: List[str] = [EMERGENCY_KEY]
    fallback_keys += [key for key in catalogue.route(UNAVAILABLE_ROUTE).channels if key not in fallback_keys]
    return {
        "serverUrl": rasa_url,
        "socketPath": SOCKET_PATH,
        "fallbacks": [_contact(catalogue.channels[key]) for key in fallback_keys],
        "phones": [catalogue.channels[key].phone for key in CALLABLE_KEYS if catalogue.channels[key].phone],
        "languages": _languages(catalogue),
    }


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(rasa_url: str) -> str:
    """Only this server's own files; connections to this server and the Rasa server (http and ws)."""
    origin = origin_of(rasa_url)
    websocket = ("wss" if origin.startswith("https:") else "ws") + origin[origin.index(":") :]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' {origin} {websocket}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class WidgetRequestHandler(SimpleHTTPRequestHandler):
    server_version = "wmp-web"
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".json": "application/json",
        ".map": "application/json",
        ".svg": "image/svg+xml",
    }

    def __init__(self, *args: Any, config_body: bytes, csp: str, quiet: bool = False, **kwargs: Any) -> None:
        self.config_body = config_body
        self.csp = csp
        self.quiet = quiet
        super().__init__(*args, directory=str(WEB_ROOT), **kwargs)

    # GET and HEAD only: anything else gets 501 from the base class, and no body is ever read.
    def send_head(self):  # type: ignore[no-untyped-def]
        path = unquote(urlsplit(self.path).path)
        if path == CONFIG_PATH:
            return self._send_bytes(self.config_body, "application/json")
        if path in VENDOR_FILES:
            file = VENDOR_FILES[path]
            if not file.is_file():
                self.send_error(HTTPStatus.NOT_FOUND, "socket.io-client is not installed: run `npm ci`")
                return None
            content_type = self.extensions_map[".map" if path.endswith(".map") else ".js"]
            return self._send_bytes(file.read_bytes(), content_type)
        if any(part.startswith(".") for part in path.split("/") if part):
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return super().send_head()

    def _send_bytes(self, body: bytes, content_type: str):  # type: ignore[no-untyped-def]
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def version_string(self) -> str:
        return self.server_version

    def list_directory(self, path):  # type: ignore[no-untyped-def]
        self.send_error(HTTPStatus.NOT_FOUND)
        return None

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", self.csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        # The request line and status only: never headers or bodies.
        if not self.quiet:
            sys.stderr.write("%s %s\n" % (self.log_date_time_string(), format % args))


def make_server(host: str, port: int, rasa_url: str, quiet: bool = False) -> ThreadingHTTPServer:
    config_body = json.dumps(widget_config(rasa_url), indent=2).encode()
    handler = partial(WidgetRequestHandler, config_body=config_body, csp=content_security_policy(rasa_url), quiet=quiet)
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the chat widget's demo page (web/).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    parser.add_argument("--rasa-url", default="http://localhost:5005", help="the Rasa server the page talks to")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    parser.add_argument("--print-config", action="store_true", help="print /widget/config.json and exit")
    args = parser.parse_args(argv)
    try:
        origin_of(args.rasa_url)
    except ValueError as error:
        parser.error(str(error))
    if args.print_config:
        print(json.dumps(widget_config(args.rasa_url), indent=2))
        return 0
    if not VENDOR_FILES["/vendor/socket.io.min.js"].is_file():
        print("warning: node_modules/socket.io-client is missing; run `npm ci` (make install)", file=sys.stderr)
    server = make_server(args.host, args.port, args.rasa_url, quiet=args.quiet)
    host, port = server.server_address[:2]
    print(f"Serving the chat widget demo on http://{host}:{port}/ (Rasa server: {args.rasa_url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
