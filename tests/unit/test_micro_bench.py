"""bench/micro.py times the same work both ways: each row's two ways give the same result."""

from bench import micro
from server import patches


def test_every_step_is_timed_both_ways_without_the_model(tmp_path):
    rows = micro.timings(repeats=1, model=tmp_path / "no-model.tar.gz")
    assert len(rows) == 5
    assert all(before > 0 and after > 0 and unit in ("µs", "ms") for _, unit, before, after in rows)


def test_the_timed_reply_and_conversation_are_what_the_patches_take_their_fast_paths_on():
    tracker = micro.conversation(3)
    assert patches.validate_action_result(None, micro.REPLY) and patches._valid_quickly(micro.REPLY)
    assert set(map(type, tracker.events)) <= patches.TURN_EVENTS
    assert len(patches.tracker_copy_from_latest_events(tracker).events) == len(tracker.events)
