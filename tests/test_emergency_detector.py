"""The deterministic emergency check and its NLU component, without a trained model."""

from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from components.emergency import (
    DEFAULT_PATTERNS_FILE,
    EmergencyDetector,
    PatternsError,
    is_emergency,
    load_patterns,
    parse_patterns,
)


@pytest.mark.parametrize(
    "text",
    [
        "theres a man with a knife outside my house",
        "HELP someone breaking in",
        "help",
        "my neighbour is being attacked right now",
        "i want to end it all tonight",
        "my house is on fire",
        "my dad collapsed and isnt breathing",
        "someone is following me",
        "my 4 year old has gone missing in the park",
        "he said he is going to kill me",
    ],
)
def test_danger_now_is_an_emergency(text):
    assert is_emergency(text, load_patterns())


@pytest.mark.parametrize(
    "text",
    [
        "my shed was broken into last week",
        "what is the number for emergencies?",
        "how do i report a burglary that happened yesterday",
        "is knife crime going up in birmingham",
        "how do i sign up for alerts",
        "my cat is missing",
        "hello",
    ],
)
def test_the_past_and_the_non_urgent_are_not(text):
    assert not is_emergency(text, load_patterns())


def test_urgent_words_override_a_past_marker():
    assert is_emergency("he broke in last week and he is back now kicking the door", load_patterns())


def message(text: str, intent: str, confidence: float) -> Message:
    return Message(data={"text": text, "intent": {"name": intent, "confidence": confidence},
                         "intent_ranking": [{"name": intent, "confidence": confidence}]})


def test_the_component_overrides_the_classifier_when_it_fires():
    detector = EmergencyDetector(EmergencyDetector.get_default_config())
    [parsed] = detector.process([message("someone is stabbing people in the street", "alerts", 0.9)])
    assert parsed.get("intent") == {"name": "emergency", "confidence": 1.0}
    assert parsed.get("intent_ranking")[0]["name"] == "emergency"
    assert [item["name"] for item in parsed.get("intent_ranking")] == ["emergency", "alerts"]


def test_the_component_leaves_other_messages_alone():
    detector = EmergencyDetector(EmergencyDetector.get_default_config())
    [parsed] = detector.process([message("how do i get wmnow alerts", "alerts", 0.9)])
    assert parsed.get("intent") == {"name": "alerts", "confidence": 0.9}


@pytest.fixture
def patterns_file(tmp_path):
    def write(change) -> Path:
        data = yaml.safe_load(DEFAULT_PATTERNS_FILE.read_text())
        change(data)
        path = tmp_path / "emergency.yml"
        path.write_text(yaml.safe_dump(data))
        return path

    return write


@pytest.mark.parametrize(
    "change, error",
    [
        (lambda d: d["danger"].append("(unclosed"), "'danger' pattern '(unclosed' is not a valid regular expression"),
        (lambda d: d["urgent"].append(""), "'urgent' has an empty or non-text pattern"),
        (lambda d: d.pop("not_now"), "expected exactly the sections danger, urgent, not_now"),
        (lambda d: d.update(danger=[]), "'danger' must be a list of at least one pattern"),
    ],
)
def test_a_broken_patterns_file_names_file_section_and_pattern(patterns_file, change, error):
    path = patterns_file(change)
    with pytest.raises(PatternsError) as raised:
        parse_patterns(path)
    assert error in str(raised.value) and str(path) in str(raised.value)


def test_the_component_takes_emergency_away_when_the_message_says_it_is_past():
    detector = EmergencyDetector(EmergencyDetector.get_default_config())
    parsed_message = Message(data={
        "text": "my car was stolen last week",
        "intent": {"name": "emergency", "confidence": 0.8},
        "intent_ranking": [{"name": "emergency", "confidence": 0.8}, {"name": "non_emergency", "confidence": 0.15}],
    })
    [parsed] = detector.process([parsed_message])
    assert parsed.get("intent") == {"name": "non_emergency", "confidence": 0.15}
    assert [item["name"] for item in parsed.get("intent_ranking")] == ["non_emergency"]


def test_the_patterns_alone_on_the_emergency_set():
    """The safety net without the model, on tests/emergency_cases.yml (docs/quality.md; -s prints the figures)."""
    cases = yaml.safe_load((Path(__file__).parent / "emergency_cases.yml").read_text(encoding="utf-8"))
    patterns = load_patterns()
    missed = [text for text in cases["emergencies"] if not is_emergency(text, patterns)]
    alarmed = [text for text in cases["near_misses"] if is_emergency(text, patterns)]
    recall = 1 - len(missed) / len(cases["emergencies"])
    print(f"\npatterns alone: recall {recall:.1%} ({len(cases['emergencies']) - len(missed)} of "
          f"{len(cases['emergencies'])}), false alarms {len(alarmed)} of {len(cases['near_misses'])}")
    assert not missed, missed
    assert len(alarmed) <= 0.05 * len(cases["near_misses"]), alarmed
