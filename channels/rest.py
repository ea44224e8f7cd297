"""The REST webhook (/webhooks/rest/webhook), strict about its input and never silent.

Unlike Rasa's stock RestInput: a malformed body, a missing, empty or non-string `sender` or a
missing or non-string `message` gets a 400 with a JSON error; the reply always comes from
channels.reply_guarantee; nothing the person typed is logged. A request the server refuses (a
body over its size limit, too slow to arrive) gets the assistant's reply with 101 and 999, in the
shape of a normal reply (channels/refusal.py).
"""

from typing import Any, Awaitable, Callable, Dict, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.refusal import refuse_with_the_reply
from channels.reply_guarantee import (
    MAX_METADATA_CHARS,
    MAX_METADATA_DEPTH,
    answer,
    language_of,
    understanding_of,
    valid_metadata,
)

MAX_SENDER_CHARS = 128


class RequestError(ValueError):
    pass


def parse_body(request: Request) -> Dict[str, Any]:
    try:
        body = request.json
    except Exception:
        raise RequestError('the body must be JSON, e.g. {"sender": "abc", "message": "hello"}') from None
    if not isinstance(body, dict):
        raise RequestError("the body must be a JSON object with 'sender' and 'message'")
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip():
        raise RequestError("'sender' is required: a non-empty string that identifies the conversation")
    if len(sender) > MAX_SENDER_CHARS:
        raise RequestError(f"'sender' must be at most {MAX_SENDER_CHARS} characters")
    if not isinstance(message, str):
        raise RequestError("'message' is required and must be a string")
    if metadata is not None and not valid_metadata(metadata):
        raise RequestError(
            f"'metadata', when given, must be a JSON object of at most {MAX_METADATA_CHARS} characters "
            f"and {MAX_METADATA_DEPTH} levels"
        )
    return {"sender": sender, "message": message, "metadata": metadata}


class CollectingOutput(CollectingOutputChannel):
    """Rasa's collector, keeping each message's language and direction (`lang`, `dir`)."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        before = len(self.messages)
        await super().send_response(recipient_id, dict(message))
        for collected in self.messages[before:]:
            collected.update(language_of(message))


class RestChannel(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)
        refuse_with_the_reply(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = parse_body(request)
            except RequestError as error:
                return response.json({"error": str(error)}, status=400)
            collector = CollectingOutput()
            await answer(
                on_new_message, body["message"], collector, body["sender"], self.name(), body["metadata"],
                understand=understanding_of(webhook),
            )  # fmt: skip
            return response.json(collector.messages)

        return webhook
