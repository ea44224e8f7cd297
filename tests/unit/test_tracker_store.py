"""The SQL tracker store that keeps recently stored conversations in memory stays correct."""

import asyncio

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered

from components.tracker_store import CachedSQLTrackerStore


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "conversations.db")


def store(db):
    return CachedSQLTrackerStore(Domain.empty(), dialect="sqlite", db=db)


async def a_turn(store_, sender, text):
    tracker = await store_.get_or_create_tracker(sender)
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("action_listen"))
    await store_.save(tracker)
    return tracker


async def test_a_stored_conversation_is_reused_from_memory(db):
    replica = store(db)
    tracker = await a_turn(replica, "u", "hello")
    assert await replica.retrieve("u") is tracker


async def test_a_write_by_another_replica_is_read_from_the_database(db):
    one, other = store(db), store(db)
    await a_turn(one, "u", "first")
    await a_turn(other, "u", "second")
    tracker = await one.retrieve("u")
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["first", "second"]


async def test_a_turn_that_was_not_stored_is_not_kept(db):
    replica = store(db)
    tracker = await a_turn(replica, "u", "stored")
    tracker.update(UserUttered("never stored", {"name": "greet", "confidence": 1.0}))
    again = await replica.retrieve("u")
    assert again is not tracker
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["stored"]


async def test_only_the_most_recent_conversations_are_kept(db, monkeypatch):
    monkeypatch.setattr("components.tracker_store.CACHED_TRACKERS", 2)
    replica = store(db)
    for sender in ("a", "b", "c"):
        await a_turn(replica, sender, "hi")
    assert list(replica._cache) == ["b", "c"]
    assert [e.text for e in (await replica.retrieve("a")).events if isinstance(e, UserUttered)] == ["hi"]


def stored_texts(db, sender):
    import json
    import sqlite3

    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    return [json.loads(data).get("text") for (data,) in rows if json.loads(data)["event"] == "user"]


async def test_a_new_session_in_a_kept_conversation_stores_each_event_once(db):
    from rasa.shared.core.events import SessionStarted

    replica = store(db)
    tracker = await a_turn(replica, "u", "before")
    tracker.update(SessionStarted())
    tracker.update(UserUttered("after", {"name": "greet", "confidence": 1.0}))
    await replica.save(tracker)
    assert await replica.retrieve("u") is tracker
    tracker.update(UserUttered("later", {"name": "greet", "confidence": 1.0}))
    await replica.save(tracker)
    assert stored_texts(db, "u") == ["before", "after", "later"]


async def test_a_write_retried_after_its_commit_went_through_is_not_doubled(db, monkeypatch):
    import sqlalchemy as sa

    replica = store(db)
    tracker = await a_turn(replica, "u", "first")
    tracker.update(UserUttered("second", {"name": "greet", "confidence": 1.0}))
    original, attempts = CachedSQLTrackerStore._write_new_events, []

    def committed_then_lost(self, *args):
        attempts.append(args[-1])
        newest = original(self, *args)
        if len(attempts) == 1:
            raise sa.exc.OperationalError("COMMIT", {}, Exception("connection lost after the commit"))
        return newest

    monkeypatch.setattr(CachedSQLTrackerStore, "_write_new_events", committed_then_lost)
    monkeypatch.setattr("components.tracker_store.SAVE_RETRY_INTERVAL", 0.01)
    await replica.save(tracker)
    assert attempts == [False, True]
    assert stored_texts(db, "u") == ["first", "second"]
    assert await replica.retrieve("u") is tracker


async def test_sqlite_runs_in_write_ahead_log_mode(db):
    import sqlite3

    await a_turn(store(db), "u", "hi")
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_the_store_fails_the_turn_instead_of_starting_afresh_or_keeping_it_in_memory(tmp_path, monkeypatch):
    """Rasa's FailSafeTrackerStore would answer 'no conversation' or keep the turn in memory; with ours the turn fails."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered

    from components.tracker_store import CachedSQLTrackerStore, TrackerStoreUnavailable

    monkeypatch.setattr("components.tracker_store.SAVE_RETRY_SECONDS", 0.5)
    store = CachedSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "c.db"))
    wrapped = FailSafeTrackerStore(store)
    tracker = asyncio.run(wrapped.get_or_create_tracker("someone"))
    tracker.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
    store.sessionmaker.configure(
        bind=sa.create_engine(f"sqlite:///{tmp_path}/no/such/dir/c.db")
    )  # the database is gone
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(wrapped.retrieve("someone"))
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(wrapped.get_or_create_tracker("someone"))
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(wrapped.save(tracker))
    assert wrapped._fallback_tracker_store is None  # nothing was kept in memory instead
    assert store._cache.get("someone") is None


async def test_a_conversation_with_nothing_stored_is_not_looked_for_again(db, monkeypatch):
    replica = store(db)
    await a_turn(replica, "known", "hello")

    async def rasa_query(self, sender_id):
        raise AssertionError("Rasa's query ran for a conversation with no stored event")

    monkeypatch.setattr("rasa.core.tracker_store.SQLTrackerStore.retrieve", rasa_query)
    assert await replica.retrieve("new") is None
