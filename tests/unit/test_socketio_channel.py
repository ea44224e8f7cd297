"""The socket.io channel's part in standard Rasa web clients (channels/socketio.py), without servers:
rasa-webchat's `customData` is the message's metadata within the limits of all input, and a client
that sends it gets Rasa's own message shapes. rasa-webchat itself, from npm in Chromium, is in
tests/e2e/test_webchat_client.py.
"""

from typing import Any, Dict, List, Optional

import pytest

from channels.reply_guarantee import MAX_METADATA_CHARS, MAX_METADATA_DEPTH
from channels.socketio import LanguageSocketIOOutput, message_metadata

CUSTOM_DATA = {"language": "en", "page": "/contact"}


@pytest.mark.parametrize(
    "data, expected",
    [
        ({}, None),
        ({"customData": CUSTOM_DATA}, CUSTOM_DATA),
        ({"customData": {}}, {}),  # rasa-webchat's default when the site sets nothing
        ({"metadata": {"page": "/a"}}, {"page": "/a"}),
        (
            {"customData": {"language": "en", "page": "/a"}, "metadata": {"page": "/b", "tab": 2}},
            {"language": "en", "page": "/b", "tab": 2},
        ),
        ({"customData": "en", "metadata": {"page": "/b"}}, {"page": "/b"}),
        ({"customData": ["en"], "metadata": {"page": "/b"}}, {"page": "/b"}),
        ({"customData": {"a": "x" * MAX_METADATA_CHARS}, "metadata": {"page": "/b"}}, {"page": "/b"}),
        ({"customData": {"a": float("nan")}}, None),
        ({"customData": CUSTOM_DATA, "metadata": "page"}, CUSTOM_DATA),
        ({"customData": 1, "metadata": None}, None),
    ],
    ids=[
        "neither",
        "customData only",
        "empty customData",
        "metadata only",
        "both: merged, metadata wins",
        "customData a string",
        "customData a list",
        "customData too long",
        "customData not JSON",
        "metadata invalid",
        "both invalid",
    ],
)
def test_custom_data_is_the_message_metadata_within_the_limits(data, expected):
    assert message_metadata(data) == expected


def test_too_deep_custom_data_is_dropped():
    deep: Dict[str, Any] = {"page": "/a"}
    for _ in range(MAX_METADATA_DEPTH + 1):
        deep = {"nested": deep}
    assert message_metadata({"customData": deep}) is None
    assert message_metadata({"customData": deep, "metadata": {"page": "/b"}}) == {"page": "/b"}


def test_valid_parts_too_long_together_keep_metadata():
    half = "x" * (MAX_METADATA_CHARS // 2)
    data = {"customData": {"a": half, "page": "/a"}, "metadata": {"b": half, "page": "/b"}}
    assert message_metadata(data) == data["metadata"]


def test_a_configured_metadata_key_is_read_instead_of_metadata():
    data = {"customData": {"page": "/a"}, "metadata": {"page": "/b"}, "meta": {"tab": 1}}
    assert message_metadata(data, "meta") == {"page": "/a", "tab": 1}


class RecordingSocketServer:
    """Stands in for socketio.AsyncServer: records what would be emitted."""

    def __init__(self) -> None:
        self.emitted: List[Dict[str, Any]] = []

    async def emit(self, event: str, data: Any, room: Optional[str] = None, **_: Any) -> None:
        self.emitted.append(data)


async def test_standard_clients_get_rasas_message_shapes_and_our_widget_the_language():
    """rasa-webchat shows a bot message only if its keys are exactly Rasa's: no `lang`, `dir` for it."""
    message = {"text": "Dzień dobry", "lang": "pl", "dir": "ltr", "buttons": [{"title": "101", "payload": "/a"}]}
    plain, annotated = RecordingSocketServer(), RecordingSocketServer()
    await LanguageSocketIOOutput(plain, "bot_uttered", annotate=False).send_response("s", dict(message))
    await LanguageSocketIOOutput(annotated, "bot_uttered").send_response("s", dict(message))
    quick_replies = [{"content_type": "text", "title": "101", "payload": "/a"}]
    assert plain.emitted == [{"text": "Dzień dobry", "quick_replies": quick_replies}]
    assert annotated.emitted == [{"text": "Dzień dobry", "quick_replies": quick_replies, "lang": "pl", "dir": "ltr"}]
