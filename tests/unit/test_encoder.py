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

    monkeypatch.setattr(encoder, "_load", lambda: Engine())
    monkeypatch.setattr(encoder, "_recent", type(encoder._recent)())
    assert encoder.embed(["brand new"]).shape == (1, encoder.DIM)
    with encoder.cached_only():
        assert encoder.embed(["brand new"]).shape == (1, encoder.DIM)  # kept from the call before
