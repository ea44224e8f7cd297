"""What the social messaging channels (Facebook Messenger, Instagram, X) share.

- Configuration: secrets only from environment variables; credentials.yml names the variables.
  A channel whose secrets are not all set is off: its blueprint has no routes (404) and one INFO
  line names the missing variables (never a value).
- Security: HMAC signatures over the raw body, compared in constant time; a bad or missing
  signature is a 403 before anything else happens; malformed JSON after a good one is a 400.
- Delivery: the webhook answers 200 at once and the message is handled in a background task
  (references kept so the tasks are not garbage-collected). Each reply goes through
  channels.reply_guarantee.answer, like every other channel.
- Each message id is answered once: a bounded LRU of recent ids per channel. With several
  replicas behind a load balancer this is per replica (a retry that lands on another replica
  is answered again); use sticky routing or a shared store if that matters.
- Formatting: replies are cut to what the platform can show (texts split at paragraph,
  sentence or word boundaries and never inside a link; buttons shown natively only when they
  all fit, otherwise as a numbered list the person answers with a number).
- Privacy: nothing the person typed, and no user id, is ever logged.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, ClassVar, Dict, Iterable, List, Mapping, Optional, Set, Tuple
from urllib.parse import parse_qsl, quote, urlsplit

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.reply_guarantee import Understand, answer, understanding_of

logger = logging.getLogger(__name__)

Handler = Callable[[UserMessage], Awaitable[Any]]

RECENT_IDS = 10_000  # message ids remembered per channel, to answer each once
OFFERS = 10_000  # people whose last numbered list is remembered, per channel
SEND_TIMEOUT_SECONDS = 10.0
SEND_ATTEMPTS = 2  # one retry on a network error, a 429 or a 5xx
USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHOOSE_PROMPT = "Please choose:"
NUMBERED_HEADER = "Reply with a number:"


# ---------------------------------------------------------------------------------------------
# Signatures


def hmac_sha256(secret: str, data: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), data, hashlib.sha256).digest()


def meta_signature(app_secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 header Meta sends: sha256=<hex HMAC-SHA256(app secret, body)>."""
    return "sha256=" + hmac_sha256(app_secret, body).hex()


def twitter_signature(consumer_secret: str, body: bytes) -> str:
    """The x-twitter-webhooks-signature header X sends: sha256=<base64 HMAC-SHA256(consumer secret, body)>."""
    return "sha256=" + base64.b64encode(hmac_sha256(consumer_secret, body)).decode("ascii")


def crc_response_token(consumer_secret: str, crc_token: str) -> str:
    """X's challenge-response check: sha256=<base64 HMAC-SHA256(consumer secret, crc_token)>."""
    return twitter_signature(consumer_secret, crc_token.encode("utf-8"))


