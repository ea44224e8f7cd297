"""Every channel answers through here: a message always gets a reply, within a deadline.

If the assistant fails, or says nothing (a dead action server makes Rasa go silent), or is too
slow, the person gets the catalogue's `service_unavailable` reply instead, and the emergency
reply first when their message describes danger now: decided by the assistant's own NLU (the
danger-now decision of components/danger.py) when it can still answer, by the emergency patterns
alone when not. The conversation is not lost: a slow turn goes on in the background and is stored
when it ends.
"""

import asyncio
import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import OutputChannel, UserMessage

from core.catalogue import load_catalogue
from core.emergency import is_emergency, load_patterns
from core.hours import current_time
from core.language import ENGLISH, conversation_language
from core.replies import render

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 1000
# What a client may attach to a message (the widget's page and language, a site's customData).
MAX_METADATA_CHARS = 2000
MAX_METADATA_DEPTH = 4
REPLY_DEADLINE_SECONDS = 3.0

UNDERSTAND_SECONDS = 1.0
PAYLOAD = re.compile(r"^/(\w+)")
# Intents that only buttons send (they have no route of their own).
BUTTON_ONLY_INTENTS = {"restart"}

Handler = Callable[[UserMessage], Awaitable[Any]]
Understand = Callable[[str], Awaitable[Dict[str, Any]]]


def understanding_of(blueprint: Any) -> Understand:
    """The NLU of the assistant that serves this channel's blueprint (the Rasa agent of its Sanic app)."""

    async def understand(text: str) -> Dict[str, Any]:
        for app in blueprint.apps:
            return await app.ctx.agent.parse_message(text)
        raise RuntimeError("the channel is not registered on a running server")

    return understand


LANGUAGE_KEYS = ("lang", "dir")


def language_of(message: Dict[Text, Any]) -> Dict[Text, Any]:
    """The language and direction a bot message is in (set by the actions), for the client to show it right."""
    return {key: message[key] for key in LANGUAGE_KEYS if isinstance(message.get(key), str)}


class _CountingOutput(OutputChannel):
    """Passes every reply on to the real output channel and counts them."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> Text:  # type: ignore[override]
        return self.inner.name()

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)


def clean_text(text: str) -> str:
    """Trim and cap the length of what reaches NLU; a typed "/intent" that no button sends is read as words."""
    # A lone surrogate (not a character) cannot be encoded: it becomes U+FFFD.
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").strip()[:MAX_MESSAGE_CHARS]
    payload = PAYLOAD.match(text)
    if payload and payload.group(1) not in load_catalogue().routes and payload.group(1) not in BUTTON_ONLY_INTENTS:
        return text[1:].strip()
    return text


def valid_metadata(value: Any, depth: int = 0) -> bool:
    """A JSON object of text keys, at most MAX_METADATA_DEPTH levels deep and MAX_METADATA_CHARS long."""
    if depth == 0:
        if not isinstance(value, dict):
            return False
        try:
            if len(json.dumps(value, allow_nan=False)) > MAX_METADATA_CHARS:
                return False
        except (TypeError, ValueError, RecursionError):
            return False
    if depth > MAX_METADATA_DEPTH:
        return False
    if isinstance(value, dict):
        return all(isinstance(key, str) and valid_metadata(item, depth + 1) for key, item in value.items())
    if isinstance(value, list):
        return all(valid_metadata(item, depth + 1) for item in value)
    return value is None or isinstance(value, (str, int, float, bool))


async def judged(text: str, understand: Optional[Understand]) -> Tuple[bool, str]:
    """Danger now, and the language to answer in: the assistant's own NLU's, or (when it cannot
    answer) the emergency patterns alone, in English."""
    if understand is not None:
        try:
            parsed = await asyncio.wait_for(understand(text), timeout=UNDERSTAND_SECONDS)
            verdict, detected = parsed.get("danger"), parsed.get("language") or {}
            if isinstance(verdict, dict):
                language = conversation_language(None, detected, text, [ENGLISH, *load_catalogue().translations])
                return bool(verdict.get("now")), language
        except Exception as error:  # the patterns still decide
            logger.error("The NLU could not judge a message for danger (%s); used the patterns.", type(error).__name__)
    return is_emergency(text, load_patterns()), ENGLISH


async def fallback_messages(text: str, understand: Optional[Understand] = None) -> List[Dict[str, Any]]:
    catalogue, now = load_catalogue(), current_time()
    danger, language = await judged(text, understand)
    unavailable = render(catalogue, "service_unavailable", now, language=language)
    if danger:
        return render(catalogue, "emergency", now, language=language) + unavailable
    return unavailable + render(catalogue, "in_danger", now, language=language)


def empty_message_prompt() -> List[Dict[str, Any]]:
    return render(load_catalogue(), "empty_message", current_time())


async def _send_all(output: OutputChannel, recipient: Text, messages: List[Dict[str, Any]]) -> None:
    for message in messages:
        await output.send_response(recipient, message)


def _consume_failure(turn: "asyncio.Future[Any]") -> None:
    # A turn that fails after the deadline has already been answered with the fallback.
    if not turn.cancelled() and turn.exception() is not None:
        logger.error("A late turn failed: %s", type(turn.exception()).__name__)


async def answer(
    on_new_message: Handler,
    text: str,
    output: OutputChannel,
    sender_id: Text,
    input_channel: Text,
    metadata: Optional[Dict[Text, Any]] = None,
    deadline: float = REPLY_DEADLINE_SECONDS,
    understand: Optional[Understand] = None,
) -> None:
    """Hand one message to the assistant and make sure the person hears back."""
    text = clean_text(text)
    if not text:
        await _send_all(output, sender_id, empty_message_prompt())
        return
    counted = _CountingOutput(output)
    turn = asyncio.ensure_future(
        on_new_message(UserMessage(text, counted, sender_id, input_channel=input_channel, metadata=metadata))
    )
    turn.add_done_callback(_consume_failure)
    try:
        await asyncio.wait_for(asyncio.shield(turn), timeout=deadline)
    except asyncio.TimeoutError:
        logger.error("No reply within %.1f s for a %s conversation; sent the fallback reply.", deadline, input_channel)
    except Exception as error:  # the person must still get an answer; the log says why
        logger.error(
            "The assistant failed on a %s message (%s); sent the fallback reply.", input_channel, type(error).__name__
        )
    if counted.sent == 0:
        if turn.done():
            logger.error("The assistant gave no reply to a %s message (is the action server up?).", input_channel)
        await _send_all(output, sender_id, await fallback_messages(text, understand))
