"""The socket.io channel for the web chat widget, strict about its input and never silent.

Like Rasa's SocketIOInput (same events, session persistence), but: malformed events are
ignored or answered with a prompt instead of raising, session ids must look like ids, and
every reply comes through channels.safety_net.
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

from channels.safety_net import answer

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def valid_session_id(data: Any) -> Optional[str]:
    session_id = data.get("session_id") if isinstance(data, dict) else None
    return session_id if isinstance(session_id, str) and SESSION_ID.match(session_id) else None


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
            metadata = data.get(self.metadata_key)
            output = SocketIOOutput(sio, self.bot_message_evt)
            await answer(
                on_new_message,
                text if isinstance(text, str) else "",
                output,
                sender_id,
                self.name(),
                metadata if isinstance(metadata, dict) else None,
            )

        return webhook
