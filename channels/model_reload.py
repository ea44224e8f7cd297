"""POST /webhooks/model/reload: put a newly trained model into the running assistant.
GET /webhooks/model/status: the model loaded, the Rasa version and which launcher patches are in effect.

Conversations are kept (they live in the conversation store); messages keep being answered
by the old model until the new one is loaded, in a thread, beside it. Only the local model
file is loaded, and only if its sha256 matches the one recorded at training. Served only when
the token variable named in credentials.yml is set; requests need `Authorization: Bearer <token>`.
"""

import asyncio
import hmac
import logging
import os
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.agent import Agent
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.model_integrity import ModelIntegrityError, recorded_sha256, verify

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "models/assistant.tar.gz"


def load_beside(agent: Agent, model: Path) -> MessageProcessor:
    return MessageProcessor(
        model_path=model,
        tracker_store=agent.tracker_store,
        lock_store=agent.lock_store,
        action_endpoint=agent.action_endpoint,
        generator=agent.nlg,
        http_interpreter=agent.http_interpreter,
    )


def swap_in(agent: Agent, processor: MessageProcessor) -> None:
    agent.processor = processor
    agent.domain = processor.domain
    agent.tracker_store.domain = processor.domain


class ModelReloadChannel(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "model"

    def __init__(self, token: Optional[str], model: Path) -> None:
        self.token = token
        self.model = model
        # The launcher checked the model against its recorded sha256 just before loading it.
        self.loaded_sha256: Optional[str] = recorded_sha256(model)
        self._lock = asyncio.Lock()

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "ModelReloadChannel":
        credentials = credentials or {}
        token_variable = credentials.get("token_env", "RASA_RELOAD_TOKEN")
        token = os.environ.get(token_variable) or None
        if token is None:
            logger.info("Model reload is off: set %s to enable POST /webhooks/model/reload.", token_variable)
        return cls(token, Path(os.environ.get("RASA_MODEL", DEFAULT_MODEL)))

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("model_reload", __name__)
        if self.token is None:
            return webhook

        @webhook.route("/status", methods=["GET"])
        async def status(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "not authorised"}, status=403)
            from server import patches

            return response.json({"model": str(self.model), "sha256": self.loaded_sha256, **patches.status()})

        @webhook.route("/reload", methods=["POST"])
        async def reload(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "not authorised"}, status=403)
            async with self._lock:
                try:
                    digest = verify(self.model)
                    agent = request.app.ctx.agent
                    processor = await asyncio.get_running_loop().run_in_executor(None, load_beside, agent, self.model)
                except ModelIntegrityError as error:
                    logger.error("Model reload refused: %s", error)
                    return response.json({"error": str(error)}, status=409)
                except Exception as error:
                    logger.exception("Model reload failed; the previous model keeps answering.")
                    return response.json({"error": f"could not load the model: {type(error).__name__}"}, status=422)
                swap_in(agent, processor)
                self.loaded_sha256 = digest
                from server import patches

                patches.settle_memory()  # the previous model is freed, the new one kept out of collections
            logger.info("Reloaded model %s (sha256 %s).", self.model, digest)
            return response.json({"model": str(self.model), "sha256": digest})

        return webhook
