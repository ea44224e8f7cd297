"""The danger-now decision without a trained assistant: the patterns, the decision rule, the
conversation rule, the NLU component on a small model, and staff edits taking effect."""

import shutil
import time
from pathlib import Path

import pytest
import yaml
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.danger import DangerDetector
from core.danger import DangerDataError, DangerModel, Thresholds, decide, escalates, read_file, read_training_data
from core.emergency import DEFAULT_PATTERNS_FILE, PatternsError, is_emergency, load_patterns, matches, parse_patterns
from core.encoder import embed

THRESHOLDS = Thresholds(model=0.5, maybe=0.2, concern=0.2)


@pytest.mark.parametrize(
    "text",
    [
        "HELP someone breaking in",
        "help",
        "my partner is hitting me",
        "i want to end it all tonight",
        "my dad collapsed and isnt breathing",
        "theres a man with a knife outside my house right now",
        "someone is trying the back door handle",
        "he wont let me out of the car",
        "运河边有个老人掉到水里了",  # someone in the water, in Chinese and Bengali
        "পুকুরে একটা ছেলে হাবুডুবু খাইতেছে",
        "ambulance ka number do jaldi, ammi saans nahi le rahi",  # asking for the ambulance while someone collapses
        "رقم الاسعاف لو سمحت، ابوي وقع ومو عم يتنفس",
    ],
)
def test_the_patterns_alone_see_clear_danger_now(text):
    assert is_emergency(text, load_patterns())


@pytest.mark.parametrize(
    "text",
    [
        "my shed was broken into last week",
        "what is the number for emergencies?",
        "my boss will kill me if im late",
        "that outfit is fire",
        "whats the best knife for onions",
        "how do i sign up for alerts",
        "he's gone now, we're safe now",
        "ambulance ka number kya hai, bas phone mein save karna hai",
        "hello",
    ],
)
def test_the_patterns_alone_do_not_alarm_the_past_idioms_or_the_everyday(text):
    assert not is_emergency(text, load_patterns())


@pytest.mark.parametrize(
    "text, score, now, reason",
    [
        ("someone is breaking in", 0.0, True, "patterns"),  # a clear pattern decides on its own
        ("my shed was broken into last week", 0.9, False, ""),  # the past vetoes even a confident model
        ("he broke in last week and he is back now, right now at the door", 0.3, True, "patterns"),  # urgent wins
        ("theres a knife", 0.1, False, ""),  # an ambiguous word needs the model to lean that way
        ("theres a knife", 0.3, True, "patterns"),
        ("whats the best knife in the game right now", 0.0, False, ""),
        ("i saw a knife last week", 0.3, False, ""),  # and nothing saying it is past
        ("my son is 11, its 9pm and his phone is off", 0.6, True, "model"),  # the model alone
        ("my son is 11, its 9pm and his phone is off", 0.4, False, ""),
    ],
)
def test_the_decision(text, score, now, reason):
    verdict = decide(text, score, load_patterns(), THRESHOLDS)
    assert (verdict.now, verdict.reason) == (now, reason)


@pytest.mark.parametrize(
    "text, score, now",
    [
        ("my shed was broken into last week", 0.9, False),  # said to be past: the model must be near certain
        ("my shed was broken into last week", 0.97, True),
        ("my daughter didnt come home last night and nobody knows where she is", 0.6, True),  # missing: urgent
        ("my cat didnt come home last night", 0.1, False),
    ],
)
def test_the_calm_threshold_and_missing_people(text, score, now):
    thresholds = Thresholds(model=0.5, maybe=0.2, concern=0.2, calm=0.95)
    assert decide(text, score, load_patterns(), thresholds).now is now


def calm(text: str) -> bool:
    """The patterns say past, hypothetical, a question or a joke, and nothing says it is happening now."""
    found = matches(text, load_patterns())
    return found.not_now and not found.urgent


