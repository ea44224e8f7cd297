"""The socket.io channel for the web chat widget, strict about its input and never silent.

Like Rasa's SocketIOInput (same events, session persistence), but: malformed events are
ignored or answered with a prompt instead of raising, session ids must look like ids, and
every reply comes through channels.reply_guarantee. Standard Rasa web clients work too:
rasa-webchat's `customData` is taken as the message's metadata, like `metadata` (docs/channels.md).
"""

import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from channels.reply_guarantee import answer, language_of, understanding_of, valid_metadata

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def valid_session_id(data: Any) -> Optional[str]:
    session_id = data.get("session_id") if isinstance(data, dict) else None
    return session_id if isinstance(session_id, str) and SESSION_ID.match(session_id) else None


# rasa-webchat (botfront's widget) sends what the site sets (language, page...) as `customData`.
CUSTOM_DATA_KEY = "customData"


def message_metadata(data: Dict[Text, Any], metadata_key: Text = "metadata") -> Optional[Dict[Text, Any]]:
    """A message's metadata: its `customData` and its `metadata` merged, `metadata` winning on a shared key.

    Each is kept only if it passes valid_metadata (the channels' size and type limits), so an invalid
    one is dropped without losing the other; if the two together are over the limit, `metadata` alone
    is kept. None when neither is a valid one.
    """
    custom, metadata = data.get(CUSTOM_DATA_KEY), data.get(metadata_key)
    custom = custom if valid_metadata(custom) else None
    metadata = metadata if valid_metadata(metadata) else None
    if custom is None or metadata is None:
        return metadata if custom is None else custom
    merged = {**custom, **metadata}
    return merged if valid_metadata(merged) else metadata


class LanguageSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output, with each message's language and direction (`lang`, `dir`) for the widget.

    annotate=False: Rasa's own message shapes only, for standard clients. rasa-webchat shows a bot
    message only if its keys are exactly Rasa's (`text`, or `text` and `quick_replies`): with
    `lang` and `dir` added it silently shows nothing.
    """

    def __init__(self, sio: AsyncServer, bot_message_evt: Text, annotate: bool = True) -> None:
        super().__init__(sio, bot_message_evt)
        self.annotate = annotate

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self._language = language_of(message)
        await super().send_response(recipient_id, dict(message))

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        if self.annotate and isinstance(response, dict):
            response = {**response, **getattr(self, "_language", {})}
        await super()._send_message(socket_id, response)


class SocketIOChannel(SocketIOInput):
    def __init__(self, *args: Any, cors_allowed_origins: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cors_allowed_origins = cors_allowed_origins

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "SocketIOChannel":
        credentials = credentials or {}
        origins = credentials.get("cors_allowed_origins") or []
        if isinstance(origins, str):
            origins = [origin.strip() for origin in origins.split(",") if origin.strip()]
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", True),
            credentials.get("socketio_path", "/socket.io"),
            cors_allowed_origins=origins,
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.cors_allowed_origins or [])
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            session_id = valid_session_id(data) or uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                return
            sender_id = valid_session_id(data) if self.session_persistence else sid
            if sender_id is None:
                logger.warning("Ignored a socket.io message without a valid session_id.")
                return
            text = data.get("message")
            # rasa-webchat sends `customData` with every message (`{}` when the site sets none); our
            # widget never does. A client that sends it gets Rasa's plain message shapes.
            output = LanguageSocketIOOutput(sio, self.bot_message_evt, annotate=CUSTOM_DATA_KEY not in data)
            await answer(
                on_new_message,
                text if isinstance(text, str) else "",
                output,
                sender_id,
                self.name(),
                message_metadata(data, self.metadata_key),
                understand=understanding_of(webhook),
            )

        return webhook
