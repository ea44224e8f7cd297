"""`make review` and `make purge` on a real SQLite conversation store written by Rasa's SQLTrackerStore."""

import time

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from core.conversation_store import open_store
from scripts import purge, review

DAY = 86400


@pytest.fixture
def store(tmp_path, monkeypatch):
    db = tmp_path / "conversations.db"
    monkeypatch.setenv("TRACKER_STORE_DIALECT", "sqlite")
    monkeypatch.setenv("TRACKER_STORE_DB", str(db))
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
    return SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))


def user(text, intent, confidence, when, ranking=None):
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
        "entities": [],
    }
    return UserUttered(text, parse_data["intent"], parse_data=parse_data, timestamp=when)


async def save(store, sender, *events):
    tracker = DialogueStateTracker.from_events(sender, [])
    for event in events:
        tracker.update(event)
        tracker.update(ActionExecuted("action_listen", timestamp=event.timestamp))
    await store.save(tracker)


async def test_review_lists_what_was_not_understood_grouped_counted_newest_first_and_redacted(store, capsys):
    now = time.time()
    fallback_ranking = [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "non_emergency", "confidence": 0.3}]
    await save(store, "a", user("my car AB12 CDE was clamped", "nlu_fallback", 0.45, now - 3 * DAY, fallback_ranking))
    await save(store, "b", user("My car ab12cde was clamped", "nlu_fallback", 0.45, now - 2 * DAY, fallback_ranking))
    await save(store, "c", user("email jo@example.com about my fine", "contact_us", 0.5, now - 1 * DAY))
    await save(store, "d", user("how do i get crime alerts", "alerts", 0.97, now - 1 * DAY))
    await save(store, "e", user("/alerts", "alerts", 1.0, now))

    assert review.main([]) == 0
    out = capsys.readouterr().out
    assert "AB12" not in out.upper().replace("[VEHICLE REG]", "")
    assert "jo@example.com" not in out
    table = out.split("# Ready to paste")[0]
    rows = [line for line in table.splitlines()[2:] if line.strip()]
    assert len(rows) == 2
    assert "email [email] about my fine" in rows[0] and "contact_us" in rows[0]
    assert rows[1].split()[0] == "2" and "non_emergency" in rows[1] and "my car [vehicle reg] was clamped" in rows[1]
    assert "crime alerts" not in out
    pasted = out.split("(personal data redacted):\n")[1]
    assert "- intent: non_emergency" in pasted and "    - my car [vehicle reg] was clamped" in pasted


async def test_review_says_so_when_there_is_nothing(store, capsys):
    await save(store, "a", user("how do i get crime alerts", "alerts", 0.97, time.time()))
    assert review.main([]) == 0
    assert "Nothing misunderstood" in capsys.readouterr().out


async def test_purge_removes_only_conversations_older_than_n_days(store):
    now = time.time()
    await save(store, "old", user("hello", "greet", 0.9, now - 40 * DAY))
    await save(store, "recent", user("hello", "greet", 0.9, now - 2 * DAY))
    await save(
        store, "long-running", user("hello", "greet", 0.9, now - 60 * DAY), user("thanks", "thank", 0.9, now - 1 * DAY)
    )

    assert purge.purge(open_store(), days=30, dry_run=True) == ["old"]
    assert await store.retrieve("old") is not None
    assert purge.main(["--days", "30"]) == 0
    assert await store.retrieve("old") is None
    assert len((await store.retrieve("recent")).events) == 2
    assert len((await store.retrieve("long-running")).events) == 4
