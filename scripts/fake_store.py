"""A made-up conversation store of any size, shaped like the one Rasa writes, to measure `make report`.

    python -m scripts.fake_store --events 1000000 --db var/million.db [--days 90] [--seed 17]
    TRACKER_STORE_DB=var/million.db python -m scripts.report --days 90 --out results/million.html

Conversations on every channel, over the last --days days with more by day than by night: routed
answers followed by "was this helpful?" and the answer to it (and after a "no", what the person
was looking for, sometimes with an email address, a phone number, a postcode or a registration),
greetings and thanks, fallbacks ("did you mean", then the hand-over), emergencies. The events are
those Rasa stores (user, action, slot, bot, session_started), with the same JSON fields, in Rasa's
own `events` table (SQLTrackerStore's). No real person's data: every message is from the lists below.
`generate` returns what it wrote, as the report should count it (tests/unit/test_report.py).
"""

import argparse
import json
import random
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa

from actions.feedback import asks_after
from core.catalogue import Catalogue, load_catalogue
from core.conversation_store import EVENTS
from core.replies import render

DAY = 86400
# The channels as the UserUttered events name them, and how often each is used.
CHANNELS = [("socketio", 0.55), ("facebook", 0.2), ("instagram", 0.1), ("twitter", 0.1), ("rest", 0.05)]
TOPIC_TEXTS = {
    "ask_question": "i have a question about my local area",
    "live_chat": "can i talk to a real person",
    "non_emergency": "whats the non emergency number",
    "alerts": "how do i sign up for crime alerts",
    "social_media": "are you on facebook",
    "contact_us": "how do i contact you",
    "lost_property": "i lost my wallet in town",
    "fines_and_tickets": "how do i pay a speeding fine",
    "careers": "how do i become a police officer",
    "fraud": "i think ive been scammed online",
    "antisocial_behaviour": "kids keep setting off fireworks on our road",
    "road_collision": "how do i report a car crash with no one hurt",
}
MISUNDERSTOOD = [
    "wots the thing for the bins",
    "my car AB12 CDE was clamped",
    "can u check if my mate got nicked",
    "email me at jo.bloggs@example.com about my case",
    "ring me on 07700 900123",
    "is there a form for a noisy dog",
    "what about the thing i asked before",
    "parking outside B33 8TH every night",
]
LOOKING_FOR = [
    "i wanted to know if someone was arrested",
    "the number for my local officer",
    "how to get my stuff back from the station, email jo.bloggs@example.com",
    "my neighbour at B33 8TH keeps blocking the drive with AB12 CDE",
]
EMERGENCY_TEXTS = ["theres a man with a knife outside my house", "someone is breaking into my house right now"]


@dataclass
class Expected:
    """What the store holds, counted as the report counts it."""

    events: int = 0
    conversations: int = 0
    messages: int = 0
    channel_messages: Counter = field(default_factory=Counter)  # input_channel -> messages
    topics: Counter = field(default_factory=Counter)
    emergencies: int = 0
    not_understood: int = 0
    did_you_mean: int = 0
    handovers: int = 0
    asked: Counter = field(default_factory=Counter)
    yes: Counter = field(default_factory=Counter)
    no: Counter = field(default_factory=Counter)


