"""Rasa's SQL tracker store, with the trackers it has just stored kept in memory, and no silent fallback.

Cache. Rasa reads a conversation's whole session from the database on every message: in a long
conversation that was most of the time per message (docs/profiling.md). Here a tracker read or
stored by this process is kept and reused while the newest event id in the database is still
the one this process saw, so a write by another replica, or a turn that failed before it was
stored, makes it read from the database again. The cache holds at most CACHED_TRACKERS
conversations and CACHED_EVENTS events in all (a tracker takes about 2 KB per event), least
recently used dropped first: without the second bound a replica grew by 110 MB over 10,000
messages of 25-turn conversations (issue 8's soak test), and one very long conversation could
take any amount.

Writes. Every turn is written to the database: the events the tracker gained since it was read
or stored, in one statement. (Rasa counts the stored events with a query first, then inserts
them one ORM object at a time: a third of the time per message.) SQLite runs in write-ahead-log
mode with a pool of open connections (_sqlite_write_ahead_log).

A database error fails the turn. Rasa's Agent wraps every tracker store in FailSafeTrackerStore
(rasa/core/agent.py, Agent._create_tracker_store), which on any error of the store logs it and
carries on without it: a failed read returns "no conversation" (the person silently starts a
fresh conversation, and its SessionStarted cuts the old one off for good) and a failed write is
kept in an in-memory store (the turn exists in one replica only and is lost at the next
restart). For this store that is switched off: the wrapper's two error hooks re-raise the
error as TrackerStoreUnavailable (refuse_silent_fallback(), applied when this module is
imported, which Rasa does to build the store before any Agent wraps it; other stores keep
Rasa's behaviour). The turn then fails, channels/reply_guarantee.py answers with the
service_unavailable reply, and nothing of that turn is kept anywhere.

Recovery. The PostgreSQL engine is rebuilt with pool_pre_ping: every connection taken from the
pool is checked first, so connections broken by a database restart are replaced instead of
failing the next turns. While the database is down a turn fails at its start (reading the conversation), at
once, before anyone is answered. A turn that has already answered and then cannot write (the
database went away in the middle of the turn: Rasa sends the replies before it stores the turn)
tries again every SAVE_RETRY_INTERVAL for up to SAVE_RETRY_SECONDS, without blocking other
conversations; writing again is safe because the events an earlier attempt may have committed
are counted in the database first. Only if the database is still away after that does the turn
fail (logged).
"""

import asyncio
import functools
import itertools
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import INTENT_NAME_KEY

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
        if url.get_backend_name() == "sqlite":
            # A pool of open connections (SQLAlchemy's default for a SQLite file opens one per session).
            self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_write_ahead_log)
        else:
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        # Built once: SQLAlchemy then also computes their cache keys once.
        events = self.SQLEvent.__table__
        self._newest_event_id_sql = sa.select(sa.func.max(events.c.id)).where(
            events.c.sender_id == sa.bindparam("sender_id")
        )
        self._events_since_sql = sa.select(sa.func.count()).where(
            events.c.sender_id == sa.bindparam("sender_id"), events.c.id > sa.bindparam("event_id")
        )
        self._insert_sql = events.insert()

    def _event_query(
        self, session: "sa.orm.Session", sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> "sa.orm.Query":
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

    def _forget(self, sender_id: Text) -> Optional[_Cached]:
        dropped = self._cache.pop(sender_id, None)
        if dropped is not None:
            self._cached_events -= dropped.stored_events
        return dropped

    def _remember(self, tracker: DialogueStateTracker, newest_event_id: Optional[int]) -> None:
        self._forget(tracker.sender_id)
        if len(tracker.events) > CACHED_EVENTS:
            return
        self._cache[tracker.sender_id] = _Cached(newest_event_id, len(tracker.events), tracker)
        self._cached_events += len(tracker.events)
        while len(self._cache) > CACHED_TRACKERS or self._cached_events > CACHED_EVENTS:
            self._forget(next(iter(self._cache)))

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        with self.engine.connect() as connection:
            newest_event_id = connection.execute(self._newest_event_id_sql, {"sender_id": sender_id}).scalar()
        if newest_event_id is None:  # no event of this conversation is stored: Rasa's query finds nothing too
            self._forget(sender_id)
            return None
        cached = self._cache.get(sender_id)
        if (
            cached is not None
            and len(cached.tracker.events) == cached.stored_events
            and cached.newest_event_id == newest_event_id
        ):
            self._cache.move_to_end(sender_id)
            return cached.tracker
        self._forget(sender_id)
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            self._remember(tracker, newest_event_id)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        known = self._forget(tracker.sender_id)  # if the write fails, nothing of this turn stays in memory
        if known is not None and known.tracker is not tracker:
            known = None
        await self.stream_events(tracker)
        deadline = time.monotonic() + SAVE_RETRY_SECONDS
        retrying = False
        while True:
            try:
                newest_event_id = self._write_new_events(tracker, known, retrying)
                break
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
                if time.monotonic() + SAVE_RETRY_INTERVAL > deadline:
                    raise
                logger.warning("Could not store a turn (%s); trying again.", type(error).__name__)
                retrying = True
                await asyncio.sleep(SAVE_RETRY_INTERVAL)
        self._remember(tracker, newest_event_id)

    def _write_new_events(
        self, tracker: DialogueStateTracker, known: Optional[_Cached], retrying: bool
    ) -> Optional[int]:
        """Insert the tracker's events that are not in the database yet; the conversation's newest event id after.

        The events already stored are the ones the tracker held when it was read or last stored
        here (`known`). After a failed attempt, whose commit may have gone through, those written
        since are counted in the database; for a tracker this store did not read or store, Rasa's
        count (its latest session in the database), unless the database has none of its events.
        """
        sender = {"sender_id": tracker.sender_id}
        with self.engine.begin() as connection:
            if known is None:
                stored = 0
                if connection.execute(self._newest_event_id_sql, sender).scalar() is not None:
                    with self.session_scope() as session:
                        stored = self._event_query(
                            session, tracker.sender_id, fetch_events_from_all_sessions=False
                        ).count()
            elif retrying:
                since = {**sender, "event_id": known.newest_event_id or 0}
                stored = known.stored_events + connection.execute(self._events_since_sql, since).scalar()
            else:
                stored = known.stored_events
            rows = [self._row(tracker.sender_id, event) for event in itertools.islice(tracker.events, stored, None)]
            if rows:
                connection.execute(self._insert_sql, rows)
            return connection.execute(self._newest_event_id_sql, sender).scalar()

    @staticmethod
    def _row(sender_id: Text, event: Event) -> Dict[Text, Any]:
        """The columns Rasa's SQLTrackerStore.save writes for an event."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }


def _sqlite_write_ahead_log(connection: Any, _record: Any) -> None:
    """SQLite in write-ahead-log mode, synced at checkpoints rather than at every commit.

    A commit is then one append to the log instead of several fsyncs (a tenth of the time per
    message, docs/profiling.md). A stopped or crashed process loses nothing committed; an
    operating-system crash or power cut can lose the last commits before the checkpoint. The
    production setup (PostgreSQL) is not affected.
    """
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _reraise_for_our_store(hook: Callable[[FailSafeTrackerStore, Exception], None]) -> Callable[..., None]:
    @functools.wraps(hook)
    def on_error(self: FailSafeTrackerStore, error: Exception) -> None:
        if isinstance(self._tracker_store, CachedSQLTrackerStore):
            logger.error(
                "The conversation store failed (%s); this turn fails instead of going on without it.",
                type(error).__name__,
            )
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
