"""What the staff tools (`make review`, `make report`) make of the conversation store, in one pass
over its events, never holding more than one batch of rows.

- Misunderstood: the messages the assistant did not understand (they fell back, or the model was
  less sure than `below`) and the "what were you looking for?" texts (the message after a "no" to
  "was this helpful?"), redacted (core/redaction.py), grouped and counted.
- Figures: everything `make report` shows: conversations and messages per day and by hour of day,
  by channel, the topics asked about, the official channels the answers sent people to, emergency
  replies, fallbacks and hand-overs, and how helpful each topic's answer was.

The events are read in the order they were stored (core/conversation_store.stream_events); what
has to be remembered between them is kept per conversation (a few small fields), so memory grows
with the number of conversations, not of events. Days and hours are Europe/London time.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Dict, Iterable, List, Optional, Tuple
from zoneinfo import ZoneInfo

from actions.base import LAST_ROUTE_SLOT
from actions.fallback import FALLBACK_INTENT, NEUTRAL_INTENTS
from actions.feedback import ASKED_SLOT, EMERGENCY_MARKER, FEEDBACK_SLOT, NO_INTENT, YES_INTENT
from actions.routing import UNKNOWN_ROUTE
from core.catalogue import EMERGENCY_ROUTE, Catalogue
from core.redaction import redact
from core.replies import about_previous, channels_for

TIMEZONE = ZoneInfo("Europe/London")
ROUTE_ACTION = "action_route_to_channel"
EMERGENCY_ACTION = "action_emergency"
FALLBACK_ACTION = "action_fallback"
FEEDBACK_ACTION = "action_feedback"
ACTIONS = (ROUTE_ACTION, EMERGENCY_ACTION, FALLBACK_ACTION, FEEDBACK_ACTION)
SLOTS = (LAST_ROUTE_SLOT, ASKED_SLOT, FEEDBACK_SLOT)
HANDOVER_ROUTE = UNKNOWN_ROUTE  # the second miss in a row: website, live chat, 101
FEEDBACK_INTENTS = (YES_INTENT, NO_INTENT)
# The channel a message came in on (the UserUttered event's input_channel), as staff know it.
CHANNEL_NAMES = {
    "socketio": "Web chat",
    "facebook": "Messenger",
    "instagram": "Instagram",
    "twitter": "X",
    "rest": "REST",
}
DEFAULT_BELOW = 0.6
FELL_BACK = "fell back"
LOW_CONFIDENCE = "low confidence"
NOT_HELPFUL = "not helpful"  # "not helpful: <topic>": the text after a "no" to "was this helpful?"
# Said after a "no", these are not what the person was looking for ("thanks", "bye").
NOT_LOOKING_FOR = frozenset({"greet", "thank", "goodbye"})


def channel_name(input_channel: Optional[str]) -> str:
    return CHANNEL_NAMES.get(input_channel or "", input_channel or "unknown")


def local_time(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, TIMEZONE)


def guessed_intent(parse_data: Dict[str, Any]) -> Optional[str]:
    """The model's best real intent: the top of the ranking that is not the fallback."""
    ranking = parse_data.get("intent_ranking") or [parse_data.get("intent") or {}]
    return next(
        (item.get("name") for item in ranking if item.get("name") and item.get("name") != FALLBACK_INTENT), None
    )


# --------------------------------------------------------------------------- misunderstood messages


@dataclass
class Group:
    text: str
    count: int = 0
    newest: float = 0.0
    guesses: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)

    @property
    def guess(self) -> str:
        return self.guesses.most_common(1)[0][0] if self.guesses else "?"

    @property
    def reason(self) -> str:
        return self.reasons.most_common(1)[0][0] if self.reasons else "?"


def normalised(text: str) -> str:
    """What a group is: the message redacted, in lower case, its spaces collapsed."""
    return " ".join(redact(text).lower().split())


