"""Rasa's SQL tracker store, with the trackers it has just stored kept in memory, and no silent fallback.

Cache. Rasa reads a conversation's whole session from the database on every message: in a long
conversation that was most of the time per message (docs/performance.md). Here a tracker
stored by this process is kept and reused while the newest event id in the database is still
the one this process wrote, so a write by another replica, or a turn that failed before it was
stored, makes it read from the database again. Everything is still written to the database at
every turn. The cache holds at most CACHED_TRACKERS conversations and CACHED_EVENTS events in
all (a tracker takes about 2 KB per event), least recently used dropped first: without the
second bound a replica grew by 110 MB over 10,000 messages of 25-turn conversations (issue 8's
soak test), and one very long conversation could take any amount.

A database error fails the turn. Rasa's Agent wraps every tracker store in FailSafeTrackerStore
(rasa/core/agent.py, Agent._create_tracker_store), which on any error of the store logs it and
carries on without it: a failed read returns "no conversation" (the person silently starts a
fresh conversation, and its SessionStarted cuts the old one off for good) and a failed write is
kept in an in-memory store (the turn exists in one replica only and is lost at the next
restart). For this store that is switched off: the wrapper's two error hooks re-raise the
error as TrackerStoreUnavailable (refuse_silent_fallback(), applied when this module is
imported, which Rasa does to build the store before any Agent wraps it; other stores keep
Rasa's behaviour). The turn then fails, channels/safety_net.py answers with the
service_unavailable reply, and nothing of that turn is kept anywhere.

Recovery. The engine is rebuilt with pool_pre_ping: every connection taken from the pool is
checked first, so connections broken by a database restart are replaced instead of failing the
next turns. While the database is down a turn fails at its start (reading the conversation), at
once, before anyone is answered. A turn that has already answered and then cannot write (the
database went away in the middle of the turn: Rasa sends the replies before it stores the turn)
tries again every SAVE_RETRY_INTERVAL for up to SAVE_RETRY_SECONDS, without blocking other
conversations; writing again is safe because Rasa stores only the events beyond those already
in the database. Only if the database is still away after that does the turn fail (logged).
"""

import asyncio
import functools
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)

CACHED_TRACKERS = 1000
CACHED_EVENTS = 20_000
SAVE_RETRY_SECONDS = 10.0
SAVE_RETRY_INTERVAL = 0.25


class TrackerStoreUnavailable(RasaException):
    """The conversation store failed: the turn fails rather than going on without the store."""


@dataclass
class _Cached:
    newest_event_id: Optional[int]
    stored_events: int
    tracker: DialogueStateTracker


class CachedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # waits for the database, creates the table
        self._cache: "OrderedDict[Text, _Cached]" = OrderedDict()
        self._cached_events = 0
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _event_query(self, session: "sa.orm.Session", sender_id: Text, fetch_events_from_all_sessions: bool) -> "sa.orm.Query":
        """Rasa's query for a conversation's events (of its latest session), with the session start as a scalar subquery.

        Rasa joins the events with a subquery for the latest SessionStarted; PostgreSQL, seeing
        few rows, runs that subquery once per event (a nested loop): reading and storing a
        conversation grew with the square of its length (57 ms for 800 events). As a scalar
        subquery it runs once (an InitPlan); same rows, same order.
        """
        query = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id)
        if not fetch_events_from_all_sessions:
            session_start = (
                session.query(sa.func.max(self.SQLEvent.timestamp))
                .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.type_name == SessionStarted.type_name)
                .scalar_subquery()
            )
            query = query.filter(sa.or_(session_start.is_(None), self.SQLEvent.timestamp >= session_start))
        return query.order_by(self.SQLEvent.id)

    def _newest_event_id(self, sender_id: Text) -> Optional[int]:
        with self.session_scope() as session:
            query = sa.select(sa.func.max(self.SQLEvent.id)).where(self.SQLEvent.sender_id == sender_id)
            return session.execute(query).scalar()

    def _forget(self, sender_id: Text) -> None:
        dropped = self._cache.pop(sender_id, None)
        if dropped is not None:
            self._cached_events -= dropped.stored_events

    def _remember(self, tracker: DialogueStateTracker) -> None:
        self._forget(tracker.sender_id)
        if len(tracker.events) > CACHED_EVENTS:
            return
        self._cache[tracker.sender_id] = _Cached(self._newest_event_id(tracker.sender_id), len(tracker.events), tracker)
        self._cached_events += len(tracker.events)
        while len(self._cache) > CACHED_TRACKERS or self._cached_events > CACHED_EVENTS:
            self._forget(next(iter(self._cache)))

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        cached = self._cache.get(sender_id)
        if (
            cached is not None
            and len(cached.tracker.events) == cached.stored_events
            and cached.newest_event_id == self._newest_event_id(sender_id)
        ):
            self._cache.move_to_end(sender_id)
            return cached.tracker
        self._forget(sender_id)
        return await super().retrieve(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        self._forget(tracker.sender_id)  # if the write fails, nothing of this turn stays in memory
        deadline = time.monotonic() + SAVE_RETRY_SECONDS
        while True:
            try:
                await super().save(tracker)
                break
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
                if time.monotonic() + SAVE_RETRY_INTERVAL > deadline:
                    raise
                logger.warning("Could not store a turn (%s); trying again.", type(error).__name__)
                await asyncio.sleep(SAVE_RETRY_INTERVAL)
        try:
            self._remember(tracker)
        except sa.exc.SQLAlchemyError:  # stored; only not cached
            self._forget(tracker.sender_id)


def _reraise_for_our_store(hook: Callable[[FailSafeTrackerStore, Exception], None]) -> Callable[..., None]:
    @functools.wraps(hook)
    def on_error(self: FailSafeTrackerStore, error: Exception) -> None:
        if isinstance(self._tracker_store, CachedSQLTrackerStore):
            logger.error("The conversation store failed (%s); this turn fails instead of going on without it.", type(error).__name__)
            raise TrackerStoreUnavailable(f"the conversation store failed: {type(error).__name__}") from error
        hook(self, error)

    on_error.refuses_silent_fallback = True  # type: ignore[attr-defined]
    return on_error


def refuse_silent_fallback() -> None:
    """Make FailSafeTrackerStore re-raise the errors of a CachedSQLTrackerStore (idempotent)."""
    for name in ("on_tracker_store_error", "on_tracker_store_retrieve_error"):
        hook = getattr(FailSafeTrackerStore, name)
        if not getattr(hook, "refuses_silent_fallback", False):
            setattr(FailSafeTrackerStore, name, _reraise_for_our_store(hook))


refuse_silent_fallback()
