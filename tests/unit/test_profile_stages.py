"""bench/profile_stages.py puts each sampled stack in the right stage of a message."""

import pytest

from bench.profile_stages import OTHER, shares

PROFILE = [
    "main (rasa_server.py:1);handle_message (rasa/core/processor.py:157);save_tracker (rasa/core/processor.py:9);"
    "save (components/tracker_store.py:1) 3",
    "main (rasa_server.py:1);handle_message (rasa/core/processor.py:157);log_message (rasa/core/processor.py:4);"
    "_parse_message_with_graph (rasa/core/processor.py:7) 5",
    "main (rasa_server.py:1);handle_message (rasa/core/processor.py:157) 1",
    "main (rasa_server.py:1);serve (sanic/server/runners.py:2) 1",
    "",
]


def test_each_sample_goes_to_its_stage():
    result = shares(PROFILE)
    assert result["storing the turn"] == 0.3
    assert result["understanding the message (NLU graph)"] == 0.5
    assert result["rest of Rasa's message handling"] == 0.1
    assert result[OTHER] == 0.1
    assert sum(result.values()) == pytest.approx(1.0)


def test_an_empty_profile_is_an_error():
    with pytest.raises(ValueError):
        shares([""])