class Misunderstood:
    """Collects, from the person's messages and the `feedback` events of each conversation in order,
    the messages worth learning from; `groups()` gives them newest first."""

    def __init__(self, below: float = DEFAULT_BELOW) -> None:
        self.below = below
        self._groups: Dict[str, Group] = {}
        self._looking_for: Dict[str, str] = {}  # conversation -> the topic its "no" was about

    def feedback(self, sender: str, verdict: Any) -> None:
        if isinstance(verdict, dict) and verdict.get("helpful") is False:
            self._looking_for[sender] = str(verdict.get("topic") or "?")

    def user(self, sender: str, timestamp: Optional[float], event: Dict[str, Any]) -> None:
        after_no = self._looking_for.pop(sender, None)  # only the very next message
        text = (event.get("text") or "").strip()
        if not text or text.startswith("/"):
            return  # empty, or a button
        parse_data = event.get("parse_data") or {}
        intent = parse_data.get("intent") or {}
        if after_no is not None and (
            intent.get("name") not in NOT_LOOKING_FOR or intent.get("confidence", 0) < self.below
        ):
            reason = f"{NOT_HELPFUL}: {after_no}"
        elif intent.get("name") == FALLBACK_INTENT:
            reason = FELL_BACK
        elif (intent.get("confidence") or 0) < self.below:
            reason = LOW_CONFIDENCE
        else:
            return
        key = normalised(text)
        group = self._groups.setdefault(key, Group(key))
        group.count += 1
        group.newest = max(group.newest, timestamp or 0)
        group.guesses[guessed_intent(parse_data) or "?"] += 1
        group.reasons[reason] += 1

    def groups(self) -> List[Group]:
        return sorted(self._groups.values(), key=lambda group: (-group.newest, -group.count))

    def most_frequent(self) -> List[Group]:
        return sorted(self._groups.values(), key=lambda group: (-group.count, -group.newest))


def as_nlu_yaml(groups: Iterable[Group]) -> str:
    """The groups as NLU training data, under the intent the model guessed, to check and paste."""
    by_intent: Dict[str, List[str]] = {}
    for group in groups:
        by_intent.setdefault(group.guess, []).append(group.text)
    blocks = [
        f"- intent: {intent}  # the model's guess: check each line, move it to the right intent\n  examples: |\n"
        + "".join(f"    - {text}\n" for text in texts)
        for intent, texts in by_intent.items()
    ]
    return 'version: "3.1"\nnlu:\n' + "".join(blocks)


# --------------------------------------------------------------------------- the report's figures


@dataclass
class Helpful:
    asked: int = 0
    yes: int = 0
    no: int = 0

    @property
    def answered(self) -> int:
        return self.yes + self.no

    @property
    def rate(self) -> Optional[float]:
        return self.yes / self.answered if self.answered else None


class _Conversation:
    """What one pass has to remember about a conversation between its events."""

    __slots__ = ("misses", "intent", "text", "last_route", "channel", "channels")

    def __init__(self) -> None:
        self.misses = 0  # fallbacks in a row (as actions/fallback.py counts them)
        self.intent: Optional[str] = None  # of the latest message
        self.text = ""  # the latest message, only when its route picks channels by what was written
        self.last_route: Optional[str] = None
        self.channel = ""  # of the latest message
        self.channels: Tuple[str, ...] = ()  # every channel it used


@dataclass
class Figures:
    since: Optional[float] = None
    until: Optional[float] = None
    events: int = 0  # events read
    conversations: int = 0
    messages: int = 0
    messages_per_day: Counter = field(default_factory=Counter)  # date -> messages
    conversations_per_day: Counter = field(default_factory=Counter)  # date -> conversations started
    messages_per_hour: Counter = field(default_factory=Counter)  # 0-23 -> messages
    conversations_per_hour: Counter = field(default_factory=Counter)
    channel_messages: Counter = field(default_factory=Counter)  # "REST", "Messenger", ... -> messages
    channel_conversations: Counter = field(default_factory=Counter)
    topics: Counter = field(default_factory=Counter)  # intent -> messages
    routes: Counter = field(default_factory=Counter)  # route given (with channels) -> times
    sent_to: Counter = field(default_factory=Counter)  # official channel key -> times
    emergencies: int = 0
    emergencies_by_channel: Counter = field(default_factory=Counter)
    not_understood: int = 0  # messages whose intent is nlu_fallback
    did_you_mean: int = 0
    handovers: int = 0
    helpful: Dict[str, Helpful] = field(default_factory=dict)
    misunderstood: List[Group] = field(default_factory=list)

    @property
    def first_day(self) -> Optional[date]:
        if self.since is not None:
            return local_time(self.since).date()
        return min(self.messages_per_day) if self.messages_per_day else None

    @property
    def last_day(self) -> Optional[date]:
        if self.until is not None:
            return local_time(self.until - 1e-3).date()
        return max(self.messages_per_day) if self.messages_per_day else None

    @property
    def feedback_answers(self) -> Helpful:
        total = Helpful()
        for item in self.helpful.values():
            total.asked, total.yes, total.no = total.asked + item.asked, total.yes + item.yes, total.no + item.no
        return total


