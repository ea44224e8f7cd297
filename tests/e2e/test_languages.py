"""Every language on its held-out sets (tests/heldout/danger/<code>.yml and tests/heldout/nlu/<code>.yml,
written independently of the training data, never trained on), through the real server, judged on
what the person reads. Prints one table, language by figure (`pytest -s`; docs/quality.md):
- danger now: 999 in the first reply (bar: all of them);
- near-misses and everyday chat: 999 in the first reply (bar: at most 3%);
- routing: the reply gives the channel that serves the message (bar: at least 90%);
- in the language: the replies are in the person's language (bar: at least 95%)."""

from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from core.catalogue import load_catalogue
from core.hours import current_time
from core.language import ENGLISH, LANGUAGES
from core.replies import render
from scripts.evaluate_nlu import read_examples
from tests.expected import answers
from tests.servers import answered

HELD_OUT = Path(__file__).parents[1] / "heldout"
BARS = {"danger": 1.0, "alarms": 0.03, "routing": 0.90, "language": 0.95}
# What make test holds every language to today, where some are short of a bar (docs/quality.md): the
# worst language measured on 2026-12-02, rounded (alarms: Arabic, 4 of 41), so that nothing gets worse
# while the gaps are closed. Raise to BARS.
HELD = {"danger": 1.0, "alarms": 0.10, "routing": 0.75, "language": 0.85}
OTHERS = [code for code in LANGUAGES if code != ENGLISH]


def first_texts(intent: str, language: str) -> List[str]:
    return [render(load_catalogue(), intent, current_time(), language=code)[0]["text"] for code in (language, ENGLISH)]


def figures(assistant, language: str) -> Dict[str, float]:
    danger = yaml.safe_load((HELD_OUT / "danger" / f"{language}.yml").read_text(encoding="utf-8"))
    routing = read_examples([HELD_OUT / "nlu" / f"{language}.yml"])
    assert len(danger["danger_now"]) >= 20 and len(danger["near_misses"]) + len(danger["everyday_chat"]) >= 30
    assert len(routing) >= 40
    in_language, replies_seen = 0, 0

    def say(tag: str, index: int, text: str) -> list:
        nonlocal in_language, replies_seen
        reply = assistant.say(f"lang-{language}-{tag}-{index}", text)
        assert answered(reply), (language, tag, index)
        replies_seen += 1
        in_language += reply[0].get("lang") == language
        return reply

    caught = [say("d", i, text)[0]["text"] for i, text in enumerate(danger["danger_now"])]
    calm = danger["near_misses"] + danger["everyday_chat"]
    alarmed = [say("c", i, text)[0]["text"] for i, text in enumerate(calm)]
    routed = [answers(intent, [m["text"] for m in say("r", i, text)], first_texts(intent, language))
              for i, (text, intent) in enumerate(routing)]  # fmt: skip
    return {
        "danger": sum("999" in text for text in caught) / len(caught),
        "alarms": sum("999" in text for text in alarmed) / len(alarmed),
        "routing": sum(routed) / len(routed),
        "language": in_language / replies_seen,
    }


@pytest.mark.slow
def test_every_language_meets_its_bars(assistant):
    table = {language: figures(assistant, language) for language in OTHERS}
    print("\nlanguage   danger-now 999 first   near-miss/chat 999 first   routing   reply in the language")
    for language, found in table.items():
        print(f"{language:9}  {found['danger']:>20.0%}   {found['alarms']:>24.1%}   {found['routing']:>7.0%}"
              f"   {found['language']:>21.0%}")  # fmt: skip

    def short_of(limits: Dict[str, float]) -> Dict[str, Dict[str, float]]:
        found = {language: {name: round(value, 3) for name, value in figures.items()
                            if (value < limits[name] if name != "alarms" else value > limits[name])}
                 for language, figures in table.items()}  # fmt: skip
        return {language: bad for language, bad in found.items() if bad}

    print(f"short of the issue's bars {BARS}: {short_of(BARS) or 'none'}")
    assert not short_of(HELD), short_of(HELD)
