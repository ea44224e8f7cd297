"""Every channel answers through here: a message always gets a reply, within a deadline.

If the assistant fails, or says nothing (a dead action server makes Rasa go silent), or is too
slow, the person gets the catalogue's `service_unavailable` reply instead, and the emergency
reply first when the safety net sees danger in their message. The conversation is not lost:
a slow turn goes on in the background and is stored when it ends.
"""

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage

from actions.catalogue import load_catalogue
from actions.hours import current_time
from actions.replies import render
from components.emergency import is_emergency, load_patterns

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 1000
REPLY_DEADLINE_SECONDS = 3.0

Handler = Callable[[UserMessage], Awaitable[Any]]


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
    """Trim and cap the length of what reaches NLU."""
    return text.strip()[:MAX_MESSAGE_CHARS]


def emergency_first(text: str) -> List[Dict[str, Any]]:
    if is_emergency(text, load_patterns()):
        return render(load_catalogue(), "emergency", current_time())
    return []


def fallback_messages(text: str) -> List[Dict[str, Any]]:
    return emergency_first(text) + render(load_catalogue(), "service_unavailable", current_time())


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
        logger.error("The assistant failed on a %s message (%s); sent the fallback reply.", input_channel, type(error).__name__)
    if counted.sent == 0:
        if turn.done():
            logger.error("The assistant gave no reply to a %s message (is the action server up?).", input_channel)
        await _send_all(output, sender_id, fallback_messages(text))
