"""Rasa's SQL tracker store, with the trackers it has just stored kept in memory.

Rasa reads a conversation's whole session from the database on every message: in a long
conversation that was most of the time per message (docs/performance.md). Here a tracker
stored by this process is kept (up to CACHED_TRACKERS, least recently used dropped) and reused
while the newest event id in the database is still the one this process wrote, so a write by
another replica, or a turn that failed before it was stored, makes it read from the database
again. Everything is still written to the database at every turn.
"""

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

CACHED_TRACKERS = 1000


@dataclass
class _Cached:
    newest_event_id: Optional[int]
    stored_events: int
    tracker: DialogueStateTracker


class CachedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cache: "OrderedDict[Text, _Cached]" = OrderedDict()

    def _newest_event_id(self, sender_id: Text) -> Optional[int]:
        with self.session_scope() as session:
            query = sa.select(sa.func.max(self.SQLEvent.id)).where(self.SQLEvent.sender_id == sender_id)
            return session.execute(query).scalar()

    def _remember(self, tracker: DialogueStateTracker) -> None:
        self._cache[tracker.sender_id] = _Cached(self._newest_event_id(tracker.sender_id), len(tracker.events), tracker)
        self._cache.move_to_end(tracker.sender_id)
        while len(self._cache) > CACHED_TRACKERS:
            self._cache.popitem(last=False)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        cached = self._cache.get(sender_id)
        if (
            cached is not None
            and len(cached.tracker.events) == cached.stored_events
            and cached.newest_event_id == self._newest_event_id(sender_id)
        ):
            self._cache.move_to_end(sender_id)
            return cached.tracker
        self._cache.pop(sender_id, None)
        return await super().retrieve(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        self._remember(tracker)
