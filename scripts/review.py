"""`make review`: what the public said that the assistant did not understand, for staff to learn from.

Lists messages that fell back or were understood with low confidence, redacted, grouped and
counted, newest first, with the intent the model guessed; then the same as YAML ready to paste
under an intent in data/nlu/.

    python -m scripts.review [--below 0.6] [--days 30] [--limit 50]
"""

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional

import sqlalchemy as sa

from scripts.conversation_store import EVENTS, NoConversations, open_store
from scripts.redact import redact

FALLBACK = "nlu_fallback"


@dataclass
class Group:
    text: str
    count: int = 0
    newest: float = 0.0
    guesses: Counter = field(default_factory=Counter)

    @property
    def guess(self) -> str:
        return self.guesses.most_common(1)[0][0] if self.guesses else "?"


def guessed_intent(parse_data: Dict) -> Optional[str]:
    """The model's best real intent: the top of the ranking that is not the fallback."""
    ranking = parse_data.get("intent_ranking") or [parse_data.get("intent") or {}]
    return next((item.get("name") for item in ranking if item.get("name") and item.get("name") != FALLBACK), None)


def misunderstood(rows: Iterable, below: float) -> List[Group]:
    groups: Dict[str, Group] = {}
    for timestamp, data in rows:
        event = json.loads(data)
        parse_data = event.get("parse_data") or {}
        intent = parse_data.get("intent") or {}
        text = (event.get("text") or "").strip()
        if not text or text.startswith("/"):
            continue
        if intent.get("name") != FALLBACK and (intent.get("confidence") or 0) >= below:
            continue
        key = " ".join(redact(text).lower().split())
        group = groups.setdefault(key, Group(key))
        group.count += 1
        group.newest = max(group.newest, timestamp or 0)
        group.guesses[guessed_intent(parse_data) or "?"] += 1
    return sorted(groups.values(), key=lambda group: (-group.newest, -group.count))


def read_user_events(engine: sa.engine.Engine, since: float) -> List:
    query = sa.select(EVENTS.c.timestamp, EVENTS.c.data).where(
        EVENTS.c.type_name == "user", EVENTS.c.timestamp >= since
    )
    with engine.connect() as connection:
        return list(connection.execute(query))


def as_table(groups: List[Group]) -> str:
    lines = [f"{'count':>5}  {'last seen':16}  {'guessed intent':16}  message", "-" * 80]
    for group in groups:
        seen = time.strftime("%Y-%m-%d %H:%M", time.gmtime(group.newest))
        lines.append(f"{group.count:>5}  {seen:16}  {group.guess:16}  {group.text}")
    return "\n".join(lines)


def as_nlu_yaml(groups: List[Group]) -> str:
    by_intent: Dict[str, List[str]] = {}
    for group in groups:
        by_intent.setdefault(group.guess, []).append(group.text)
    blocks = [
        f"- intent: {intent}  # the model's guess: check each line, move it to the right intent\n  examples: |\n"
        + "".join(f"    - {text}\n" for text in texts)
        for intent, texts in by_intent.items()
    ]
    return 'version: "3.1"\nnlu:\n' + "".join(blocks)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--below", type=float, default=0.6, help="list messages understood with less confidence than this")
    parser.add_argument("--days", type=float, default=30, help="look at the last N days")
    parser.add_argument("--limit", type=int, default=50, help="show at most this many groups")
    parser.add_argument("--endpoints", default="endpoints.yml")
    args = parser.parse_args(argv)
    try:
        engine = open_store(args.endpoints)
    except NoConversations as nothing:
        print(nothing)
        return 0
    rows = read_user_events(engine, time.time() - args.days * 86400)
    groups = misunderstood(rows, args.below)[: args.limit]
    if not groups:
        print(f"Nothing misunderstood in the last {args.days:g} days.")
        return 0
    print(as_table(groups))
    print("\n# Ready to paste under an intent in data/nlu/ (personal data redacted):")
    print(as_nlu_yaml(groups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
