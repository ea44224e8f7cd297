"""`make purge DAYS=N`: delete conversations whose last message is older than N days (retention policy).

A conversation still in use keeps all its events, however old its first ones.

    python -m scripts.purge --days N [--dry-run]
"""

import argparse
import sys
import time
from typing import List, Optional

import sqlalchemy as sa

from core.conversation_store import EVENTS, NoConversations, open_store


def purge(engine: sa.engine.Engine, days: float, dry_run: bool = False) -> List[str]:
    """Delete every conversation with no event in the last `days` days; return their ids."""
    cutoff = time.time() - days * 86400
    last_seen = (
        sa.select(EVENTS.c.sender_id).group_by(EVENTS.c.sender_id).having(sa.func.max(EVENTS.c.timestamp) < cutoff)
    )
    with engine.begin() as connection:
        senders = [row[0] for row in connection.execute(last_seen)]
        if senders and not dry_run:
            connection.execute(sa.delete(EVENTS).where(EVENTS.c.sender_id.in_(senders)))
    return senders


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, required=True, help="keep conversations active in the last N days")
    parser.add_argument("--dry-run", action="store_true", help="count, but delete nothing")
    parser.add_argument("--endpoints", default="endpoints.yml")
    args = parser.parse_args(argv)
    if args.days < 0:
        parser.error("--days must be 0 or more")
    try:
        engine = open_store(args.endpoints)
    except NoConversations as nothing:
        print(nothing)
        return 0
    removed = purge(engine, args.days, args.dry_run)
    verb = "Would delete" if args.dry_run else "Deleted"
    print(f"{verb} {len(removed)} conversation(s) with no message in the last {args.days:g} days.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
