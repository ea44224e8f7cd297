"""The model's sha256 check, and the reload endpoint off without a token (no server needed)."""

import pytest

from core import model_integrity


def test_reload_is_not_served_without_a_token(monkeypatch):
    from channels.model_reload import ModelReloadChannel

    monkeypatch.delenv("RASA_RELOAD_TOKEN", raising=False)
    channel = ModelReloadChannel.from_credentials({"token_env": "RASA_RELOAD_TOKEN"})
    assert channel.token is None
    assert not channel.blueprint(lambda message: None)._future_routes


def test_verify_refuses_a_model_without_a_recorded_sha256(tmp_path):
    model = tmp_path / "m.tar.gz"
    model.write_bytes(b"x")
    with pytest.raises(model_integrity.ModelIntegrityError, match="no recorded sha256"):
        model_integrity.verify(model)