class Writer:
    def __init__(self, catalogue: Catalogue, rng: random.Random) -> None:
        self.catalogue, self.rng = catalogue, rng
        now = datetime(2026, 11, 25, 14, tzinfo=timezone.utc)
        self.replies = {key: [m["text"] for m in render(catalogue, key, now)] for key in catalogue.routes}
        self.rows: List[Tuple[Any, ...]] = []
        self.expected = Expected()
        self.sender = ""
        self.clock = 0.0
        self.channel = ""

    def add(self, kind: str, data: Dict[str, Any], intent: Optional[str] = None) -> None:
        self.clock += self.rng.uniform(0.05, 0.4)
        data = {"event": kind, "timestamp": self.clock, **data}
        self.rows.append((self.sender, kind, self.clock, intent, data.get("name"), json.dumps(data)))
        self.expected.events += 1

    def action(self, name: str) -> None:
        self.add("action", {"name": name, "policy": "policy_0_IntentActionPolicy", "confidence": 1.0,
                            "action_text": None, "hide_rule_turn": False})  # fmt: skip

    def slot(self, name: str, value: Any) -> None:
        self.add("slot", {"name": name, "value": value})

    def bot(self, texts: List[str], buttons: Optional[List[str]] = None, quick: bool = False) -> None:
        for n, text in enumerate(texts):
            last = n == len(texts) - 1
            shown = (
                [{"title": self.catalogue.routes[b].title, "payload": f"/{b}"} for b in buttons or []] if last else []
            )
            data = {"elements": None, "quick_replies": shown if quick else None, "attachment": None, "image": None,
                    "custom": None, "buttons": [] if quick else shown}  # fmt: skip
            self.add("bot", {"metadata": {"utter_action": None}, "text": text, "data": data})

    def user(self, text: str, intent: str, confidence: float = 0.97) -> None:
        self.clock += self.rng.uniform(4, 40)  # the person reads and types
        ranking = [{"name": intent, "confidence": confidence}] + [
            {"name": other, "confidence": round((1 - confidence) / 9, 4)}
            for other in self.rng.sample(sorted(TOPIC_TEXTS), 9)
            if other != intent
        ][:9]
        if intent == "nlu_fallback":
            ranking.insert(1, {"name": self.rng.choice(sorted(TOPIC_TEXTS)), "confidence": 0.28})
        message_id = f"{self.rng.getrandbits(64):016x}"
        parse_data = {"intent": {"name": intent, "confidence": confidence}, "entities": [], "text": text,
                      "message_id": message_id, "metadata": {}, "intent_ranking": ranking, "language": "en",
                      "danger": {"verdict": "danger" if intent == "emergency" else "none",
                                 "score": 0.9 if intent == "emergency" else 0.01}}  # fmt: skip
        self.add("user", {"text": text, "parse_data": parse_data, "input_channel": self.channel,
                          "message_id": message_id, "metadata": {}}, intent)  # fmt: skip
        expected = self.expected
        expected.messages += 1
        expected.channel_messages[self.channel] += 1
        expected.topics[intent] += 1

    def listen(self) -> None:
        self.action("action_listen")

    # --- turns

    def routed(self, intent: str, text: str, asked: List[str]) -> bool:
        """A routed answer; returns whether "was this helpful?" was asked."""
        self.user(text, intent)
        self.action("action_route_to_channel")
        self.slot("last_route", intent)
        route = self.catalogue.routes[intent]
        self.bot(self.replies[intent], list(route.buttons))
        ask = asks_after(intent, intent, self.catalogue) and intent not in asked and "emergency" not in asked
        if ask:
            asked.append(intent)
            self.slot("feedback_asked", list(asked))
            self.bot(self.replies["feedback"], ["feedback_yes", "feedback_no"], quick=True)
            self.expected.asked[intent] += 1
        self.listen()
        return ask

    def feedback(self, topic: str, helpful: bool) -> None:
        self.user("yes thanks" if helpful else "not really", "feedback_yes" if helpful else "feedback_no")
        self.action("action_feedback")
        self.slot("feedback", {"topic": topic, "helpful": helpful})
        self.bot(self.replies["feedback_yes" if helpful else "feedback_no"])
        self.listen()
        (self.expected.yes if helpful else self.expected.no)[topic] += 1

    def fallback(self, misses: int) -> None:
        self.user(self.rng.choice(MISUNDERSTOOD), "nlu_fallback", round(self.rng.uniform(0.1, 0.29), 3))
        self.action("action_fallback")
        self.bot(self.replies["fallback_did_you_mean" if misses == 1 else "fallback_final"])
        self.listen()
        self.expected.not_understood += 1
        if misses == 1:
            self.expected.did_you_mean += 1
        else:
            self.expected.handovers += 1

    def emergency(self, asked: List[str]) -> None:
        self.user(self.rng.choice(EMERGENCY_TEXTS), "emergency", 1.0)
        self.action("action_emergency")
        self.slot("last_route", "emergency")
        if "emergency" not in asked:  # no "was this helpful?" in this conversation any more
            asked.append("emergency")
            self.slot("feedback_asked", list(asked))
        self.bot(self.replies["emergency"])
        self.listen()
        self.expected.emergencies += 1

    def simple(self, intent: str, text: str) -> None:
        self.user(text, intent)
        self.action("action_route_to_channel")
        self.slot("last_route", intent)
        self.bot(self.replies[intent], list(self.catalogue.routes[intent].buttons))
        self.listen()

    def conversation(self, number: int, start: float) -> None:
        rng = self.rng
        self.sender = f"fake-{number:07d}"
        self.channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        self.clock = start
        self.expected.conversations += 1
        self.action("action_session_start")
        self.add("session_started", {})
        self.listen()
        if rng.random() < 0.6:
            self.simple("greet", "hello")
        asked: List[str] = []
        misses = 0
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
            roll = rng.random()
            if roll < 0.02:
                self.emergency(asked)
                misses = 0
            elif roll < 0.2:
                misses += 1
                self.fallback(misses)
            else:
                misses = 0
                intent = rng.choice(sorted(TOPIC_TEXTS))
                if self.routed(intent, TOPIC_TEXTS[intent], asked) and rng.random() < 0.5:
                    helpful = rng.random() < 0.7
                    self.feedback(intent, helpful)
                    if not helpful and rng.random() < 0.6:
                        self.simple("something_else", rng.choice(LOOKING_FOR))
        if rng.random() < 0.4:
            self.simple("thank", "thanks")


