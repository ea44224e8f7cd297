"""Which language a message is in (core/language.py), trained on the project's own data as `make train` does."""

from pathlib import Path

import pytest

from core.language import ENGLISH, LanguageModel, conversation_language, detect, training_examples

ROOT = Path(__file__).resolve().parents[2]
AVAILABLE = ["en", "pl", "ro", "ur", "ur-Latn", "pa", "pa-Latn", "ar", "zh", "bn", "gu", "pt", "so", "ps", "ckb"]


@pytest.fixture(scope="module")
def model() -> LanguageModel:
    texts, languages = zip(*training_examples(ROOT / "data" / "nlu", ROOT / "data" / "danger"), strict=True)
    return LanguageModel.train(texts, languages)


@pytest.mark.parametrize(
    "text, language",
    [
        ("Ktoś włamuje się do mojego domu, pomocy!", "pl"),
        ("mera shohar mujhe maar raha hai", "ur-Latn"),
        ("میرا شوہر مجھے مار رہا ہے", "ur"),
        ("ਮੈਨੂੰ ਮਦਦ ਚਾਹੀਦੀ ਹੈ", "pa"),
        ("有人在我家外面", "zh"),
        ("how do i get crime alerts", "en"),
        ("am o intrebare despre amenda", "ro"),
    ],
)
def test_the_language_is_detected_from_the_text(model, text, language):
    assert detect(text, model).language == language


@pytest.mark.parametrize("mash", ["zxcvbnm lkjhg", "plmokn ijbuhv", "qwertyuiop asdfgh", "jjjj kkkk llll"])
def test_a_keyboard_mash_is_not_taken_for_another_language(model, mash):
    found = detect(mash, model).as_dict()
    assert conversation_language(ENGLISH, found, mash, AVAILABLE) == ENGLISH


def test_the_model_survives_saving_and_loading(model, tmp_path):
    model.save(tmp_path)
    again = LanguageModel.load(tmp_path)
    assert detect("Ktoś włamuje się do mojego domu", again) == detect("Ktoś włamuje się do mojego domu", model)


def test_a_sure_message_in_several_words_switches_the_conversation():
    polish = {"code": "pl", "confidence": 0.95}
    assert conversation_language("en", polish, "mam pytanie o mandat", AVAILABLE) == "pl"


@pytest.mark.parametrize(
    "current, detection, text",
    [
        ("pl", {"code": "en", "confidence": 0.99}, "ok"),  # one word never switches
        ("ur", {"code": "en", "confidence": 0.99}, "/feedback_yes"),  # nor a button press
        ("en", {"code": "pl", "confidence": 0.4}, "nie wiem co robic"),  # nor a doubtful detection
        ("ro", None, "hello there"),  # nor no detection
    ],
)
def test_the_language_is_kept(current, detection, text):
    assert conversation_language(current, detection, text, AVAILABLE) == current


def test_a_language_not_answered_in_falls_back_to_english():
    assert conversation_language("xx", {"code": "xx", "confidence": 1.0}, "bonjour mes amis", AVAILABLE) == ENGLISH