def same_secret(expected: str, given: Optional[str]) -> bool:
    """Constant-time comparison that also accepts a missing or non-ASCII value (never raises)."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "replace"))


def valid_meta_signature(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    return same_secret(meta_signature(app_secret, body), header.strip().lower() if header else None)


def valid_twitter_signature(consumer_secret: str, body: bytes, header: Optional[str]) -> bool:
    return same_secret(twitter_signature(consumer_secret, body), header.strip() if header else None)


def _percent(value: str) -> str:
    return quote(str(value), safe="-._~")


def oauth1_header(
    method: str,
    url: str,
    consumer_key: str,
    consumer_secret: str,
    token: str,
    token_secret: str,
    params: Optional[Mapping[str, str]] = None,
    nonce: Optional[str] = None,
    timestamp: Optional[int] = None,
) -> str:
    """An `Authorization: OAuth ...` header value, HMAC-SHA1 signed (OAuth 1.0a, RFC 5849).

    `params` are form or query parameters that are part of the signature; a JSON body is not.
    """
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "oauth_token": token,
        "oauth_version": "1.0",
    }
    parts = urlsplit(url)
    netloc = parts.netloc.lower()
    scheme = parts.scheme.lower()
    if (scheme, netloc.rsplit(":", 1)[-1]) in (("http", "80"), ("https", "443")):
        netloc = netloc.rsplit(":", 1)[0]
    base_url = f"{scheme}://{netloc}{parts.path or '/'}"
    pairs = list(oauth.items()) + list((params or {}).items()) + parse_qsl(parts.query, keep_blank_values=True)
    normalised = "&".join(f"{k}={v}" for k, v in sorted((_percent(k), _percent(v)) for k, v in pairs))
    base = "&".join([method.upper(), _percent(base_url), _percent(normalised)])
    key = f"{_percent(consumer_secret)}&{_percent(token_secret)}"
    oauth["oauth_signature"] = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()
    return "OAuth " + ", ".join(f'{_percent(k)}="{_percent(v)}"' for k, v in sorted(oauth.items()))


# ---------------------------------------------------------------------------------------------
# Bounded memories


class RecentIds:
    """The last `size` message ids seen: answer each message once (per process)."""

    def __init__(self, size: int = RECENT_IDS) -> None:
        self.size = size
        self._ids: "OrderedDict[str, None]" = OrderedDict()

    def seen_before(self, message_id: Optional[str]) -> bool:
        """True if the id was already seen; otherwise remember it. A message without an id is never a duplicate."""
        if not message_id:
            return False
        if message_id in self._ids:
            self._ids.move_to_end(message_id)
            return True
        self._ids[message_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return False

    def __len__(self) -> int:
        return len(self._ids)


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


NUMBER_REPLY = re.compile(r"^\s*#?(\d{1,3})\s*[.)]?\s*$")


class Offers:
    """The numbered list last offered to each person (the last `size` people): "2" means its 2nd button."""

    def __init__(self, size: int = OFFERS) -> None:
        self.size = size
        self._offers: "OrderedDict[str, Tuple[Button, ...]]" = OrderedDict()

    def offer(self, sender_id: str, buttons: Iterable[Button]) -> None:
        self._offers[sender_id] = tuple(buttons)
        self._offers.move_to_end(sender_id)
        if len(self._offers) > self.size:
            self._offers.popitem(last=False)

    def take(self, sender_id: str) -> Tuple[Button, ...]:
        """The last list offered to this person, forgotten once their next message arrives."""
        return self._offers.pop(sender_id, ())

    def __len__(self) -> int:
        return len(self._offers)


def pick(offered: Tuple[Button, ...], text: str) -> Optional[str]:
    """The payload of the button a reply of just "1".."N" picks from the offered list, else None."""
    match = NUMBER_REPLY.match(text or "")
    if not match or not offered:
        return None
    number = int(match.group(1))
    return offered[number - 1].payload if 1 <= number <= len(offered) else None


# ---------------------------------------------------------------------------------------------
# Formatting


@dataclass(frozen=True)
class Limits:
    """What a platform can show in one message (0 = not supported)."""

    text: int
    quick_replies: int = 0
    quick_reply_title: int = 0
    template_buttons: int = 0
    template_title: int = 0
    template_text: int = 0
    payload: int = 1000
    numbered_quick_replies: bool = False  # offer "1".."N" as quick replies next to a numbered list


@dataclass
class Outgoing:
    """One platform message: text, and at most one kind of buttons."""

    text: str
    quick_replies: List[Button] = field(default_factory=list)
    template_buttons: List[Button] = field(default_factory=list)


LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# Where to cut, best first: a blank line, a line break, the end of a sentence, any space.
_BOUNDARIES = [re.compile(p) for p in (r"\n[ \t]*\n", r"\n", r"(?<=[.!?:;])\s+", r"\s+")]


def _cut_point(text: str, limit: int) -> int:
    window = text[: limit + 1]  # a space right after `limit` characters is a fine place to cut
    floor = max(1, limit // 2)  # don't make tiny messages just to cut at a "better" boundary
    for boundary in _BOUNDARIES:
        ends = [m.start() for m in boundary.finditer(window) if 0 < m.start() <= limit]
        good = [end for end in ends if end >= floor]
        if good:
            return max(good)
    spaces = [m.start() for m in re.finditer(r"\s", window) if 0 < m.start() <= limit]
    if spaces:
        return max(spaces)
    # One word longer than the limit: cut before a link rather than through it; a link that is
    # itself longer than the limit cannot be sent whole anywhere and is the only thing ever cut.
    for link in LINK.finditer(text):
        if link.start() < limit < link.end():
            return link.start() if link.start() > 0 else limit
        if link.start() >= limit:
            break
    return limit


def split_text(text: str, limit: int) -> List[str]:
    """Cut a text into messages of at most `limit` characters, at the best boundary, never inside a link."""
    text = (text or "").strip()
    chunks: List[str] = []
    while len(text) > limit:
        cut = _cut_point(text, limit)
        head, text = text[:cut].rstrip(), text[cut:].lstrip()
        if head:
            chunks.append(head)
    if text:
        chunks.append(text)
    return chunks


def numbered_list(buttons: Iterable[Button]) -> str:
    return "\n".join([NUMBERED_HEADER] + [f"{number}. {button.title}" for number, button in enumerate(buttons, 1)])


def fits(buttons: List[Button], most: int, title_max: int, payload_max: int) -> bool:
    return (
        0 < len(buttons) <= most
        and all(0 < len(b.title) <= title_max for b in buttons)
        and all(0 < len(b.payload) <= payload_max for b in buttons)
    )


def _buttons(message: Mapping[str, Any]) -> List[Button]:
    raw = message.get("buttons") or message.get("quick_replies") or []
    found = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        title = str(item.get("title") or "").strip()
        payload = str(item.get("payload") or item.get("url") or "").strip()
        if title or payload:  # never drop a button: a missing title or payload borrows the other
            found.append(Button(title or payload, payload or title))
    return found


def _media_links(message: Mapping[str, Any]) -> List[str]:
    links = []
    for key in ("image", "attachment"):
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            links.append(value.strip())
        elif isinstance(value, dict):
            inner = value.get("payload") if isinstance(value.get("payload"), dict) else {}
            url = value.get("url") or inner.get("url") or inner.get("src")
            if isinstance(url, str) and url.strip():
                links.append(url.strip())
    return links


def plan(message: Mapping[str, Any], limits: Limits) -> Tuple[List[Outgoing], Tuple[Button, ...]]:
    """The platform messages for one bot message, and the numbered list offered (if any)."""
    text = str(message.get("text") or "").strip()
    buttons = _buttons(message)
    outgoing = [Outgoing(chunk) for chunk in split_text(text, limits.text)]
    offered: Tuple[Button, ...] = ()
    if buttons:
        if not outgoing:
            outgoing = [Outgoing(CHOOSE_PROMPT)]
        last = outgoing[-1]
        # Sent as quick replies ("was this helpful?"): never a button template, which stays on screen.
        as_quick_replies = bool(message.get("quick_replies")) and not message.get("buttons")
        if (
            not as_quick_replies
            and fits(buttons, limits.template_buttons, limits.template_title, limits.payload)
            and len(last.text) <= limits.template_text
        ):
            last.template_buttons = buttons
        elif fits(buttons, limits.quick_replies, limits.quick_reply_title, limits.payload):
            last.quick_replies = buttons
        else:
            offered = tuple(buttons)
            listing = numbered_list(buttons)
            if last.text == CHOOSE_PROMPT:
                outgoing.pop()
            if outgoing and len(outgoing[-1].text) + 2 + len(listing) <= limits.text:
                outgoing[-1].text += "\n\n" + listing
            else:
                outgoing += [Outgoing(chunk) for chunk in split_text(listing, limits.text)]
            numbers = [Button(str(n), b.payload) for n, b in enumerate(buttons, 1)]
            if limits.numbered_quick_replies and fits(
                numbers, limits.quick_replies, limits.quick_reply_title, limits.payload
            ):
                outgoing[-1].quick_replies = numbers
    for link in _media_links(message):
        outgoing += [Outgoing(chunk) for chunk in split_text(link, limits.text)]
    return outgoing, offered


# ---------------------------------------------------------------------------------------------
# Channels


@dataclass(frozen=True)
class Incoming:
    """One message from a person: their platform id, the message id, and what to tell the assistant."""

    user_id: str
    message_id: Optional[str]
    text: str
    is_payload: bool = False  # a tapped button or quick reply: the text is its payload


class SocialOutput(OutputChannel):
    """Sends the assistant's replies through the platform's send API, within its limits."""

    def __init__(self, channel: "SocialChannel") -> None:
        self.channel = channel

    def name(self) -> str:  # type: ignore[override]
        return self.channel.name()

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        user_id = recipient_id.split(":", 1)[-1]
        outgoing, offered = plan(message, self.channel.limits)
        if offered:
            self.channel.offers.offer(recipient_id, offered)
        for item in outgoing:
            await self.channel.send(user_id, item)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class SocialChannel(InputChannel):
    """A webhook for one messaging platform. Subclasses say how to check, read and send."""

    platform: ClassVar[str] = ""  # the channel name: URL /webhooks/<platform>/webhook, sender "<platform>:<id>"
    label: ClassVar[str] = ""  # for the logs
    secret_names: ClassVar[Dict[str, str]] = {}  # secret -> default environment variable
    api_url_name: ClassVar[str] = ""
    default_api_url: ClassVar[str] = ""
    limits: ClassVar[Limits] = Limits(text=1000)

    def __init__(self, secrets: Optional[Dict[str, str]], api_url: str) -> None:
        self.secrets = secrets
        self.api_url = api_url.rstrip("/")
        self.recent = RecentIds()
        self.offers = Offers()
        self.tasks: Set["asyncio.Task[Any]"] = set()
        self._session: Optional[aiohttp.ClientSession] = None

    @classmethod
    def name(cls) -> str:
        return cls.platform

    @property
    def enabled(self) -> bool:
        return self.secrets is not None

    def secret(self, key: str) -> str:
        assert self.secrets is not None
        return self.secrets[key]

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "SocialChannel":
        credentials = credentials or {}
        names = {key: str(credentials.get(f"{key}_env") or default) for key, default in cls.secret_names.items()}
        values = {key: os.environ.get(name, "").strip() for key, name in names.items()}
        api_url = (
            os.environ.get(str(credentials.get("api_url_env") or cls.api_url_name), "").strip() or cls.default_api_url
        )
        missing = [names[key] for key, value in values.items() if not value]
        if missing:
            logger.info(
                "The %s channel is off: set %s to turn it on (see docs/channels.md).", cls.label, ", ".join(missing)
            )
            return cls(None, api_url)
        logger.info("The %s channel is on at /webhooks/%s/webhook.", cls.label, cls.platform)
        return cls(values, api_url)

    # --- what each platform provides

    def handshake(self, request: Request) -> HTTPResponse:
        raise NotImplementedError

    def signed(self, request: Request) -> bool:
        raise NotImplementedError

    def messages(self, payload: Dict[str, Any]) -> List[Incoming]:
        raise NotImplementedError

    def request_for(self, user_id: str, item: Outgoing) -> Tuple[str, Dict[str, Any], Dict[str, str], Dict[str, str]]:
        """(url, JSON body, headers, query) of the send API call for one message."""
        raise NotImplementedError

    # --- the webhook

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        webhook = Blueprint(f"social_{self.platform}_webhook", __name__)
        if not self.enabled:
            return webhook  # no routes: the platform's URLs are 404s

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return self.handshake(request)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.signed(request):
                logger.warning("%s: refused a webhook call with a bad or missing signature.", self.label)
                return response.json({"error": "bad or missing signature"}, status=403)
            try:
                payload = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested too deep
                return response.json({"error": "the body must be JSON"}, status=400)
            if not isinstance(payload, dict):
                return response.json({"error": "the body must be a JSON object"}, status=400)
            try:
                incoming = self.messages(payload)
            except Exception as error:  # an odd event shape must not become a 5xx (the platform would retry)
                logger.error("%s: could not read a webhook event (%s).", self.label, type(error).__name__)
                incoming = []
            for message in incoming:
                if self.recent.seen_before(message.message_id):
                    logger.info("%s: ignored a message already answered.", self.label)
                    continue
                self.spawn(self.handle(message, on_new_message, understanding_of(webhook)))
            return response.json({"status": "received"})

        @webhook.listener("before_server_stop")
        async def finish(*_: Any) -> None:
            if self.tasks:
                await asyncio.wait(set(self.tasks), timeout=5)
            if self._session is not None:
                await self._session.close()
                self._session = None

        return webhook

    def spawn(self, coroutine: Awaitable[Any]) -> "asyncio.Task[Any]":
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def handle(self, message: Incoming, on_new_message: Handler, understand: Optional[Understand] = None) -> None:
        sender_id = f"{self.platform}:{message.user_id}"
        text = message.text
        offered = self.offers.take(sender_id)
        if not message.is_payload:
            text = pick(offered, text) or text
        try:
            await answer(on_new_message, text, SocialOutput(self), sender_id, self.name(), understand=understand)
        except Exception as error:  # the reply guarantee answers; this only keeps the task quiet
            logger.error("%s: a reply failed (%s).", self.label, type(error).__name__)

    # --- the send API

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT_SECONDS))
        return self._session

    async def send(self, user_id: str, item: Outgoing) -> bool:
        """Send one message; retry once on a network error, 429 or 5xx. Logs status codes only."""
        session = await self.session()
        for attempt in range(1, SEND_ATTEMPTS + 1):
            url, body, headers, query = self.request_for(user_id, item)
            try:
                async with session.post(url, json=body, headers=headers, params=query) as reply:
                    if reply.status < 300:
                        return True
                    retry = reply.status == 429 or reply.status >= 500
                    logger.error("%s send API answered HTTP %s (attempt %s).", self.label, reply.status, attempt)
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                retry = True
                logger.error("%s send API unreachable: %s (attempt %s).", self.label, type(error).__name__, attempt)
            if not retry:
                break
            if attempt < SEND_ATTEMPTS:
                await asyncio.sleep(0.5 * attempt)
        return False


def valid_user_id(value: Any) -> Optional[str]:
    value = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    return value if value is not None and USER_ID.match(value) else None


class MetaChannel(SocialChannel):
    """Messenger and Instagram share Meta's webhook: verify token handshake, X-Hub-Signature-256, `messaging` events."""

    webhook_object: ClassVar[str] = ""  # "page" or "instagram"

    def handshake(self, request: Request) -> HTTPResponse:
        mode = request.args.get("hub.mode")
        token = request.args.get("hub.verify_token")
        challenge = request.args.get("hub.challenge")
        if mode == "subscribe" and challenge and same_secret(self.secret("verify_token"), token):
            return response.text(challenge)
        logger.warning("%s: refused a subscription handshake (wrong or missing verify token).", self.label)
        return response.text("forbidden", status=403)

    def signed(self, request: Request) -> bool:
        return valid_meta_signature(
            self.secret("app_secret"), request.body or b"", request.headers.get("x-hub-signature-256")
        )

    def messages(self, payload: Dict[str, Any]) -> List[Incoming]:
        if payload.get("object") != self.webhook_object:
            return []
        found = []
        for entry in payload.get("entry") or []:
            events = entry.get("messaging") if isinstance(entry, dict) else None
            for event in events if isinstance(events, list) else []:
                message = self.read_event(event) if isinstance(event, dict) else None
                if message is not None:
                    found.append(message)
        return found

    @staticmethod
    def read_event(event: Dict[str, Any]) -> Optional[Incoming]:
        sender = valid_user_id((event.get("sender") or {}).get("id") if isinstance(event.get("sender"), dict) else None)
        if sender is None:
            return None
        message, postback = event.get("message"), event.get("postback")
        fallback_id = f"{sender}:{event.get('timestamp')}" if event.get("timestamp") else None
        if isinstance(message, dict):
            if message.get("is_echo") or message.get("is_deleted"):
                return None
            mid = message.get("mid") if isinstance(message.get("mid"), str) else fallback_id
            quick_reply = message.get("quick_reply")
            if isinstance(quick_reply, dict) and isinstance(quick_reply.get("payload"), str) and quick_reply["payload"]:
                return Incoming(sender, mid, quick_reply["payload"], is_payload=True)
            text = message.get("text")
            # A sticker, photo or voice note has no text: the safety net asks for words.
            return Incoming(sender, mid, text if isinstance(text, str) else "")
        if isinstance(postback, dict):
            mid = postback.get("mid") if isinstance(postback.get("mid"), str) else fallback_id
            value = postback.get("payload") if isinstance(postback.get("payload"), str) else postback.get("title")
            return Incoming(
                sender, f"postback:{mid}" if mid else None, value if isinstance(value, str) else "", is_payload=True
            )
        return None  # delivery and read receipts, reactions, referrals, opt-ins...

    @staticmethod
    def meta_message(item: Outgoing) -> Dict[str, Any]:
        if item.template_buttons:
            buttons = [{"type": "postback", "title": b.title, "payload": b.payload} for b in item.template_buttons]
            return {
                "attachment": {
                    "type": "template",
                    "payload": {"template_type": "button", "text": item.text, "buttons": buttons},
                }
            }
        message: Dict[str, Any] = {"text": item.text}
        if item.quick_replies:
            message["quick_replies"] = [
                {"content_type": "text", "title": b.title, "payload": b.payload} for b in item.quick_replies
            ]
        return message