@pytest.mark.parametrize(
    "text",
    [
        "he has a knife on the bed and says tonight is the last night for us",  # "last night", but not the past
        "not joking, flames coming out of the takeaway and people live upstairs",
        "lads with bats outside the off licence on the Soho Road, one is on the floor",  # not a licence
        "I wonder if someone could come, my mum has dementia and walked out an hour ago in her nightie",
        "he says we are not allowed to ring anyone and he is bleeding from his stomach",
        "what's the law on self defence, my neighbour is kicking his wife in the street",
        "is it legal to take his keys? my uncle is hammered and about to drive the kids home",
        "ohda purana gharwala bahar khada gate tod reha",  # "purana": old, as in her ex-husband
        "a inghitit toate pastilele acum o ora si nu se trezeste",  # an hour ago: still now
        "wiilkeyga xalay guriga ma soo hoyan",  # did not come home last night: missing now
        "whats the number for an ambulance, my dad is on the floor and not talking",  # not a question about the service
        "the man who attacked me last year has just walked into the shop where I work",
        "شو رقم الاسعاف، ابني وقع وما عم يتنفس",  # "the ambulance number", not "the ambulance is here"
    ],
)
def test_words_that_only_look_past_or_hypothetical_do_not_calm_an_emergency(text):
    assert not calm(text)


@pytest.mark.parametrize(
    "text",
    [
        "my car was broken into last night",
        "my nan fell and hit her head but the hospital says she is recovering",
        "what happens if someone breaks in while I'm away",
        "do I need a licence for a shotgun",
        "what's the number for the council",
        "lol my boss will kill me",
        "a inghitit o pastila acum o saptamana",
    ],
)
def test_the_past_questions_and_jokes_still_calm(text):
    assert calm(text)


def test_a_follow_up_escalates_an_earlier_worry_and_nothing_else_does():
    patterns = load_patterns()
    worry = decide("my ex keeps messaging me", 0.3, patterns, THRESHOLDS).as_dict()
    outside = decide("he's outside my door now banging on it", 0.1, patterns, THRESHOLDS).as_dict()
    thanks = decide("thanks", 0.0, patterns, THRESHOLDS).as_dict()
    calm = decide("hi", 0.0, patterns, THRESHOLDS).as_dict()
    emergency = decide("someone is breaking in", 0.9, patterns, THRESHOLDS).as_dict()
    assert worry["concern"] and not worry["now"] and outside["escalation"]
    assert escalates(outside, [worry])
    assert not escalates(outside, [calm])  # nothing worrying before it
    assert not escalates(thanks, [emergency])  # an earlier emergency does not make every message an alarm
    assert escalates(decide("he's still outside", 0.0, patterns, THRESHOLDS).as_dict(), [emergency])


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
        (lambda d: d.pop("not_now"), "expected exactly the sections danger, maybe_danger, urgent, not_now, escalation"),
        (lambda d: d.update(maybe_danger=[]), "'maybe_danger' must be a list of at least one pattern"),
    ],
)
def test_a_broken_patterns_file_names_file_section_and_pattern(patterns_file, change, error):
    path = patterns_file(change)
    with pytest.raises(PatternsError) as raised:
        parse_patterns(path)
    assert error in str(raised.value) and str(path) in str(raised.value)


def test_word_edges_work_in_indic_scripts():
    path_data = {
        "danger": [r"\bਮਾਰ ਰਿਹਾ\b"],
        "maybe_danger": ["x^"],
        "urgent": ["x^"],
        "not_now": ["x^"],
        "escalation": ["x^"],
    }
    path = Path(pytest.importorskip("tempfile").mkdtemp()) / "p.yml"
    path.write_text(yaml.safe_dump(path_data, allow_unicode=True), encoding="utf-8")
    assert is_emergency("ਮੇਰਾ ਪਤੀ ਮੈਨੂੰ ਮਾਰ ਰਿਹਾ ਹੈ", parse_patterns(path))


def test_an_edited_patterns_file_is_used_at_once_and_a_broken_edit_keeps_the_last_good_one(tmp_path):
    path = tmp_path / "emergency.yml"
    shutil.copy(DEFAULT_PATTERNS_FILE, path)
    assert not is_emergency("code purple at the leisure centre", load_patterns(path))
    data = yaml.safe_load(path.read_text())
    data["danger"].append(r"\bcode purple\b")
    time.sleep(0.01)
    path.write_text(yaml.safe_dump(data))
    assert is_emergency("code purple at the leisure centre", load_patterns(path))
    path.write_text("danger: [\n")  # half saved
    assert is_emergency("code purple at the leisure centre", load_patterns(path))


