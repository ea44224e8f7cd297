"""The sentence encoder's cache-only mode, which lets the server embed a text in another thread."""

import numpy as np
import pytest

from core import encoder


def test_under_cached_only_a_new_text_is_handed_back_and_a_known_one_answered(monkeypatch):
    known = np.full(encoder.DIM, 0.5, dtype=np.float32)
    monkeypatch.setitem(encoder._recent, encoder.key("hello"), known)
    monkeypatch.setattr(encoder, "_load", lambda: pytest.fail("the engine was used under cached_only"))
    with encoder.cached_only():
        assert np.array_equal(encoder.embed(["hello"]), [known])
        with pytest.raises(encoder.EmbeddingNeeded) as needed:
            encoder.embed(["hello", "never seen before"])
    assert needed.value.texts == ["never seen before"]


def test_outside_cached_only_a_new_text_is_embedded(monkeypatch):
    class Engine:
        def query(self, texts):
            return np.ones((len(texts), encoder.DIM), dtype=np.float32)

        def token_count(self, text, is_query):
            return len(text.split())

    monkeypatch.setattr(encoder, "_load", lambda: Engine())
    monkeypatch.setattr(encoder, "_recent", type(encoder._recent)())
    assert encoder.embed(["brand new"]).shape == (1, encoder.DIM)
    with encoder.cached_only():
        assert encoder.embed(["brand new"]).shape == (1, encoder.DIM)  # kept from the call before


def test_the_engine_reads_at_most_max_tokens_of_a_text_and_all_of_a_message_of_words():
    engine = encoder._load()
    words = "my neighbour's house has been broken into and I can hear them inside still " * 13
    assert len(words) > 900 and encoder.within_token_limit(engine, words) == words
    for text in ("\U0001f6a8" * 1000, "有人闯进我家" * 160, "a" * 5000):
        cut = encoder.within_token_limit(engine, text)
        assert text.startswith(cut) and len(cut) > 100
        assert engine.token_count(cut, True) <= encoder.MAX_TOKENS < engine.token_count(text[: len(cut) + 1], True)