def generate(db: Path, events: int, days: float = 90, seed: int = 17, now: Optional[float] = None) -> Expected:
    """Write a new store of at least `events` events (whole conversations) at `db`; what it holds."""
    db.parent.mkdir(parents=True, exist_ok=True)
    if db.exists():
        db.unlink()
    engine = sa.create_engine(f"sqlite:///{db}")
    EVENTS.create(engine)  # Rasa's table and its index, as SQLTrackerStore makes them
    engine.dispose()
    rng = random.Random(seed)
    writer = Writer(load_catalogue(), rng)
    end = now if now is not None else time.time()
    columns = "sender_id, type_name, timestamp, intent_name, action_name, data"
    insert = f"INSERT INTO {EVENTS.name} ({columns}) VALUES (?, ?, ?, ?, ?, ?)"
    connection = sqlite3.connect(db)
    number = 0
    # Conversations in time order, more by day (UTC hours): the gap to the next one depends on the hour.
    average_gap = days * DAY / max(events / 28, 1)  # about 28 events a conversation
    first = clock = end - days * DAY
    while writer.expected.events < events:
        hour = datetime.fromtimestamp(clock, timezone.utc).hour
        busy = 0.25 if hour < 7 else 1.6 if 9 <= hour < 21 else 0.8
        clock += rng.expovariate(busy / average_gap)
        if clock > end - 3600:  # more conversations than guessed: start again from the first day
            clock = first + (clock - first) % (days * DAY)
            clock -= DAY if clock > end - 3600 else 0
        writer.conversation(number, clock)
        number += 1
        if len(writer.rows) >= 50_000:
            connection.executemany(insert, writer.rows)
            writer.rows.clear()
    connection.executemany(insert, writer.rows)
    connection.commit()
    connection.close()
    return writer.expected


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("var/million.db"))
    parser.add_argument("--days", type=float, default=90)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    expected = generate(args.db, args.events, args.days, args.seed)
    print(f"{args.db}: {expected.events:,} events, {expected.conversations:,} conversations, "
          f"{expected.messages:,} messages ({time.perf_counter() - started:.0f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