class _Pass:
    def __init__(self, catalogue: Catalogue, below: float) -> None:
        self.catalogue = catalogue
        self.figures = Figures()
        self.misunderstood = Misunderstood(below)
        self.conversations: Dict[str, _Conversation] = {}

    def helpful(self, topic: str) -> Helpful:
        return self.figures.helpful.setdefault(topic, Helpful())

    def user(self, sender: str, timestamp: Optional[float], intent: Optional[str], data: Optional[str]) -> None:
        figures, event = self.figures, json.loads(data or "{}")
        conversation = self.conversations.get(sender)
        new = conversation is None
        if conversation is None:
            conversation = self.conversations[sender] = _Conversation()
        when = local_time(timestamp or 0)
        figures.messages += 1
        figures.messages_per_day[when.date()] += 1
        figures.messages_per_hour[when.hour] += 1
        if new:
            figures.conversations += 1
            figures.conversations_per_day[when.date()] += 1
            figures.conversations_per_hour[when.hour] += 1
        channel = channel_name(event.get("input_channel"))
        figures.channel_messages[channel] += 1
        conversation.channel = channel
        if channel not in conversation.channels:
            conversation.channels += (channel,)
            figures.channel_conversations[channel] += 1
        intent = intent or ((event.get("parse_data") or {}).get("intent") or {}).get("name") or "?"
        figures.topics[intent] += 1
        if intent == FALLBACK_INTENT:
            figures.not_understood += 1
            conversation.misses += 1
        elif intent not in NEUTRAL_INTENTS:
            conversation.misses = 0
        conversation.intent = intent
        route = self.catalogue.routes.get(intent)
        conversation.text = (event.get("text") or "") if route is not None and route.pick_by_alias else ""
        self.misunderstood.user(sender, timestamp, event)

    def gave(self, route_key: str, conversation: _Conversation) -> None:
        route = self.catalogue.routes.get(route_key)
        if route is None:
            return
        listed = about_previous(route, self.catalogue, conversation.last_route) or channels_for(
            route, self.catalogue, conversation.text
        )
        if listed:
            self.figures.routes[route_key] += 1
        for channel in listed:
            self.figures.sent_to[channel.key] += 1

    def action(self, sender: str, name: Optional[str]) -> None:
        conversation = self.conversations.get(sender)
        if conversation is None:
            return  # its message was before the period
        if name == ROUTE_ACTION:
            self.gave(
                conversation.intent if conversation.intent in self.catalogue.routes else UNKNOWN_ROUTE, conversation
            )
        elif name == EMERGENCY_ACTION:
            self.figures.emergencies += 1
            self.figures.emergencies_by_channel[conversation.channel] += 1
            self.gave(EMERGENCY_ROUTE, conversation)
        elif name == FALLBACK_ACTION:
            if conversation.misses <= 1:
                self.figures.did_you_mean += 1
            else:
                self.figures.handovers += 1
                self.gave(HANDOVER_ROUTE, conversation)

    def slot(self, sender: str, name: Optional[str], data: Optional[str]) -> None:
        value = json.loads(data or "{}").get("value")
        conversation = self.conversations.get(sender)
        if name == LAST_ROUTE_SLOT:
            if conversation is not None:
                conversation.last_route = value if isinstance(value, str) else None
        elif name == ASKED_SLOT:
            # the topic just asked about; "emergency" (the emergency reply's marker) is no question
            if isinstance(value, list) and value and isinstance(value[-1], str) and value[-1] != EMERGENCY_MARKER:
                self.helpful(value[-1]).asked += 1
        elif name == FEEDBACK_SLOT and isinstance(value, dict) and isinstance(value.get("topic"), str):
            if value.get("helpful") is True:
                self.helpful(value["topic"]).yes += 1
            elif value.get("helpful") is False:
                self.helpful(value["topic"]).no += 1
            self.misunderstood.feedback(sender, value)


def collect(
    rows: Iterable[Any],
    catalogue: Catalogue,
    below: float = DEFAULT_BELOW,
    since: Optional[float] = None,
    until: Optional[float] = None,
) -> Figures:
    """The figures from the rows of core.conversation_store.stream_events (users, ACTIONS, SLOTS), in order."""
    work = _Pass(catalogue, below)
    for sender, kind, timestamp, intent, name, data in rows:
        work.figures.events += 1
        if kind == "user":
            work.user(sender, timestamp, intent, data)
        elif kind == "action":
            work.action(sender, name)
        elif kind == "slot":
            work.slot(sender, name, data)
    figures = work.figures
    figures.since, figures.until = since, until
    figures.misunderstood = work.misunderstood.most_frequent()
    return figures
