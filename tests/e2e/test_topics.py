"""Topics on the held-out sets, judged on what the person reads through the real server: each topic's
held-out messages get its channel's link or number, and no reply to any held-out message contains a
link or number that is not in the catalogue. `pytest -s` prints the figures (docs/quality.md)."""

import re
from collections import defaultdict

import pytest

from core.catalogue import load_catalogue
from core.hours import current_time
from core.replies import render
from scripts.evaluate_nlu import read_examples
from tests.expected import TOPICS, answers
from tests.servers import all_text

# The share of held-out messages that must get their topic's channel, for every topic and for all of
# them (a miss is mostly "did you mean", whose options include the topic, or a neighbouring route).
MIN_SHARE = 0.75
MIN_OVERALL = 0.90
LINK = re.compile(r"https?://[^\s),]+|www\.[^\s),]+")
NUMBER = re.compile(r"(?<![\w.:])\d{2,}(?: \d{2,})*(?![\w.:])")  # a time (08:00) is not a number to call


NOT_POLICE_FIRST = [render(load_catalogue(), "not_police", current_time())[0]["text"]]


def unknown_contacts(text: str) -> set:
    contacts = {channel.contact for channel in load_catalogue().channels.values()}
    parts = {part for contact in contacts for part in contact.split()}
    links = {link.rstrip(".:;") for link in LINK.findall(text)} - contacts
    numbers = {number for number in NUMBER.findall(text) if number not in contacts and number not in parts}
    return links | numbers


@pytest.mark.slow
def test_every_topic_gets_its_channel_and_no_reply_has_a_link_or_number_outside_the_catalogue(assistant):
    got, total, strays = defaultdict(int), defaultdict(int), set()
    for index, (text, intent) in enumerate(read_examples()):
        reply = all_text(assistant.say(f"topics-{index}", text))
        strays |= unknown_contacts(reply)
        if intent in TOPICS:
            total[intent] += 1
            got[intent] += answers(intent, [reply], NOT_POLICE_FIRST)
    shares = {topic: got[topic] / total[topic] for topic in TOPICS}
    print("\nheld-out topics, share given their channel: " + ", ".join(f"{t} {s:.0%}" for t, s in shares.items()))
    print(f"all topics: {sum(got.values())} of {sum(total.values())} ({sum(got.values()) / sum(total.values()):.1%})")
    assert set(total) == set(TOPICS) and min(total.values()) >= 12, dict(total)
    assert not strays, f"links or numbers not in the catalogue: {strays}"
    assert min(shares.values()) >= MIN_SHARE, {t: s for t, s in shares.items() if s < MIN_SHARE}
    assert sum(got.values()) / sum(total.values()) >= MIN_OVERALL


@pytest.mark.slow
def test_the_contact_check_finds_what_is_not_in_the_catalogue():
    assert unknown_contacts("call 101 or 999, text 18000 or 18001 101, press 55, open 8am to midnight") == set()
    assert unknown_contacts("ring 0800 555 111 or see https://example.org/x.") == {
        "0800 555 111",
        "https://example.org/x",
    }
