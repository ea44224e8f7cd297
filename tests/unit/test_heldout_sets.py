"""The held-out sets and the bad-input suite are as large as their tests need (no server needed)."""

from scripts.evaluate_nlu import read_examples
from tests.e2e.test_bad_input import (
    HTTP_KINDS,
    RAW_KINDS,
    REST_KINDS,
    SOCKETIO_HTTP_KINDS,
    WEBSOCKET_KINDS,
    social_kinds,
)


def test_held_out_set_has_at_least_10_messages_per_intent():
    counts = {}
    for _, intent in read_examples():
        counts[intent] = counts.get(intent, 0) + 1
    assert min(counts.values()) >= 10, counts


def test_there_are_at_least_40_kinds():
    kinds = (
        len(HTTP_KINDS)
        + len(RAW_KINDS)
        + len(REST_KINDS)
        + len(social_kinds("facebook"))
        + len(SOCKETIO_HTTP_KINDS)
        + len(WEBSOCKET_KINDS)
    )
    assert kinds >= 40, kinds
