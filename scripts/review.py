"""`make review`: what the public said that the assistant did not understand, for staff to learn from.

Lists messages that fell back or were understood with low confidence, and what people said they
were looking for after answering "no" to "was this helpful?", redacted, grouped and counted,
newest first, with the intent the model guessed and why each is listed; then the same as YAML
ready to paste under an intent in data/nlu/.

    python -m scripts.review [--below 0.6] [--days 30] [--limit 50]
"""

import argparse
import json
import os
import sys
import time
from typing import Iterable, List, Optional

import sqlalchemy as sa

from core.conversation_store import NoConversations, open_store, stream_events
from core.report import FEEDBACK_SLOT, Group, Misunderstood, as_nlu_yaml, guessed_intent  # noqa: F401 (re-exported)


def misunderstood(rows: Iterable, below: float) -> List[Group]:
    """From (sender_id, type_name, timestamp, data) rows in stored order: the person's messages and the
    `feedback` SlotSet events."""
    collector = Misunderstood(below)
    for sender, kind, timestamp, data in rows:
        event = json.loads(data or "{}")
        if kind == "user":
            collector.user(sender, timestamp, event)
        elif kind == "slot" and event.get("name") == FEEDBACK_SLOT:
            collector.feedback(sender, event.get("value"))
    return collector.groups()


def read_events(engine: sa.engine.Engine, since: float) -> Iterable:
    for sender, kind, timestamp, _intent, _name, data in stream_events(engine, since, slots=[FEEDBACK_SLOT]):
        yield sender, kind, timestamp, data


def as_table(groups: List[Group]) -> str:
    lines = [f"{'count':>5}  {'last seen':16}  {'guessed intent':16}  {'why':24}  message", "-" * 100]
    for group in groups:
        seen = time.strftime("%Y-%m-%d %H:%M", time.gmtime(group.newest))
        lines.append(f"{group.count:>5}  {seen:16}  {group.guess:16}  {group.reason:24}  {group.text}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--below", type=float, default=0.6, help="list messages understood with less confidence than this"
    )
    parser.add_argument("--days", type=float, default=30, help="look at the last N days")
    parser.add_argument("--limit", type=int, default=50, help="show at most this many groups")
    parser.add_argument("--endpoints", default=os.environ.get("ENDPOINTS") or "endpoints.yml")
    args = parser.parse_args(argv)
    try:
        engine = open_store(args.endpoints)
    except NoConversations as nothing:
        print(nothing)
        return 0
    groups = misunderstood(read_events(engine, time.time() - args.days * 86400), args.below)[: args.limit]
    if not groups:
        print(f"Nothing misunderstood in the last {args.days:g} days.")
        return 0
    print(as_table(groups))
    print("\n# Ready to paste under an intent in data/nlu/ (personal data redacted):")
    print(as_nlu_yaml(groups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