def test_a_language_file_added_later_is_used_from_the_next_message(tmp_path):
    path = tmp_path / "emergency.yml"
    shutil.copy(DEFAULT_PATTERNS_FILE, path)
    assert not is_emergency("kod fioletowy w szkole", load_patterns(path))
    folder = tmp_path / "emergency"
    folder.mkdir()  # the folder first, as staff would, and the file in it next
    assert not is_emergency("kod fioletowy w szkole", load_patterns(path))
    empty = {section: [] for section in ("danger", "maybe_danger", "urgent", "not_now", "escalation")}
    (folder / "pl.yml").write_text(yaml.safe_dump({**empty, "danger": [r"\bkod fioletowy\b"]}))
    assert is_emergency("kod fioletowy w szkole", load_patterns(path))
    (folder / "pl.yml").unlink()
    assert not is_emergency("kod fioletowy w szkole", load_patterns(path))


def test_training_files_are_checked_and_read(tmp_path):
    (tmp_path / "a.yml").write_text(yaml.safe_dump({"danger_now": ["he is here"], "everyday_chat": ["nice"]}))
    assert sorted(read_training_data(tmp_path)) == [("he is here", 1), ("nice", 0)]
    (tmp_path / "b.yml").write_text(yaml.safe_dump({"dangers": ["x"]}))
    with pytest.raises(DangerDataError, match="b.yml: expected one or more of the lists"):
        read_file(tmp_path / "b.yml")
    (tmp_path / "b.yml").write_text(yaml.safe_dump({"near_misses": ["", 5]}))
    with pytest.raises(DangerDataError, match="'near_misses' must be a list of non-empty texts"):
        read_file(tmp_path / "b.yml")


SMALL = {
    "danger_now": ["a man is hitting my mum", "someone is in my house now", "my baby is not breathing",
                   "he has a blade and is coming at me", "the flat is full of smoke and we cant get out"],
    "near_misses": ["my bike was stolen last week", "i love a crime drama", "what is 999 for"],
    "everyday_chat": ["i am making tea", "the weather is nice", "my cat is asleep", "i am at the shops now"],
}  # fmt: skip


def message(text: str, intent: str, confidence: float, others=()):
    ranking = [{"name": intent, "confidence": confidence}] + [{"name": n, "confidence": c} for n, c in others]
    return Message(data={"text": text, "intent": ranking[0], "intent_ranking": ranking})


@pytest.fixture(scope="module")
def detector(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("detector")
    data = tmp_path / "danger"
    data.mkdir()
    (data / "small.yml").write_text(yaml.safe_dump(SMALL))
    config = {**DangerDetector.get_default_config(), "data_dir": str(data)}
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("danger")
    trained = DangerDetector(config, storage, resource)
    trained.train(TrainingData([]))
    return DangerDetector.load(config, storage, resource, execution_context=None)


def test_the_component_forces_emergency_on_danger_now(detector):
    [parsed] = detector.process([message("someone is stabbing people in the street right now", "alerts", 0.9)])
    assert parsed.get("intent") == {"name": "emergency", "confidence": 1.0}
    assert [item["name"] for item in parsed.get("intent_ranking")] == ["emergency", "alerts"]
    assert parsed.get("danger")["now"] and parsed.get("danger")["reason"] == "patterns"


def test_the_classifiers_emergency_guess_alone_is_not_enough(detector):
    [parsed] = detector.process([message("qwerty uiop", "emergency", 0.7, [("greet", 0.2), ("alerts", 0.1)])])
    assert parsed.get("intent") == {"name": "greet", "confidence": 0.2}
    assert [item["name"] for item in parsed.get("intent_ranking")] == ["greet", "emergency", "alerts"]
    assert not parsed.get("danger")["now"]


def test_the_component_leaves_other_messages_alone(detector):
    [parsed] = detector.process([message("how do i get wmnow alerts", "alerts", 0.9)])
    assert parsed.get("intent") == {"name": "alerts", "confidence": 0.9}


def test_the_model_learns_danger_now_from_its_own_data():
    texts = [text for section in SMALL.values() for text in section]
    labels = [int(section == "danger_now") for section, items in SMALL.items() for _ in items]
    model = DangerModel.train(texts, labels, embed, gate=0.0)
    danger, chat = model.scores(["a man is hitting my dad", "i am making coffee"])
    assert danger > 0.5 > chat
