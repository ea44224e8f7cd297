"""Fixtures: a fresh dispatcher, tracker and domain for each unit test; the real servers for end-to-end tests."""

import itertools
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from core.catalogue import Catalogue, load_catalogue
from tests.servers import Assistant

_senders = itertools.count()


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """tests/e2e/ holds the slow tests (servers, a trained model, a browser), each marked slow;
    tests/unit/ the fast ones, none marked, so that `make test-unit` runs every fast test."""
    wrong = [item.nodeid for item in items if (item.path.parent.name == "e2e") != bool(item.get_closest_marker("slow"))]
    if wrong:
        raise pytest.UsageError("Mark each test in tests/e2e/ slow, and none in tests/unit/: " + ", ".join(wrong[:5]))


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def domain() -> Dict[str, Any]:
    return {}


@pytest.fixture
def catalogue() -> Catalogue:
    return load_catalogue()


def user_event(intent: str, text: str = "", ranking: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    intent_data = {"name": intent, "confidence": 0.9}
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": intent_data, "intent_ranking": ranking or [intent_data], "text": text, "entities": []},
    }


@pytest.fixture
def make_tracker() -> Callable[..., Tracker]:
    """A tracker whose conversation is the given user turns, the last one being the latest message."""

    def build(*turns: Dict[str, Any], slots: Optional[Dict[str, Any]] = None) -> Tracker:
        events = []
        for turn in turns:
            events.append(turn)
            events.append({"event": "action", "name": "action_listen"})
        events.pop()
        latest = turns[-1]["parse_data"] | {"text": turns[-1]["text"]}
        return Tracker("test-user", slots or {}, latest, events, False, None, {}, "action_listen")

    return build


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """The real action server and Rasa server, shared by the end-to-end tests of a session."""
    running = Assistant(workdir=tmp_path_factory.mktemp("assistant"))
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture
def sender() -> str:
    """A conversation id nobody else uses."""
    return f"test-{next(_senders)}"
